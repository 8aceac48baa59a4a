"""What the ImageNet models share, as keras.applications.imagenet_utils: input preprocessing,
decoding predictions into class names, input-shape validation.

The class index ships with mlcore (data/imagenet_class_index.json, the file Keras downloads), so
decode_predictions works offline.
"""
import json
import warnings
from importlib import resources

import numpy as np

from mlcore import activations, config
from mlcore.graph import ops
from mlcore.graph.basic import Variable

CAFFE_MEAN = (103.939, 116.779, 123.68)     # the ImageNet mean pixel, in BGR order
TORCH_MEAN, TORCH_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
_class_index = None


def preprocess_input(x, data_format=None, mode="caffe"):
    """Scales a batch (or one image) of RGB pixels in [0, 255] as a model was trained to see them.

    mode "caffe": RGB to BGR, then minus the ImageNet mean pixel, no scaling (VGG16, ResNet50);
    "tf": to [-1, 1]; "torch": to [0, 1], then normalised by the ImageNet mean and std per channel.
    Works on numpy arrays (float32 unless already floating) and on symbolic tensors. Unlike Keras, it
    never writes over a numpy input: the result is a new array.
    """
    if mode not in ("caffe", "tf", "torch"):
        raise ValueError("Expected mode to be one of `caffe`, `tf` or `torch`. Received: mode=%r" % (mode,))
    if data_format is None:
        data_format = config.image_data_format()
    elif data_format not in ("channels_first", "channels_last"):
        raise ValueError("Expected data_format to be one of `channels_first` or `channels_last`. "
                         "Received: data_format=%r" % (data_format,))
    symbolic = isinstance(x, Variable)
    if not symbolic:
        x = np.asarray(x)      # every step below makes a new array: the input is never written over
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(config.floatx())
    elif x.dtype.startswith(("int", "uint", "bool")):
        x = ops.cast(x, config.floatx())
    if mode == "tf":
        return x / 127.5 - 1.0
    axis = (0 if x.ndim == 3 else 1) if data_format == "channels_first" else x.ndim - 1
    if mode == "torch":
        mean, std = np.array(TORCH_MEAN) * 255.0, np.array(TORCH_STD) * 255.0
    else:
        mean, std = np.array(CAFFE_MEAN), None
        x = _reverse_channels(x, axis, symbolic)
    shape = [1] * x.ndim
    shape[axis] = 3
    x = x - np.reshape(mean, shape).astype(x.dtype)
    return x if std is None else x / np.reshape(std, shape).astype(x.dtype)


def _reverse_channels(x, axis, symbolic):
    """RGB <-> BGR along `axis`."""
    if not symbolic:
        return np.flip(x, axis)
    key = [slice(None)] * x.ndim
    key[axis] = slice(None, None, -1)
    return x[tuple(key)]


def class_index():
    """{"0": ["n01440764", "tench"], ...}: the 1000 ImageNet classes in the models' output order."""
    global _class_index
    if _class_index is None:
        data = resources.files("mlcore.applications").joinpath("data", "imagenet_class_index.json")
        _class_index = json.loads(data.read_text(encoding="utf8"))
    return _class_index


def decode_predictions(preds, top=5):
    """[[(class_id, class_name, score), ...] best first, `top` per image] for (samples, 1000) predictions."""
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError("`decode_predictions` expects a batch of predictions (i.e. a 2D array of shape "
                         "(samples, 1000)). Received array with shape: %s" % (preds.shape,))
    index = class_index()
    results = []
    for pred in preds:
        best = np.argsort(pred, kind="stable")[-top:][::-1]
        results.append(sorted((tuple(index[str(i)]) + (pred[i],) for i in best), key=lambda r: r[2], reverse=True))
    return results


def obtain_input_shape(input_shape, default_size, min_size, data_format, require_flatten, weights=None):
    """The model's input shape (no batch dim), validated as Keras validates it."""
    first = data_format == "channels_first"
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if first else input_shape[-1]
        if channels not in (1, 3):
            warnings.warn("This model usually expects 1 or 3 input channels. However, it was passed an "
                          "input_shape with %s input channels." % (channels,), stacklevel=3)
        default_shape = (channels, default_size, default_size) if first else (default_size, default_size, channels)
    else:
        default_shape = (3, default_size, default_size) if first else (default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and tuple(input_shape) != default_shape:
            raise ValueError("When setting `include_top=True` and loading `imagenet` weights, `input_shape` "
                             "should be %s.  Received: input_shape=%s" % (default_shape, input_shape))
        return default_shape
    if input_shape:
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError("`input_shape` must be a tuple of three integers.")
        channels, spatial = (input_shape[0], input_shape[1:]) if first else (input_shape[-1], input_shape[:2])
        if channels != 3 and weights == "imagenet":
            raise ValueError("The input must have 3 channels; Received `input_shape=%s`" % (input_shape,))
        if any(s is not None and s < min_size for s in spatial):
            raise ValueError("Input size must be at least %dx%d; Received: input_shape=%s"
                             % (min_size, min_size, input_shape))
    elif require_flatten:
        input_shape = default_shape
    else:
        input_shape = (3, None, None) if first else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError("If `include_top` is True, you should specify a static `input_shape`. "
                         "Received: input_shape=%s" % (input_shape,))
    return input_shape


def validate_activation(classifier_activation, weights):
    """Pretrained classifiers were trained with softmax: only softmax or None (logits) fit their weights."""
    if weights is None:
        return
    if activations.get(classifier_activation) not in (activations.get("softmax"), activations.get(None)):
        raise ValueError("Only `None` and `softmax` activations are allowed for the `classifier_activation` "
                         "argument when using pretrained weights, with `include_top=True`; Received: "
                         "classifier_activation=%r" % (classifier_activation,))


def correct_pad(inputs, kernel_size):
    """((top, bottom), (left, right)) zero padding before a strided "valid" convolution of inputs (a 4D
    tensor) that gives TensorFlow's "same" one: the odd pixel goes at the bottom right."""
    first = 2 if config.image_data_format() == "channels_first" else 1
    size = inputs.type.shape[first:first + 2]        # static: None where unknown
    kernel_size = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


def get_source_inputs(tensor):
    """The Input tensors a Keras tensor was computed from (keras.utils.get_source_inputs)."""
    from mlcore.layers.input_layer import InputLayer
    layer, node_index, _ = tensor.tag["keras_history"]
    if isinstance(layer, InputLayer):
        return [tensor]
    sources = []
    for t in layer._inbound_nodes[node_index].input_tensors:
        sources.extend(s for s in get_source_inputs(t) if all(s is not o for o in sources))
    return sources

"""What every keras.applications constructor does around its own layers: Keras's checks of the arguments
(before anything is built or downloaded), the image input, the pooled head without the top, and the
functional Model with its weights loaded."""
import os

from mlcore import config, layers
from mlcore.backend import is_keras_tensor
from mlcore.applications import imagenet_utils
from mlcore.models import Model


def check_arguments(weights, include_top, classes, classifier_activation):
    """Keras's checks of weights, classes and classifier_activation."""
    if not (weights in ("imagenet", None) or os.path.exists(weights)):
        raise ValueError("The `weights` argument should be either `None` (random initialization), 'imagenet' "
                         "(pre-training on ImageNet), or the path to the weights file to be loaded.  "
                         "Received: weights=%s" % (weights,))
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError("If using `weights='imagenet'` with `include_top=True`, `classes` should be 1000.  "
                         "Received classes=%s" % (classes,))
    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)


def checked_input(weights, include_top, classes, classifier_activation, input_tensor, input_shape, default_size,
                  min_size):
    """What most constructors begin with: Keras's argument checks, the input shape resolved as Keras
    resolves it (obtain_input_shape), and the image input."""
    check_arguments(weights, include_top, classes, classifier_activation)
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=default_size, min_size=min_size,
                                                    data_format=config.image_data_format(),
                                                    require_flatten=include_top, weights=weights)
    return image_input(input_tensor, input_shape)


def image_input(input_tensor, input_shape):
    """The model's image input: a new Input, input_tensor itself, or an Input wrapping a plain tensor."""
    if input_tensor is None:
        return layers.Input(shape=input_shape)
    if is_keras_tensor(input_tensor):
        return input_tensor
    return layers.Input(tensor=input_tensor, shape=input_shape)


def global_pooling(x, pooling, names=(None, None)):
    """x pooled over space when pooling is "avg" or "max" (names: of those two layers), else x."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=names[0])(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=names[1])(x)
    return x


def functional_model(img_input, input_tensor, outputs, name, weights, imagenet_weights):
    """The Model from the image input (or input_tensor's sources) to outputs, with its weights loaded:
    imagenet_weights() gives the local path of the pretrained file when weights is "imagenet"."""
    inputs = img_input if input_tensor is None else imagenet_utils.get_source_inputs(img_input)
    model = Model(inputs, outputs, name=name)
    if weights == "imagenet":
        model.load_weights(imagenet_weights())
    elif weights is not None:
        model.load_weights(weights)
    return model


def classifier_or_pooling(x, include_top, pooling, classes, classifier_activation, top_pool_name="avg_pool",
                          pool_names=(None, None)):
    """The usual end of a model: with the top, global average pooling (top_pool_name) and the Dense
    "predictions" classifier; without it, global_pooling(x, pooling, pool_names)."""
    if not include_top:
        return global_pooling(x, pooling, pool_names)
    x = layers.GlobalAveragePooling2D(name=top_pool_name)(x)
    return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)


def channels_last_only(model_name):
    """Keras's error for the families it builds only for channels_last data (DenseNet, NASNet)."""
    if config.image_data_format() == "channels_first":
        raise ValueError("%s does not support the `channels_first` image data format. Switch to `channels_last` "
                         "by editing your local config file at ~/.keras/keras.json" % model_name)

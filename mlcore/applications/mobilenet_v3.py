"""MobileNetV3 (Howard et al., ICCV 2019), as keras.applications.mobilenet_v3: MobileNetV2's inverted residual
blocks with squeeze-and-excitation (a hard sigmoid gate) and hard-swish activations; the "minimalistic"
variants drop both (ReLU, 3x3 kernels, no SE). Keras's layer names (conv, expanded_conv_depthwise,
expanded_conv_1_squeeze_excite_conv, ..., conv_1, conv_2, logits, predictions), so Keras's weight files load;
weights="imagenet" fetches Keras's file (weights_mobilenet_v3_large_224_1.0_float.h5, ...) and checks its md5.
The model scales its inputs itself (include_preprocessing=True: pixels in [0, 255] to [-1, 1]), so
preprocess_input returns its argument.
"""
import warnings

from mlcore import config, layers
from mlcore.applications import builder, imagenet_utils
from mlcore.applications.mobilenet_v2 import BN, _make_divisible
from mlcore.backend import is_keras_tensor
from mlcore.utils.file_utils import get_file

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/"
WEIGHTS_HASHES = {     # model: (md5 of the file with the classifier, of the one without)
    "large_224_0.75_float": ("765b44a33ad4005b3ac83185abf1d0eb", "40af19a13ebea4e2ee0c676887f69a2e"),
    "large_224_1.0_float": ("59e551e166be033d707958cf9e29a6a7", "07fb09a5933dd0c8eaafa16978110389"),
    "large_minimalistic_224_1.0_float": ("675e7b876c45c57e9e63e6d90a36599c", "ec5221f64a2f6d1ef965a614bdae7973"),
    "small_224_0.75_float": ("cb65d4e5be93758266aa0a7f2c6708b7", "ebdb5cc8e0b497cd13a7c275d475c819"),
    "small_224_1.0_float": ("8768d4c2e7dee89b9d02b2d03d65d862", "d3e8ec802a04aa4fc771ee12a9a9b836"),
    "small_minimalistic_224_1.0_float": ("99cd97fb2fcdad2bf028eb838de69e37", "cde8136e733e811080d9fcd8a252f7e4"),
}
# (expansion, filters, kernel size (None: 5, or 3 when minimalistic), stride, squeeze-excite, hard-swish) per
# block; SE and hard swish only where the variant is not minimalistic
SMALL_BLOCKS = ((1, 16, 3, 2, True, False), (72 / 16, 24, 3, 2, False, False), (88 / 24, 24, 3, 1, False, False),
                (4, 40, None, 2, True, True), (6, 40, None, 1, True, True), (6, 40, None, 1, True, True),
                (3, 48, None, 1, True, True), (3, 48, None, 1, True, True), (6, 96, None, 2, True, True),
                (6, 96, None, 1, True, True), (6, 96, None, 1, True, True))
LARGE_BLOCKS = ((1, 16, 3, 1, False, False), (4, 24, 3, 2, False, False), (3, 24, 3, 1, False, False),
                (3, 40, None, 2, True, False), (3, 40, None, 1, True, False), (3, 40, None, 1, True, False),
                (6, 80, 3, 2, False, True), (2.5, 80, 3, 1, False, True), (2.3, 80, 3, 1, False, True),
                (2.3, 80, 3, 1, False, True), (6, 112, 3, 1, True, True), (6, 112, 3, 1, True, True),
                (6, 160, None, 2, True, True), (6, 160, None, 1, True, True), (6, 160, None, 1, True, True))

__all__ = ["MobileNetV3Small", "MobileNetV3Large", "preprocess_input", "decode_predictions"]


def MobileNetV3Small(input_shape=None, alpha=1.0, minimalistic=False, include_top=True, weights="imagenet",
                     input_tensor=None, classes=1000, pooling=None, dropout_rate=0.2,
                     classifier_activation="softmax", include_preprocessing=True, name="MobileNetV3Small"):
    """The small MobileNetV3 (a functional Model). alpha: width multiplier (ImageNet weights for 0.75 and
    1.0, or 1.0 when minimalistic); dropout_rate: before the classifier; include_preprocessing: a Rescaling
    layer first, for inputs in [0, 255]. Any input size from 32x32; the ImageNet weights are for 224x224."""
    return _mobilenet_v3(SMALL_BLOCKS, 1024, "small", input_shape, alpha, minimalistic, include_top, weights,
                         input_tensor, classes, pooling, dropout_rate, classifier_activation,
                         include_preprocessing, name)


def MobileNetV3Large(input_shape=None, alpha=1.0, minimalistic=False, include_top=True, weights="imagenet",
                     input_tensor=None, classes=1000, pooling=None, dropout_rate=0.2,
                     classifier_activation="softmax", include_preprocessing=True, name="MobileNetV3Large"):
    """The large MobileNetV3 (a functional Model); arguments as MobileNetV3Small's."""
    return _mobilenet_v3(LARGE_BLOCKS, 1280, "large", input_shape, alpha, minimalistic, include_top, weights,
                         input_tensor, classes, pooling, dropout_rate, classifier_activation,
                         include_preprocessing, name)


def preprocess_input(x, data_format=None):
    """x itself: the model scales its inputs (Keras keeps this function for older code)."""
    return x


def decode_predictions(preds, top=5):
    return imagenet_utils.decode_predictions(preds, top=top)


def _mobilenet_v3(blocks, last_point_ch, model_type, input_shape, alpha, minimalistic, include_top, weights,
                  input_tensor, classes, pooling, dropout_rate, classifier_activation, include_preprocessing,
                  name):
    builder.check_arguments(weights, include_top, classes, classifier_activation)
    fmt = config.image_data_format()
    input_shape = _input_shape(input_shape, input_tensor, fmt)
    rows, cols = input_shape[1:] if fmt == "channels_first" else input_shape[:2]
    if rows and cols and (rows < 32 or cols < 32):
        raise ValueError("Input size must be at least 32x32; Received `input_shape=%s`" % (input_shape,))
    if weights == "imagenet":
        if alpha not in ((1.0,) if minimalistic else (0.75, 1.0)):
            raise ValueError("If imagenet weights are being loaded, alpha can be one of `0.75`, `1.0` for non "
                             "minimalistic or `1.0` for minimalistic only.")
        if rows != cols or rows != 224:
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not 224. Weights for input "
                          "shape (224, 224) will be loaded as the default.", stacklevel=3)
    img_input = builder.image_input(input_tensor, input_shape)
    activation = _relu if minimalistic else _hard_swish

    x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(img_input) if include_preprocessing else img_input
    x = layers.Conv2D(16, kernel_size=3, strides=(2, 2), padding="same", use_bias=False, name="conv")(x)
    x = layers.BatchNormalization(axis=_channel_axis(), name="conv_bn", **BN)(x)
    x = activation(x)
    for block_id, (expansion, filters, kernel, stride, se, hard_swish) in enumerate(blocks):
        kernel = kernel or (3 if minimalistic else 5)
        x = _inverted_res_block(x, expansion, _depth(filters * alpha), kernel, stride,
                                0.25 if se and not minimalistic else None,
                                activation if hard_swish else _relu, block_id)
    if alpha > 1.0:
        last_point_ch = _depth(last_point_ch * alpha)
    x = layers.Conv2D(_depth(x.shape[_channel_axis()] * 6), kernel_size=1, padding="same", use_bias=False,
                      name="conv_1")(x)
    x = layers.BatchNormalization(axis=_channel_axis(), name="conv_1_bn", **BN)(x)
    x = activation(x)

    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Conv2D(last_point_ch, kernel_size=1, padding="same", use_bias=True, name="conv_2")(x)
        x = activation(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate)(x)
        x = layers.Conv2D(classes, kernel_size=1, padding="same", name="logits")(x)
        x = layers.Flatten()(x)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = builder.global_pooling(x, pooling, names=("avg_pool", "max_pool"))
    model_name = "%s%s_224_%s_float" % (model_type, "_minimalistic" if minimalistic else "", float(alpha))
    return builder.functional_model(img_input, input_tensor, x, name, weights,
                                    lambda: imagenet_weights(model_name, include_top))


def imagenet_weights(model_name, include_top=True):
    """The local path of Keras's pretrained file for model_name ("large_224_1.0_float", ...), downloaded on
    first use and checked against Keras's md5."""
    file_name = "weights_mobilenet_v3_%s%s.h5" % (model_name, "" if include_top else "_no_top_v2")
    return get_file(file_name, BASE_WEIGHT_PATH + file_name, cache_subdir="models",
                    file_hash=WEIGHTS_HASHES[model_name][0 if include_top else 1])


def _input_shape(input_shape, input_tensor, data_format):
    """input_shape, else input_tensor's image shape, else any size; Keras's checks that the two agree."""
    first = data_format == "channels_first"
    if input_tensor is not None:
        if not is_keras_tensor(input_tensor):
            if input_shape is not None:
                raise ValueError("input_tensor specified: %s is not a keras tensor" % (input_tensor,))
        elif input_shape is None:
            return tuple(input_tensor.shape[1:])
        elif input_tensor.shape[1 if first else 2] != input_shape[1]:
            raise ValueError("input_shape[1] must equal input_tensor.shape[%d].  Received input_shape=%s, "
                             "input_tensor.shape=%s" % (1 if first else 2, input_shape, input_tensor.shape))
    if input_shape is None:
        return (3, None, None) if first else (None, None, 3)
    return tuple(input_shape)


def _depth(v):
    """v rounded to a multiple of 8, as MobileNetV2 rounds its widths."""
    return _make_divisible(v, 8)


def _channel_axis():
    return 1 if config.image_data_format() == "channels_first" else -1


def _relu(x):
    return layers.ReLU()(x)


def _hard_swish(x):
    return layers.Activation("hard_swish")(x)


def _hard_sigmoid(x):
    """relu6(x + 3) / 6, written as Keras writes it (ops around an unnamed ReLU layer)."""
    return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)


def _se_block(inputs, filters, se_ratio, prefix):
    """Squeeze-and-excitation: the channels scaled by a hard-sigmoid gate computed from their means."""
    x = layers.GlobalAveragePooling2D(keepdims=True, name=prefix + "squeeze_excite_avg_pool")(inputs)
    x = layers.Conv2D(_depth(filters * se_ratio), kernel_size=1, padding="same",
                      name=prefix + "squeeze_excite_conv")(x)
    x = layers.ReLU(name=prefix + "squeeze_excite_relu")(x)
    x = layers.Conv2D(filters, kernel_size=1, padding="same", name=prefix + "squeeze_excite_conv_1")(x)
    return layers.Multiply(name=prefix + "squeeze_excite_mul")([inputs, _hard_sigmoid(x)])


def _inverted_res_block(x, expansion, filters, kernel_size, stride, se_ratio, activation, block_id):
    """Expand (1x1, but not in block 0), depthwise, squeeze-excite (when se_ratio), project (1x1, linear);
    added to the input when the shapes agree."""
    shortcut = x
    infilters = x.shape[_channel_axis()]
    prefix = "expanded_conv_%d_" % block_id if block_id else "expanded_conv_"
    if block_id:
        x = layers.Conv2D(_depth(infilters * expansion), kernel_size=1, padding="same", use_bias=False,
                          name=prefix + "expand")(x)
        x = layers.BatchNormalization(axis=_channel_axis(), name=prefix + "expand_bn", **BN)(x)
        x = activation(x)
    if stride == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size), name=prefix + "depthwise_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=stride, padding="same" if stride == 1 else "valid",
                               use_bias=False, name=prefix + "depthwise")(x)
    x = layers.BatchNormalization(axis=_channel_axis(), name=prefix + "depthwise_bn", **BN)(x)
    x = activation(x)
    if se_ratio:
        x = _se_block(x, _depth(infilters * expansion), se_ratio, prefix)
    x = layers.Conv2D(filters, kernel_size=1, padding="same", use_bias=False, name=prefix + "project")(x)
    x = layers.BatchNormalization(axis=_channel_axis(), name=prefix + "project_bn", **BN)(x)
    if stride == 1 and infilters == filters:
        x = layers.Add(name=prefix + "add")([shortcut, x])
    return x

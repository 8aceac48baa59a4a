"""MobileNetV2 (Sandler et al., CVPR 2018), as keras.applications.mobilenet_v2: 17 inverted residual blocks
(1x1 expansion, depthwise 3x3, linear 1x1 projection; an identity shortcut where shapes allow), ReLU6
activations, alpha scaling every width. Keras's layer names (Conv1, expanded_conv_depthwise, block_1_expand,
..., Conv_1, predictions), so Keras's weight files load; weights="imagenet" fetches Keras's file for alpha
and the input size (mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5, ...). Inputs are scaled to
[-1, 1] (tf mode).
"""
from mlcore import config, layers
from mlcore.applications import builder, imagenet_utils
from mlcore.backend import is_keras_tensor
from mlcore.applications.mobilenet import (  # MobileNet's decoding and tf-mode preprocessing are V2's
    channel_axis, decode_predictions, preprocess_input, pretrained_rows, square_side)
from mlcore.utils.file_utils import get_file

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
SIZES = (96, 128, 160, 192, 224)                # the input sizes ImageNet weights exist for
ALPHAS = (0.35, 0.50, 0.75, 1.0, 1.3, 1.4)
# (filters, stride, expansion) of blocks 0 .. 16
BLOCKS = (((16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6)) + ((32, 1, 6),) * 2 + ((64, 2, 6),)
          + ((64, 1, 6),) * 3 + ((96, 1, 6),) * 3 + ((160, 2, 6),) + ((160, 1, 6),) * 2 + ((320, 1, 6),))
BN = {"epsilon": 1e-3, "momentum": 0.999}

__all__ = ["MobileNetV2", "preprocess_input", "decode_predictions"]


def MobileNetV2(input_shape=None, alpha=1.0, include_top=True, weights="imagenet", input_tensor=None,
                pooling=None, classes=1000, classifier_activation="softmax", name=None):
    """The MobileNetV2 model (a functional Model), named mobilenetv2_<alpha>_<rows> unless `name` is given.

    alpha: width multiplier (ImageNet weights for 0.35, 0.5, 0.75, 1.0, 1.3, 1.4). input_shape as for
    VGG16 (at least 32x32), or taken from input_tensor; the ImageNet weights were trained on square 96,
    128, 160, 192 or 224 images.
    """
    builder.check_arguments(weights, include_top, classes, classifier_activation)
    fmt = config.image_data_format()
    shape = _check_input_tensor(input_shape, input_tensor, fmt)
    default_size = 224 if shape is None else square_side(shape, SIZES) or 224
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=default_size, min_size=32,
                                                    data_format=fmt, require_flatten=include_top,
                                                    weights=weights)
    rows = input_shape[1 if fmt == "channels_first" else 0]
    if weights == "imagenet":
        if alpha not in ALPHAS:
            raise ValueError("If imagenet weights are being loaded, alpha must be one of `0.35`, `0.50`, "
                             "`0.75`, `1.0`, `1.3` or `1.4` only; Received `alpha=%s`" % (alpha,))
        rows = pretrained_rows(input_shape, SIZES)
    img_input = builder.image_input(input_tensor, input_shape)

    x = layers.Conv2D(_make_divisible(32 * alpha, 8), kernel_size=3, strides=(2, 2), padding="same",
                      use_bias=False, name="Conv1")(img_input)
    x = layers.BatchNormalization(axis=channel_axis(), name="bn_Conv1", **BN)(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(BLOCKS):
        x = _inverted_res_block(x, filters=filters, alpha=alpha, stride=stride, expansion=expansion,
                                block_id=block_id)
    last_block_filters = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last_block_filters, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = layers.BatchNormalization(axis=channel_axis(), name="Conv_1_bn", **BN)(x)
    x = layers.ReLU(6.0, name="out_relu")(x)

    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = builder.global_pooling(x, pooling)
    name = "mobilenetv2_%0.2f_%s" % (alpha, rows) if name is None else name
    return builder.functional_model(img_input, input_tensor, x, name, weights,
                                    lambda: imagenet_weights(alpha, rows, include_top))


def _check_input_tensor(input_shape, input_tensor, data_format):
    """The image shape (no batch) that picks the pretrained size: input_shape, else a Keras input_tensor's
    shape; Keras's checks that the two agree."""
    if input_tensor is None:
        return input_shape
    if not is_keras_tensor(input_tensor):
        if input_shape is not None:
            raise ValueError("input_tensor is not a Keras tensor; Received `input_tensor=%s`" % (input_tensor,))
        return None
    if input_shape is None:
        return tuple(input_tensor.shape[1:])
    axis = 1 if data_format == "channels_first" else 2
    if input_tensor.shape[axis] != input_shape[1]:
        raise ValueError("MobileNetV2: input_tensor.shape[%d] must equal input_shape[1]; Received "
                         "`input_tensor.shape=%s`, `input_shape=%s`" % (axis, input_tensor.shape, input_shape))
    return input_shape


def imagenet_weights(alpha, rows, include_top=True):
    """The local path of Keras's pretrained MobileNetV2 file for alpha and the input size, downloaded on
    first use (Keras gives no hash for these files)."""
    file_name = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_%s_%d%s.h5" % (
        float(alpha), rows, "" if include_top else "_no_top")
    return get_file(file_name, BASE_WEIGHT_PATH + file_name, cache_subdir="models")


def _make_divisible(v, divisor, min_value=None):
    """v rounded to a multiple of divisor (at least min_value), never more than 10% below v."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def _inverted_res_block(inputs, expansion, stride, alpha, filters, block_id):
    """Expand (1x1, but not in block 0), depthwise 3x3, project (1x1, linear); added to the input when the
    shapes agree."""
    in_channels = inputs.shape[channel_axis()]
    pointwise_filters = _make_divisible(int(filters * alpha), 8)
    x = inputs
    prefix = "block_%d_" % block_id
    if block_id:
        x = layers.Conv2D(expansion * in_channels, kernel_size=1, padding="same", use_bias=False,
                          activation=None, name=prefix + "expand")(x)
        x = layers.BatchNormalization(axis=channel_axis(), name=prefix + "expand_BN", **BN)(x)
        x = layers.ReLU(6.0, name=prefix + "expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name=prefix + "pad")(x)
    x = layers.DepthwiseConv2D(kernel_size=3, strides=stride, activation=None, use_bias=False,
                               padding="same" if stride == 1 else "valid", name=prefix + "depthwise")(x)
    x = layers.BatchNormalization(axis=channel_axis(), name=prefix + "depthwise_BN", **BN)(x)
    x = layers.ReLU(6.0, name=prefix + "depthwise_relu")(x)
    x = layers.Conv2D(pointwise_filters, kernel_size=1, padding="same", use_bias=False, activation=None,
                      name=prefix + "project")(x)
    x = layers.BatchNormalization(axis=channel_axis(), name=prefix + "project_BN", **BN)(x)
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=prefix + "add")([inputs, x])
    return x

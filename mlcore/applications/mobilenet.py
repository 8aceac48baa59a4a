"""MobileNet (Howard et al., 2017), as keras.applications.mobilenet: a 3x3 convolution, then 13 blocks of a
depthwise 3x3 and a pointwise 1x1 convolution, each followed by BatchNormalization and ReLU6; alpha scales
every width, depth_multiplier the depthwise ones. Keras's layer names (conv1, conv_dw_1, conv_pw_1_bn, ...,
conv_preds), so Keras's weight files load; weights="imagenet" fetches Keras's file for alpha and the input
size (mobilenet_1_0_224_tf.h5, ...). Inputs are scaled to [-1, 1] (tf mode).
"""
import warnings

from mlcore import config, layers
from mlcore.applications import builder, imagenet_utils
from mlcore.utils.file_utils import get_file

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"
SIZES = (128, 160, 192, 224)                # the input sizes ImageNet weights exist for
ALPHAS = {1.0: "1_0", 0.75: "7_5", 0.50: "5_0", 0.25: "2_5"}   # ... and widths, as their files spell them
# (pointwise filters, strides) of the 13 depthwise-separable blocks
BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)) + ((512, 1),) * 5 + ((1024, 2), (1024, 1))


def MobileNet(input_shape=None, alpha=1.0, depth_multiplier=1, dropout=1e-3, include_top=True,
              weights="imagenet", input_tensor=None, pooling=None, classes=1000,
              classifier_activation="softmax", name=None):
    """The MobileNet model (a functional Model), named mobilenet_<alpha>_<rows> unless `name` is given.

    alpha: width multiplier (ImageNet weights for 0.25, 0.5, 0.75, 1.0); depth_multiplier: of the
    depthwise convolutions (1 for ImageNet weights); dropout: before the classifier. input_shape as
    for VGG16: at least 32x32; the ImageNet weights were trained on square 128, 160, 192 or 224 images.
    """
    builder.check_arguments(weights, include_top, classes, classifier_activation)
    fmt = config.image_data_format()
    default_size = 224 if input_shape is None else square_side(input_shape, SIZES) or 224
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=default_size,
                                                    min_size=32, data_format=fmt, require_flatten=include_top,
                                                    weights=weights)
    rows = input_shape[1 if fmt == "channels_first" else 0]
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise ValueError("If imagenet weights are being loaded, depth multiplier must be 1.  "
                             "Received depth_multiplier=%s" % (depth_multiplier,))
        if alpha not in ALPHAS:
            raise ValueError("If imagenet weights are being loaded, alpha can be one of `0.25`, `0.50`, `0.75` "
                             "or `1.0` only.  Received alpha=%s" % (alpha,))
        rows = pretrained_rows(input_shape, SIZES)
    img_input = builder.image_input(input_tensor, input_shape)

    x = _conv_block(img_input, 32, alpha, strides=(2, 2))
    for block_id, (filters, stride) in enumerate(BLOCKS, start=1):
        x = _depthwise_conv_block(x, filters, alpha, depth_multiplier, strides=(stride, stride), block_id=block_id)

    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = builder.global_pooling(x, pooling)
    name = "mobilenet_%0.2f_%s" % (alpha, rows) if name is None else name
    return builder.functional_model(img_input, input_tensor, x, name, weights,
                                    lambda: imagenet_weights(alpha, rows, include_top))


def square_side(input_shape, sizes):
    """The side of a square input_shape (without the batch) when it is one of `sizes`, else None."""
    rows, cols = input_shape[1:3] if config.image_data_format() == "channels_first" else input_shape[:2]
    return rows if rows == cols and rows in sizes else None


def pretrained_rows(input_shape, sizes):
    """The input size of the ImageNet weights that fit input_shape: its side, or 224 (with Keras's warning)
    when it is not square or not one of `sizes`."""
    rows = square_side(input_shape, sizes)
    if rows is None:
        warnings.warn("`input_shape` is undefined or non-square, or `rows` is not in %s. Weights for input "
                      "shape (224, 224) will be loaded as the default." % (list(sizes),), stacklevel=3)
    return rows or 224


def imagenet_weights(alpha, rows, include_top=True):
    """The local path of Keras's pretrained MobileNet file for alpha and the input size, downloaded on
    first use (Keras gives no hash for these files)."""
    file_name = "mobilenet_%s_%d_tf%s.h5" % (ALPHAS[alpha], rows, "" if include_top else "_no_top")
    return get_file(file_name, BASE_WEIGHT_PATH + file_name, cache_subdir="models")


def channel_axis():
    """The channels axis of a batch of images."""
    return 1 if config.image_data_format() == "channels_first" else -1


def _conv_block(inputs, filters, alpha, kernel=(3, 3), strides=(1, 1)):
    """The first convolution (alpha * filters), BatchNormalization, ReLU6."""
    x = layers.Conv2D(int(filters * alpha), kernel, padding="same", use_bias=False, strides=strides,
                      name="conv1")(inputs)
    x = layers.BatchNormalization(axis=channel_axis(), name="conv1_bn")(x)
    return layers.ReLU(6.0, name="conv1_relu")(x)


def _depthwise_conv_block(inputs, pointwise_conv_filters, alpha, depth_multiplier=1, strides=(1, 1), block_id=1):
    """Depthwise 3x3 (strided ones padded bottom-right, as TensorFlow's "same"), then pointwise 1x1;
    each followed by BatchNormalization and ReLU6."""
    x = inputs
    if strides != (1, 1):
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name="conv_pad_%d" % block_id)(x)
    x = layers.DepthwiseConv2D((3, 3), padding="same" if strides == (1, 1) else "valid",
                               depth_multiplier=depth_multiplier, strides=strides, use_bias=False,
                               name="conv_dw_%d" % block_id)(x)
    x = layers.BatchNormalization(axis=channel_axis(), name="conv_dw_%d_bn" % block_id)(x)
    x = layers.ReLU(6.0, name="conv_dw_%d_relu" % block_id)(x)
    x = layers.Conv2D(int(pointwise_conv_filters * alpha), (1, 1), padding="same", use_bias=False, strides=(1, 1),
                      name="conv_pw_%d" % block_id)(x)
    x = layers.BatchNormalization(axis=channel_axis(), name="conv_pw_%d_bn" % block_id)(x)
    return layers.ReLU(6.0, name="conv_pw_%d_relu" % block_id)(x)


def preprocess_input(x, data_format=None):
    """Pixels in [0, 255] scaled to [-1, 1] (tf mode): what MobileNet was trained on."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """[[(class_id, class_name, score), ...] for each image], best `top` first."""
    return imagenet_utils.decode_predictions(preds, top=top)

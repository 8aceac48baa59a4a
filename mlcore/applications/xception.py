"""Xception (Chollet, CVPR 2017), as keras.applications.xception: two 3x3 convolutions, then 12 blocks of
depthwise-separable convolutions with residual connections (entry flow 2-4 and exit flow 13 downsample, with
a strided 1x1 convolution on the shortcut; middle flow 5-12 keeps 728 channels), then two separable
convolutions and the classifier. Keras's layer names (block1_conv1, block2_sepconv1_bn, ..., the shortcuts'
unnamed conv2d / batch_normalization / add), so Keras's weight files load; weights="imagenet" fetches
Keras's own files, md5-checked. Inputs are scaled to [-1, 1] (tf mode).
"""
from mlcore import layers
from mlcore.applications import builder, imagenet_utils
from mlcore.applications.mobilenet import channel_axis
from mlcore.utils.file_utils import get_file

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/xception/"
WEIGHTS_HASHES = ("0a58e3b7378bc2990ea3b43d5981f1f6", "b0042744bf5b25fce3cb969f33bebb97")   # top, notop
# The downsampling blocks' ids and separable filters (first, second), the shortcut's being the second.
ENTRY_BLOCKS = ((2, (128, 128)), (3, (256, 256)), (4, (728, 728)))
EXIT_BLOCK = (13, (728, 1024))
MIDDLE_BLOCKS = range(5, 13)


def Xception(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
             classes=1000, classifier_activation="softmax", name="xception"):
    """The Xception model (a functional Model).

    weights: None (random initialisation), "imagenet" (downloaded once, md5-checked) or the path of a
    weights file in any Keras layout. input_shape may only differ from (299, 299, 3) without the top
    (then at least 71x71). pooling (without the top): None, "avg" or "max". Inputs are expected
    preprocessed by preprocess_input (tf mode).
    """
    img_input = builder.checked_input(weights, include_top, classes, classifier_activation, input_tensor,
                                      input_shape, default_size=299, min_size=71)

    x = _conv_bn_relu(img_input, 32, strides=(2, 2), name="block1_conv1")
    x = _conv_bn_relu(x, 64, name="block1_conv2")
    for block_id, filters in ENTRY_BLOCKS:
        x = downsampling_block(x, block_id, filters)
    for block_id in MIDDLE_BLOCKS:
        x = middle_block(x, block_id)
    x = downsampling_block(x, *EXIT_BLOCK)
    x = _sepconv_bn(x, 1536, "block14_sepconv1")
    x = layers.Activation("relu", name="block14_sepconv1_act")(x)
    x = _sepconv_bn(x, 2048, "block14_sepconv2")
    x = layers.Activation("relu", name="block14_sepconv2_act")(x)

    x = builder.classifier_or_pooling(x, include_top, pooling, classes, classifier_activation)
    return builder.functional_model(img_input, input_tensor, x, name, weights,
                                    lambda: imagenet_weights(include_top))


def imagenet_weights(include_top=True):
    """The local path of Keras's pretrained Xception file, downloaded and md5-checked on first use."""
    file_name = ("xception_weights_tf_dim_ordering_tf_kernels.h5" if include_top
                 else "xception_weights_tf_dim_ordering_tf_kernels_notop.h5")
    return get_file(file_name, BASE_WEIGHTS_PATH + file_name, cache_subdir="models",
                    file_hash=WEIGHTS_HASHES[0 if include_top else 1])


def downsampling_block(x, block_id, filters):
    """Two separable convolutions (filters: theirs) and a strided max pooling, added to a strided 1x1
    convolution of x. Block 2 starts without ReLU: its input has just had one."""
    prefix = "block%d" % block_id
    residual = layers.Conv2D(filters[1], (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
    residual = layers.BatchNormalization(axis=channel_axis())(residual)
    if block_id > 2:
        x = layers.Activation("relu", name=prefix + "_sepconv1_act")(x)
    x = _sepconv_bn(x, filters[0], prefix + "_sepconv1")
    x = layers.Activation("relu", name=prefix + "_sepconv2_act")(x)
    x = _sepconv_bn(x, filters[1], prefix + "_sepconv2")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=prefix + "_pool")(x)
    return layers.add([x, residual])


def middle_block(x, block_id):
    """Three ReLU-separable convolution-BN steps of 728 channels added to x."""
    residual = x
    for k in (1, 2, 3):
        name = "block%d_sepconv%d" % (block_id, k)
        x = layers.Activation("relu", name=name + "_act")(x)
        x = _sepconv_bn(x, 728, name)
    return layers.add([x, residual])


def _conv_bn_relu(x, filters, strides=(1, 1), name=None):
    x = layers.Conv2D(filters, (3, 3), strides=strides, use_bias=False, name=name)(x)
    x = layers.BatchNormalization(axis=channel_axis(), name=name + "_bn")(x)
    return layers.Activation("relu", name=name + "_act")(x)


def _sepconv_bn(x, filters, name):
    x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(axis=channel_axis(), name=name + "_bn")(x)


def preprocess_input(x, data_format=None):
    """Pixels in [0, 255] scaled to [-1, 1] (tf mode): what Xception was trained on."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """[[(class_id, class_name, score), ...] for each image], best `top` first."""
    return imagenet_utils.decode_predictions(preds, top=top)

"""InceptionV3 (Szegedy et al., CVPR 2016), as keras.applications.inception_v3: a stem of five convolutions
and two max poolings, then eleven Inception modules (mixed0 .. mixed10: 35x35, 17x17 with factorised 7x7
convolutions, 8x8 with split 3x3 ones, and two grid reductions), then the classifier. Every convolution is
followed by BatchNormalization without scale and ReLU. Keras's layer names (the unnamed conv2d_N,
batch_normalization_N and activation_N in Keras's order, mixed0 .. mixed10), so Keras's weight files load;
weights="imagenet" fetches Keras's own files, md5-checked. Inputs are scaled to [-1, 1] (tf mode).
"""
from mlcore import layers
from mlcore.applications import builder, imagenet_utils
from mlcore.applications.mobilenet import channel_axis
from mlcore.utils.file_utils import get_file

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
WEIGHTS_HASHES = ("9a0d58056eeedaa3f26cb7ebd46da564", "bcbd6486424b2319ff4ef7d526e38f63")   # top, notop


def InceptionV3(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                classes=1000, classifier_activation="softmax", name="inception_v3"):
    """The InceptionV3 model (a functional Model).

    weights: None (random initialisation), "imagenet" (downloaded once, md5-checked) or the path of a
    weights file in any Keras layout. input_shape may only differ from (299, 299, 3) without the top
    (then at least 75x75). pooling (without the top): None, "avg" or "max". Inputs are expected
    preprocessed by preprocess_input (tf mode).
    """
    img_input = builder.checked_input(weights, include_top, classes, classifier_activation, input_tensor,
                                      input_shape, default_size=299, min_size=75)

    x = conv2d_bn(img_input, 32, 3, 3, strides=(2, 2), padding="valid")
    x = conv2d_bn(x, 32, 3, 3, padding="valid")
    x = conv2d_bn(x, 64, 3, 3)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = conv2d_bn(x, 80, 1, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, 3, padding="valid")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    for k, pool_filters in enumerate((32, 64, 64)):
        x = module_35x35(x, pool_filters, "mixed%d" % k)
    x = reduction_35x35(x)
    for k, filters in enumerate((128, 160, 160, 192), start=4):
        x = module_17x17(x, filters, "mixed%d" % k)
    x = reduction_17x17(x)
    for k in (0, 1):
        x = module_8x8(x, k)

    x = builder.classifier_or_pooling(x, include_top, pooling, classes, classifier_activation)
    return builder.functional_model(img_input, input_tensor, x, name, weights,
                                    lambda: imagenet_weights(include_top))


def imagenet_weights(include_top=True):
    """The local path of Keras's pretrained InceptionV3 file, downloaded and md5-checked on first use."""
    file_name = ("inception_v3_weights_tf_dim_ordering_tf_kernels.h5" if include_top
                 else "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5")
    return get_file(file_name, BASE_WEIGHTS_PATH + file_name, cache_subdir="models",
                    file_hash=WEIGHTS_HASHES[0 if include_top else 1])


def conv2d_bn(x, filters, num_row, num_col, padding="same", strides=(1, 1), name=None):
    """Convolution without bias, BatchNormalization without scale, ReLU (named name_conv, name_bn, name)."""
    x = layers.Conv2D(filters, (num_row, num_col), strides=strides, padding=padding, use_bias=False,
                      name=None if name is None else name + "_conv")(x)
    x = layers.BatchNormalization(axis=channel_axis(), scale=False, name=None if name is None else name + "_bn")(x)
    return layers.Activation("relu", name=name)(x)


def _chain(x, convs):
    """x through conv2d_bn for each (filters, rows, cols) of convs, in turn."""
    for filters, rows, cols in convs:
        x = conv2d_bn(x, filters, rows, cols)
    return x


def _avg_pool_branch(x, filters):
    return conv2d_bn(layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x), filters, 1, 1)


def _concat(branches, name=None):
    return layers.concatenate(branches, axis=channel_axis(), name=name)


def module_35x35(x, pool_filters, name):
    """1x1, 5x5, double 3x3 and pooled branches (mixed0 .. mixed2)."""
    branch1x1 = conv2d_bn(x, 64, 1, 1)
    branch5x5 = _chain(x, [(48, 1, 1), (64, 5, 5)])
    branch3x3dbl = _chain(x, [(64, 1, 1), (96, 3, 3), (96, 3, 3)])
    return _concat([branch1x1, branch5x5, branch3x3dbl, _avg_pool_branch(x, pool_filters)], name)


def reduction_35x35(x):
    """35x35 to 17x17 (mixed3): strided 3x3, double 3x3 and max-pooled branches."""
    branch3x3 = conv2d_bn(x, 384, 3, 3, strides=(2, 2), padding="valid")
    branch3x3dbl = _chain(x, [(64, 1, 1), (96, 3, 3)])
    branch3x3dbl = conv2d_bn(branch3x3dbl, 96, 3, 3, strides=(2, 2), padding="valid")
    branch_pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    return _concat([branch3x3, branch3x3dbl, branch_pool], "mixed3")


def module_17x17(x, filters, name):
    """1x1, factorised 7x7, double factorised 7x7 (`filters` wide inside) and pooled branches
    (mixed4 .. mixed7)."""
    branch1x1 = conv2d_bn(x, 192, 1, 1)
    branch7x7 = _chain(x, [(filters, 1, 1), (filters, 1, 7), (192, 7, 1)])
    branch7x7dbl = _chain(x, [(filters, 1, 1), (filters, 7, 1), (filters, 1, 7), (filters, 7, 1), (192, 1, 7)])
    return _concat([branch1x1, branch7x7, branch7x7dbl, _avg_pool_branch(x, 192)], name)


def reduction_17x17(x):
    """17x17 to 8x8 (mixed8): strided 3x3, factorised 7x7 then strided 3x3, and max-pooled branches."""
    branch3x3 = conv2d_bn(x, 192, 1, 1)
    branch3x3 = conv2d_bn(branch3x3, 320, 3, 3, strides=(2, 2), padding="valid")
    branch7x7x3 = _chain(x, [(192, 1, 1), (192, 1, 7), (192, 7, 1)])
    branch7x7x3 = conv2d_bn(branch7x7x3, 192, 3, 3, strides=(2, 2), padding="valid")
    branch_pool = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    return _concat([branch3x3, branch7x7x3, branch_pool], "mixed8")


def module_8x8(x, index):
    """1x1, split 3x3 (1x3 beside 3x1), double split 3x3 and pooled branches (mixed9, mixed10)."""
    branch1x1 = conv2d_bn(x, 320, 1, 1)
    branch3x3 = conv2d_bn(x, 384, 1, 1)
    branch3x3 = _concat([conv2d_bn(branch3x3, 384, 1, 3), conv2d_bn(branch3x3, 384, 3, 1)], "mixed9_%d" % index)
    branch3x3dbl = _chain(x, [(448, 1, 1), (384, 3, 3)])
    branch3x3dbl = _concat([conv2d_bn(branch3x3dbl, 384, 1, 3), conv2d_bn(branch3x3dbl, 384, 3, 1)])
    return _concat([branch1x1, branch3x3, branch3x3dbl, _avg_pool_branch(x, 192)], "mixed%d" % (9 + index))


def preprocess_input(x, data_format=None):
    """Pixels in [0, 255] scaled to [-1, 1] (tf mode): what InceptionV3 was trained on."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """[[(class_id, class_name, score), ...] for each image], best `top` first."""
    return imagenet_utils.decode_predictions(preds, top=top)

"""NASNetMobile and NASNetLarge (Zoph et al., CVPR 2018), as keras.applications.nasnet: a strided 3x3 stem,
two stem reduction cells, then three stacks of `num_blocks` normal cells with a reduction cell between them,
each cell combining the previous two cells' outputs (p, ip) by separable convolutions and poolings found by
architecture search. Keras's layer names (stem_conv1, normal_conv_1_0, separable_conv_1_normal_left1_0,
..., the unnamed activation_N, add_N, zero_padding2d_N, cropping2d_N in Keras's order), so Keras's weight
files load; weights="imagenet" fetches Keras's own files, md5-checked. Like Keras's, channels_last only.
Inputs are scaled to [-1, 1] (tf mode).
"""
from mlcore import layers
from mlcore.applications import builder, imagenet_utils
from mlcore.applications.mobilenet import channel_axis
from mlcore.utils.file_utils import get_file

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/nasnet/"
# default input size: (URL's file with the top, without, the local names, md5 of each)
WEIGHT_FILES = {
    224: (("NASNet-mobile.h5", "NASNet-mobile-no-top.h5"), ("nasnet_mobile.h5", "nasnet_mobile_no_top.h5"),
          ("020fb642bf7360b370c678b08e0adf61", "1ed92395b5b598bdda52abe5c0dbfd63")),
    331: (("NASNet-large.h5", "NASNet-large-no-top.h5"), ("nasnet_large.h5", "nasnet_large_no_top.h5"),
          ("11577c9a518f0070763c2b964a382f17", "d81d89dc07e6e56530c4e77faddd61b5")),
}
BN = dict(momentum=0.9997, epsilon=1e-3)


def NASNet(input_shape=None, penultimate_filters=4032, num_blocks=6, stem_block_filters=96, skip_reduction=True,
           filter_multiplier=2, include_top=True, weights="imagenet", input_tensor=None, pooling=None,
           classes=1000, default_size=None, classifier_activation="softmax", name="NASNet"):
    """A NASNet-A as a functional Model (Keras's nasnet.NASNet).

    penultimate_filters: the channels before the top (24 * the cells' filters); num_blocks: normal cells per
    stack; stem_block_filters: of the stem convolution; skip_reduction: whether a normal cell after a
    reduction takes the cell before that reduction as its p; filter_multiplier: the filters' growth per
    reduction; default_size: the input size (331 if None); ImageNet weights exist for 224 (NASNetMobile)
    and 331 (NASNetLarge).
    """
    builder.channels_last_only("NASNet")
    builder.check_arguments(weights, include_top, classes, classifier_activation)
    if isinstance(input_shape, tuple) and None in input_shape and weights == "imagenet":
        raise ValueError("When specifying the input shape of a NASNet and loading `ImageNet` weights, the "
                         "input_shape argument must be static (no None entries). Got: `input_shape=%s`."
                         % (input_shape,))
    default_size = 331 if default_size is None else default_size
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=default_size, min_size=32,
                                                    data_format="channels_last", require_flatten=include_top,
                                                    weights=weights)
    img_input = builder.image_input(input_tensor, input_shape)
    if penultimate_filters % (24 * (filter_multiplier ** 2)) != 0:
        raise ValueError("For NASNet-A models, the `penultimate_filters` must be a multiple of 24 * "
                         "(`filter_multiplier` ** 2). Current value: %s" % (penultimate_filters,))
    if weights == "imagenet" and default_size not in WEIGHT_FILES:
        raise ValueError("ImageNet weights can only be loaded with NASNetLarge or NASNetMobile")

    filters = penultimate_filters // 24
    x = layers.Conv2D(stem_block_filters, (3, 3), strides=(2, 2), padding="valid", use_bias=False,
                      name="stem_conv1", kernel_initializer="he_normal")(img_input)
    x = layers.BatchNormalization(axis=channel_axis(), name="stem_bn1", **BN)(x)
    x, p = reduction_a_cell(x, None, filters // (filter_multiplier ** 2), block_id="stem_1")
    x, p = reduction_a_cell(x, p, filters // filter_multiplier, block_id="stem_2")
    for stack in range(3):
        if stack:
            x, p0 = reduction_a_cell(x, p, filters, block_id="reduce_%d" % (stack * num_blocks))
            p = p if skip_reduction else p0
        for i in range(num_blocks):
            x, p = normal_a_cell(x, p, filters, block_id="%d" % (stack * num_blocks + i + (stack > 0)))
        filters *= filter_multiplier
    x = layers.Activation("relu")(x)

    x = builder.classifier_or_pooling(x, include_top, pooling, classes, classifier_activation, top_pool_name=None)
    return builder.functional_model(img_input, input_tensor, x, name, weights,
                                    lambda: imagenet_weights(default_size, include_top))


def imagenet_weights(default_size, include_top=True):
    """The local path of Keras's pretrained NASNet file for this input size (224: mobile, 331: large),
    downloaded and md5-checked on first use."""
    urls, file_names, hashes = WEIGHT_FILES[default_size]
    k = 0 if include_top else 1
    return get_file(file_names[k], BASE_WEIGHTS_PATH + urls[k], cache_subdir="models", file_hash=hashes[k])


def NASNetMobile(input_shape=None, include_top=True, weights="imagenet", input_tensor=None, pooling=None,
                 classes=1000, classifier_activation="softmax", name="nasnet_mobile"):
    """NASNet-A (4 @ 1056) for 224x224 images (a functional Model); without the top, input_shape defaults
    to (224, 224, 3). The arguments as for the other applications; at least 32x32."""
    if not include_top and input_shape is None:
        input_shape = (224, 224, 3)
    return NASNet(input_shape, penultimate_filters=1056, num_blocks=4, stem_block_filters=32,
                  skip_reduction=False, filter_multiplier=2, include_top=include_top, weights=weights,
                  input_tensor=input_tensor, pooling=pooling, classes=classes, default_size=224,
                  classifier_activation=classifier_activation, name=name)


def NASNetLarge(input_shape=None, include_top=True, weights="imagenet", input_tensor=None, pooling=None,
                classes=1000, classifier_activation="softmax", name="nasnet_large"):
    """NASNet-A (6 @ 4032) for 331x331 images (a functional Model); the arguments as for NASNetMobile."""
    return NASNet(input_shape, penultimate_filters=4032, num_blocks=6, stem_block_filters=96,
                  skip_reduction=True, filter_multiplier=2, include_top=include_top, weights=weights,
                  input_tensor=input_tensor, pooling=pooling, classes=classes, default_size=331,
                  classifier_activation=classifier_activation, name=name)


def _bn(x, name):
    return layers.BatchNormalization(axis=channel_axis(), name=name, **BN)(x)


def _conv_1x1(x, filters, name):
    return layers.Conv2D(filters, (1, 1), padding="same", use_bias=False, name=name,
                         kernel_initializer="he_normal")(x)


def _avg_pool(x, name):
    """3x3 average pooling, stride 1, "same"."""
    return layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same", name=name)(x)


def separable_conv_block(ip, filters, kernel_size=(3, 3), strides=(1, 1), block_id=None):
    """Twice ReLU, separable convolution, BatchNormalization; the first one strided (padded as
    TensorFlow's "same")."""
    x = layers.Activation("relu")(ip)
    if strides == (2, 2):
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size),
                                 name="separable_conv_1_pad_%s" % block_id)(x)
    x = layers.SeparableConv2D(filters, kernel_size, strides=strides, name="separable_conv_1_%s" % block_id,
                               padding="valid" if strides == (2, 2) else "same", use_bias=False)(x)
    x = _bn(x, "separable_conv_1_bn_%s" % block_id)
    x = layers.Activation("relu")(x)
    x = layers.SeparableConv2D(filters, kernel_size, name="separable_conv_2_%s" % block_id, padding="same",
                               use_bias=False)(x)
    return _bn(x, "separable_conv_2_bn_%s" % block_id)


def adjust_block(p, ip, filters, block_id=None):
    """p (the cell before the previous one) matched to ip: halved by two offset strided 1x1 paths when
    larger, projected to `filters` channels when only the channels differ; ip itself when p is None."""
    if p is None:
        return ip
    if p.shape[-2] != ip.shape[-2]:
        p = layers.Activation("relu", name="adjust_relu_1_%s" % block_id)(p)
        p1 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid",
                                     name="adjust_avg_pool_1_%s" % block_id)(p)
        p1 = _conv_1x1(p1, filters // 2, "adjust_conv_1_%s" % block_id)
        p2 = layers.ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
        p2 = layers.Cropping2D(cropping=((1, 0), (1, 0)))(p2)
        p2 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid",
                                     name="adjust_avg_pool_2_%s" % block_id)(p2)
        p2 = _conv_1x1(p2, filters // 2, "adjust_conv_2_%s" % block_id)
        p = layers.concatenate([p1, p2], axis=channel_axis())
        return _bn(p, "adjust_bn_%s" % block_id)
    if p.shape[channel_axis()] != filters:
        p = layers.Activation("relu")(p)
        p = _conv_1x1(p, filters, "adjust_conv_projection_%s" % block_id)
        return _bn(p, "adjust_bn_%s" % block_id)
    return p


def _squeeze(ip, filters, kind, block_id):
    """ReLU, 1x1 convolution to `filters`, BatchNormalization: a cell's view h of its input ip."""
    h = layers.Activation("relu")(ip)
    h = _conv_1x1(h, filters, "%s_conv_1_%s" % (kind, block_id))
    return _bn(h, "%s_bn_1_%s" % (kind, block_id))


def normal_a_cell(ip, p, filters, block_id=None):
    """A normal cell: five pairs of operations on h (ip squeezed) and p, added, concatenated with p.
    Returns (its output, ip): the next cell's (ip, p)."""
    p = adjust_block(p, ip, filters, block_id)
    h = _squeeze(ip, filters, "normal", block_id)
    x1 = layers.add([separable_conv_block(h, filters, (5, 5), block_id="normal_left1_%s" % block_id),
                     separable_conv_block(p, filters, block_id="normal_right1_%s" % block_id)],
                    name="normal_add_1_%s" % block_id)
    x2 = layers.add([separable_conv_block(p, filters, (5, 5), block_id="normal_left2_%s" % block_id),
                     separable_conv_block(p, filters, (3, 3), block_id="normal_right2_%s" % block_id)],
                    name="normal_add_2_%s" % block_id)
    x3 = layers.add([_avg_pool(h, "normal_left3_%s" % block_id), p], name="normal_add_3_%s" % block_id)
    x4 = layers.add([_avg_pool(p, "normal_left4_%s" % block_id),
                     _avg_pool(p, "normal_right4_%s" % block_id)], name="normal_add_4_%s" % block_id)
    x5 = separable_conv_block(h, filters, block_id="normal_left5_%s" % block_id)
    x5 = layers.add([x5, h], name="normal_add_5_%s" % block_id)
    x = layers.concatenate([p, x1, x2, x3, x4, x5], axis=channel_axis(), name="normal_concat_%s" % block_id)
    return x, ip


def reduction_a_cell(ip, p, filters, block_id=None):
    """A reduction cell: strided separable convolutions and poolings of h (ip squeezed) and p, halving the
    size. Returns (its output, ip)."""
    p = adjust_block(p, ip, filters, block_id)
    h = _squeeze(ip, filters, "reduction", block_id)
    h3 = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(h, 3), name="reduction_pad_1_%s" % block_id)(h)
    x1 = layers.add([separable_conv_block(h, filters, (5, 5), strides=(2, 2),
                                          block_id="reduction_left1_%s" % block_id),
                     separable_conv_block(p, filters, (7, 7), strides=(2, 2),
                                          block_id="reduction_right1_%s" % block_id)],
                    name="reduction_add_1_%s" % block_id)
    x2 = layers.add([layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid",
                                         name="reduction_left2_%s" % block_id)(h3),
                     separable_conv_block(p, filters, (7, 7), strides=(2, 2),
                                          block_id="reduction_right2_%s" % block_id)],
                    name="reduction_add_2_%s" % block_id)
    x3 = layers.add([layers.AveragePooling2D((3, 3), strides=(2, 2), padding="valid",
                                             name="reduction_left3_%s" % block_id)(h3),
                     separable_conv_block(p, filters, (5, 5), strides=(2, 2),
                                          block_id="reduction_right3_%s" % block_id)],
                    name="reduction_add3_%s" % block_id)
    x4 = layers.add([x2, _avg_pool(x1, "reduction_left4_%s" % block_id)])
    x5 = layers.add([separable_conv_block(x1, filters, (3, 3), block_id="reduction_left4_%s" % block_id),
                     layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid",
                                         name="reduction_right5_%s" % block_id)(h3)],
                    name="reduction_add4_%s" % block_id)
    x = layers.concatenate([x2, x3, x4, x5], axis=channel_axis(), name="reduction_concat_%s" % block_id)
    return x, ip


def preprocess_input(x, data_format=None):
    """Pixels in [0, 255] scaled to [-1, 1] (tf mode): what NASNet was trained on."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """[[(class_id, class_name, score), ...] for each image], best `top` first."""
    return imagenet_utils.decode_predictions(preds, top=top)

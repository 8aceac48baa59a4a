"""EfficientNet B0 to B7 (Tan and Le, ICML 2019), as keras.applications.efficientnet: MobileNetV2's inverted
residual blocks with squeeze-and-excitation and swish, scaled in width, depth and input size together
(compound scaling). Keras's layer names (stem_conv, block1a_dwconv, block2b_se_excite, ..., top_conv,
predictions), so Keras's weight files load; weights="imagenet" fetches Keras's file (efficientnetb0.h5,
efficientnetb0_notop.h5, ...) and checks its md5.

The model normalizes its inputs itself (Rescaling to [0, 1], then a Normalization layer whose mean and variance
are weights, set by the ImageNet file), so it takes pixels in [0, 255] and preprocess_input returns its
argument. With weights="imagenet" a third layer rescales each channel by 1/sqrt(std), as Keras's does.
"""
import copy
import math

from mlcore import config, layers
from mlcore.applications import builder, imagenet_utils
from mlcore.utils.file_utils import get_file

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/keras-applications/"
WEIGHTS_HASHES = {     # variant: (md5 of the file with the classifier, of the one without)
    "b0": ("902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"),
    "b1": ("1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"),
    "b2": ("b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"),
    "b3": ("ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"),
    "b4": ("18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"),
    "b5": ("ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"),
    "b6": ("165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"),
    "b7": ("8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"),
}
DEFAULT_BLOCKS_ARGS = [dict(kernel_size=k, repeats=r, filters_in=i, filters_out=o, expand_ratio=e, id_skip=True,
                            strides=s, se_ratio=0.25)
                       for k, r, i, o, e, s in ((3, 1, 32, 16, 1, 1), (3, 2, 16, 24, 6, 2), (5, 2, 24, 40, 6, 2),
                                                (3, 3, 40, 80, 6, 2), (5, 3, 80, 112, 6, 1),
                                                (5, 4, 112, 192, 6, 2), (3, 1, 192, 320, 6, 1))]
CONV_KERNEL_INITIALIZER = {"class_name": "VarianceScaling",
                           "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"}}
DENSE_KERNEL_INITIALIZER = {"class_name": "VarianceScaling",
                            "config": {"scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"}}
IMAGENET_STDDEV_RGB = [0.229, 0.224, 0.225]
# variant: (width coefficient, depth coefficient, input size, dropout rate)
VARIANTS = {"b0": (1.0, 1.0, 224, 0.2), "b1": (1.0, 1.1, 240, 0.2), "b2": (1.1, 1.2, 260, 0.3),
            "b3": (1.2, 1.4, 300, 0.3), "b4": (1.4, 1.8, 380, 0.4), "b5": (1.6, 2.2, 456, 0.4),
            "b6": (1.8, 2.6, 528, 0.5), "b7": (2.0, 3.1, 600, 0.5)}

__all__ = ["EfficientNetB%d" % i for i in range(8)] + ["preprocess_input", "decode_predictions"]


def EfficientNet(width_coefficient, depth_coefficient, default_size, dropout_rate=0.2, drop_connect_rate=0.2,
                 depth_divisor=8, activation="swish", blocks_args="default", name="efficientnet",
                 include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                 classes=1000, classifier_activation="softmax", weights_name=None):
    """The EfficientNet of the given scaling (a functional Model); EfficientNetB0 ... B7 pick Keras's."""
    blocks_args = DEFAULT_BLOCKS_ARGS if blocks_args == "default" else blocks_args
    builder.check_arguments(weights, include_top, classes, classifier_activation)
    fmt = config.image_data_format()
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=default_size, min_size=32,
                                                    data_format=fmt, require_flatten=include_top, weights=weights)
    img_input = builder.image_input(input_tensor, input_shape)
    bn_axis = channel_axis()

    def round_filters(filters):
        """filters times the width coefficient, to a multiple of depth_divisor no more than 10% below."""
        filters *= width_coefficient
        new_filters = max(depth_divisor, int(filters + depth_divisor / 2) // depth_divisor * depth_divisor)
        return int(new_filters + depth_divisor if new_filters < 0.9 * filters else new_filters)

    def round_repeats(repeats):
        return int(math.ceil(depth_coefficient * repeats))

    x = layers.Rescaling(1.0 / 255.0)(img_input)
    x = layers.Normalization(axis=bn_axis)(x)
    if weights == "imagenet":
        x = layers.Rescaling([1.0 / math.sqrt(stddev) for stddev in IMAGENET_STDDEV_RGB])(x)
    x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name="stem_conv_pad")(x)
    x = layers.Conv2D(round_filters(32), 3, strides=2, padding="valid", use_bias=False,
                      kernel_initializer=CONV_KERNEL_INITIALIZER, name="stem_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)

    blocks_args = copy.deepcopy(blocks_args)
    b = 0
    blocks = float(sum(round_repeats(args["repeats"]) for args in blocks_args))
    for i, args in enumerate(blocks_args):
        if args["repeats"] <= 0:
            raise ValueError("The number of repeats in `EfficientNet` must be > 0. Received: repeats=%s"
                             % (args["repeats"],))
        args["filters_in"] = round_filters(args["filters_in"])
        args["filters_out"] = round_filters(args["filters_out"])
        for j in range(round_repeats(args.pop("repeats"))):
            if j > 0:
                args["strides"] = 1
                args["filters_in"] = args["filters_out"]
            x = block(x, activation, drop_connect_rate * b / blocks, name="block%d%s_" % (i + 1, chr(j + 97)),
                      **args)
            b += 1
    x = head(x, round_filters(1280), activation, include_top, dropout_rate, classes, classifier_activation, pooling)
    return builder.functional_model(img_input, input_tensor, x, name, weights,
                                    lambda: imagenet_weights(BASE_WEIGHTS_PATH, name, WEIGHTS_HASHES[weights_name],
                                                             include_top))


def imagenet_weights(base_path, name, hashes, include_top=True):
    """The local path of Keras's pretrained file <name>.h5 (or <name>_notop.h5) under base_path, downloaded
    on first use and checked against its md5 in hashes (with the classifier, without)."""
    file_name = name + (".h5" if include_top else "_notop.h5")
    return get_file(file_name, base_path + file_name, cache_subdir="models", file_hash=hashes[0 if include_top else 1])


def channel_axis():
    return 1 if config.image_data_format() == "channels_first" else 3


def squeeze_excite(x, filters_in, filters, se_ratio, activation, name):
    """x's channels scaled by a sigmoid gate computed from their means (both EfficientNets' SE)."""
    se = layers.GlobalAveragePooling2D(name=name + "se_squeeze")(x)
    se_shape = (filters, 1, 1) if channel_axis() == 1 else (1, 1, filters)
    se = layers.Reshape(se_shape, name=name + "se_reshape")(se)
    se = layers.Conv2D(max(1, int(filters_in * se_ratio)), 1, padding="same", activation=activation,
                       kernel_initializer=CONV_KERNEL_INITIALIZER, name=name + "se_reduce")(se)
    se = layers.Conv2D(filters, 1, padding="same", activation="sigmoid", kernel_initializer=CONV_KERNEL_INITIALIZER,
                       name=name + "se_expand")(se)
    return layers.multiply([x, se], name=name + "se_excite")


def residual(x, inputs, drop_rate, name):
    """x + inputs, x dropped whole per sample (stochastic depth) at drop_rate in training."""
    if drop_rate > 0:
        x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=name + "drop")(x)
    return layers.add([x, inputs], name=name + "add")


def head(x, filters, activation, include_top, dropout_rate, classes, classifier_activation, pooling, **bn):
    """Both EfficientNets' last 1x1 convolution, then the classifier (or the pooling without it)."""
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, kernel_initializer=CONV_KERNEL_INITIALIZER,
                      name="top_conv")(x)
    x = layers.BatchNormalization(axis=channel_axis(), name="top_bn", **bn)(x)
    x = layers.Activation(activation, name="top_activation")(x)
    if not include_top:
        return builder.global_pooling(x, pooling, names=("avg_pool", "max_pool"))
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if dropout_rate > 0:
        x = layers.Dropout(dropout_rate, name="top_dropout")(x)
    return layers.Dense(classes, activation=classifier_activation, kernel_initializer=DENSE_KERNEL_INITIALIZER,
                        name="predictions")(x)


def block(inputs, activation="swish", drop_rate=0.0, name="", filters_in=32, filters_out=16, kernel_size=3,
          strides=1, expand_ratio=1, se_ratio=0.0, id_skip=True):
    """An inverted residual block: expand (1x1), depthwise, squeeze-excite, project (1x1); added to the
    input when the shapes agree."""
    bn_axis = channel_axis()
    filters = filters_in * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = layers.Conv2D(filters, 1, padding="same", use_bias=False, kernel_initializer=CONV_KERNEL_INITIALIZER,
                          name=name + "expand_conv")(x)
        x = layers.BatchNormalization(axis=bn_axis, name=name + "expand_bn")(x)
        x = layers.Activation(activation, name=name + "expand_activation")(x)
    if strides == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size), name=name + "dwconv_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=strides, padding="valid" if strides == 2 else "same",
                               use_bias=False, depthwise_initializer=CONV_KERNEL_INITIALIZER, name=name + "dwconv")(x)
    x = layers.BatchNormalization(axis=bn_axis, name=name + "bn")(x)
    x = layers.Activation(activation, name=name + "activation")(x)
    if 0 < se_ratio <= 1:
        x = squeeze_excite(x, filters_in, filters, se_ratio, activation, name)
    x = layers.Conv2D(filters_out, 1, padding="same", use_bias=False, kernel_initializer=CONV_KERNEL_INITIALIZER,
                      name=name + "project_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, name=name + "project_bn")(x)
    if id_skip and strides == 1 and filters_in == filters_out:
        x = residual(x, inputs, drop_rate, name)
    return x


def _variant(key):
    """EfficientNetB<i>: EfficientNet with Keras's scaling for it, and Keras's signature."""
    width, depth, size, dropout = VARIANTS[key]

    def constructor(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                    classes=1000, classifier_activation="softmax", name="efficientnet" + key):
        return EfficientNet(width, depth, size, dropout, name=name, include_top=include_top, weights=weights,
                            input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
                            classifier_activation=classifier_activation, weights_name=key)
    constructor.__name__ = constructor.__qualname__ = "EfficientNet" + key.upper()
    constructor.__doc__ = ("The EfficientNet%s model (a functional Model) for %dx%d images by default, taking "
                           "pixels in [0, 255]. Arguments as VGG16's; input_shape at least 32x32."
                           % (key.upper(), size, size))
    return constructor


EfficientNetB0, EfficientNetB1, EfficientNetB2, EfficientNetB3, EfficientNetB4, EfficientNetB5, EfficientNetB6, \
    EfficientNetB7 = (_variant("b%d" % i) for i in range(8))


def preprocess_input(x, data_format=None):
    """x itself: the model normalizes its inputs (Keras keeps this function for older code)."""
    return x


def decode_predictions(preds, top=5):
    return imagenet_utils.decode_predictions(preds, top=top)

"""EfficientNetV2 B0 to B3, S, M and L (Tan and Le, ICML 2021), as keras.applications.efficientnet_v2:
EfficientNet's blocks in the later stages, "fused" ones (a full 3x3 convolution in place of the 1x1 expansion
and the depthwise one) in the early stages. Keras's layer names (stem_conv, block1a_project_conv,
block4a_se_excite, ..., top_conv, predictions), so Keras's weight files load; weights="imagenet" fetches Keras's
file (efficientnetv2-b0.h5, efficientnetv2-s_notop.h5, ...) and checks its md5.

The model scales its inputs itself (include_preprocessing=True: B0 to B3 to [0, 1] and then normalized by
the ImageNet mean and std, S, M and L to [-1, 1]), so it takes pixels in [0, 255] and preprocess_input
returns its argument.
"""
import copy
import math

from mlcore import config, layers
from mlcore.applications import builder, imagenet_utils
from mlcore.applications.efficientnet import (  # the SE, the shortcut and the top are EfficientNet's
    CONV_KERNEL_INITIALIZER, channel_axis, decode_predictions, head, imagenet_weights, preprocess_input, residual,
    squeeze_excite)

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/"
WEIGHTS_HASHES = {     # variant: (md5 of the file with the classifier, of the one without)
    "b0": ("21ecbf6da12460d5c40bb2f29ceb2188", "893217f2bb855e2983157299931e43ff"),
    "b1": ("069f0534ff22adf035c89e2d9547a9dc", "0e80663031ca32d657f9caa404b6ec37"),
    "b2": ("424e49f28180edbde1e94797771950a7", "1dfe2e7a5d45b6632553a8961ea609eb"),
    "b3": ("1f1fc43bd98a6e4fd8fdfd551e02c7a0", "f6abf7b5849ac99a89b50dd3fd532856"),
    "-s": ("e1d88a8495beba45748fedd0cecbe016", "af0682fb74e8c54910f2d4393339c070"),
    "-m": ("a3bf6aa3276309f4fc6a34aa114c95cd", "1b8dc055df72dde80d614482840fe342"),
    "-l": ("27e6d408b53c7ebc868fefa357689935", "b0b66b5c863aef5b46e8608fe1711615"),
}


def _stages(*rows):
    """Block arguments, one dict per stage, from rows of (conv_type (1: fused), repeats, input filters,
    output filters, expand ratio, SE ratio, strides); all kernels are 3x3."""
    return [dict(kernel_size=3, num_repeat=r, input_filters=i, output_filters=o, expand_ratio=e, se_ratio=se,
                 strides=s, conv_type=t) for t, r, i, o, e, se, s in rows]


_B = _stages((1, 1, 32, 16, 1, 0, 1), (1, 2, 16, 32, 4, 0, 2), (1, 2, 32, 48, 4, 0, 2), (0, 3, 48, 96, 4, 0.25, 2),
             (0, 5, 96, 112, 6, 0.25, 1), (0, 8, 112, 192, 6, 0.25, 2))
DEFAULT_BLOCKS_ARGS = {
    "efficientnetv2-s": _stages((1, 2, 24, 24, 1, 0, 1), (1, 4, 24, 48, 4, 0, 2), (1, 4, 48, 64, 4, 0, 2),
                                (0, 6, 64, 128, 4, 0.25, 2), (0, 9, 128, 160, 6, 0.25, 1),
                                (0, 15, 160, 256, 6, 0.25, 2)),
    "efficientnetv2-m": _stages((1, 3, 24, 24, 1, 0, 1), (1, 5, 24, 48, 4, 0, 2), (1, 5, 48, 80, 4, 0, 2),
                                (0, 7, 80, 160, 4, 0.25, 2), (0, 14, 160, 176, 6, 0.25, 1),
                                (0, 18, 176, 304, 6, 0.25, 2), (0, 5, 304, 512, 6, 0.25, 1)),
    "efficientnetv2-l": _stages((1, 4, 32, 32, 1, 0, 1), (1, 7, 32, 64, 4, 0, 2), (1, 7, 64, 96, 4, 0, 2),
                                (0, 10, 96, 192, 4, 0.25, 2), (0, 19, 192, 224, 6, 0.25, 1),
                                (0, 25, 224, 384, 6, 0.25, 2), (0, 7, 384, 640, 6, 0.25, 1)),
    "efficientnetv2-b0": _B, "efficientnetv2-b1": _B, "efficientnetv2-b2": _B, "efficientnetv2-b3": _B,
}
# constructor suffix: (the model's name and weights' key, width coefficient, depth coefficient, input size)
VARIANTS = {"B0": ("b0", 1.0, 1.0, 224), "B1": ("b1", 1.0, 1.1, 240), "B2": ("b2", 1.1, 1.2, 260),
            "B3": ("b3", 1.2, 1.4, 300), "S": ("-s", 1.0, 1.0, 384), "M": ("-m", 1.0, 1.0, 480),
            "L": ("-l", 1.0, 1.0, 480)}

__all__ = ["EfficientNetV2" + v for v in VARIANTS] + ["preprocess_input", "decode_predictions"]


def round_filters(filters, width_coefficient, min_depth, depth_divisor):
    """filters times the width coefficient, rounded to a multiple of depth_divisor (at least min_depth)."""
    filters *= width_coefficient
    minimum_depth = min_depth or depth_divisor
    return int(max(minimum_depth, int(filters + depth_divisor / 2) // depth_divisor * depth_divisor))


def round_repeats(repeats, depth_coefficient):
    return int(math.ceil(depth_coefficient * repeats))


def MBConvBlock(input_filters, output_filters, expand_ratio=1, kernel_size=3, strides=1, se_ratio=0.0,
                bn_momentum=0.9, activation="swish", survival_probability=0.8, name=None):
    """The inverted residual block: expand (1x1), depthwise, squeeze-excite, project (1x1); a function of
    the block's input, as Keras's."""
    def apply(inputs):
        filters = input_filters * expand_ratio
        x = inputs
        if expand_ratio != 1:
            x = _conv_bn(x, filters, 1, 1, bn_momentum, name + "expand", activation)
        x = layers.DepthwiseConv2D(kernel_size=kernel_size, strides=strides, padding="same", use_bias=False,
                                   depthwise_initializer=CONV_KERNEL_INITIALIZER, name=name + "dwconv2")(x)
        x = layers.BatchNormalization(axis=channel_axis(), momentum=bn_momentum, name=name + "bn")(x)
        x = layers.Activation(activation, name=name + "activation")(x)
        if 0 < se_ratio <= 1:
            x = squeeze_excite(x, input_filters, filters, se_ratio, activation, name)
        x = _conv_bn(x, output_filters, 1, 1, bn_momentum, name + "project")
        return _shortcut(x, inputs, strides, input_filters, output_filters, survival_probability, name)
    return apply


def FusedMBConvBlock(input_filters, output_filters, expand_ratio=1, kernel_size=3, strides=1, se_ratio=0.0,
                     bn_momentum=0.9, activation="swish", survival_probability=0.8, name=None):
    """The fused block: one full convolution expands (kernel_size, strides), squeeze-excite, project (1x1);
    without expansion, the projection is that convolution (and is activated)."""
    def apply(inputs):
        filters = input_filters * expand_ratio
        x = inputs
        if expand_ratio != 1:
            x = _conv_bn(x, filters, kernel_size, strides, bn_momentum, name + "expand", activation)
        if 0 < se_ratio <= 1:
            x = squeeze_excite(x, input_filters, filters, se_ratio, activation, name)
        fused = expand_ratio == 1
        x = _conv_bn(x, output_filters, kernel_size if fused else 1, strides if fused else 1, bn_momentum,
                     name + "project", activation if fused else None)
        return _shortcut(x, inputs, strides, input_filters, output_filters, survival_probability, name)
    return apply


def _conv_bn(x, filters, kernel_size, strides, bn_momentum, prefix, activation=None):
    """<prefix>_conv, <prefix>_bn and (given an activation) <prefix>_activation."""
    x = layers.Conv2D(filters, kernel_size=kernel_size, strides=strides, kernel_initializer=CONV_KERNEL_INITIALIZER,
                      padding="same", use_bias=False, name=prefix + "_conv")(x)
    x = layers.BatchNormalization(axis=channel_axis(), momentum=bn_momentum, name=prefix + "_bn")(x)
    return x if activation is None else layers.Activation(activation, name=prefix + "_activation")(x)


def _shortcut(x, inputs, strides, input_filters, output_filters, survival_probability, name):
    """x + inputs when the shapes agree (x dropped per sample in training: Keras passes
    survival_probability as the Dropout rate), else x."""
    if strides == 1 and input_filters == output_filters:
        return residual(x, inputs, survival_probability or 0, name)
    return x


def EfficientNetV2(width_coefficient, depth_coefficient, default_size, dropout_rate=0.2, drop_connect_rate=0.2,
                   depth_divisor=8, min_depth=8, bn_momentum=0.9, activation="swish", blocks_args="default",
                   name="efficientnetv2", include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                   pooling=None, classes=1000, classifier_activation="softmax", include_preprocessing=True,
                   weights_name=None):
    """The EfficientNetV2 of the given scaling (a functional Model); EfficientNetV2B0 ... L pick Keras's."""
    blocks_args = DEFAULT_BLOCKS_ARGS[name] if blocks_args == "default" else blocks_args
    builder.check_arguments(weights, include_top, classes, classifier_activation)
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=default_size, min_size=32,
                                                    data_format=config.image_data_format(),
                                                    require_flatten=include_top, weights=weights)
    img_input = builder.image_input(input_tensor, input_shape)
    bn_axis = channel_axis()
    x = img_input
    if include_preprocessing:
        if name.split("-")[-1].startswith("b") and input_shape[bn_axis - 1] == 3:
            x = layers.Rescaling(scale=1.0 / 255)(x)
            x = layers.Normalization(mean=[0.485, 0.456, 0.406], variance=[0.229 ** 2, 0.224 ** 2, 0.225 ** 2],
                                     axis=bn_axis)(x)
        else:
            x = layers.Rescaling(scale=1.0 / 128.0, offset=-1)(x)

    def filters(n):
        return round_filters(n, width_coefficient, min_depth, depth_divisor)

    x = layers.Conv2D(filters(blocks_args[0]["input_filters"]), kernel_size=3, strides=2,
                      kernel_initializer=CONV_KERNEL_INITIALIZER, padding="same", use_bias=False, name="stem_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, momentum=bn_momentum, name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)

    blocks_args = copy.deepcopy(blocks_args)
    b = 0
    blocks = float(sum(args["num_repeat"] for args in blocks_args))
    for i, args in enumerate(blocks_args):
        if args["num_repeat"] <= 0:
            raise ValueError("The number of repeats in `EfficientNetV2` must be > 0. Received: num_repeat=%s"
                             % (args["num_repeat"],))
        args["input_filters"] = filters(args["input_filters"])
        args["output_filters"] = filters(args["output_filters"])
        make_block = FusedMBConvBlock if args.pop("conv_type") else MBConvBlock
        for j in range(round_repeats(args.pop("num_repeat"), depth_coefficient)):
            if j > 0:
                args["strides"] = 1
                args["input_filters"] = args["output_filters"]
            x = make_block(activation=activation, bn_momentum=bn_momentum,
                           survival_probability=drop_connect_rate * b / blocks,
                           name="block%d%s_" % (i + 1, chr(j + 97)), **args)(x)
            b += 1
    x = head(x, filters(1280), activation, include_top, dropout_rate, classes, classifier_activation, pooling,
             momentum=bn_momentum)
    return builder.functional_model(img_input, input_tensor, x, name, weights,
                                    lambda: imagenet_weights(BASE_WEIGHTS_PATH, name, WEIGHTS_HASHES[weights_name],
                                                             include_top))


def _variant(suffix):
    """EfficientNetV2<suffix>: EfficientNetV2 with Keras's scaling for it, and Keras's signature."""
    key, width, depth, size = VARIANTS[suffix]

    def constructor(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                    classes=1000, classifier_activation="softmax", include_preprocessing=True,
                    name="efficientnetv2-" + key.lstrip("-")):
        return EfficientNetV2(width_coefficient=width, depth_coefficient=depth, default_size=size, name=name,
                              include_top=include_top, weights=weights, input_tensor=input_tensor,
                              input_shape=input_shape, pooling=pooling, classes=classes,
                              classifier_activation=classifier_activation,
                              include_preprocessing=include_preprocessing, weights_name=key)
    constructor.__name__ = constructor.__qualname__ = "EfficientNetV2" + suffix
    constructor.__doc__ = ("The EfficientNetV2%s model (a functional Model) for %dx%d images by default, taking "
                           "pixels in [0, 255] (include_preprocessing=True). Arguments as VGG16's; input_shape at "
                           "least 32x32." % (suffix, size, size))
    return constructor


EfficientNetV2B0, EfficientNetV2B1, EfficientNetV2B2, EfficientNetV2B3, EfficientNetV2S, EfficientNetV2M, \
    EfficientNetV2L = (_variant(suffix) for suffix in VARIANTS)

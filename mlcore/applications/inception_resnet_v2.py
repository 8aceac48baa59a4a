"""InceptionResNetV2 (Szegedy et al., AAAI 2017), as keras.applications.inception_resnet_v2: InceptionV3's stem,
mixed_5b, then 10 block35, 20 block17 and 10 block8 residual Inception blocks (each adds its scaled 1x1
projection to its input) with the reductions mixed_6a and mixed_7a between, conv_7b and the classifier.
Keras's layer names (the unnamed conv2d_N, batch_normalization_N, activation_N and custom_scale_layer_N in
Keras's order; block35_1_mixed, block35_1_conv, ...), so Keras's weight files load; weights="imagenet"
fetches Keras's own files, md5-checked. Inputs are scaled to [-1, 1] (tf mode).
"""
from mlcore import layers
from mlcore.applications import builder, imagenet_utils
from mlcore.applications.mobilenet import channel_axis
from mlcore.utils.file_utils import get_file

BASE_WEIGHT_URL = "https://storage.googleapis.com/tensorflow/keras-applications/inception_resnet_v2/"
WEIGHTS_HASHES = ("e693bd0210a403b3192acc6073ad2e96", "d19885ff4a710c122648d3b5c3b684e4")   # top, notop
# block type: how many, the scale of their residuals, their branches as (filters, kernel_size) chains
BLOCKS = {
    "block35": (10, 0.17, [[(32, 1)], [(32, 1), (32, 3)], [(32, 1), (48, 3), (64, 3)]]),
    "block17": (20, 0.1, [[(192, 1)], [(128, 1), (160, (1, 7)), (192, (7, 1))]]),
    "block8": (10, 0.2, [[(192, 1)], [(192, 1), (224, (1, 3)), (256, (3, 1))]]),
}


class CustomScaleLayer(layers.Layer):
    """inputs[0] + inputs[1] * scale: a residual block's input plus its scaled update (Keras's layer)."""

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def get_config(self):
        return dict(super().get_config(), scale=self.scale)

    def call(self, inputs):
        return inputs[0] + inputs[1] * self.scale


def InceptionResNetV2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                      classes=1000, classifier_activation="softmax", name="inception_resnet_v2"):
    """The InceptionResNetV2 model (a functional Model).

    weights: None (random initialisation), "imagenet" (downloaded once, md5-checked) or the path of a
    weights file in any Keras layout. input_shape may only differ from (299, 299, 3) without the top
    (then at least 75x75). pooling (without the top): None, "avg" or "max". Inputs are expected
    preprocessed by preprocess_input (tf mode).
    """
    img_input = builder.checked_input(weights, include_top, classes, classifier_activation, input_tensor,
                                      input_shape, default_size=299, min_size=75)

    x = conv2d_bn(img_input, 32, 3, strides=2, padding="valid")
    x = conv2d_bn(x, 32, 3, padding="valid")
    x = conv2d_bn(x, 64, 3)
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = conv2d_bn(x, 80, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, padding="valid")
    x = layers.MaxPooling2D(3, strides=2)(x)

    branches = [_chain(x, [(96, 1)]), _chain(x, [(48, 1), (64, 5)]), _chain(x, [(64, 1), (96, 3), (96, 3)])]
    branches.append(conv2d_bn(layers.AveragePooling2D(3, strides=1, padding="same")(x), 64, 1))
    x = layers.Concatenate(axis=channel_axis(), name="mixed_5b")(branches)
    x = _residual_blocks(x, "block35")
    x = _reduction(x, [[(384, 3)], [(256, 1), (256, 3), (384, 3)]], "mixed_6a")
    x = _residual_blocks(x, "block17")
    x = _reduction(x, [[(256, 1), (384, 3)], [(256, 1), (288, 3)], [(256, 1), (288, 3), (320, 3)]], "mixed_7a")
    x = _residual_blocks(x, "block8")
    x = conv2d_bn(x, 1536, 1, name="conv_7b")

    x = builder.classifier_or_pooling(x, include_top, pooling, classes, classifier_activation)
    return builder.functional_model(img_input, input_tensor, x, name, weights,
                                    lambda: imagenet_weights(include_top))


def imagenet_weights(include_top=True):
    """The local path of Keras's pretrained InceptionResNetV2 file, downloaded and md5-checked on first use."""
    file_name = ("inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5" if include_top
                 else "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5")
    return get_file(file_name, BASE_WEIGHT_URL + file_name, cache_subdir="models",
                    file_hash=WEIGHTS_HASHES[0 if include_top else 1])


def conv2d_bn(x, filters, kernel_size, strides=1, padding="same", activation="relu", use_bias=False, name=None):
    """Convolution (named name), then, without a bias, BatchNormalization without scale (name_bn), then the
    activation (name_ac) unless it is None."""
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias, name=name)(x)
    if not use_bias:
        x = layers.BatchNormalization(axis=channel_axis(), scale=False,
                                      name=None if name is None else name + "_bn")(x)
    if activation is not None:
        x = layers.Activation(activation, name=None if name is None else name + "_ac")(x)
    return x


def _chain(x, convs):
    """x through conv2d_bn for each (filters, kernel_size) of convs, in turn."""
    for filters, kernel_size in convs:
        x = conv2d_bn(x, filters, kernel_size)
    return x


def _reduction(x, branches, name):
    """A grid reduction: each chain of branches (its last convolution strided 2, "valid") beside a strided
    3x3 max pooling, concatenated."""
    outputs = []
    for convs in branches:
        y = _chain(x, convs[:-1])
        outputs.append(conv2d_bn(y, *convs[-1], strides=2, padding="valid"))
    outputs.append(layers.MaxPooling2D(3, strides=2, padding="valid")(x))
    return layers.Concatenate(axis=channel_axis(), name=name)(outputs)


def _residual_blocks(x, block_type):
    """The blocks of block_type in turn; the last block8 has no scale and no ReLU."""
    count, scale, _ = BLOCKS[block_type]
    for block_idx in range(1, count + 1):
        last_block8 = block_type == "block8" and block_idx == count
        x = inception_resnet_block(x, 1.0 if last_block8 else scale, block_type, block_idx,
                                   activation=None if last_block8 else "relu")
    return x


def inception_resnet_block(x, scale, block_type, block_idx, activation="relu"):
    """x plus scale times a 1x1 projection (with bias, no BN) of the concatenated branches of block_type
    ("block35", "block17" or "block8"), then the activation."""
    if block_type not in BLOCKS:
        raise ValueError('Unknown Inception-ResNet block type. Expects "block35", "block17" or "block8", '
                         "but got: %s" % (block_type,))
    block_name = "%s_%d" % (block_type, block_idx)
    mixed = layers.Concatenate(axis=channel_axis(), name=block_name + "_mixed")(
        [_chain(x, convs) for convs in BLOCKS[block_type][2]])
    up = conv2d_bn(mixed, x.shape[channel_axis()], 1, activation=None, use_bias=True, name=block_name + "_conv")
    x = CustomScaleLayer(scale)([x, up])
    if activation is not None:
        x = layers.Activation(activation, name=block_name + "_ac")(x)
    return x


def preprocess_input(x, data_format=None):
    """Pixels in [0, 255] scaled to [-1, 1] (tf mode): what InceptionResNetV2 was trained on."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """[[(class_id, class_name, score), ...] for each image], best `top` first."""
    return imagenet_utils.decode_predictions(preds, top=top)

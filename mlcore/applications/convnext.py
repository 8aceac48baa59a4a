"""ConvNeXt Tiny to XLarge (Liu et al., CVPR 2022), as keras.applications.convnext: a patchify stem, then four
stages of blocks (depthwise 7x7, LayerNormalization, an MLP with GELU, a learned per-channel scale, a residual
add), LayerNormalization and a strided 2x2 convolution between stages. Keras's layer names (convnext_tiny_stem,
convnext_tiny_stage_0_block_0_depthwise_conv, ..., convnext_tiny_head_dense) and its two layers of its own,
LayerScale and StochasticDepth, so Keras's weight files load; weights="imagenet" fetches Keras's file
(convnext_tiny.h5, convnext_tiny_notop.h5, ...) and checks its sha256.

The model normalizes its inputs itself (include_preprocessing=True: a Normalization by the ImageNet mean and
std of pixels in [0, 255]), so preprocess_input returns its argument. channels_last only, as Keras's.
"""
import numpy as np

from mlcore import layers
from mlcore.applications import builder, imagenet_utils
from mlcore.applications.efficientnet import decode_predictions, imagenet_weights, preprocess_input  # noqa: F401
from mlcore.layers.base import Layer
from mlcore.layers.core import noise_shape_of
from mlcore.utils.rng import layer_streams
from mlcore.models import Sequential

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/convnext/"
WEIGHTS_HASHES = {     # variant: (sha256 of the file with the classifier, of the one without)
    "convnext_tiny": ("8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff",
                      "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1"),
    "convnext_small": ("ce1277d8f1ee5a0ef0e171469089c18f5233860ceaf9b168049cb9263fd7483c",
                       "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab"),
    "convnext_base": ("52cbb006d3dadd03f6e095a8ca1aca47aecdd75acb4bc74bce1f5c695d0086e6",
                      "40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45"),
    "convnext_large": ("070c5ed9ed289581e477741d3b34beffa920db8cf590899d6d2c67fba2a198a6",
                       "96f02b6f0753d4f543261bc9d09bed650f24dd6bc02ddde3066135b63d23a1cd"),
    "convnext_xlarge": ("c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee",
                        "de3f8a54174130e0cecdc71583354753d557fcf1f4487331558e2a16ba0cfe05"),
}
MODEL_CONFIGS = {
    "tiny": {"depths": [3, 3, 9, 3], "projection_dims": [96, 192, 384, 768], "default_size": 224},
    "small": {"depths": [3, 3, 27, 3], "projection_dims": [96, 192, 384, 768], "default_size": 224},
    "base": {"depths": [3, 3, 27, 3], "projection_dims": [128, 256, 512, 1024], "default_size": 224},
    "large": {"depths": [3, 3, 27, 3], "projection_dims": [192, 384, 768, 1536], "default_size": 224},
    "xlarge": {"depths": [3, 3, 27, 3], "projection_dims": [256, 512, 1024, 2048], "default_size": 224},
}

__all__ = ["ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge", "LayerScale",
           "StochasticDepth", "preprocess_input", "decode_predictions"]


class StochasticDepth(Layer):
    """A residual branch dropped whole per sample in training at drop_path_rate (kept ones scaled up)."""

    def __init__(self, drop_path_rate, **kwargs):
        super().__init__(**kwargs)
        self.drop_path_rate = drop_path_rate
        self.seed_generator = layer_streams(None)

    def call(self, x, training=None):
        if not training:
            return x
        keep_prob = 1 - self.drop_path_rate
        keep = self.seed_generator.binomial(noise_shape_of(x, (None,) + (1,) * (x.ndim - 1)), p=keep_prob,
                                            dtype=x.dtype)
        return x / keep_prob * keep

    def get_config(self):
        return {**super().get_config(), "drop_path_rate": self.drop_path_rate}


class LayerScale(Layer):
    """x times a learned per-channel scale `gamma`, initialized to init_values (CaiT's layer scale)."""

    def __init__(self, init_values, projection_dim, **kwargs):
        super().__init__(**kwargs)
        self.init_values = init_values
        self.projection_dim = projection_dim

    def build(self, input_shape):
        self.gamma = self.add_weight((self.projection_dim,), np.full(self.projection_dim, self.init_values),
                                     name="gamma")
        self.built = True

    def call(self, x):
        return x * self.gamma

    def get_config(self):
        return {**super().get_config(), "init_values": self.init_values, "projection_dim": self.projection_dim}


def ConvNeXtBlock(projection_dim, drop_path_rate=0.0, layer_scale_init_value=1e-6, name=None):
    """The block as a function of its input: depthwise 7x7, LayerNormalization, Dense x4 with GELU, Dense back,
    LayerScale, StochasticDepth (or an identity Activation), added to the input."""
    def apply(inputs):
        x = layers.Conv2D(projection_dim, kernel_size=7, padding="same", groups=projection_dim,
                          name=name + "_depthwise_conv")(inputs)
        x = layers.LayerNormalization(epsilon=1e-6, name=name + "_layernorm")(x)
        x = layers.Dense(4 * projection_dim, name=name + "_pointwise_conv_1")(x)
        x = layers.Activation("gelu", name=name + "_gelu")(x)
        x = layers.Dense(projection_dim, name=name + "_pointwise_conv_2")(x)
        if layer_scale_init_value is not None:
            x = LayerScale(layer_scale_init_value, projection_dim, name=name + "_layer_scale")(x)
        if drop_path_rate:
            x = StochasticDepth(drop_path_rate, name=name + "_stochastic_depth")(x)
        else:
            x = layers.Activation("linear", name=name + "_identity")(x)
        return inputs + x
    return apply


def ConvNeXt(depths, projection_dims, drop_path_rate=0.0, layer_scale_init_value=1e-6, default_size=224,
             name="convnext", include_preprocessing=True, include_top=True, weights=None, input_tensor=None,
             input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", weights_name=None):
    """The ConvNeXt of the given depths and widths (a functional Model); ConvNeXtTiny ... XLarge pick Keras's."""
    builder.channels_last_only("ConvNeXt")
    builder.check_arguments(weights, include_top, classes, classifier_activation)
    if weights == "imagenet":
        _check_pretrained_config(depths, projection_dims, name, weights_name)
    input_shape = imagenet_utils.obtain_input_shape(input_shape, default_size=default_size, min_size=32,
                                                    data_format="channels_last", require_flatten=include_top,
                                                    weights=weights)
    img_input = builder.image_input(input_tensor, input_shape)
    x = img_input
    if include_preprocessing and input_shape[-1] == 3:
        x = layers.Normalization(mean=[0.485 * 255, 0.456 * 255, 0.406 * 255],
                                 variance=[(0.229 * 255) ** 2, (0.224 * 255) ** 2, (0.225 * 255) ** 2],
                                 name=name + "_prestem_normalization")(x)
    downsampling = [Sequential([layers.Conv2D(projection_dims[0], kernel_size=4, strides=4, name=name + "_stem_conv"),
                                layers.LayerNormalization(epsilon=1e-6, name=name + "_stem_layernorm")],
                               name=name + "_stem")]
    downsampling += [Sequential([layers.LayerNormalization(epsilon=1e-6, name="%s_downsampling_layernorm_%d" % (name, i)),
                                 layers.Conv2D(projection_dims[i + 1], kernel_size=2, strides=2,
                                               name="%s_downsampling_conv_%d" % (name, i))],
                                name="%s_downsampling_block_%d" % (name, i)) for i in range(3)]
    drop_rates = [float(r) for r in np.linspace(0.0, drop_path_rate, sum(depths))]
    cur = 0
    for i in range(4):
        x = downsampling[i](x)
        for j in range(depths[i]):
            x = ConvNeXtBlock(projection_dims[i], drop_rates[cur + j], layer_scale_init_value,
                              name="%s_stage_%d_block_%d" % (name, i, j))(x)
        cur += depths[i]
    if include_top:
        x = layers.GlobalAveragePooling2D(name=name + "_head_gap")(x)
        x = layers.LayerNormalization(epsilon=1e-6, name=name + "_head_layernorm")(x)
        x = layers.Dense(classes, activation=classifier_activation, name=name + "_head_dense")(x)
    else:
        x = layers.LayerNormalization(epsilon=1e-6)(builder.global_pooling(x, pooling))
    return builder.functional_model(img_input, input_tensor, x, name, weights,
                                    lambda: imagenet_weights(BASE_WEIGHTS_PATH, name, WEIGHTS_HASHES[weights_name],
                                                             include_top))


def _check_pretrained_config(depths, projection_dims, name, weights_name):
    """Keras's checks that a model given weights="imagenet" is the variant the file is for."""
    expected = MODEL_CONFIGS[weights_name.split("convnext_")[-1]]
    if depths != expected["depths"] or projection_dims != expected["projection_dims"]:
        raise ValueError("Architecture configuration does not match %s variant. When using pre-trained weights, "
                         "the model architecture must match the pre-trained configuration exactly. Expected "
                         "depths: %s, got: %s. Expected projection_dims: %s, got: %s."
                         % (weights_name, expected["depths"], depths, expected["projection_dims"], projection_dims))
    if weights_name not in name:
        raise ValueError('Model name "%s" does not match weights variant "%s". When using imagenet weights, model '
                         'name must contain the weights variant (e.g., "convnext_%s").'
                         % (name, weights_name, weights_name.split("convnext_")[-1]))


def _variant(size):
    """ConvNeXt<Size>: ConvNeXt with Keras's configuration for it, and Keras's signature."""
    config = MODEL_CONFIGS[size]

    def constructor(include_top=True, include_preprocessing=True, weights="imagenet", input_tensor=None,
                    input_shape=None, pooling=None, classes=1000, classifier_activation="softmax",
                    name="convnext_" + size):
        return ConvNeXt(weights_name="convnext_" + size, depths=config["depths"],
                        projection_dims=config["projection_dims"], drop_path_rate=0.0, layer_scale_init_value=1e-6,
                        default_size=config["default_size"], name=name, include_top=include_top,
                        include_preprocessing=include_preprocessing, weights=weights, input_tensor=input_tensor,
                        input_shape=input_shape, pooling=pooling, classes=classes,
                        classifier_activation=classifier_activation)
    constructor.__name__ = constructor.__qualname__ = "ConvNeXt" + ("XLarge" if size == "xlarge" else size.title())
    constructor.__doc__ = ("The %s model (a functional Model) for 224x224 images by default, taking pixels in "
                           "[0, 255] (include_preprocessing=True). Arguments as VGG16's." % constructor.__name__)
    return constructor


ConvNeXtTiny, ConvNeXtSmall, ConvNeXtBase, ConvNeXtLarge, ConvNeXtXLarge = (
    _variant(size) for size in ("tiny", "small", "base", "large", "xlarge"))

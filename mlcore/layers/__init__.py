"""Keras layers (mlcore.layers.Dense, ...).  Keras 1 names are kept as aliases."""
from mlcore.layers.base import Layer, Weight  # noqa: F401
from mlcore.layers.core import Activation, Dense, Dropout, Flatten, Lambda, Permute, Reshape  # noqa: F401
from mlcore.layers.input_layer import Input, InputLayer  # noqa: F401
from mlcore.layers.input_spec import InputSpec  # noqa: F401
from mlcore.layers.masking import Masking  # noqa: F401
from mlcore.layers.merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply,  # noqa: F401
                                   Subtract, add, average, concatenate, dot, maximum, minimum, multiply,
                                   subtract)
# Keras 1's merge() function, as `from keras.layers import merge` gave it; its module (Keras 2's
# keras.layers.merge) is loaded first, so that importing it later does not rebind the name
from mlcore.layers.merge import merge  # noqa: F401
from mlcore.layers.normalization import BatchNormalization  # noqa: F401
from mlcore.layers.convolutional import Conv2D, Convolution2D, ZeroPadding2D  # noqa: F401
from mlcore.layers.pooling import (AveragePooling2D, AvgPool2D, GlobalAveragePooling2D,  # noqa: F401
                                   GlobalAvgPool2D, GlobalMaxPool2D, GlobalMaxPooling2D, MaxPool2D,
                                   MaxPooling2D)
from mlcore.layers.activations import ELU, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU  # noqa: F401
from mlcore.layers.embedding import Embedding  # noqa: F401
from mlcore.layers.identity import ActivityRegularization, Identity  # noqa: F401
from mlcore.layers.layer_normalization import (LayerNormalization, RMSNormalization,  # noqa: F401
                                               UnitNormalization)
from mlcore.layers.group_normalization import GroupNormalization  # noqa: F401
from mlcore.layers.preprocessing_normalization import Normalization  # noqa: F401
from mlcore.layers.noise import (AlphaDropout, GaussianDropout, GaussianNoise, SpatialDropout1D,  # noqa: F401
                                 SpatialDropout2D, SpatialDropout3D)
from mlcore.layers.reshaping import Cropping2D, RepeatVector, UpSampling2D  # noqa: F401
from mlcore.layers.rescaling import Rescaling  # noqa: F401
from mlcore.layers.convolutional_1d import (Conv1D, Convolution1D, Cropping1D, UpSampling1D,  # noqa: F401
                                            ZeroPadding1D)
from mlcore.layers.convolutional_3d import Conv3D, Convolution3D  # noqa: F401
from mlcore.layers.pooling_3d import (AveragePooling3D, AvgPool3D, GlobalAveragePooling3D,  # noqa: F401
                                      GlobalAvgPool3D, GlobalMaxPool3D, GlobalMaxPooling3D, MaxPool3D,
                                      MaxPooling3D)
from mlcore.layers.reshaping_3d import Cropping3D, UpSampling3D, ZeroPadding3D  # noqa: F401
from mlcore.layers.convolutional_transpose import (Conv1DTranspose, Conv2DTranspose,  # noqa: F401
                                                   Conv3DTranspose, Convolution1DTranspose,
                                                   Convolution2DTranspose, Convolution3DTranspose,
                                                   Deconv2D, Deconv3D, Deconvolution2D, Deconvolution3D)
from mlcore.layers.depthwise import (DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D,  # noqa: F401
                                     SeparableConv2D, SeparableConvolution1D, SeparableConvolution2D)
from mlcore.layers.pooling_1d import (AveragePooling1D, AvgPool1D, GlobalAveragePooling1D,  # noqa: F401
                                      GlobalAvgPool1D, GlobalMaxPool1D, GlobalMaxPooling1D, MaxPool1D,
                                      MaxPooling1D)
from mlcore.layers.recurrent import RNN  # noqa: F401
from mlcore.layers.recurrent_cells import GRUCell, LSTMCell, SimpleRNNCell  # noqa: F401
from mlcore.layers.stacked_cells import StackedRNNCells  # noqa: F401
from mlcore.layers.recurrent_layers import GRU, LSTM, SimpleRNN  # noqa: F401
from mlcore.layers.wrappers import Bidirectional, TimeDistributed, Wrapper  # noqa: F401
from mlcore.layers.einsum_dense import EinsumDense  # noqa: F401
from mlcore.layers.attention import AdditiveAttention, Attention  # noqa: F401
from mlcore.layers.multi_head_attention import MultiHeadAttention  # noqa: F401
from mlcore.layers.conv_lstm_cell import ConvLSTMCell  # noqa: F401
from mlcore.layers.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D  # noqa: F401
from mlcore.layers.preprocessing_encoding import CategoryEncoding, Discretization  # noqa: F401
from mlcore.layers.image_resizing import CenterCrop, Resizing  # noqa: F401
from mlcore.layers.image_augmentation import RandomBrightness, RandomContrast, RandomCrop, RandomFlip  # noqa: F401
from mlcore.layers.image_affine import RandomRotation, RandomTranslation, RandomZoom  # noqa: F401
from mlcore.layers.spectral_normalization import SpectralNormalization  # noqa: F401
from mlcore.layers.reversible_embedding import ReversibleEmbedding  # noqa: F401
from mlcore.layers.pipeline import Pipeline  # noqa: F401
from mlcore.layers.grouped_query_attention import GroupedQueryAttention  # noqa: F401
GroupQueryAttention = GroupedQueryAttention     # the name Keras exports it under
from mlcore.layers.adaptive_pooling import (AdaptiveAveragePooling1D, AdaptiveAveragePooling2D,  # noqa: F401
                                            AdaptiveAveragePooling3D, AdaptiveMaxPooling1D, AdaptiveMaxPooling2D,
                                            AdaptiveMaxPooling3D)
from mlcore.layers.stft_spectrogram import STFTSpectrogram  # noqa: F401
from mlcore.layers.mel_spectrogram import MelSpectrogram  # noqa: F401
from mlcore.layers.integer_lookup import IntegerLookup  # noqa: F401
from mlcore.layers.string_lookup import StringLookup  # noqa: F401
from mlcore.layers.hashing import Hashing  # noqa: F401
from mlcore.layers.hashed_crossing import HashedCrossing  # noqa: F401
from mlcore.layers.text_vectorization import TextVectorization  # noqa: F401
from mlcore.layers.image_color import (RandomColorDegeneration, RandomColorJitter, RandomGrayscale,  # noqa: F401
                                       RandomHue, RandomSaturation)
from mlcore.layers.image_tone import AutoContrast, Equalization, RandomInvert, RandomPosterization, Solarization  # noqa: F401
from mlcore.layers.image_clahe import ContrastLimitedAdaptiveHistogramEqualization  # noqa: F401
from mlcore.layers.image_filtering import RandomGaussianBlur, RandomSharpness  # noqa: F401
from mlcore.layers.image_mixing import CutMix, MixUp, RandomErasing  # noqa: F401
from mlcore.layers.max_num_bounding_boxes import MaxNumBoundingBoxes  # noqa: F401
from mlcore.layers.image_warps import RandomElasticTransform, RandomPerspective, RandomShear  # noqa: F401
from mlcore.layers.image_policies import AugMix, RandAugment  # noqa: F401
from mlcore.layers.jax_layer import JaxLayer  # noqa: F401
from mlcore.layers.flax_layer import FlaxLayer  # noqa: F401


def serialize(layer):
    """keras.layers.serialize: the layer's {"module", "class_name", "config", ...} dict."""
    from mlcore.saving import serialize_keras_object
    return serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """keras.layers.deserialize: a new layer from serialize's dict (or Keras's, or Keras 2's, which
    names no module: a layer is meant)."""
    from mlcore.saving import deserialize_keras_object
    if isinstance(config, dict) and not config.get("module"):
        config = dict(config, module="keras.layers")
    return deserialize_keras_object(config, custom_objects)

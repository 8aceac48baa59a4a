"""Keras layers (mlcore.layers.Dense, ...).  Keras 1 names are kept as aliases."""
from mlcore.layers.base import Layer, Weight  # noqa: F401
from mlcore.layers.core import Activation, Dense, Dropout, Flatten, Lambda, Permute, Reshape  # noqa: F401
from mlcore.layers.input_layer import Input, InputLayer  # noqa: F401
from mlcore.layers.merging import (Add, Average, Concatenate, Maximum, Minimum, Multiply,  # noqa: F401
                                   Subtract, add, concatenate)
from mlcore.layers.normalization import BatchNormalization  # noqa: F401
from mlcore.layers.convolutional import Conv2D, Convolution2D, ZeroPadding2D  # noqa: F401
from mlcore.layers.pooling import (AveragePooling2D, AvgPool2D, GlobalAveragePooling2D,  # noqa: F401
                                   GlobalAvgPool2D, GlobalMaxPool2D, GlobalMaxPooling2D, MaxPool2D,
                                   MaxPooling2D)

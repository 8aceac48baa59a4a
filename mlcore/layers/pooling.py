"""2-d pooling layers: MaxPooling2D, AveragePooling2D and their global forms, with Keras's aliases.

Keras 1's spellings still work: border_mode= for padding, dim_ordering= (or "th"/"tf" in the data_format
position) for the data format, with their old meaning.
"""
from mlcore import ops
from mlcore.layers.base import Layer
from mlcore.layers.convolutional import (check_rank, pop_keras1, standardize_data_format,
                                         standardize_padding, standardize_tuple)

KERAS1_POOL = {"border_mode": "padding", "dim_ordering": "data_format"}


class _Pooling2D(Layer):
    """Windows of pool_size moved by strides (default: pool_size) over the `rank` spatial dims."""
    rowwise = True
    mode = None
    rank = 2

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        old = pop_keras1(kwargs, KERAS1_POOL)
        super().__init__(name=name, **kwargs)
        self.pool_size = standardize_tuple(pool_size, self.rank, "pool_size")
        self.strides = standardize_tuple(self.pool_size if strides is None else strides, self.rank, "strides")
        self.padding = standardize_padding(old.get("padding", padding))
        self.data_format = standardize_data_format(old.get("data_format", data_format))
        self._build_at_init()

    def call(self, inputs):
        check_rank(self, inputs.type.shape)
        pool = ops.max_pool2d if self.mode == "max" else ops.avg_pool2d
        return pool(inputs, self.pool_size, self.strides, self.padding, self.data_format)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling2D(_Pooling2D):
    mode = "max"


class AveragePooling2D(_Pooling2D):
    """Averages over the real pixels of each window (padding is not counted), as Keras does.
    pool_size defaults to (2, 2) as in Keras 1 and 2 (Keras 3 makes it required)."""
    mode = "average"


class _GlobalPooling2D(Layer):
    """Reduces the `rank` spatial dims: (N, C) outputs, or (N, 1, 1, C) / (N, C, 1, 1) with keepdims."""
    rowwise = True
    reduce = None
    rank = 2

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        old = pop_keras1(kwargs, KERAS1_POOL)
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(old.get("data_format", data_format))
        self.keepdims = bool(keepdims)
        self._build_at_init()

    def call(self, inputs):
        check_rank(self, inputs.type.shape, self.rank + 2)
        first = 2 if self.data_format == "channels_first" else 1
        axes = list(range(first, first + self.rank))
        return type(self).reduce(inputs, axis=axes, keepdims=self.keepdims)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling2D):
    reduce = ops.mean


class GlobalMaxPooling2D(_GlobalPooling2D):
    reduce = ops.max_


MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D

# Keras 2's keras.layers.pooling held the 1-d and 3-d pooling layers too; imported here last (they import
# this module) so that `from mlcore.layers.pooling import MaxPooling1D` imports.
from mlcore.layers.pooling_1d import (AveragePooling1D, AvgPool1D, GlobalAveragePooling1D,  # noqa: E402,F401
                                      GlobalAvgPool1D, GlobalMaxPool1D, GlobalMaxPooling1D, MaxPool1D,
                                      MaxPooling1D)
from mlcore.layers.pooling_3d import (AveragePooling3D, AvgPool3D, GlobalAveragePooling3D,  # noqa: E402,F401
                                      GlobalAvgPool3D, GlobalMaxPool3D, GlobalMaxPooling3D, MaxPool3D,
                                      MaxPooling3D)

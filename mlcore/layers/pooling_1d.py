"""1-d pooling layers: MaxPooling1D, AveragePooling1D and their global forms, with Keras's aliases.

Windows slide over the steps of (N, steps, C) sequences ((N, C, steps) with channels_first), as the
2-d pooling op over an image of height 1.  Keras 1's spellings pool_length=, stride= and
border_mode= still work, with their old meaning.
"""
from mlcore.graph import ops
from mlcore.keras_masks import over_trailing_axes
from mlcore.layers.base import Layer
from mlcore.layers.conv_base import image_tuple, to_image, from_image
from mlcore.layers.convolutional import check_rank, pop_keras1, standardize_data_format, standardize_padding, \
    standardize_tuple
from mlcore.layers.pooling import _GlobalPooling2D

KERAS1_POOL1D = {"pool_length": "pool_size", "stride": "strides", "border_mode": "padding"}


class _Pooling1D(Layer):
    """Windows of pool_size steps moved by strides (default: pool_size)."""
    rowwise = True
    mode = None

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        old = pop_keras1(kwargs, KERAS1_POOL1D)
        super().__init__(name=name, **kwargs)
        self.pool_size = standardize_tuple(old.get("pool_size", pool_size), 1, "pool_size")
        strides = old.get("strides", strides)
        self.strides = standardize_tuple(self.pool_size if strides is None else strides, 1, "strides")
        self.padding = standardize_padding(old.get("padding", padding))
        self.data_format = standardize_data_format(data_format)
        self._build_at_init()

    def call(self, inputs):
        check_rank(self, inputs.type.shape, 3)
        # Keras averages over the real steps of a window only: padding does not count
        out = ops.pool2d(to_image(inputs, 1, self.data_format), image_tuple(self.pool_size, 1),
                         image_tuple(self.strides, 1), self.padding, self.mode, count_include_pad=False)
        return from_image(out, 1, self.data_format)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling1D(_Pooling1D):
    """The largest value of each window."""
    mode = "max"


class AveragePooling1D(_Pooling1D):
    """pool_size defaults to 2 as in Keras 1 and 2 (Keras 3 makes it required)."""
    mode = "average"


class _GlobalPooling1D(_GlobalPooling2D):
    """Reduces the steps: (N, C) outputs, or (N, 1, C) / (N, C, 1) with keepdims."""

    def call(self, inputs):
        check_rank(self, inputs.type.shape, 3)
        steps = 2 if self.data_format == "channels_first" else 1
        return type(self).reduce(inputs, axis=[steps], keepdims=self.keepdims)


class GlobalAveragePooling1D(_GlobalPooling1D):
    """The mean over all steps; with a mask (Embedding(mask_zero=True), Masking), over the real ones."""
    reduce = ops.mean
    supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        check_rank(self, inputs.type.shape, 3)
        steps = 2 if self.data_format == "channels_first" else 1
        keep = ops.dimshuffle(mask, 0, "x", 1) if steps == 2 else over_trailing_axes(mask, 3)
        total = ops.sum_(ops.switch(keep, inputs, 0), axis=[steps], keepdims=self.keepdims)
        return total / ops.sum_(ops.cast(keep, inputs.dtype), axis=[steps], keepdims=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalMaxPooling1D(_GlobalPooling1D):
    """The largest value over all steps."""
    reduce = ops.max_


MaxPool1D = MaxPooling1D
AvgPool1D = AveragePooling1D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalMaxPool1D = GlobalMaxPooling1D

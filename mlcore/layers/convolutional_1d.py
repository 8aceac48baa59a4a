"""Layers over sequences (N, steps, channels), or (N, channels, steps) with channels_first:
Conv1D (Convolution1D), ZeroPadding1D, Cropping1D, UpSampling1D.

Conv1D is mlcore's 2-d convolution over an image of height 1 (see conv_base); its kernel is stored
(kernel_size, in // groups, filters), as Keras stores it.
"""
from mlcore import ops
from mlcore.layers.base import Layer
from mlcore.layers.conv_base import GroupedConv
from mlcore.layers.convolutional import KERAS1_CONV, check_rank, standardize_data_format, standardize_tuple

# Keras 1's Convolution1D spelled the stride subsample_length and had no dim_ordering
KERAS1_CONV1D = dict({old: new for old, new in KERAS1_CONV.items() if old not in ("subsample", "dim_ordering")},
                     subsample_length="strides")


class Conv1D(GroupedConv):
    """1-d cross-correlation, as keras.layers.Conv1D, with a (kernel_size, in // groups, filters)
    kernel; padding may also be "causal": zeros only before the sequence, so that output t sees
    inputs up to t alone.  Keras 1's keyword spellings (border_mode=, subsample_length=, init=,
    W_regularizer=, bias=...) are accepted with their old meaning."""
    rank = 1
    keras1_aliases = KERAS1_CONV1D


Convolution1D = Conv1D


class ZeroPadding1D(Layer):
    """Adds zeros before and after each sequence: padding is an int or (before, after)."""
    rowwise = True

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.padding = standardize_tuple(padding, 2, "padding", allow_zero=True)

    def call(self, inputs):
        check_rank(self, inputs.type.shape, 3)
        steps = 2 if self.data_format == "channels_first" else 1
        return ops.pad(inputs, [self.padding if axis == steps else (0, 0) for axis in range(3)])

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class Cropping1D(Layer):
    """Drops cropping = (before, after) steps (or an int for both) from each (N, steps, C) sequence."""
    rowwise = True

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = standardize_tuple(cropping, 2, "cropping", allow_zero=True)

    def call(self, inputs):
        shape = inputs.type.shape
        check_rank(self, shape, 3)
        if shape[1] is not None and sum(self.cropping) >= shape[1]:
            raise ValueError("`cropping` parameter of `Cropping1D` layer must be smaller than the input length. "
                             "Received: inputs.shape=%s, cropping=%s" % (shape, self.cropping))
        before, after = self.cropping
        return inputs[:, before:-after if after else None, :]

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}


class UpSampling1D(Layer):
    """Repeats each step of a (N, steps, C) sequence `size` times."""
    rowwise = True

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError("Expected an integer value for `size`, got %s." % type(size))
        if size <= 0:
            raise ValueError("Argument `size` should be a positive integer. Received: size=%d" % size)
        self.size = size

    def call(self, inputs):
        check_rank(self, inputs.type.shape, 3)
        return ops.repeat(inputs, self.size, axis=1)

    def get_config(self):
        return {**super().get_config(), "size": self.size}

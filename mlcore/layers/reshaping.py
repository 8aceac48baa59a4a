"""Layers that move values around without weights: RepeatVector, UpSampling2D and Cropping2D.

UpSampling2D and Cropping2D take data_format= (Keras 1's dim_ordering= too) as the conv layers do.
"""
import numpy as np

from mlcore import ops
from mlcore.layers.base import Layer
from mlcore.layers.convolutional import (check_rank, pop_keras1, standardize_data_format, standardize_tuple,
                                         to_nhwc, from_nhwc)

INTERPOLATIONS = ("nearest", "bilinear")
KERAS_ONLY_INTERPOLATIONS = ("bicubic", "lanczos3", "lanczos5", "area")


class RepeatVector(Layer):
    """(batch, features) to (batch, n, features): each sample's vector n times, e.g. to feed a decoder RNN."""
    rowwise = True

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError("Expected an integer value for `n`, got %s." % type(n))
        if n <= 0:
            raise ValueError("Argument `n` should be a positive integer. Received: n=%r" % (n,))
        self.n = int(n)

    def call(self, inputs):
        check_rank(self, inputs.type.shape, 2)
        return ops.repeat(ops.expand_dims(inputs, 1), self.n, axis=1)

    def get_config(self):
        return {**super().get_config(), "n": self.n}


def bilinear_upsample(x, factor, axis):
    """x stretched `factor` times along a (known) axis with half-pixel centers, each new pixel a linear
    blend of its two nearest old ones, the edges held: what jax.image.resize and TensorFlow's resize give."""
    length = x.type.shape[axis]
    source = np.maximum((np.arange(length * factor) + 0.5) / factor - 0.5, 0)
    below = np.floor(source).astype("int64")
    above = np.minimum(below + 1, length - 1)
    weight = (source - below).astype(x.dtype).reshape((-1,) + (1,) * (x.ndim - 1 - axis))
    lead = (slice(None),) * axis
    low, high = x[lead + (below,)], x[lead + (above,)]
    return low + (high - low) * weight


class UpSampling2D(Layer):
    """Images enlarged `size` = (rows, cols) times: each pixel repeated ("nearest") or blended from its
    neighbours ("bilinear", which needs the image size known)."""
    rowwise = True

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        old = pop_keras1(kwargs, {"dim_ordering": "data_format"})
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(old.get("data_format", data_format))
        self.size = standardize_tuple(size, 2, "size")
        self.interpolation = interpolation.lower()
        if self.interpolation in KERAS_ONLY_INTERPOLATIONS:
            raise NotImplementedError("UpSampling2D: interpolation=%r is not implemented in mlcore; use one of %s"
                                      % (interpolation, INTERPOLATIONS))
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError("Invalid value for argument `interpolation`: expected one of %s. Received: "
                             "interpolation=%r" % (INTERPOLATIONS, interpolation))

    def call(self, inputs):
        check_rank(self, inputs.type.shape)
        x = to_nhwc(inputs, self.data_format)
        if self.interpolation == "bilinear" and None in x.type.shape[1:3]:
            raise ValueError("UpSampling2D '%s': bilinear interpolation needs the image size known; got input "
                             "shape %s" % (self.name, inputs.type.shape))
        for axis, factor in ((1, self.size[0]), (2, self.size[1])):
            if self.interpolation == "nearest":
                x = ops.repeat(x, factor, axis=axis)
            else:
                x = bilinear_upsample(x, factor, axis)
        return from_nhwc(x, self.data_format)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}


class Cropping2D(Layer):
    """Rows and columns cut off the edges of images: cropping is an int, (rows, cols) cut from both sides,
    or ((top, bottom), (left, right))."""
    rowwise = True

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        old = pop_keras1(kwargs, {"dim_ordering": "data_format"})
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(old.get("data_format", data_format))
        if isinstance(cropping, int):
            if cropping < 0:
                raise ValueError("`cropping` cannot be negative. Received: cropping=%r." % (cropping,))
            cropping = (cropping, cropping)
        if not hasattr(cropping, "__len__") or len(cropping) != 2:
            raise ValueError("`cropping` should be either an int, a tuple of 2 ints (symmetric_height_crop, "
                             "symmetric_width_crop), or a tuple of 2 tuples of 2 ints ((top_crop, bottom_crop), "
                             "(left_crop, right_crop)). Received: cropping=%r." % (cropping,))
        self.cropping = tuple(standardize_tuple(c, 2, "%s entry of cropping" % which, allow_zero=True)
                              for c, which in zip(cropping, ("1st", "2nd")))

    def call(self, inputs):
        shape = inputs.type.shape
        check_rank(self, shape)
        spatial = (2, 3) if self.data_format == "channels_first" else (1, 2)
        if any(shape[axis] is not None and sum(cut) >= shape[axis] for axis, cut in zip(spatial, self.cropping)):
            raise ValueError("Cropping2D '%s': Values in `cropping` argument should be smaller than the corresponding "
                             "spatial dimension of the input. Received: inputs.shape=%s, cropping=%s"
                             % (self.name, shape, self.cropping))
        index = [slice(None)] * 4
        for axis, (start, end) in zip(spatial, self.cropping):
            index[axis] = slice(start, -end if end else None)
        return inputs[tuple(index)]

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}

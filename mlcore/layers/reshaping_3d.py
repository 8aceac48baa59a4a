"""Layers that move the voxels of volumes around without weights: UpSampling3D, ZeroPadding3D and
Cropping3D, over (N, D, H, W, C) inputs or (N, C, D, H, W) ones with channels_first (Keras 1's
dim_ordering= too, as for their 2-d forms)."""
from mlcore import ops
from mlcore.layers.base import Layer
from mlcore.layers.convolutional import check_rank, pop_keras1, standardize_data_format, standardize_tuple


def volume_pairs(value, name):
    """An int, three ints or three (before, after) pairs as three pairs of non-negative ints, one per
    spatial dim, with Keras's messages."""
    if isinstance(value, int):
        value = (value,) * 3
    if not hasattr(value, "__len__"):
        raise ValueError("`%s` should be either an int, a tuple of 3 ints, or a tuple of 3 tuples of 2 ints "
                         "((left_dim1, right_dim1), (left_dim2, right_dim2), (left_dim3, right_dim3)). "
                         "Received: %s=%r." % (name, name, value))
    if len(value) != 3:
        raise ValueError("`%s` should have 3 elements. Received: %s=%r." % (name, name, value))
    return tuple(standardize_tuple(v, 2, "%s entry of %s" % (which, name), allow_zero=True)
                 for v, which in zip(value, ("1st", "2nd", "3rd")))


class _Volume(Layer):
    """A layer over the three spatial dims of volumes, in either data format."""
    rowwise = True

    def __init__(self, data_format=None, **kwargs):
        old = pop_keras1(kwargs, {"dim_ordering": "data_format"})
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(old.get("data_format", data_format))

    def spatial_axes(self, inputs):
        """The axes of depth, rows and cols, once the input is checked to be a volume."""
        check_rank(self, inputs.type.shape, 5)
        return (2, 3, 4) if self.data_format == "channels_first" else (1, 2, 3)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class UpSampling3D(_Volume):
    """Volumes enlarged `size` = (dim1, dim2, dim3) times, each voxel repeated."""

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.size = standardize_tuple(size, 3, "size")

    def call(self, inputs):
        for axis, factor in zip(self.spatial_axes(inputs), self.size):
            inputs = ops.repeat(inputs, factor, axis=axis)
        return inputs

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class ZeroPadding3D(_Volume):
    """Zeros around volumes: padding is an int, three ints (both sides of each dim) or three
    (before, after) pairs."""

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.padding = volume_pairs(padding, "padding")

    def call(self, inputs):
        width = [(0, 0)] * 5
        for axis, pair in zip(self.spatial_axes(inputs), self.padding):
            width[axis] = pair
        return ops.pad(inputs, width)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


class Cropping3D(_Volume):
    """Voxels cut off the edges of volumes: cropping is an int, three ints (both sides of each dim)
    or three (before, after) pairs."""

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.cropping = volume_pairs(cropping, "cropping")

    def call(self, inputs):
        shape, index = inputs.type.shape, [slice(None)] * 5
        for axis, (start, end) in zip(self.spatial_axes(inputs), self.cropping):
            if shape[axis] is not None and start + end >= shape[axis]:
                raise ValueError("Cropping3D '%s': values in `cropping` argument should be smaller than the "
                                 "corresponding spatial dimension of the input. Received: inputs.shape=%s, "
                                 "cropping=%s" % (self.name, shape, self.cropping))
            index[axis] = slice(start, -end if end else None)
        return inputs[tuple(index)]

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}

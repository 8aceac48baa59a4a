"""3-d pooling layers: MaxPooling3D, AveragePooling3D and their global forms, with Keras's aliases.

Windows slide over the (depth, rows, cols) of (N, D, H, W, C) volumes ((N, C, D, H, W) with
channels_first) as mlcore.graph.ops.pool3d slides them: a 2-d pooling over the rows and columns,
then one over the depth.  Keras 1's border_mode= and dim_ordering= still work, as for 2-d pooling.
"""
from mlcore.graph import ops
from mlcore.layers.conv_base import from_image, to_image
from mlcore.layers.convolutional import check_rank
from mlcore.layers.pooling import _GlobalPooling2D, _Pooling2D


class _Pooling3D(_Pooling2D):
    rank = 3

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name, **kwargs)

    def call(self, inputs):
        check_rank(self, inputs.type.shape, 5)
        # Keras averages over the real voxels of a window only: padding does not count
        out = ops.pool3d(to_image(inputs, 3, self.data_format), self.pool_size, self.strides, self.padding,
                         self.mode, count_include_pad=False)
        return from_image(out, 3, self.data_format)


class MaxPooling3D(_Pooling3D):
    """The largest value of each window."""
    mode = "max"


class AveragePooling3D(_Pooling3D):
    """pool_size defaults to (2, 2, 2) as in Keras 2 (Keras 3 makes it required)."""
    mode = "average"


class _GlobalPooling3D(_GlobalPooling2D):
    """Reduces depth, rows and cols: (N, C) outputs, or (N, 1, 1, 1, C) / (N, C, 1, 1, 1) with keepdims."""
    rank = 3


class GlobalAveragePooling3D(_GlobalPooling3D):
    reduce = ops.mean


class GlobalMaxPooling3D(_GlobalPooling3D):
    reduce = ops.max_


MaxPool3D = MaxPooling3D
AvgPool3D = AveragePooling3D
GlobalAvgPool3D = GlobalAveragePooling3D
GlobalMaxPool3D = GlobalMaxPooling3D

"""Adaptive pooling layers (AdaptiveAveragePooling1D/2D/3D, AdaptiveMaxPooling1D/2D/3D): pooling to a
fixed output size whatever the input's, as PyTorch's AdaptiveAvgPool/AdaptiveMaxPool and Keras 3, on
mlcore.ops.adaptive_average_pool / adaptive_max_pool (mlcore/ops/patches.py): along a spatial axis of
length L pooled to n, bin i covers [floor(i L / n), ceil((i + 1) L / n)), the bins of Keras's
"two-pool gather".
"""
import numpy as np

from mlcore import ops
from mlcore.layers.base import Layer
from mlcore.layers.convolutional import standardize_data_format


class _AdaptivePooling(Layer):
    """(batch, spatial..., channels) inputs (channels_last) pooled to output_size along the spatial axes."""
    rowwise = True
    rank = None
    pool = None     # the mlcore.ops function

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.output_size = self._standardize_output_size(output_size)
        self.data_format = standardize_data_format(data_format)

    def _standardize_output_size(self, output_size):
        if isinstance(output_size, (int, np.integer)) and not isinstance(output_size, bool):
            output_size = (int(output_size),) * self.rank
        if not isinstance(output_size, (tuple, list)) or len(output_size) != self.rank or not all(
                isinstance(size, (int, np.integer)) and not isinstance(size, bool) and size > 0
                for size in output_size):
            raise TypeError("%s: `output_size` must be a positive integer or a tuple of %d of them. Received: %r"
                            % (type(self).__name__, self.rank, output_size))
        return tuple(int(size) for size in output_size)

    def call(self, inputs):
        if inputs.ndim != self.rank + 2:
            raise ValueError("%s '%s' takes %d-d inputs (batch, %d spatial axes, channels); received shape %s"
                             % (type(self).__name__, self.name, self.rank + 2, self.rank, inputs.type.shape))
        return type(self).pool(inputs, self.output_size, self.data_format)

    def compute_output_shape(self, input_shape):
        if self.data_format == "channels_last":
            return (input_shape[0],) + self.output_size + (input_shape[-1],)
        return (input_shape[0], input_shape[1]) + self.output_size

    def get_config(self):
        return {**super().get_config(), "output_size": self.output_size, "data_format": self.data_format}


class AdaptiveAveragePooling1D(_AdaptivePooling):
    """The mean of each of output_size bins of the steps."""
    rank, pool = 1, ops.adaptive_average_pool


class AdaptiveAveragePooling2D(_AdaptivePooling):
    """The mean of each of output_size (height, width) bins of the image."""
    rank, pool = 2, ops.adaptive_average_pool


class AdaptiveAveragePooling3D(_AdaptivePooling):
    """The mean of each of output_size (depth, height, width) bins of the volume."""
    rank, pool = 3, ops.adaptive_average_pool


class AdaptiveMaxPooling1D(_AdaptivePooling):
    """The largest value of each of output_size bins of the steps."""
    rank, pool = 1, ops.adaptive_max_pool


class AdaptiveMaxPooling2D(_AdaptivePooling):
    """The largest value of each of output_size (height, width) bins of the image."""
    rank, pool = 2, ops.adaptive_max_pool


class AdaptiveMaxPooling3D(_AdaptivePooling):
    """The largest value of each of output_size (depth, height, width) bins of the volume."""
    rank, pool = 3, ops.adaptive_max_pool

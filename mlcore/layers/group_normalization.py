"""GroupNormalization (Wu and He, 2018): the channels split into groups, each sample normalized over each
group (and every other non-batch axis), then a learned per-channel scale and offset.  groups=1 is a
LayerNormalization over all non-batch axes; groups=-1 (one channel per group) is instance normalization."""
from mlcore import ops
from mlcore.layers.base import Layer
from mlcore.layers.layer_normalization import check_axes
from mlcore.layers.normalization import ScaleOffsetOptions, at_least_float32


class GroupNormalization(ScaleOffsetOptions, Layer):
    """The statistics of each sample are its own, in training and inference alike (no moving averages), so
    it suits small batches where BatchNormalization's estimates are poor."""
    supports_masking = True
    rowwise = True

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        if not isinstance(groups, int) or isinstance(groups, bool) or (groups <= 0 and groups != -1):
            raise ValueError("GroupNormalization: received an invalid value for argument `groups`, expected a "
                             "positive integer (or -1 for instance normalization). Received: groups=%r" % (groups,))
        super().__init__(**kwargs)
        self.autocast = False       # as Keras's: inputs taken as they come, computed in float32 at least
        self.groups = groups
        self.axis = axis
        self.epsilon = epsilon
        self.set_scale_offset_options(center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                                      gamma_regularizer, beta_constraint, gamma_constraint)

    def build(self, input_shape):
        check_axes(self, [self.axis], input_shape)
        dim = input_shape[self.axis]
        where = "GroupNormalization '%s' (axis=%d, input shape %s)" % (self.name, self.axis, tuple(input_shape))
        if self.axis % len(input_shape) == 0:
            raise ValueError("%s: axis 0 is the batch axis; the channels are on another one" % where)
        if dim is None:
            raise ValueError("%s: Axis %d of input tensor should have a defined dimension but the layer received an "
                             "input with shape %s." % (where, self.axis, tuple(input_shape)))
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups:
            raise ValueError("%s: Number of groups (%d) cannot be more than the number of channels (%d)."
                             % (where, self.groups, dim))
        if dim % self.groups:     # Keras's words (the channels must be a multiple of the groups)
            raise ValueError("%s: Number of groups (%d) must be a multiple of the number of channels (%d)."
                             % (where, self.groups, dim))
        self.add_scale_and_offset((dim,))
        self.built = True

    def call(self, inputs):
        """inputs reshaped with the channel axis split into (groups, channels per group); mean and variance
        over every axis of that but the batch and the groups."""
        inputs = at_least_float32(inputs)
        shape = ops.shape(inputs)
        axis = self.axis % len(shape)
        split = [self.groups, inputs.type.shape[axis] // self.groups]
        grouped = ops.reshape(inputs, [-1] + list(shape[1:axis]) + split + list(shape[axis + 1:]))
        mean, variance = ops.moments(grouped, [d for d in range(1, len(shape) + 1) if d != axis], keepdims=True)
        outputs = (grouped - mean) * ops.rsqrt(variance + self.epsilon)
        per_channel = [1] * axis + split + [1] * (len(shape) - axis - 1)
        if self.gamma is not None:
            outputs = outputs * ops.reshape(self.gamma, per_channel)
        if self.beta is not None:
            outputs = outputs + ops.reshape(self.beta, per_channel)
        return ops.cast(ops.reshape(outputs, [-1] + list(shape[1:])), self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "groups": self.groups, "axis": self.axis, "epsilon": self.epsilon,
                **self.scale_offset_config()}

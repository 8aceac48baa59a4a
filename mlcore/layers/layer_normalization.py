"""Normalizations of each sample on its own, the same in training and inference: LayerNormalization (mean 0,
variance 1 over some axes, then a learned scale and offset) and UnitNormalization (L2 norm 1)."""
from mlcore import ops
from mlcore.layers.base import Layer
from mlcore.layers.normalization import ScaleOffsetOptions


def standardize_axes(axis, message):
    """An int or a list of ints (Keras keeps a tuple as a list); anything else is Keras's TypeError."""
    if isinstance(axis, (list, tuple)) and all(isinstance(a, int) for a in axis):
        return list(axis)
    if isinstance(axis, int) and not isinstance(axis, bool):
        return axis
    raise TypeError(message % (axis,))


def check_axes(layer, axes, shape):
    for axis in axes:
        if not -len(shape) <= axis < len(shape):
            raise ValueError("%s '%s': axis %d is out of bounds for input shape %s"
                             % (type(layer).__name__, layer.name, axis, tuple(shape)))


def _as_list(axis):
    return axis if isinstance(axis, list) else [axis]


class LayerNormalization(ScaleOffsetOptions, Layer):
    """(x - mean) / sqrt(variance + epsilon) * gamma + beta, the statistics of each sample over `axis`
    (an int or a list), gamma and beta of the shape of those axes (taken in sorted order, as Keras)."""
    supports_masking = True

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.axis = standardize_axes(axis, "Expected an int or a list/tuple of ints for the argument 'axis', "
                                           "but received: %r")
        self.epsilon = epsilon
        self.set_scale_offset_options(center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                                      gamma_regularizer, beta_constraint, gamma_constraint)

    def build(self, input_shape):
        axes = sorted(_as_list(self.axis))
        check_axes(self, axes, input_shape)
        shape = tuple(input_shape[axis] for axis in axes)
        if None in shape:
            raise ValueError("LayerNormalization '%s': the dims it normalizes over (axis=%s) must be known; got "
                             "input shape %s" % (self.name, self.axis, tuple(input_shape)))
        self.rowwise = all(axis % len(input_shape) for axis in axes)     # not over the batch
        self.add_scale_and_offset(shape)
        self.built = True

    def _broadcast(self, weight, shape):
        """gamma or beta reshaped to 1 along the axes not normalized over (Keras's reshape, in its order)."""
        axes = [axis % len(shape) for axis in _as_list(self.axis)]
        return ops.reshape(weight, [shape[d] if d in axes else 1 for d in range(len(shape))])

    def call(self, inputs):
        shape = inputs.type.shape
        check_axes(self, _as_list(self.axis), shape)
        axes = sorted(axis % len(shape) for axis in _as_list(self.axis))
        mean = ops.mean(inputs, axis=axes, keepdims=True)
        variance = ops.var(inputs, axis=axes, keepdims=True)
        outputs = (inputs - mean) / ops.sqrt(variance + self.epsilon)
        if self.gamma is not None:
            outputs = outputs * self._broadcast(self.gamma, shape)
        if self.beta is not None:
            outputs = outputs + self._broadcast(self.beta, shape)
        return outputs

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, **self.scale_offset_config()}


class UnitNormalization(Layer):
    """x / ||x||, the L2 norm of each sample over `axis` (an int or a list); a norm under 1e-12 counts as
    1e-12, so zeros stay zeros, with a gradient of 0 rather than Keras's NaN."""
    supports_masking = True
    rowwise = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = standardize_axes(axis, "Invalid value for `axis` argument: expected an int or a list/tuple "
                                           "of ints. Received: axis=%r")

    def call(self, inputs):
        check_axes(self, _as_list(self.axis), inputs.type.shape)
        square_sum = ops.sum(ops.square(inputs), axis=tuple(_as_list(self.axis)), keepdims=True)
        return inputs / ops.sqrt(ops.maximum(square_sum, 1e-24))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}

"""Normalizations of each sample on its own, the same in training and inference: LayerNormalization (mean 0,
variance 1 over some axes, then a learned scale and offset), RMSNormalization (mean square 1, then a learned
scale) and UnitNormalization (L2 norm 1)."""
import warnings

from mlcore import ops
from mlcore.layers.base import Layer
from mlcore.layers.normalization import ScaleOffsetOptions, at_least_float32


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


def weight_shape(layer, input_shape):
    """The shape of the weights of a normalization over layer.axis: the sizes of those axes, taken in sorted
    order (as Keras); they must be known.  Sets layer.rowwise: whether the batch axis is left out."""
    axes = sorted(_as_list(layer.axis))
    check_axes(layer, axes, input_shape)
    shape = tuple(input_shape[axis] for axis in axes)
    if None in shape:
        raise ValueError("%s '%s': the dims it normalizes over (axis=%s) must be known; got input shape %s"
                         % (type(layer).__name__, layer.name, layer.axis, tuple(input_shape)))
    layer.rowwise = all(axis % len(input_shape) for axis in axes)
    return shape


def normalized_axes(layer, shape):
    """layer.axis as sorted non-negative axes of inputs of this shape, checked."""
    check_axes(layer, _as_list(layer.axis), shape)
    return sorted(axis % len(shape) for axis in _as_list(layer.axis))


def along_axes(weight, axis, shape):
    """A weight of weight_shape reshaped to 1 along the axes not normalized over (Keras's reshape, in its
    order), to broadcast against inputs of this shape."""
    axes = [a % len(shape) for a in _as_list(axis)]
    return ops.reshape(weight, [shape[d] if d in axes else 1 for d in range(len(shape))])


class LayerNormalization(ScaleOffsetOptions, Layer):
    """(x - mean) / sqrt(variance + epsilon) * gamma + beta, the statistics of each sample over `axis`
    (an int or a list), gamma and beta of the shape of those axes (taken in sorted order, as Keras).
    rms_scaling=True is Keras's deprecated variant, x / sqrt(variance + epsilon) * gamma, without beta."""
    supports_masking = True

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, *, rms_scaling=False, **kwargs):
        if rms_scaling:
            warnings.warn("You passed `rms_scaling=True`, which is deprecated. This argument incorrectly scales the "
                          "input by the variance, not the root mean square. To correctly use RMS Normalization, "
                          "please use `keras.layers.RMSNormalization` instead.", stacklevel=2)
        super().__init__(**kwargs)
        self.rms_scaling = rms_scaling
        self.autocast = False       # as Keras's: inputs taken as they come, computed in float32 at least
        self.axis = standardize_axes(axis, "Expected an int or a list/tuple of ints for the argument 'axis', "
                                           "but received: %r")
        self.epsilon = epsilon
        self.set_scale_offset_options(center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                                      gamma_regularizer, beta_constraint, gamma_constraint)

    def build(self, input_shape):
        self.add_scale_and_offset(weight_shape(self, input_shape), scale=self.scale or self.rms_scaling,
                                  center=self.center and not self.rms_scaling)
        self.built = True

    def call(self, inputs):
        inputs = at_least_float32(inputs)
        shape = inputs.type.shape
        axes = normalized_axes(self, shape)
        centred = inputs if self.rms_scaling else inputs - ops.mean(inputs, axis=axes, keepdims=True)
        outputs = centred / ops.sqrt(ops.var(inputs, axis=axes, keepdims=True) + self.epsilon)
        if self.gamma is not None:
            outputs = outputs * along_axes(self.gamma, self.axis, shape)
        if self.beta is not None:
            outputs = outputs + along_axes(self.beta, self.axis, shape)
        return ops.cast(outputs, self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, **self.scale_offset_config(),
                "rms_scaling": self.rms_scaling}


class RMSNormalization(Layer):
    """x / sqrt(mean(x ** 2) + epsilon) * scale, the mean square of each sample over `axis` (an int or a list),
    as Zhang and Sennrich's RMSNorm (2019): LayerNormalization without centring and offset; scale is of the
    shape of those axes."""

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis = standardize_axes(axis, "RMSNormalization: expected an int or a list/tuple of ints for the "
                                           "argument 'axis', but received: %r")
        self.epsilon = epsilon

    def build(self, input_shape):
        self.scale = self.add_weight(weight_shape(self, input_shape), "ones", name="scale")
        self.built = True

    def call(self, inputs):
        """Computed in float32 at least (a float16 mean square overflows), the result in the inputs' dtype,
        as Keras's ops.rms_normalization."""
        shape = inputs.type.shape
        axes = normalized_axes(self, shape)
        x = at_least_float32(inputs)
        mean_square = ops.mean(ops.square(x), axis=axes, keepdims=True)
        scale = ops.cast(along_axes(self.scale, self.axis, shape), x.dtype)
        return ops.cast(x * ops.rsqrt(mean_square + self.epsilon) * scale, inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}


class UnitNormalization(Layer):
    """x / ||x||, the L2 norm of each sample over `axis` (an int or a list); a norm under 1e-12 counts as
    1e-12, so zeros stay zeros, with a gradient of 0 rather than Keras's NaN."""
    supports_masking = True
    rowwise = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = standardize_axes(axis, "Invalid value for `axis` argument: expected an int or a list/tuple "
                                           "of ints. Received: axis=%r")
        self._build_at_init()

    def call(self, inputs):
        check_axes(self, _as_list(self.axis), inputs.type.shape)
        square_sum = ops.sum(ops.square(inputs), axis=tuple(_as_list(self.axis)), keepdims=True)
        return inputs / ops.sqrt(ops.maximum(square_sum, 1e-24))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}

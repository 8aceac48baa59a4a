"""Activation layers with arguments of their own: LeakyReLU, ReLU, ELU, ThresholdedReLU (Keras 2's), PReLU (a
learned slope) and Softmax (over any axes, with an optional mask).  The functions they apply are mlcore.activations'."""
import warnings

from mlcore import activations, constraints, initializers, ops, regularizers
from mlcore.layers.base import Layer


def _check_non_negative(layer, **values):
    for name, value in values.items():
        if value is None or value < 0:
            raise ValueError("%s of a %s layer cannot be None or a negative value. Received: %s=%r"
                             % (name, layer, name, value))


class _ActivationFunction(Layer):
    """Applies `function` (one of mlcore.activations) with the layer's `arguments`, which are its config too."""
    supports_masking = True
    rowwise = True
    arguments = ()

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._build_at_init()

    def call(self, inputs):
        return self.function(inputs, **self._argument_values())

    def _argument_values(self):
        return {name: getattr(self, name) for name in self.arguments}

    def get_config(self):
        return {**super().get_config(), **self._argument_values()}


class LeakyReLU(_ActivationFunction):
    """x above 0, negative_slope * x below (Keras 2's alpha= is accepted for negative_slope)."""
    function = staticmethod(activations.leaky_relu)
    arguments = ("negative_slope",)

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.")
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError("The negative_slope value of a Leaky ReLU layer cannot be None or negative value. "
                             "Expected a float. Received: negative_slope=%s" % (negative_slope,))
        self.negative_slope = negative_slope


class ReLU(_ActivationFunction):
    """max(x, 0), zero up to `threshold`, capped at `max_value`, with `negative_slope` below the threshold."""
    function = staticmethod(activations.relu)
    arguments = ("max_value", "negative_slope", "threshold")

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0:
            raise ValueError("max_value of a ReLU layer cannot be a negative value. Received: max_value=%r"
                             % (max_value,))
        _check_non_negative("ReLU", negative_slope=negative_slope, threshold=threshold)
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold


class ELU(_ActivationFunction):
    """x above 0, alpha * (exp(x) - 1) below."""
    function = staticmethod(activations.elu)
    arguments = ("alpha",)

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha


class ThresholdedReLU(_ActivationFunction):
    """Keras 2's layer (Keras 3 dropped it): x where x > theta, 0 elsewhere (mlcore.activations.relu with
    threshold=theta)."""
    arguments = ("theta",)

    def __init__(self, theta=1.0, **kwargs):
        super().__init__(**kwargs)
        if theta is None or theta < 0:
            raise ValueError("The theta value of a Thresholded ReLU layer cannot be None or negative. "
                             "Received: theta=%r" % (theta,))
        self.theta = float(theta)

    @staticmethod
    def function(inputs, theta):
        return activations.relu(inputs, threshold=theta)


class PReLU(Layer):
    """x above 0, alpha * x below, with alpha a weight of the input's shape without the batch axis; the
    axes in shared_axes (1 is the first after the batch) share one alpha, as a conv net's spatial axes."""
    supports_masking = True
    rowwise = True

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None or isinstance(shared_axes, (list, tuple)):
            self.shared_axes = None if shared_axes is None else list(shared_axes)
        else:
            self.shared_axes = [shared_axes]

    def build(self, input_shape):
        shape = [1 if axis in (self.shared_axes or ()) else dim for axis, dim in enumerate(input_shape) if axis]
        if None in shape:
            raise ValueError("PReLU '%s': the input's dims must be known except the batch axis and the "
                             "shared_axes %s; got shape %s" % (self.name, self.shared_axes, tuple(input_shape)))
        self.alpha = self.add_weight(shape, self.alpha_initializer, regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint, name="alpha")
        self.built = True

    def call(self, inputs):
        return ops.relu(inputs) - self.alpha * ops.relu(-inputs)

    def get_config(self):
        return {**super().get_config(), "alpha_initializer": initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
                "alpha_constraint": constraints.serialize(self.alpha_constraint), "shared_axes": self.shared_axes}


class Softmax(Layer):
    """exp(x) normalized over `axis` (an int, or a list of axes normalized together).  Called with a mask
    (layer(x, mask=m), m broadcastable to x), the entries where m is False or <= 0.5 get 0, as in Keras."""
    supports_masking = True
    rowwise = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self._build_at_init()

    def call(self, inputs, mask=None):
        if mask is not None:
            self._check_mask(inputs, mask)
            mask = mask if mask.dtype == "bool" else ops.greater(mask, 0.5)
            inputs = ops.where(mask, inputs, -1e9 if inputs.dtype != "float16" else -3e4)
        if isinstance(self.axis, (list, tuple)) and len(self.axis) > 1:
            outputs = ops.exp(inputs - ops.logsumexp(inputs, axis=tuple(self.axis), keepdims=True))
        else:
            axis = self.axis[0] if isinstance(self.axis, (list, tuple)) else self.axis
            outputs = activations.softmax(inputs, axis=axis)
        return outputs if mask is None else ops.where(mask, outputs, 0.0)

    def _check_mask(self, inputs, mask):
        """Keras's rule and words: the mask broadcasts to the inputs from the right (an RNN's (batch, time)
        mask over (batch, time, units) does not)."""
        mask_shape, input_shape = tuple(getattr(mask, "type", mask).shape), tuple(inputs.type.shape)
        shapes = "Received: inputs.shape=%s, mask.shape=%s" % (input_shape, mask_shape)
        if len(mask_shape) > len(input_shape):
            raise ValueError("The `mask` must be broadcastable to `inputs` and must not have more dimensions. "
                             + shapes)
        if any(m is not None and i is not None and m not in (1, i) for m, i in zip(mask_shape[::-1], input_shape[::-1])):
            raise ValueError("The `mask` must be broadcastable to `inputs`. Each mask dimension must be 1 or match "
                             "the corresponding input dimension. " + shapes)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}

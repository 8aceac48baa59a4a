"""Activation functions, as keras.activations, on symbolic tensors (or on numbers, evaluated at once).

sigmoid and softmax are the graph's own Sigmoid and Softmax ops: the
crossentropy losses recognise them and compute from their inputs (the logits),
which stays finite where log(softmax(x)) would not.
"""
import math
import types
import warnings

from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops import nn
from mlcore.graph.ops.along_axis import cumsum, sort
from mlcore.graph.ops.extra_ops import dims
from mlcore.graph.ops.indexing import subtensor
from mlcore.graph.gradient import zero_grad
from mlcore.graph.ops.reduce import max_, sum_
from mlcore.graph.ops.shape import arange, dimshuffle
from mlcore.graph.ops.common import as_tensor_variable, normalize_axis
from mlcore.losses import accepts_arrays
from mlcore.saving.object_registration import keras_serialized_function, known_custom_objects


@accepts_arrays
def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0), optionally leaky below `threshold` and capped at `max_value` (Keras 3's relu)."""
    x = as_tensor_variable(x)
    if negative_slope and max_value is None and threshold == 0:
        return leaky_relu(x, negative_slope)
    out = ew.switch(ew.gt(x, threshold), x, 0) if threshold else ew.relu(x)
    if max_value is not None:
        out = ew.clip(out, 0, max_value)
    if negative_slope:
        out = out - negative_slope * ew.relu(threshold - x)
    return out


@accepts_arrays
def leaky_relu(x, negative_slope=0.2):
    x = as_tensor_variable(x)
    return ew.switch(ew.ge(x, 0), x, negative_slope * x)


@accepts_arrays
def relu6(x):
    return ew.minimum(ew.relu(as_tensor_variable(x)), 6)


@accepts_arrays
def sigmoid(x):
    return ew.sigmoid(x)


@accepts_arrays
def hard_sigmoid(x):
    """relu6(x + 3) / 6: Keras 3's definition (Keras 2 used 0.2 * x + 0.5)."""
    return ew.clip(as_tensor_variable(x) / 6 + 0.5, 0, 1)


@accepts_arrays
def log_sigmoid(x):
    return -ew.softplus(-as_tensor_variable(x))


def _shifted(x, axes):
    """x - its max over axes (a constant to the gradient: softmax does not change under a shift)."""
    return x - zero_grad(max_(x, axes, keepdims=True))


@accepts_arrays
def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) over axis, an int (the graph's Softmax op, which the crossentropies
    recognise), a tuple of axes or None (all)."""
    x = as_tensor_variable(x)
    axes = normalize_axis(axis, x.ndim, "softmax")
    if isinstance(axis, int) and x.type.shape[axis] == 1:     # Keras's warning: the result is all ones
        warnings.warn("You are using a softmax over axis %d of a tensor of shape %s. This axis has size 1. The "
                      "softmax operation will always return the value 1, which is likely not what you intended. "
                      "Did you mean to use a sigmoid instead?" % (axis, x.type.shape), stacklevel=2)
    if len(axes) == 1:
        return nn.softmax(x, axes[0])
    exp = ew.exp(_shifted(x, axes))
    return exp / sum_(exp, axes, keepdims=True)


@accepts_arrays
def log_softmax(x, axis=-1):
    """x - log(sum(exp(x))) over axis, an int, a tuple of axes or None (all)."""
    x = as_tensor_variable(x)
    axes = normalize_axis(axis, x.ndim, "log_softmax")
    if len(axes) == 1:
        return nn.log_softmax(x, axes[0])
    shifted = _shifted(x, axes)
    return shifted - ew.log(sum_(ew.exp(shifted), axes, keepdims=True))


@accepts_arrays
def tanh(x):
    return ew.tanh(x)


@accepts_arrays
def hard_tanh(x):
    return ew.clip(as_tensor_variable(x), -1, 1)


@accepts_arrays
def linear(x):
    return x


@accepts_arrays
def exponential(x):
    return ew.exp(x)


@accepts_arrays
def elu(x, alpha=1.0):
    """x above 0, alpha * (exp(x) - 1) below; exp only sees x <= 0, so it never overflows."""
    x = as_tensor_variable(x)
    positive = ew.gt(x, 0)
    return ew.switch(positive, x, alpha * ew.expm1(ew.switch(positive, 0, x)))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@accepts_arrays
def selu(x):
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


@accepts_arrays
def softplus(x):
    return ew.softplus(x)


@accepts_arrays
def softsign(x):
    x = as_tensor_variable(x)
    return x / (1 + ew.abs_(x))


@accepts_arrays
def silu(x):
    x = as_tensor_variable(x)
    return x * ew.sigmoid(x)


swish = silu


@accepts_arrays
def hard_silu(x):
    x = as_tensor_variable(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


@accepts_arrays
def mish(x):
    x = as_tensor_variable(x)
    return x * ew.tanh(ew.softplus(x))


@accepts_arrays
def gelu(x, approximate=False):
    """x * P(N(0, 1) <= x); approximate=True is the tanh form."""
    x = as_tensor_variable(x)
    if approximate:
        inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)
        return 0.5 * x * (1 + ew.tanh(inner))
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


@accepts_arrays
def celu(x, alpha=1.0):
    """x where positive, else alpha * (exp(x / alpha) - 1): elu, continuous in its slope too."""
    x = as_tensor_variable(x)
    return ew.switch(ew.gt(x, 0), x, alpha * ew.expm1(x / alpha))


@accepts_arrays
def glu(x, axis=-1):
    """The first half of x along axis, gated by the sigmoid of the second half."""
    x = as_tensor_variable(x)
    axis %= x.ndim
    size = x.type.shape[axis]
    if size is not None and size % 2:
        raise ValueError("glu: axis %d of x (shape %s) must have an even size" % (axis, x.type.shape))
    half = dims(x)[axis] // 2
    lead = (slice(None),) * axis
    return subtensor(x, lead + (slice(None, half),)) * ew.sigmoid(subtensor(x, lead + (slice(half, None),)))


@accepts_arrays
def hard_shrink(x, threshold=0.5):
    """x where |x| > threshold, else 0."""
    x = as_tensor_variable(x)
    return ew.switch(ew.gt(ew.abs_(x), threshold), x, 0.0)


@accepts_arrays
def soft_shrink(x, threshold=0.5):
    """x moved threshold towards 0, and 0 within threshold of it."""
    x = as_tensor_variable(x)
    return ew.switch(ew.gt(x, threshold), x - threshold, ew.switch(ew.lt(x, -threshold), x + threshold, 0.0))


@accepts_arrays
def tanh_shrink(x):
    x = as_tensor_variable(x)
    return x - ew.tanh(x)


@accepts_arrays
def threshold(x, threshold, default_value):
    """x where x > threshold, else default_value."""
    x = as_tensor_variable(x)
    return ew.switch(ew.gt(x, threshold), x, default_value)


@accepts_arrays
def sparse_plus(x):
    """0 below -1, x above 1, and (x + 1)**2 / 4 between: a softplus made of pieces."""
    x = as_tensor_variable(x)
    return ew.switch(ew.le(x, -1), 0.0, ew.switch(ew.ge(x, 1), x, ew.sqr(x + 1) / 4))


@accepts_arrays
def sparse_sigmoid(x):
    """0 below -1, 1 above 1, and (x + 1) / 2 between."""
    x = as_tensor_variable(x)
    return ew.switch(ew.le(x, -1), 0.0, ew.switch(ew.ge(x, 1), 1.0, (x + 1) / 2))


@accepts_arrays
def squareplus(x, b=4):
    """(x + sqrt(x**2 + b)) / 2, a smooth relu made of a square root."""
    x = as_tensor_variable(x)
    return (x + ew.sqrt(ew.sqr(x) + b)) / 2


@accepts_arrays
def sparsemax(x, axis=-1):
    """The Euclidean projection of x onto the probability simplex along axis (Martins & Astudillo,
    2016): max(x - tau, 0), tau chosen so that each slice sums to 1; unlike softmax, many are 0."""
    x = as_tensor_variable(x)
    (axis,) = normalize_axis(axis, x.ndim, "sparsemax")
    ordered = -sort(-x, axis)
    running = cumsum(ordered, axis)
    ranks = dimshuffle(arange(1, dims(x)[axis] + 1, dtype=x.dtype), [0 if d == axis else "x" for d in range(x.ndim)])
    support = ew.gt(ordered - (running - 1) / ranks, 0)
    count = sum_(support, axis, keepdims=True)
    tau = (sum_(ew.switch(support, ordered, 0.0), axis, keepdims=True) - 1) / count
    return ew.relu(x - tau)


def _erf(x):
    """erf from exp (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7, below float32's resolution),
    as the graph has no erf op; it is differentiable like any composite."""
    a = ew.abs_(x)
    t = 1 / (1 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return ew.sign(x) * (1 - poly * ew.exp(-a * a))


ALL_OBJECTS_DICT = {fn.__name__: fn for fn in (
    relu, leaky_relu, relu6, sigmoid, hard_sigmoid, log_sigmoid, softmax, log_softmax, tanh, hard_tanh,
    linear, exponential, elu, selu, softplus, softsign, silu, hard_silu, mish, gelu, celu, glu, hard_shrink,
    soft_shrink, tanh_shrink, threshold, sparse_plus, sparse_sigmoid, squareplus, sparsemax)}
ALL_OBJECTS_DICT.update(swish=silu, hard_swish=hard_silu)


def serialize(activation):
    """The name of a built-in activation (Keras 3 stores the bare name); a custom function as Keras's
    function dict, under its registered name ("package>name") where it has one."""
    for name, fn in ALL_OBJECTS_DICT.items():
        if fn is activation and name not in ("swish", "hard_swish"):
            return name
    name = getattr(activation, "__name__", None)
    if name is None:
        raise ValueError("Cannot serialize activation %r: it has no name" % (activation,))
    if not isinstance(activation, types.FunctionType) or name == "<lambda>":
        return name
    return keras_serialized_function(activation)


def deserialize(config, custom_objects=None):
    """An activation from its name or Keras's function dict: a built-in one, or a custom function
    found in custom_objects, an enclosing custom_object_scope or the registered objects."""
    if isinstance(config, dict) and isinstance(config.get("config"), dict):    # a callable object, as Keras saves one
        from mlcore.saving.serialization_lib import deserialize_keras_object      # (it imports this module)
        return deserialize_keras_object(config, custom_objects)
    if isinstance(config, dict):  # {"class_name": "function", "config": "relu"} as Keras saves functions
        config = config.get("config")
    found = known_custom_objects(custom_objects).get(config)
    return found if found is not None else get(config)


def get(identifier):
    """An activation from a name, a serialized dict or a callable; None means linear."""
    if identifier is None:
        return linear
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier not in ALL_OBJECTS_DICT:
            custom = known_custom_objects().get(identifier)
            if custom is not None:
                return custom
            raise ValueError("Unknown activation function: %r. Valid names are: %s"
                             % (identifier, ", ".join(sorted(ALL_OBJECTS_DICT))))
        return ALL_OBJECTS_DICT[identifier]
    if callable(identifier):
        return identifier
    raise ValueError("Could not interpret activation function identifier: %r" % (identifier,))

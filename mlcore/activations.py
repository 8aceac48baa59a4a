"""Activation functions, as keras.activations, on symbolic tensors (or on numbers, evaluated at once).

sigmoid and softmax are the graph's own Sigmoid and Softmax ops: the
crossentropy losses recognise them and compute from their inputs (the logits),
which stays finite where log(softmax(x)) would not.
"""
import math

from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops import nn
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.losses import accepts_arrays


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


@accepts_arrays
def softmax(x, axis=-1):
    return nn.softmax(x, axis)


@accepts_arrays
def log_softmax(x, axis=-1):
    return nn.log_softmax(x, axis)


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


def _erf(x):
    """erf from exp (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7, below float32's resolution),
    as the graph has no erf op; it is differentiable like any composite."""
    a = ew.abs_(x)
    t = 1 / (1 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return ew.sign(x) * (1 - poly * ew.exp(-a * a))


ALL_OBJECTS_DICT = {fn.__name__: fn for fn in (
    relu, leaky_relu, relu6, sigmoid, hard_sigmoid, log_sigmoid, softmax, log_softmax, tanh, hard_tanh,
    linear, exponential, elu, selu, softplus, softsign, silu, hard_silu, mish, gelu)}
ALL_OBJECTS_DICT.update(swish=silu, hard_swish=hard_silu)


def serialize(activation):
    """The name of a built-in activation (Keras 3 stores the bare name); a custom one's __name__."""
    for name, fn in ALL_OBJECTS_DICT.items():
        if fn is activation and name not in ("swish", "hard_swish"):
            return name
    name = getattr(activation, "__name__", None)
    if name is None:
        raise ValueError("Cannot serialize activation %r: it has no name" % (activation,))
    return name


def deserialize(config, custom_objects=None):
    if isinstance(config, dict):  # {"class_name": "function", "config": "relu"} as Keras saves functions
        config = config.get("config")
    if custom_objects and config in custom_objects:
        return custom_objects[config]
    return get(config)


def get(identifier):
    """An activation from a name, a serialized dict or a callable; None means linear."""
    if identifier is None:
        return linear
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier not in ALL_OBJECTS_DICT:
            raise ValueError("Unknown activation function: %r. Valid names are: %s"
                             % (identifier, ", ".join(sorted(ALL_OBJECTS_DICT))))
        return ALL_OBJECTS_DICT[identifier]
    if callable(identifier):
        return identifier
    raise ValueError("Could not interpret activation function identifier: %r" % (identifier,))

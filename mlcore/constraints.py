"""Weight constraints, as keras.constraints: callables from a symbolic weight to its
projection, which the training step applies after each optimizer update."""

from mlcore import config
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.reduce import sum_
from mlcore.utils.registry import ObjectRegistry


def _norms(w, axis):
    return ew.sqrt(sum_(ew.sqr(w), axis=axis, keepdims=True))


class Constraint:
    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class MaxNorm(Constraint):
    """Rescale slices along `axis` whose L2 norm exceeds max_value (axis=0: each unit of a Dense kernel)."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = as_tensor_variable(w)
        norms = _norms(w, self.axis)
        return w * (ew.clip(norms, 0, self.max_value) / (config.epsilon() + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    def __call__(self, w):
        return ew.maximum(as_tensor_variable(w), 0)


class UnitNorm(Constraint):
    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = as_tensor_variable(w)
        return w / (config.epsilon() + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Move the norms towards [min_value, max_value]; rate=1 clips them, smaller rates go part way."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        w = as_tensor_variable(w)
        norms = _norms(w, self.axis)
        desired = self.rate * ew.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (config.epsilon() + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm
maxnorm, nonneg, unitnorm = MaxNorm, NonNeg, UnitNorm  # Keras 1's names, Keras 2's legacy aliases
ALL_OBJECTS_DICT = {"Constraint": Constraint, "MaxNorm": MaxNorm, "NonNeg": NonNeg, "UnitNorm": UnitNorm,
                    "MinMaxNorm": MinMaxNorm, "max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
                    "min_max_norm": MinMaxNorm,
                    "maxnorm": MaxNorm, "nonneg": NonNeg, "unitnorm": UnitNorm}  # Keras 1 names


_registry = ObjectRegistry("constraint", "keras.constraints", Constraint, ALL_OBJECTS_DICT)
deserialize = _registry.deserialize


def serialize(constraint):
    """Keras's {"module", "class_name", "config", "registered_name"} dict (a function, so that
    serialize(constraint=...) works as in Keras)."""
    return _registry.serialize(constraint)


def get(identifier):
    """A constraint from None, a serialized dict, a name, a class or a callable."""
    return _registry.get(identifier)

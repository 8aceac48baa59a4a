"""Weight regularizers, as keras.regularizers: callables from a symbolic weight to a
symbolic scalar penalty, which the training step adds to the loss."""
import math

import numpy as np

from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.common import as_tensor_variable, constant
from mlcore.graph.ops.linalg import dot
from mlcore.graph.ops.reduce import sum_
from mlcore.utils.registry import ObjectRegistry


def _validate(value, name):
    if (not isinstance(value, (float, int)) or isinstance(value, bool)
            or math.isinf(value) or math.isnan(value) or value < 0):
        raise ValueError("Invalid value for argument %s: expected a non-negative float. Received: %s=%r"
                         % (name, name, value))
    return float(value)


class Regularizer:
    def __call__(self, x):
        return 0.0

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_config(self):
        raise NotImplementedError("%s does not implement get_config()" % (self,))


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x ** 2).  Defaults are 0, as Keras 3 (Keras 2's l1_l2() used 0.01)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _validate(0.0 if l1 is None else l1, "l1")
        self.l2 = _validate(0.0 if l2 is None else l2, "l2")

    def __call__(self, x):
        x = as_tensor_variable(x)
        penalty = constant(np.zeros((), x.dtype))
        if self.l1:
            penalty = penalty + self.l1 * sum_(ew.abs_(x))
        if self.l2:
            penalty = penalty + self.l2 * sum_(ew.sqr(x))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    def __init__(self, l1=0.01):
        self.l1 = _validate(0.01 if l1 is None else l1, "l1")

    def __call__(self, x):
        return self.l1 * sum_(ew.abs_(as_tensor_variable(x)))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    def __init__(self, l2=0.01):
        self.l2 = _validate(0.01 if l2 is None else l2, "l2")

    def __call__(self, x):
        return self.l2 * sum_(ew.sqr(as_tensor_variable(x)))

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """factor times the mean |cosine| between distinct rows (or columns) of a 2-d weight."""

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _validate(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError("Invalid value for argument `mode`. Expected one of {'rows', 'columns'}. "
                             "Received: mode=%r" % (mode,))
        self.mode = mode

    def __call__(self, x):
        x = as_tensor_variable(x)
        if x.ndim != 2:
            raise ValueError("Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape=%s"
                             % (x.type.shape,))
        axis = 1 if self.mode == "rows" else 0
        size = x.type.shape[1 - axis]
        if size is None:
            raise ValueError("OrthogonalRegularizer needs a static %s count" % self.mode[:-1])
        inv_norm = ew.minimum(1 / ew.sqrt(sum_(ew.sqr(x), axis=axis, keepdims=True)), 1e7)
        unit = x * inv_norm
        product = dot(unit, unit.T) if axis == 1 else dot(unit.T, unit)
        off_diagonal = product * constant((1.0 - np.eye(size)).astype(x.dtype))
        return self.factor * 0.5 * sum_(ew.abs_(off_diagonal)) / (size * (size - 1.0) / 2.0)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer
ALL_OBJECTS_DICT = {"Regularizer": Regularizer, "L1": L1, "L2": L2, "L1L2": L1L2,
                    "OrthogonalRegularizer": OrthogonalRegularizer, "l1": L1, "l2": L2, "l1l2": L1L2,
                    "l1_l2": L1L2, "orthogonal_regularizer": OrthogonalRegularizer}


_registry = ObjectRegistry("regularizer", "keras.regularizers", Regularizer, ALL_OBJECTS_DICT)
deserialize = _registry.deserialize


def serialize(regularizer):
    """Keras's {"module", "class_name", "config", "registered_name"} dict (a function, so that
    serialize(regularizer=...) works as in Keras)."""
    return _registry.serialize(regularizer)


def get(identifier):
    """A regularizer from a name ('l2' means L2(0.01)), a serialized dict, a class or a callable."""
    return _registry.get(identifier)

"""Layers that merge a list of tensors: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate."""
from functools import reduce

from mlcore.graph import ops
from mlcore.layers.base import Layer


class Merge(Layer):
    """Elementwise merge of a list of tensors of compatible shapes."""
    rowwise = True

    def combine(self, a, b):
        raise NotImplementedError

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError("%s '%s' must be called on a list of at least 2 tensors, got %r"
                             % (type(self).__name__, self.name, inputs))
        return reduce(self.combine, inputs)


class Add(Merge):
    def combine(self, a, b):
        return a + b


class Subtract(Merge):
    def call(self, inputs):
        if len(inputs) != 2:
            raise ValueError("Subtract '%s' needs exactly 2 inputs, got %d" % (self.name, len(inputs)))
        return inputs[0] - inputs[1]


class Multiply(Merge):
    def combine(self, a, b):
        return a * b


class Maximum(Merge):
    def combine(self, a, b):
        return ops.maximum(a, b)


class Minimum(Merge):
    def combine(self, a, b):
        return ops.minimum(a, b)


class Average(Merge):
    def call(self, inputs):
        return super().call(inputs) / len(inputs)

    def combine(self, a, b):
        return a + b


class Concatenate(Layer):
    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    @property
    def rowwise(self):
        return self.axis != 0    # along the batch axis, rows of one input meet rows of another

    def call(self, inputs):
        return ops.concatenate(list(inputs), axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)

"""Layers that merge a list of tensors: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate."""
from functools import reduce

import numpy as np

from mlcore.graph import ops
from mlcore.layers.base import Layer


class Merge(Layer):
    """Elementwise merge of a list of tensors of compatible shapes."""
    rowwise = True

    def __call__(self, inputs, *args, **kwargs):
        self.check_inputs(inputs)   # first: Layer.__call__ would take an empty list for numbers to run eagerly
        return super().__call__(inputs, *args, **kwargs)

    def check_inputs(self, inputs):
        """Keras's rule: a list (or tuple) of at least one tensor; a list of one is passed through."""
        if not isinstance(inputs, (list, tuple)):
            raise ValueError("A merge layer should be called on a list of inputs. Received: input_shape=%s "
                             "(not a list of shapes)" % (_shapes(inputs),))
        if not inputs:
            raise ValueError("A merge layer should be called on a list of at least 1 input. Received 0 inputs. "
                             "Full input_shape received: []")

    def combine(self, a, b):
        raise NotImplementedError

    def call(self, inputs):
        return reduce(self.combine, inputs)


def _shapes(inputs):
    """The static shape(s) of what a merge layer was given, for its errors."""
    if isinstance(inputs, (list, tuple)):
        return [_shapes(x) for x in inputs]
    return inputs.type.shape if hasattr(inputs, "type") else np.shape(inputs)


class Add(Merge):
    def combine(self, a, b):
        return a + b


class Subtract(Merge):
    def check_inputs(self, inputs):
        super().check_inputs(inputs)
        if len(inputs) != 2:
            raise ValueError("A `Subtract` layer should be called on exactly 2 inputs. Received: input_shape=%s"
                             % (_shapes(inputs),))

    def call(self, inputs):
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


class Concatenate(Merge):
    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    @property
    def rowwise(self):
        return self.axis != 0    # along the batch axis, rows of one input meet rows of another

    def check_inputs(self, inputs):
        if not isinstance(inputs, (list, tuple)) or not inputs:
            raise ValueError("A `Concatenate` layer should be called on a list of at least 1 input. Received: "
                             "input_shape=%s" % (_shapes(inputs),))

    def call(self, inputs):
        return ops.concatenate(list(inputs), axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)

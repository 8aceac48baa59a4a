"""Layers that merge a list of tensors: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate."""
from functools import reduce

import numpy as np

from mlcore.graph import ops
from mlcore.layers.base import Layer
from mlcore.keras_masks import over_trailing_axes


class Merge(Layer):
    """Elementwise merge of a list of tensors of compatible shapes.  Where every input is masked, a
    step of the output is real when it is real in any input (Keras 3)."""
    rowwise = True
    supports_masking = True

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

    def compute_mask(self, inputs, mask=None):
        if mask is None or any(m is None for m in mask):
            return None
        return reduce(ops.or_, mask)


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


class _Extremum(Merge):
    """Maximum and Minimum have no neutral value: where one input's step is masked, the other's value
    stands in for it, as Keras 3 merges them."""

    def call(self, inputs, mask=None):
        masks = mask if mask is not None else [None] * len(inputs)
        output, output_mask = inputs[0], masks[0]
        for x, mask in zip(inputs[1:], masks[1:]):
            if mask is not None:
                x = ops.switch(over_trailing_axes(mask, x.ndim), x, output)
            if output_mask is not None:
                output = ops.switch(over_trailing_axes(output_mask, output.ndim), output, x)
            output_mask = None if mask is None or output_mask is None else ops.or_(output_mask, mask)
            output = self.combine(output, x)
        return output


class Maximum(_Extremum):
    def combine(self, a, b):
        return ops.maximum(a, b)


class Minimum(_Extremum):
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

    def compute_mask(self, inputs, mask=None):
        """Keras 3's: the inputs' masks spread over their features (all True where an input has none),
        concatenated, then a step is real where any of its entries is."""
        if mask is None or all(m is None for m in mask):
            return None
        spread = [ops.cast(ops.ones_like(x), "bool") if m is None else
                  ops.or_(over_trailing_axes(m, x.ndim), ops.cast(ops.zeros_like(x), "bool")) if m.ndim < x.ndim else m
                  for x, m in zip(inputs, mask)]
        return ops.any_(ops.concatenate(spread, axis=self.axis), axis=-1)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)

"""Layers that merge a list of tensors: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot,
and their functional forms (add, subtract, ...)."""
from functools import reduce

import numpy as np

from mlcore.graph import ops
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.linalg import batched_tensordot
from mlcore.layers.base import Layer
from mlcore.ops.nn import normalize
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
        if mask is None or any(m is None for m in _checked_masks(inputs, mask)):
            return None
        return reduce(ops.or_, mask)


def _checked_masks(inputs, mask):
    """mask, one per input, as Keras checks it."""
    if not isinstance(mask, (tuple, list)):
        raise ValueError("`mask` should be a list. Received: mask=%s" % (mask,))
    if not isinstance(inputs, (tuple, list)):
        raise ValueError("`inputs` should be a list. Received: inputs=%s" % (inputs,))
    if len(mask) != len(inputs):
        raise ValueError("The lists `inputs` and `mask` should have the same length. Received: inputs=%s of length "
                         "%d, and mask=%s of length %d" % (inputs, len(inputs), mask, len(mask)))
    return mask


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
    """Keras 3's masking: an input's masked step counts as 1, and where every input is masked the output is 0."""

    def call(self, inputs, mask=None):
        masks = mask if mask is not None else [None] * len(inputs)
        factors = [x if m is None else ops.switch(over_trailing_axes(m, x.ndim), x, ops.ones_like(x))
                   for x, m in zip(inputs, masks)]
        output = reduce(self.combine, factors)
        if any(m is None for m in masks):
            return output
        return ops.switch(over_trailing_axes(reduce(ops.or_, masks), output.ndim), output, ops.zeros_like(output))

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
        self._check_shapes([x.type.shape for x in inputs])
        return ops.concatenate(list(inputs), axis=self.axis)

    def _check_shapes(self, shapes):
        """Keras's rule: one rank, and the same known sizes on every axis but the concatenation axis."""
        err = ("A `Concatenate` layer requires inputs with matching shapes except for the concatenation axis. "
               "Received: input_shape=%s" % (shapes,))
        if len({len(shape) for shape in shapes}) != 1:
            raise ValueError(err)
        rest = [shape[:self.axis % len(shape)] + shape[self.axis % len(shape) + 1:] for shape in shapes]
        if any(len({dims[axis] for dims in rest} - {None}) > 1 for axis in range(len(rest[0]))):
            raise ValueError(err)

    def compute_mask(self, inputs, mask=None):
        """Keras 3's: the inputs' masks spread over their features (all True where an input has none),
        concatenated, then a step is real where any of its entries is."""
        if mask is None or all(m is None for m in _checked_masks(inputs, mask)):
            return None
        spread = [ops.cast(ops.ones_like(x), "bool") if m is None else
                  ops.or_(over_trailing_axes(m, x.ndim), ops.cast(ops.zeros_like(x), "bool")) if m.ndim < x.ndim else m
                  for x, m in zip(inputs, mask)]
        return ops.any_(ops.concatenate(spread, axis=self.axis), axis=-1)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def batch_dot(x, y, axes=None):
    """Keras's batch_dot: per sample, x's axis axes[0] summed against y's axes[1] (by default x's
    last with y's last if y is a matrix, else with y's second to last); the result is (batch, x's
    other dims, y's other dims), at least (batch, 1)."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if x.ndim < 2 or y.ndim < 2:
        raise ValueError("Cannot do batch_dot on inputs with rank < 2. Received inputs with shapes %s and %s."
                         % (x.type.shape, y.type.shape))
    if axes is None:
        axes = [x.ndim - 1, y.ndim - 1 if y.ndim == 2 else y.ndim - 2]
    axes = [axes, axes] if isinstance(axes, int) else list(axes)
    axes = [axis % ndim for axis, ndim in zip(axes, (x.ndim, y.ndim))]
    if 0 in axes:
        raise ValueError("Cannot perform batch_dot over axis 0. If your inputs are not batched, add a dummy "
                         "batch dimension to your inputs using keras.ops.expand_dims(x, 0)")
    d1, d2 = x.type.shape[axes[0]], y.type.shape[axes[1]]
    if d1 is not None and d2 is not None and d1 != d2:
        raise ValueError("Cannot do batch_dot on inputs with shapes %s and %s with axes=%s. x.shape[%d] != "
                         "y.shape[%d] (%d != %d)." % (x.type.shape, y.type.shape, axes, axes[0], axes[1], d1, d2))
    out = batched_tensordot(x, y, [[axes[0]], [axes[1]]])
    return ops.dimshuffle(out, 0, "x") if out.ndim == 1 else out


class Dot(Merge):
    """The dot product of two samples' tensors along an axis of each (axes: one int for both, or a
    pair); normalize=True takes the cosine similarity (each input L2-normalised first)."""

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)):
                raise TypeError("Invalid type for argument `axes`: it should be a list or an int. Received: "
                                "axes=%r" % (axes,))
            if len(axes) != 2:
                raise ValueError("Invalid format for argument `axes`: it should contain two elements. Received: "
                                 "axes=%r" % (axes,))
            if not all(isinstance(axis, int) for axis in axes):
                raise ValueError("Invalid format for argument `axes`: list elements should be integers. "
                                 "Received: axes=%r" % (axes,))
        self.axes = axes
        self.normalize = bool(normalize)

    def check_inputs(self, inputs):
        super().check_inputs(inputs)
        if len(inputs) != 2:
            raise ValueError("A `Dot` layer should be called on exactly 2 inputs. Received: input_shape=%s"
                             % (_shapes(inputs),))

    def call(self, inputs):
        x1, x2 = inputs
        axes = [self.axes] * 2 if isinstance(self.axes, int) else list(self.axes)
        axes = [axis % x.ndim for axis, x in zip(axes, (x1, x2))]
        if self.normalize:
            x1, x2 = normalize(x1, axes[0]), normalize(x2, axes[1])
        return batch_dot(x1, x2, axes)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, **kwargs):
    return Dot(axes=axes, **kwargs)(inputs)

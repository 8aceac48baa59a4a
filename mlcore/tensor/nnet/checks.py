"""The checks Theano's nnet ops made when they ran, as ops of the graph: a shape a caller declared
(conv2d's input_shape=, filter_shape=), and class labels within a row's classes.

A shape is known when jax traces, so its check is a SpecifyShape (free under jit); a label is a
value, so its check runs on the host (an op with a perform, as Theano's own), on every backend.
"""
import numbers

import numpy as np

from mlcore.graph.basic import Apply, Op, Variable
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.shape import SpecifyShape


class ShapeError(AssertionError, ValueError):
    """A shape that disagrees with a declared one: an AssertionError, as Theano's Assert raised,
    and a ValueError, as its convolutions raised for an output size they cannot give."""


class DeclaredShape(SpecifyShape):
    """specify_shape whose mismatch names the function and argument that declared the shape."""
    __props__ = ("shape", "where")

    def __init__(self, shape, where):
        super().__init__(shape)
        self.where = where

    def check(self, x):
        if len(x.shape) != len(self.shape) or any(d not in (None, n) for d, n in zip(self.shape, x.shape)):
            raise ShapeError("%s: got shape %s where %s was declared (None: any)"
                             % (self.where, tuple(x.shape), self.shape))
        return x


def declared(x, shape, where):
    """x with the static ints of `shape` (None, or a symbolic size, leaves that dim open) checked
    when the graph runs; x itself when nothing is declared."""
    if shape is None:
        return x
    shape = tuple(int(d) if isinstance(d, numbers.Integral) else None for d in static_ints(shape))
    if len(shape) != x.ndim:
        raise ValueError("%s: %d entries declared for %s" % (where, len(shape), x.type))
    if all(d is None for d in shape):
        return x
    known = x.type.shape
    if any(None not in (d, k) and d != k for d, k in zip(shape, known)):
        raise ShapeError("%s: %s cannot have the declared shape %s" % (where, x.type, shape))
    return DeclaredShape(shape, where)(x)


def static_ints(shape):
    """shape's entries, constants read as ints (Theano takes T.constant(3) where it takes 3)."""
    values = []
    for d in shape:
        data = getattr(d, "data", None) if isinstance(d, Variable) else d
        values.append(int(data) if data is not None and np.ndim(data) == 0 and not isinstance(d, bool) else d)
    return values


class LabelsInRange(Op):
    """y_idx itself, checked when run to hold class numbers in [0, n_classes): what Theano's
    crossentropy ops checked (numpy would read a negative label from the end, jax clamp a large one)."""
    __props__ = ("where",)

    def __init__(self, where):
        self.where = where

    def make_node(self, y_idx, n_classes):
        y_idx, n_classes = as_tensor_variable(y_idx), as_tensor_variable(n_classes)
        return Apply(self, [y_idx, n_classes], [y_idx.type()])

    def perform(self, node, inputs, output_storage):
        y_idx, n_classes = inputs
        bad = (y_idx < 0) | (y_idx >= n_classes)
        if np.any(bad):
            raise ValueError("%s: y_idx[%d] = %d is not a class in [0, %d)"
                             % (self.where, np.flatnonzero(bad)[0], y_idx.flat[np.flatnonzero(bad)[0]], n_classes))
        output_storage[0][0] = y_idx

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def pullback(self, inputs, outputs, output_grads):
        return [None, None]      # class numbers: no gradient


def labels_in_range(y_idx, n_classes, where):
    return LabelsInRange(where)(y_idx, n_classes)


class Assert(Op):
    """x itself, once every condition holds when the graph runs; else an AssertionError with msg
    (Theano's theano.tensor.opt.Assert)."""
    __props__ = ("msg",)

    def __init__(self, msg="Theano Assert failed!"):
        self.msg = msg

    def make_node(self, x, *conditions):
        x = as_tensor_variable(x)
        conditions = [as_tensor_variable(c) for c in conditions]
        return Apply(self, [x] + conditions, [x.type()])

    def perform(self, node, inputs, output_storage):
        if not all(np.all(c) for c in inputs[1:]):
            raise ShapeError(self.msg)
        output_storage[0][0] = inputs[0]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0]] + [None] * (len(inputs) - 1)

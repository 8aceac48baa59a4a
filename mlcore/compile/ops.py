"""Theano's as_op: a Python function on numpy arrays, used as an op in a graph.

    @as_op(itypes=[T.dmatrix], otypes=[T.dvector])
    def row_medians(a):
        return np.median(a, axis=1)

The function runs on the host with numpy arrays, on every backend: the numpy backend calls it,
the theano backend wraps it in a PyTensor Op, and the jax backend calls back to the host with
jax.pure_callback, which has to know the output shapes when it traces: from the output types when
they are fully static, else from infer_shape(node, input_shapes).  Such an op has no gradient, as
in Theano.
"""
import numpy as np

from mlcore.graph.basic import Apply, Op, TensorType, Variable
from mlcore.graph.ops.common import as_tensor_variable


def _as_type(spec, role, position):
    """A TensorType from what Theano code passes as a type: a TensorType, or a maker such as T.dmatrix
    (a function returning a variable in mlcore, a type in Theano)."""
    if isinstance(spec, TensorType):
        return spec
    made = spec() if callable(spec) else None
    if isinstance(made, Variable):
        return made.type
    raise TypeError("as_op: %s[%d] must be a tensor type such as T.dmatrix or T.TensorType(...), not %r"
                    % (role, position, spec))


class FromFunctionOp(Op):
    """The op as_op makes: calls fn on the input arrays and returns its outputs as otypes."""

    __props__ = ("fn", "itypes", "otypes", "infer_shape")

    def __init__(self, fn, itypes, otypes, infer_shape=None):
        self.fn, self.infer_shape = fn, infer_shape
        self.itypes = tuple(_as_type(t, "itypes", k) for k, t in enumerate(itypes))
        self.otypes = tuple(_as_type(t, "otypes", k) for k, t in enumerate(otypes))
        self.name = getattr(fn, "__name__", type(self).__name__)

    def make_node(self, *inputs):
        if len(inputs) != len(self.itypes):
            raise TypeError("%s takes %d inputs (its itypes), got %d" % (self.name, len(self.itypes), len(inputs)))
        inputs = [as_tensor_variable(x) for x in inputs]
        for k, (x, expected) in enumerate(zip(inputs, self.itypes)):
            if x.dtype != expected.dtype or x.ndim != expected.ndim:
                raise TypeError("%s: input %d is %s but its itypes say %s" % (self.name, k, x.type, expected))
        return Apply(self, inputs, self.otypes)

    def perform(self, *arrays):
        """fn on numpy arrays, its results checked against and cast to the output types."""
        results = self.fn(*arrays)
        if len(self.otypes) == 1:
            results = [results]
        if len(results) != len(self.otypes):
            raise ValueError("%s returned %d outputs; its otypes declare %d" % (self.name, len(results), len(self.otypes)))
        arrays = []
        for k, (value, otype) in enumerate(zip(results, self.otypes)):
            value = np.asarray(value)
            if value.ndim != otype.ndim or any(s is not None and s != v for s, v in zip(otype.shape, value.shape)):
                raise ValueError("%s: output %d has shape %s, which its otypes' %s does not allow"
                                 % (self.name, k, value.shape, otype))
            arrays.append(value.astype(otype.dtype, copy=False))
        return arrays[0] if len(arrays) == 1 else arrays

    def output_shapes(self, node, input_shapes):
        """The outputs' concrete shapes given the inputs' (what jax.pure_callback needs)."""
        if self.infer_shape is not None:
            return [tuple(int(d) for d in shape) for shape in self.infer_shape(node, list(input_shapes))]
        if all(None not in t.shape for t in self.otypes):
            return [t.shape for t in self.otypes]
        raise NotImplementedError("%s: the jax backend must know its output shapes when it traces; give as_op "
                                  "an infer_shape(node, input_shapes), or otypes of static shape (the numpy "
                                  "and theano backends run it without)" % self.name)

    def pullback(self, inputs, outputs, output_grads):
        raise NotImplementedError("%s was made by as_op from a Python function and has no gradient; write an "
                                  "Op with a pullback, or an OpFromGraph, to differentiate it" % self.name)


def as_op(itypes, otypes, infer_shape=None):
    """Decorator: the function as an op of the given input and output types (theano.compile.ops.as_op)."""
    if not isinstance(itypes, (list, tuple)) or not isinstance(otypes, (list, tuple)):
        raise TypeError("as_op: itypes and otypes must be lists of tensor types")
    if infer_shape is not None and not callable(infer_shape):
        raise TypeError("as_op: infer_shape must be a function (node, input_shapes) -> output shapes")
    return lambda fn: FromFunctionOp(fn, itypes, otypes, infer_shape)

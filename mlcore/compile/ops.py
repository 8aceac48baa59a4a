"""Ops that run Python on the host: Theano's as_op, and any op written as Theano's, with a
perform(node, inputs, output_storage).

    @as_op(itypes=[T.dmatrix], otypes=[T.dvector])
    def row_medians(a):
        return np.median(a, axis=1)

Such an op runs on the host with numpy arrays, on every backend (the backends' register_host): the
numpy backend calls perform, the theano backend wraps it in a PyTensor Op, and the jax backend calls
back to the host with jax.pure_callback, which has to know the output shapes when it traces: from
the output types when they are fully static, else from the op's infer_shape(node, input_shapes).
An as_op op has no gradient, as in Theano; a Theano op has the one its grad or L_op gives.
"""
import inspect

import numpy as np

from mlcore.graph.basic import Op, TensorType, Variable


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


def inferred_shapes(op, node, input_shapes):
    """The outputs' shapes by the op's infer_shape, Theano's (node, input_shapes) or PyTensor's
    (fgraph, node, input_shapes); None when it has none.  The shapes may be numbers or symbolic."""
    infer_shape = getattr(op, "infer_shape", None)
    if not callable(infer_shape):
        return None
    arguments = (node, list(input_shapes))
    if len(inspect.signature(infer_shape).parameters) == 3:
        arguments = (None,) + arguments
    return infer_shape(*arguments)


def output_shapes_known_when_traced(op, node):
    """Whether jax can learn the outputs' shapes while it traces: from an infer_shape, or static
    output types.  A graph holding an op that has neither runs op by op on the jax backend."""
    return callable(getattr(op, "infer_shape", None)) or all(None not in out.type.shape for out in node.outputs)


def host_output_shapes(op, node, input_shapes):
    """The outputs' concrete shapes given the inputs' (what jax.pure_callback needs): from the op's
    infer_shape, else from the output types when they are static."""
    shapes = inferred_shapes(op, node, input_shapes)
    if shapes is not None:
        return [tuple(int(d) for d in shape) for shape in shapes]
    if all(None not in out.type.shape for out in node.outputs):
        return [out.type.shape for out in node.outputs]
    raise NotImplementedError("%s: the jax backend must know its output shapes when it traces; give the op "
                              "an infer_shape(node, input_shapes), or outputs of static shape (the numpy "
                              "and theano backends run it without)" % (op,))


def run_perform(op, node, arrays):
    """op.perform on the input arrays, its outputs checked against the node's types and cast to
    their dtypes: one array, or a list of them."""
    storage = [[None] for _ in node.outputs]
    op.perform(node, list(arrays), storage)
    results = []
    for k, ((value,), out) in enumerate(zip(storage, node.outputs)):
        if value is None:
            raise ValueError("%s: perform() left output %d unset (write output_storage[%d][0])" % (op, k, k))
        value = np.asarray(value)
        if not out.type.allows_shape(value.shape):
            raise ValueError("%s: output %d has shape %s, which its type %s does not allow"
                             % (op, k, value.shape, out.type))
        results.append(value.astype(out.dtype, copy=False))
    return results[0] if len(results) == 1 else results


class FromFunctionOp(Op):
    """The op as_op makes: calls fn on the input arrays and returns its outputs as otypes."""

    __props__ = ("fn", "itypes", "otypes", "infer_shape")

    def __init__(self, fn, itypes, otypes, infer_shape=None):
        self.fn, self.infer_shape = fn, infer_shape
        self.itypes = tuple(_as_type(t, "itypes", k) for k, t in enumerate(itypes))
        self.otypes = tuple(_as_type(t, "otypes", k) for k, t in enumerate(otypes))
        self.name = getattr(fn, "__name__", type(self).__name__)

    def perform(self, node, inputs, output_storage):
        results = self.fn(*inputs)
        if len(self.otypes) == 1:
            results = [results]
        if len(results) != len(self.otypes):
            raise ValueError("%s returned %d outputs; its otypes declare %d" % (self.name, len(results), len(self.otypes)))
        for storage, value in zip(output_storage, results):
            storage[0] = value

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

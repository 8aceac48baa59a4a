"""The tensor ops made from a user's scalar op: ScalarElemwise maps it over every element
(T.elemwise.Elemwise(op)), ScalarReduce folds it along axes (T.elemwise.CAReduce(op)).

Both run the op's Python impl on the host, as Theano's Elemwise.perform does (numpy.frompyfunc),
so they run on every backend through the host-op mechanism (mlcore/compile/ops.py): numpy calls
perform, theano wraps it in a PyTensor Op, and jax calls it back with jax.pure_callback.  jax does
not trace impl: Theano's impls are Python on numbers (math.exp, `if x < 0`), which a tracer cannot
run, and a callback gives exactly the numpy backend's values.  The gradient is symbolic (the op's
grad), so on jax it is traced and compiled as any other graph.
"""
import numpy as np

from mlcore.graph.basic import Apply, Op, TensorType, Variable
from mlcore.graph.ops.common import as_tensor_variable, normalize_axis
from mlcore.graph.ops import elemwise_math as em
from mlcore.graph.ops.elemwise import aligned_inputs, second, unbroadcast, zeros_like
from mlcore.scalar.op import ScalarOp, replay
from mlcore.scalar.type import ScalarType


class ScalarElemwise(Op):
    """scalar_op applied to each element of its inputs, broadcast together as Theano's Elemwise."""

    __props__ = ("scalar_op",)

    def __init__(self, scalar_op):
        self.scalar_op = scalar_op

    def __str__(self):
        return "Elemwise{%s}" % (self.scalar_op,)

    def make_node(self, *inputs):
        op = self.scalar_op
        if not inputs or (op.nin >= 0 and len(inputs) != op.nin):
            raise TypeError("%s takes %d inputs, got %d" % (self, op.nin, len(inputs)))
        inputs, shape = aligned_inputs(self, inputs)
        return Apply(self, inputs, [TensorType(dtype, shape) for dtype in self.output_dtypes(inputs)])

    def output_dtypes(self, inputs):
        """The scalar op's output types for these inputs, checked, as dtypes; errors name the op and types."""
        types = [ScalarType(x.dtype) for x in inputs]
        try:
            outputs = self.scalar_op.output_types(types)
        except TypeError as err:
            raise TypeError("%s: inputs of types %s: %s" % (self.scalar_op, ", ".join(map(str, types)), err)) from None
        if not isinstance(outputs, (list, tuple)) or len(outputs) != self.scalar_op.nout or \
                not all(hasattr(t, "dtype") for t in outputs):
            raise TypeError("%s: its output types for %s must be a list of %d scalar types, not %r"
                            % (self.scalar_op, ", ".join(map(str, types)), self.scalar_op.nout, outputs))
        return [t.dtype for t in outputs]

    def perform(self, node, inputs, output_storage):
        results = self.scalar_op.numpy_function(len(inputs))(*inputs)
        if len(node.outputs) == 1:
            results = [results]
        for storage, value, out in zip(output_storage, results, node.outputs):
            storage[0] = np.asarray(value, dtype=out.dtype)

    def infer_shape(self, node, input_shapes):
        """Each dim from an input not broadcast along it (Theano's rule): symbolic or concrete alike."""
        shape = tuple(size if size is not None else
                      next(s[d] for x, s in zip(node.inputs, input_shapes) if x.type.shape[d] != 1)
                      for d, size in enumerate(node.outputs[0].type.shape))
        return [shape] * len(node.outputs)

    def pullback(self, inputs, outputs, output_grads):
        """The scalar op's grad, written on scalar stand-ins, rebuilt on the actual tensors."""
        stand_ins = [ScalarType(x.dtype)() for x in inputs]
        grad_stand_ins = [ScalarType(o.dtype)() for o in outputs]
        grads = [as_tensor_variable(g) if isinstance(g, (int, float)) else g
                 for g in self.scalar_op.grad(stand_ins, grad_stand_ins)]
        if len(grads) != len(inputs):
            raise ValueError("%s.grad returned %d gradients for %d inputs" % (self.scalar_op, len(grads), len(inputs)))
        given = [zeros_like(o) if g is None else g for o, g in zip(outputs, output_grads)]
        symbolic = [k for k, g in enumerate(grads) if isinstance(g, Variable)]
        rebuilt = replay([grads[k] for k in symbolic], zip(stand_ins + grad_stand_ins, list(inputs) + given))
        for k, g in zip(symbolic, rebuilt):
            grads[k] = unbroadcast(g if g.ndim == outputs[0].ndim else second(outputs[0], g), inputs[k])
        return grads   # None (DisconnectedType()()) and NullGradients (grad_undefined) as they came


class ScalarReduce(Op):
    """scalar_op, a binary op, folded along axis (None: all), as Theano's CAReduce(scalar_op, axis)."""

    __props__ = ("scalar_op", "axis")

    def __init__(self, scalar_op, axis=None):
        self.scalar_op = scalar_op
        self.axis = None if axis is None else tuple(np.atleast_1d(axis).tolist())

    def __str__(self):
        return "CAReduce{%s, %s}" % (self.scalar_op, "all" if self.axis is None else ",".join(map(str, self.axis)))

    def make_node(self, x):
        x = as_tensor_variable(x)
        axes = normalize_axis(self.axis, x.ndim, str(self))
        shape = [s for d, s in enumerate(x.type.shape) if d not in axes]
        return Apply(self, [x], [TensorType(x.dtype, shape)])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        fold = numpy_binary_function(self.scalar_op)
        for axis in sorted(normalize_axis(self.axis, x.ndim), reverse=True):   # one at a time: impl need not commute
            x = fold.reduce(x, axis=axis)
        output_storage[0][0] = np.asarray(x, dtype=node.outputs[0].dtype)

    def infer_shape(self, node, input_shapes):
        axes = normalize_axis(self.axis, node.inputs[0].ndim)
        return [tuple(s for d, s in enumerate(input_shapes[0]) if d not in axes)]


# the built-in scalar ops that ScalarReduce folds, by numpy's ufuncs (theano.scalar.and_, or_, xor)
BITWISE_FOLDS = {em.BitAnd: np.bitwise_and, em.BitOr: np.bitwise_or, em.Xor: np.bitwise_xor}


def numpy_binary_function(scalar_op):
    """The numpy ufunc folding scalar_op: a user op's own (from impl), or numpy's for the bitwise ops."""
    if isinstance(scalar_op, ScalarOp):
        return scalar_op.numpy_function(2)
    return BITWISE_FOLDS[type(scalar_op)]

"""Python operators and Theano's tensor methods on Variables (x + y, x.sum(), x.T, x[1:], ...)."""
import numpy as np

from mlcore.graph import ops
from mlcore.graph.ops import along_axis, elemwise_complex, elemwise_math, extra_ops, reduce
from mlcore.graph.basic import Constant, SharedVariable, Variable, graph_inputs
from mlcore.graph.ops.shape import shape as shape_of
from mlcore.graph.shape_tuple import ShapeTuple


def _noted(operator, fn, *operands):
    """fn(*operands), noted on the result as Python's operator.<operator>(*operands): a functional model
    saves the operators written between its layers as Keras's ops (mlcore/models/operations.py)."""
    out = fn(*operands)
    if isinstance(out, Variable) and all(out is not operand for operand in operands):
        out.tag["operator"] = (operator, operands)
    return out


def _binary(operator, fn, reflected=False):
    def method(self, other):
        if getattr(other, "handles_dense_operands", False):
            return NotImplemented         # a sparse matrix: its reflected method computes x + s
        return _noted(operator, fn, other, self) if reflected else _noted(operator, fn, self, other)
    return method


def _unary(operator, fn):
    return lambda self: _noted(operator, fn, self)


def _getitem(self, key):
    return _noted("getitem", ops.subtensor, self, key)


def _reshape(self, *shape, ndim=None):
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        shape = shape[0]
    return ops.reshape(self, shape, ndim=ndim)


def _norm(self, L, axis=None):
    """Theano's x.norm(L, axis): the L-norm of the entries (along axis)."""
    magnitude = ops.abs_(self)
    if L == np.inf:
        return ops.max_(magnitude, axis)
    if L == 1:
        return ops.sum_(magnitude, axis)
    if L == 2:
        return ops.sqrt(ops.sum_(ops.sqr(self), axis))
    return ops.sum_(magnitude ** L, axis) ** (1.0 / L)


def _take(self, indices, axis=None):
    """numpy's take: the entries at indices along axis (None: of x flattened)."""
    if axis is None:
        return ops.flatten(self)[indices]
    return self[(slice(None),) * (axis % self.ndim) + (indices,)]


def _swapaxes(self, axis1, axis2):
    order = list(range(self.ndim))
    order[axis1], order[axis2] = order[axis2], order[axis1]
    return ops.transpose(self, order)


def _named(variable, name):
    variable.name = name
    return variable


def _tensor_basic():
    """mlcore.tensor.basic (tensor_copy, round, get_scalar_constant_value), imported when a method needs it:
    the Theano front end is built on this package."""
    from mlcore.tensor import basic
    return basic


def _tensor_extra_ops():
    """mlcore.tensor.extra_ops (compress), imported when a method needs it, as _tensor_basic."""
    from mlcore.tensor import extra_ops
    return extra_ops


def _eval(self, inputs_to_values=None):
    """Compile and run this variable with the default backend (Theano's var.eval)."""
    from mlcore.function import function
    inputs_to_values = inputs_to_values or {}
    fn = function(list(inputs_to_values), self)
    return fn(*inputs_to_values.values())


METHODS = {
    "__add__": _binary("add", ops.add), "__radd__": _binary("add", ops.add, True),
    "__sub__": _binary("sub", ops.sub), "__rsub__": _binary("sub", ops.sub, True),
    "__mul__": _binary("mul", ops.mul), "__rmul__": _binary("mul", ops.mul, True),
    "__truediv__": _binary("truediv", ops.true_div), "__rtruediv__": _binary("truediv", ops.true_div, True),
    "__floordiv__": _binary("floordiv", ops.int_div), "__rfloordiv__": _binary("floordiv", ops.int_div, True),
    "__mod__": _binary("mod", ops.mod), "__rmod__": _binary("mod", ops.mod, True),
    "__pow__": _binary("pow", ops.pow_), "__rpow__": _binary("pow", ops.pow_, True),
    "__matmul__": _binary("matmul", ops.matmul), "__rmatmul__": _binary("matmul", ops.matmul, True),
    "__lt__": _binary("lt", ops.lt), "__le__": _binary("le", ops.le),
    "__gt__": _binary("gt", ops.gt), "__ge__": _binary("ge", ops.ge),
    "__and__": _binary("and_", elemwise_math.bitwise_and), "__or__": _binary("or_", elemwise_math.bitwise_or),
    "__rand__": _binary("and_", elemwise_math.bitwise_and, True),
    "__ror__": _binary("or_", elemwise_math.bitwise_or, True),
    "__xor__": _binary("xor", elemwise_math.xor), "__rxor__": _binary("xor", elemwise_math.xor, True),
    "__invert__": _unary("invert", elemwise_math.invert),
    "__neg__": _unary("neg", ops.neg), "__abs__": _unary("abs", ops.abs_),
    "__getitem__": _getitem,
    "shape": property(ShapeTuple.of),
    "size": property(lambda self: ops.prod(shape_of(self))),
    "T": property(lambda self: ops.transpose(self)),
    "transpose": lambda self, *axes: ops.transpose(self, axes[0] if len(axes) == 1 else (axes or None)),
    "sum": reduce.theano_sum, "mean": reduce.theano_mean, "prod": reduce.theano_prod,
    "max": lambda self, axis=None, keepdims=False: ops.max_(self, axis, keepdims),
    "min": lambda self, axis=None, keepdims=False: ops.min_(self, axis, keepdims),
    "argmax": lambda self, axis=None, keepdims=False: ops.argmax(self, axis, keepdims),
    "argmin": lambda self, axis=None, keepdims=False: ops.argmin(self, axis, keepdims),
    "var": lambda self, axis=None, ddof=0, keepdims=False: ops.var(self, axis, keepdims, ddof),
    "std": lambda self, axis=None, ddof=0, keepdims=False: ops.std(self, axis, keepdims, ddof),
    "reshape": _reshape,
    "dimshuffle": lambda self, *order: ops.dimshuffle(self, *order),
    "flatten": lambda self, ndim=1: ops.flatten(self, ndim),
    "ravel": lambda self: ops.flatten(self),
    "copy": lambda self, name=None: _named(_tensor_basic().tensor_copy(self), name),
    "round": lambda self, mode=None: _tensor_basic().round(self, mode),
    "nonzero": lambda self, return_matrix=False: _tensor_basic().nonzero(self, return_matrix),
    "nonzero_values": lambda self: _tensor_basic().nonzero_values(self),
    "get_scalar_constant_value": lambda self: _tensor_basic().get_scalar_constant_value(self),
    "astype": lambda self, dtype: ops.cast(self, dtype),
    "real": property(elemwise_complex.real), "imag": property(elemwise_complex.imag),
    "conj": elemwise_complex.conj, "conjugate": elemwise_complex.conj,
    "dot": lambda self, other: ops.dot(self, other),
    "clip": lambda self, lo, hi: ops.clip(self, lo, hi),
    "sort": lambda self, axis=-1, kind="quicksort", order=None: along_axis.sort(self, axis, kind, order),
    "argsort": lambda self, axis=-1, kind="quicksort", order=None: along_axis.argsort(self, axis, kind, order),
    "cumsum": lambda self, axis=None: along_axis.cumsum(self, axis),
    "cumprod": lambda self, axis=None: along_axis.cumprod(self, axis),
    "searchsorted": lambda self, v, side="left", sorter=None: along_axis.searchsorted(self, v, side, sorter),
    # Theano's x.compress(a, axis): x is the condition, a the tensor whose slices are kept
    "compress": lambda self, a, axis=None: _tensor_extra_ops().compress(self, a, axis),
    "all": lambda self, axis=None, keepdims=False: extra_ops.all_(self, axis, keepdims),
    "any": lambda self, axis=None, keepdims=False: extra_ops.any_(self, axis, keepdims),
    "squeeze": lambda self, axis=None: extra_ops.squeeze(self, axis),
    "repeat": lambda self, repeats, axis=None: extra_ops.repeat(self, repeats, axis),
    "diagonal": lambda self, offset=0, axis1=0, axis2=1: extra_ops.diagonal(self, offset, axis1, axis2),
    "trace": lambda self: ops.sum_(extra_ops.diagonal(self)),
    "ptp": lambda self, axis=None, keepdims=False: ops.max_(self, axis, keepdims) - ops.min_(self, axis, keepdims),
    "norm": _norm,
    "take": _take,
    "swapaxes": _swapaxes,
    "fill": lambda self, value: ops.second(self, value),
    "zeros_like": lambda self, dtype=None: ops.zeros_like(self if dtype is None else ops.cast(self, dtype)),
    "ones_like": lambda self, dtype=None: ops.ones_like(self if dtype is None else ops.cast(self, dtype)),
    "eval": _eval,
}

COMPARISONS = ("lt", "le", "gt", "ge")


def _truth(self):
    """A comparison made with <, <=, > or >= of values held now (shared variables, constants: `if
    optimizer.iterations > 100:`) is true or false by those values, as a Keras variable's; of symbolic
    inputs it has no truth value, as in Theano (`if a < b:` would always hold).  Every other
    variable is true, so `if x:` still tests that x was given."""
    if self.tag.get("operator", (None,))[0] not in COMPARISONS:
        return True
    if all(isinstance(v, (Constant, SharedVariable)) for v in graph_inputs([self])):
        return bool(self.eval())
    raise TypeError("Variables do not support boolean operations: %s is a comparison of symbolic values; "
                    "choose with T.switch / ops.where" % (self,))


METHODS["__bool__"] = _truth
for _name, _impl in METHODS.items():
    setattr(Variable, _name, _impl)
Variable.__iter__ = None  # a symbolic tensor has no length: iterating over x[i] would never end
Variable.__array_ufunc__ = None  # numpy_array + x defers to x.__radd__ (a graph), as Theano's variables do
# Keras's tensors carry the mask of padded steps as x._keras_mask; here it is a tag (mlcore/keras_masks.py)
Variable._keras_mask = property(lambda self: self.tag.get("keras_mask"),
                                lambda self, mask: self.tag.update(keras_mask=mask))
# Keras's KerasTensor says whether it is sparse or ragged (its layers' tests check `output.sparse`); mlcore's
# tensors are always dense
Variable.sparse = Variable.ragged = property(lambda self: False)

"""keras.ops' reductions over axes (sum, mean, max, argmax, all, allclose, trace, logsumexp...)
and the products that sum over an axis (matmul, dot, tensordot), with numpy's arguments:
axis=None reduces over every axis, keepdims=True keeps reduced axes as size 1.  Their dtypes are Keras's:
sums and products of bools and small ints widen to 32 bits only (accumulated), indices are int32, and
products of two tensors promote them by result_type (int8 times int8 gives int32)."""
import numpy as np

from mlcore.dtype_promotion import INDEX_DTYPE, accumulation_dtype, result_type
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops import extra_ops
from mlcore.graph.ops import linalg
from mlcore.graph.ops import reduce as red
from mlcore.graph.basic import Variable
from mlcore.graph.ops import shape as sh
from mlcore.graph.ops.common import is_float_dtype, normalize_axis
from mlcore.graph.ops.shape import dimshuffle, flatten
from mlcore.ops.core import as_tensor
from mlcore.ops.elementwise import promoted


def accumulated(reduce, x, *args, dtype=None):
    """reduce (a graph sum or product, which widens ints to 64 bits as numpy does) of x, in dtype: by
    default the one keras.ops sums and multiplies x's dtype in (dtype_promotion.accumulation_dtype)."""
    x = as_tensor(x)
    dtype = dtype or accumulation_dtype(x.dtype)
    return ew.cast(reduce(ew.cast(x, dtype), *args), dtype)


def sum(x, axis=None, keepdims=False):  # noqa: A001
    return accumulated(red.sum_, x, axis, keepdims)


def mean(x, axis=None, keepdims=False):
    """The mean, added up in at least float32 (a float16 sum of 60000s overflows where the mean does
    not), in x's float dtype, or float32 for ints and bools, as Keras's mean."""
    x = as_tensor(x)
    compute = result_type(x.dtype, "float32")
    out = red.mean(ew.cast(x, compute), axis, keepdims)
    return out if x.dtype == compute or not is_float_dtype(x.dtype) else ew.cast(out, x.dtype)


def var(x, axis=None, keepdims=False):
    """The population variance (ddof=0), as numpy's default."""
    return red.var(as_tensor(x), axis, keepdims)


def std(x, axis=None, keepdims=False):
    return red.std(as_tensor(x), axis, keepdims)


def prod(x, axis=None, keepdims=False, dtype=None):
    return accumulated(red.prod, x, axis, keepdims, dtype=dtype)


def max(x, axis=None, keepdims=False, initial=None):  # noqa: A001
    """The largest entry; with initial (in x's dtype, as jax reads it), no less than initial, and
    initial itself over an empty axis, as numpy's."""
    x = as_tensor(x)
    return red.max_(x if initial is None else _with_initial(x, axis, initial), axis, keepdims)


def min(x, axis=None, keepdims=False, initial=None):  # noqa: A001
    x = as_tensor(x)
    return red.min_(x if initial is None else _with_initial(x, axis, initial), axis, keepdims)


def _with_initial(x, axis, initial):
    """x with one more entry, initial, at the end of each axis reduced over: its reduction is numpy's
    with `initial`, which is defined for an empty x too (a 0-d x becomes a vector of one)."""
    if x.ndim == 0:
        x, axis = dimshuffle(x, ["x"]), None
    reduced = range(x.ndim) if axis is None else normalize_axis(axis, x.ndim, "reduction")
    widths = [(0, 1) if d in reduced else (0, 0) for d in range(x.ndim)]
    if isinstance(initial, Variable):
        raise TypeError("initial must be a number (as jax.numpy takes it), not the tensor %s" % (initial,))
    return sh.pad(x, widths, np.asarray(initial).astype(x.dtype).item())


def amax(x, axis=None, keepdims=False):
    return red.max_(as_tensor(x), axis, keepdims)


def amin(x, axis=None, keepdims=False):
    return red.min_(as_tensor(x), axis, keepdims)


def ptp(x, axis=None, keepdims=False):
    """max - min: the range of the values."""
    x = as_tensor(x)
    return red.max_(x, axis, keepdims) - red.min_(x, axis, keepdims)


def argmax(x, axis=None, keepdims=False):
    """Index (int32) of the first largest entry along axis (None: into the flattened x)."""
    return ew.cast(red.argmax(as_tensor(x), axis, keepdims), INDEX_DTYPE)


def argmin(x, axis=None, keepdims=False):
    return ew.cast(red.argmin(as_tensor(x), axis, keepdims), INDEX_DTYPE)


def all(x, axis=None, keepdims=False):  # noqa: A001
    """Whether every entry is true (non-zero)."""
    return extra_ops.all_(as_tensor(x), axis, keepdims)


def any(x, axis=None, keepdims=False):  # noqa: A001
    return extra_ops.any_(as_tensor(x), axis, keepdims)


def allclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether isclose holds for every entry, as a bool scalar."""
    return extra_ops.allclose(as_tensor(x1), as_tensor(x2), rtol, atol, equal_nan)


def trace(x, offset=0, axis1=0, axis2=1):
    """The sum of the diagonal of axes axis1 and axis2."""
    return accumulated(red.sum_, extra_ops.diagonal(as_tensor(x), offset, axis1, axis2), -1)


def count_nonzero(x, axis=None):
    return ew.cast(red.sum_(ew.neq(as_tensor(x), 0), axis), INDEX_DTYPE)


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) with the largest entry taken out first, so that exp cannot overflow."""
    x = as_tensor(x)
    top = red.max_(x, axis, keepdims=True)
    out = ew.log(red.sum_(ew.exp(x - top), axis, keepdims=True)) + top
    return out if keepdims else red.sum_(out, axis)     # a sum over size-1 axes drops them


def average(x, axis=None, weights=None):
    """The weighted mean, in result_type(x, weights, float); 1-d weights run along axis, as numpy's."""
    if weights is None:
        return red.mean(as_tensor(x), axis)
    x, weights = promoted(x, weights, floating=True)
    if weights.ndim == 1 and x.ndim > 1:
        if axis is None:
            raise ValueError("average: 1-d weights for a %d-d x need an axis" % x.ndim)
        axis %= x.ndim
        weights = dimshuffle(weights, [0 if d == axis else "x" for d in range(x.ndim)])
    return red.sum_(x * weights, axis) / red.sum_(ew.second(x, weights), axis)


def _int8_products(operands):
    """operands as int32 where all are int8: Keras multiplies int8 tensors into int32 (as hardware
    int8 matmuls do); else promoted to their common dtype."""
    operands = [as_tensor(x) for x in operands]
    if {x.dtype for x in operands} == {"int8"}:
        return [ew.cast(x, "int32") for x in operands]
    return promoted(*operands)


def matmul(x1, x2):
    return linalg.matmul(*_int8_products([x1, x2]))


def dot(x1, x2):
    return linalg.dot(*promoted(x1, x2))


def tensordot(x1, x2, axes=2):
    return linalg.tensordot(*promoted(x1, x2), axes)


def outer(x1, x2):
    """Every entry of x1 (flattened) times every entry of x2."""
    x1, x2 = promoted(x1, x2)
    return linalg.outer(flatten(x1), flatten(x2))


def inner(x1, x2):
    """The sum over the last axes of x1 and x2 (a product when either is a scalar)."""
    x1, x2 = promoted(x1, x2)
    if x1.ndim == 0 or x2.ndim == 0:
        return x1 * x2
    return linalg.tensordot(x1, x2, [[-1], [-1]])


def vdot(x1, x2):
    """The dot product of x1 and x2 flattened, in their common dtype."""
    x1, x2 = promoted(x1, x2)
    return ew.cast(red.sum_(flatten(x1) * flatten(x2)), x1.dtype)


def einsum(subscripts, *operands, **kwargs):
    """numpy's einsum, with any number of operands: one pair at a time (the graph's einsum of two),
    each intermediate keeping the letters that later operands or the output still need.  As matmul,
    int8 operands give int32; the result has the operands' common dtype (the graph's sums of
    ints widen to int64)."""
    operands = _int8_products(operands)
    dtype = operands[0].dtype
    inputs, arrow, output = subscripts.replace(" ", "").partition("->")
    specs = inputs.split(",")
    if len(specs) != len(operands):
        raise ValueError("einsum: %r names %d operands, got %d" % (subscripts, len(specs), len(operands)))
    if not arrow:                           # numpy's implicit output: "...", then the letters seen once
        letters = "".join(specs).replace(".", "")
        output = ("..." if "..." in inputs else "") + "".join(sorted(c for c in set(letters)
                                                                      if letters.count(c) == 1))
    operands, specs = zip(*[_diagonals(x, spec) for x, spec in zip(operands, specs)])
    if len(operands) == 1:                  # with a scalar 1 as the second operand
        operands, specs = operands + (np.ones((), dtype),), specs + ("",)
    out, spec = operands[0], specs[0]
    for k in range(1, len(operands)):
        needed = "".join(specs[k + 1:]) + output
        joined = spec + "".join(c for c in specs[k] if c not in spec)
        step = output if k == len(operands) - 1 else "".join(c for c in joined if c in needed)
        out, spec = linalg.einsum("%s,%s->%s" % (spec, specs[k], step), out, operands[k]), step
    return ew.cast(out, dtype)


def _diagonals(x, spec):
    """x and its letters with each letter that the spec repeats ("ii") read as numpy's einsum reads it:
    the diagonal of those dims, as one dim moved last."""
    while True:
        letters = spec.replace("...", "")
        repeated = next((c for c in letters if letters.count(c) > 1), None)
        if repeated is None:
            return x, spec
        first = spec.index(repeated)
        second = spec.index(repeated, first + 1)
        axes = [i - len(spec) if "..." in spec and i > spec.index("...") else i for i in (first, second)]
        x = extra_ops.diagonal(x, 0, *axes)
        spec = spec[:first] + spec[first + 1:second] + spec[second + 1:] + repeated

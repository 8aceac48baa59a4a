"""theano.tensor.extra_ops: running sums and products, differences, repeat and squeeze, diagonal
writes, one-hot rows, flat and multi-dimensional indices, binary search, the Bartlett window and
bincount, compress and unique, written with the graph's ops (searchsorted and Unique are ops of
their own).  unique, compress and bincount without minlength give results whose length depends on
the values: the jax backend makes the inputs those depend on static, as for nonzero (see
mlcore/graph/ops/extra_ops.py).  Theano's op classes for these functions (CumOp, DiffOp,
RepeatOp, Bartlett, FillDiagonal, FillDiagonalOffset, SearchsortedOp) build the same graphs."""
import numpy as np

from mlcore import config
from mlcore.graph.basic import Variable
from mlcore.graph.ops.along_axis import cumprod, cumsum, searchsorted  # noqa: F401
from mlcore.graph.ops.common import as_tensor_variable, common_dtype, normalize_axis, with_dtype
from mlcore.graph.ops.elemwise import abs_, and_, cast, clip, eq, int_div, maximum, mod, switch
from mlcore.graph.ops.extra_ops import Unique, dims, repeat, squeeze  # noqa: F401
from mlcore.graph.ops.indexing import _inc_or_set
from mlcore.graph.ops.reduce import max_
from mlcore.graph.ops.shape import DimShuffle, arange, concatenate, zeros
from mlcore.losses.functions import one_hot
from mlcore.tensor.basic import flatnonzero, integer_dtypes
from mlcore.tensor.function_ops import FunctionOp


def diff(x, n=1, axis=-1):
    """The n-th differences x[i + 1] - x[i] along axis, as numpy's diff."""
    x = as_tensor_variable(x)
    lead = (slice(None),) * normalize_axis(axis, x.ndim, "diff")[0]
    for _ in range(n):
        x = x[lead + (slice(1, None),)] - x[lead + (slice(None, -1),)]
    return x


# --- diagonals -----------------------------------------------------------------------------------
def _positions(a):
    """Each dim's indices, laid along that dim, to broadcast against a."""
    return [DimShuffle([0 if k == d else "x" for k in range(a.ndim)])(arange(n)) for d, n in enumerate(dims(a))]


def _scalar_for(a, val, name):
    """val as a scalar of a's dtype; a value that a's dtype cannot hold is refused, as Theano does."""
    val = as_tensor_variable(val)
    if val.ndim != 0:
        raise TypeError("%s: val must be a scalar, got %s" % (name, val.type))
    if common_dtype([a, val]) != a.dtype:
        raise TypeError("%s: a %s val does not fit into a of %s" % (name, val.dtype, a.type))
    return with_dtype(val, a.dtype)


def fill_diagonal(a, val):
    """A copy of a with val at a[i, i, ..., i], as Theano's (no wrapping of tall matrices)."""
    a = as_tensor_variable(a)
    if a.ndim < 2:
        raise TypeError("fill_diagonal: a must have at least two dims, got %s" % a.type)
    first, *others = _positions(a)
    on = eq(first, others[0])
    for p in others[1:]:
        on = and_(on, eq(first, p))
    return switch(on, _scalar_for(a, val, "fill_diagonal"), a)


def fill_diagonal_offset(a, val, offset):
    """A copy of the matrix a with val at a[i, i + offset] (offset > 0: above the main diagonal)."""
    a = as_tensor_variable(a)
    if a.ndim != 2:
        raise TypeError("fill_diagonal_offset: a must be a matrix, got %s" % a.type)
    rows, cols = _positions(a)
    return switch(eq(rows + offset, cols), _scalar_for(a, val, "fill_diagonal_offset"), a)


# --- indices -------------------------------------------------------------------------------------
def to_one_hot(y, nb_class, dtype=None):
    """The matrix whose row i is the one-hot encoding of y[i], of shape (len(y), nb_class)."""
    y = as_tensor_variable(y)
    if y.ndim != 1:
        raise TypeError("to_one_hot: y must be a vector of class indices, got %s" % y.type)
    return one_hot(y, nb_class, -1, dtype or config.floatx())


def _strides_order(sizes, order, name):
    if order not in ("C", "F"):
        raise ValueError('%s: order must be "C" or "F", got %r' % (name, order))
    return list(range(len(sizes)))[::-1] if order == "C" else list(range(len(sizes)))


def _sizes(dims, name, ndim=None):
    """dims as a list of sizes: a sequence of ints and int scalars (x.shape), or an int vector, whose
    length ndim gives where its type does not.  Anything else is refused with a TypeError, as Theano."""
    if isinstance(dims, Variable):
        if dims.ndim != 1 or dims.dtype not in integer_dtypes:
            raise TypeError("%s: dims must be a vector of ints, got %s" % (name, dims.type))
        length = dims.type.shape[0] if ndim is None else ndim
        if length is None:
            raise ValueError("%s: dims %s has an unknown length: give ndim=, the number of dims" % (name, dims.type))
        return [dims[d] for d in range(length)]
    if np.ndim(dims) != 1 and not isinstance(dims, (list, tuple)):
        raise TypeError("%s: dims must be a sequence of ints, got %r" % (name, dims))
    for size in dims:
        size_type = as_tensor_variable(size).type
        if size_type.ndim != 0 or size_type.dtype not in integer_dtypes:
            raise TypeError("%s: dims must be ints, got %r in %r" % (name, size, dims))
    return list(dims)


def _int_tensor(x, name, what):
    """x as an int tensor; a float one is refused, as Theano does (it cannot be an index)."""
    x = as_tensor_variable(x)
    if x.dtype not in integer_dtypes:
        raise TypeError("%s: %s must be ints, got %s" % (name, what, x.type))
    return x


def ravel_multi_index(multi_index, dims, mode="raise", order="C"):
    """The flat indices, into an array of shape dims, of the positions multi_index (one int tensor
    per dim), as numpy's; dims may also be an int vector (its length is that of multi_index).
    mode "wrap" and "clip" bring indices into range; with "raise" an index out of range is the
    caller's error (a compiled graph cannot raise).  int64, as Theano's."""
    sizes = _sizes(dims, "ravel_multi_index", len(multi_index))
    if len(multi_index) != len(sizes):
        raise ValueError("ravel_multi_index: %d index tensors for %d dims" % (len(multi_index), len(sizes)))
    indices = [_int_tensor(i, "ravel_multi_index", "the indices") for i in multi_index]
    if mode == "wrap":
        indices = [mod(i, n) for i, n in zip(indices, sizes)]
    elif mode == "clip":
        indices = [clip(i, 0, n - 1) for i, n in zip(indices, sizes)]
    elif mode != "raise":
        raise ValueError('ravel_multi_index: mode must be "raise", "wrap" or "clip", got %r' % (mode,))
    flat, stride = 0, 1
    for d in _strides_order(sizes, order, "ravel_multi_index"):
        flat = flat + cast(indices[d], "int64") * stride
        stride = stride * sizes[d]
    return flat


def unravel_index(indices, dims, order="C", ndim=None):
    """The position in an array of shape dims of each flat index, as numpy's: a tuple of int64
    tensors, one per dim.  dims may be an int vector, of length ndim where its type does not say
    (Theano's ndim=).  An index past the array's size is the caller's error (it wraps)."""
    if ndim is not None and (isinstance(ndim, bool) or int(ndim) != ndim or ndim < 1):
        raise ValueError("unravel_index: ndim must be an int greater than 0, got %r" % (ndim,))
    sizes = _sizes(dims, "unravel_index", ndim)
    rest = cast(_int_tensor(indices, "unravel_index", "the indices"), "int64")
    out = [None] * len(sizes)
    for d in _strides_order(sizes, order, "unravel_index"):
        out[d] = mod(rest, sizes[d])
        rest = int_div(rest, sizes[d])
    return tuple(out)


# --- windows and counts --------------------------------------------------------------------------
def bartlett(M):
    """The Bartlett (triangular) window of M points as a float64 vector, as numpy's: empty for
    M <= 0, [1.] for M == 1."""
    M = as_tensor_variable(M)
    if M.ndim != 0 or M.dtype[:3] not in ("int", "uin"):
        raise TypeError("bartlett: M must be an int scalar, got %s" % M.type)
    half = (cast(M, "float64") - 1) / 2
    return 1 - abs_(cast(arange(M), "float64") - half) / switch(eq(M, 1), 1.0, half)


def bincount(x, weights=None, minlength=None, assert_nonneg=False):
    """How often each value 0, 1, ... occurs in the int vector x (the sum of the weights at its
    places, if weights are given), in x's dtype or the weights'.  Without minlength there are
    x.max() + 1 bins, as numpy's (none for an empty x), or minlength if that is more, as numpy's and
    Theano's: a number known only when the graph runs (on jax, x becomes a static input).  A
    negative value is the caller's error, as in Theano without assert_nonneg."""
    x = as_tensor_variable(x)
    if x.ndim != 1 or x.dtype[:3] not in ("int", "uin"):
        raise TypeError("bincount: x must be an int vector, got %s" % x.type)
    if assert_nonneg:
        raise NotImplementedError("bincount: assert_nonneg=True would check the values when the graph runs, "
                                  "which compiled graphs (jax) cannot do")
    counts = 1 if weights is None else as_tensor_variable(weights)
    largest = max_(concatenate([x, zeros((1,), x.dtype)]))       # 0 for an empty x
    length = (cast(largest, "int64") + 1) * cast(dims(x)[0] > 0, "int64")
    if minlength is not None:
        length = maximum(length, minlength)
    bins = zeros((length,), x.dtype if weights is None else counts.dtype)
    return _inc_or_set(bins, x, counts, False)     # not inc_subtensor(bins[x]): a constant x folds bins[x]


def compress(condition, x, axis=None):
    """The slices of x along axis (None: the entries of x flattened) where the vector condition is
    nonzero, as numpy's compress; a condition shorter than that axis leaves the rest out."""
    return as_tensor_variable(x).take(flatnonzero(condition), axis)


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None):
    """The sorted distinct values of ar (flattened, or the distinct slices along axis), as numpy's
    unique: with the flags, also the int64 positions of their first occurrences, the positions that
    rebuild ar (flattened, or along axis) from them, and their counts, in that order."""
    ar = as_tensor_variable(ar)
    if axis is not None:
        axis = normalize_axis(axis, ar.ndim, "unique")[0]
    return Unique(return_index, return_inverse, return_counts, axis)(ar)


# --- Theano's op classes -------------------------------------------------------------------------
class CumOp(FunctionOp):
    """Theano's CumOp(axis=None, mode="add"): cumsum (mode "add") or cumprod ("mul") along axis."""
    __props__ = ("axis", "mode")

    def __init__(self, axis=None, mode="add"):
        if mode not in ("add", "mul"):
            raise ValueError('CumOp: mode must be "add" or "mul", got %r' % (mode,))
        self.axis, self.mode = axis, mode

    def build(self, x):
        return (cumsum if self.mode == "add" else cumprod)(x, self.axis)


class CumsumOp(CumOp):
    """Theano's older name for CumOp(axis, "add")."""

    def __init__(self, axis=None):
        super().__init__(axis, "add")


class CumprodOp(CumOp):
    """Theano's older name for CumOp(axis, "mul")."""

    def __init__(self, axis=None):
        super().__init__(axis, "mul")


class DiffOp(FunctionOp):
    """Theano's DiffOp(n=1, axis=-1): diff."""
    __props__ = ("n", "axis")

    def __init__(self, n=1, axis=-1):
        self.n, self.axis = n, axis

    def build(self, x):
        return diff(x, self.n, self.axis)


class RepeatOp(FunctionOp):
    """Theano's RepeatOp(axis=None), called on (x, repeats): repeat."""
    __props__ = ("axis",)

    def __init__(self, axis=None):
        self.axis = axis

    def build(self, x, repeats):
        return repeat(x, repeats, self.axis)


class Bartlett(FunctionOp):
    """Theano's Bartlett(), called on M: bartlett."""

    def build(self, M):
        return bartlett(M)


class FillDiagonal(FunctionOp):
    """Theano's FillDiagonal(), called on (a, val): fill_diagonal."""

    def build(self, a, val):
        return fill_diagonal(a, val)


class FillDiagonalOffset(FunctionOp):
    """Theano's FillDiagonalOffset(), called on (a, val, offset): fill_diagonal_offset."""

    def build(self, a, val, offset):
        return fill_diagonal_offset(a, val, offset)


class SearchsortedOp(FunctionOp):
    """Theano's SearchsortedOp(side="left"), called on (x, v) or (x, v, sorter): searchsorted."""
    __props__ = ("side",)

    def __init__(self, side="left"):
        if side not in ("left", "right"):
            raise ValueError('SearchsortedOp: side must be "left" or "right", got %r' % (side,))
        self.side = side

    def build(self, x, v, sorter=None):
        return searchsorted(x, v, self.side, sorter)

"""theano.tensor.extra_ops: running sums and products, differences, repeat and squeeze, diagonal
writes, one-hot rows, flat and multi-dimensional indices, binary search, the Bartlett window and
bincount, compress and unique, written with the graph's ops (searchsorted and Unique are ops of
their own).  unique, compress and bincount without minlength give results whose length depends on
the values: the jax backend makes the inputs those depend on static, as for nonzero (see
mlcore/graph/ops/extra_ops.py)."""
from mlcore import config
from mlcore.graph.ops.along_axis import cumprod, cumsum, searchsorted  # noqa: F401
from mlcore.graph.ops.common import as_tensor_variable, common_dtype, normalize_axis, with_dtype
from mlcore.graph.ops.elemwise import abs_, and_, cast, clip, eq, int_div, mod, switch
from mlcore.graph.ops.extra_ops import Unique, as_list, dims, repeat, squeeze  # noqa: F401
from mlcore.graph.ops.indexing import _inc_or_set
from mlcore.graph.ops.reduce import max_
from mlcore.graph.ops.shape import DimShuffle, arange, concatenate, zeros
from mlcore.losses.functions import one_hot
from mlcore.tensor.basic import flatnonzero


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


def ravel_multi_index(multi_index, dims, mode="raise", order="C"):
    """The flat indices, into an array of shape dims, of the positions multi_index (one int tensor
    per dim), as numpy's.  mode "wrap" and "clip" bring indices into range; with "raise" an index
    out of range is the caller's error (a compiled graph cannot raise)."""
    sizes = as_list(dims, "ravel_multi_index")
    if len(multi_index) != len(sizes):
        raise ValueError("ravel_multi_index: %d index tensors for %d dims" % (len(multi_index), len(sizes)))
    indices = [as_tensor_variable(i) for i in multi_index]
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


def unravel_index(indices, dims, order="C"):
    """The position in an array of shape dims of each flat index, as numpy's: a tuple of int64
    tensors, one per dim.  An index past the array's size is the caller's error (it wraps)."""
    sizes = as_list(dims, "unravel_index")
    rest = cast(as_tensor_variable(indices), "int64")
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
    x.max() + 1 bins, as numpy's (none for an empty x), known only when the graph runs (on jax, x
    becomes a static input).  With minlength there are exactly minlength bins, known while
    building, and the values must be below it (the numpy backend raises on a larger one, jax drops
    it).  A negative value is the caller's error, as in Theano without assert_nonneg."""
    x = as_tensor_variable(x)
    if x.ndim != 1 or x.dtype[:3] not in ("int", "uin"):
        raise TypeError("bincount: x must be an int vector, got %s" % x.type)
    if assert_nonneg:
        raise NotImplementedError("bincount: assert_nonneg=True would check the values when the graph runs, "
                                  "which compiled graphs (jax) cannot do")
    counts = 1 if weights is None else as_tensor_variable(weights)
    if minlength is None:
        largest = max_(concatenate([x, zeros((1,), x.dtype)]))       # 0 for an empty x
        minlength = (cast(largest, "int64") + 1) * cast(dims(x)[0] > 0, "int64")
    bins = zeros((minlength,), x.dtype if weights is None else counts.dtype)
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

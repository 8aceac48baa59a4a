"""Theano's array helpers, each written with existing ops (so each has every backend's kernels and
a gradient already): eye, tri, tril, triu, identity_like, diag, diagonal, tile, repeat, squeeze,
roll; the all/any reductions, isfinite and isclose/allclose.  Nonzero and Unique, whose lengths are
the data's, are ops of their own."""
import functools

import numpy as np

from mlcore import config
from mlcore.graph.basic import Apply, Op, TensorType, Variable
from mlcore.graph.ops.common import as_tensor_variable, normalize_axis
from mlcore.graph.ops.elemwise import (abs_, and_, cast, eq, ge, le, maximum, minimum, neq, or_, switch,
                                       zeros_like)
from mlcore.graph.ops.elemwise_math import invert, isinf, isnan
from mlcore.graph.ops.reduce import max_, min_
from mlcore.graph.ops.indexing import subtensor
from mlcore.graph.ops.shape import (DimShuffle, alloc, arange, axis_or_flattened, concatenate,
                                    dimshuffle, pad, pad_left, reshape, shape, specify_shape)


def dims(x):
    """x's shape as a list: ints where the type knows them, symbolic scalars elsewhere."""
    return [n if n is not None else shape(x)[d] for d, n in enumerate(x.type.shape)]


def broadcast_dims(*shapes):
    """The shape that shapes (lists of ints and symbolic scalars, as dims gives them, aligned on the
    right) broadcast to: per dim the length other than 1, a known one where there is one, else the
    maximum of the symbolic ones, which only the run knows."""
    ndim = max([len(s) for s in shapes] + [0])
    out = []
    for sizes in zip(*[[1] * (ndim - len(s)) + list(s) for s in shapes]):
        wider = [n for n in sizes if not (isinstance(n, int) and n == 1)]
        known = [n for n in wider if isinstance(n, int)]
        out.append(known[0] if known else functools.reduce(maximum, wider) if wider else 1)
    return out


# --- matrices ------------------------------------------------------------------------------------
def _grid(n, m=None):
    """The row and the column indices of an n x m matrix (m=None: n x n), as a column and a row
    that broadcast."""
    return dimshuffle(arange(n), 0, "x"), dimshuffle(arange(n if m is None else m), "x", 0)


def eye(n, m=None, k=0, dtype=None):
    """An n x m matrix (m=None: n x n) with ones on diagonal k (k > 0 above the main one), as numpy's."""
    rows, cols = _grid(n, m)
    return cast(eq(rows + k, cols), dtype or config.floatx())


def tri(n, m=None, k=0, dtype=None):
    """An n x m matrix (m=None: n x n) with ones on and below diagonal k, as numpy's and Theano's."""
    rows, cols = _grid(n, m)
    return cast(ge(rows + k, cols), dtype or config.floatx())


def tril(m, k=0):
    """m with the elements above diagonal k of its last two dims set to zero, as numpy's tril."""
    m = as_tensor_variable(m)
    return switch(tri(*dims(m)[-2:], k=k, dtype="bool"), m, zeros_like(m))


def triu(m, k=0):
    """m with the elements below diagonal k of its last two dims set to zero, as numpy's triu."""
    m = as_tensor_variable(m)
    return switch(tri(*dims(m)[-2:], k=k - 1, dtype="bool"), zeros_like(m), m)


def identity_like(x, dtype=None):
    """The identity matrix of matrix x's shape, in x's dtype unless dtype is given."""
    x = as_tensor_variable(x)
    rows, cols = dims(x)
    return eye(rows, cols, 0, dtype or x.dtype)


def diag(v, k=0):
    """Theano's diag: a vector becomes the matrix with it on diagonal k; a matrix gives its diagonal k.
    The vector, padded so that entry i is row i's, is put on the diagonal by a switch (a write into
    a zero matrix would not do: a small constant one is folded while the graph is built)."""
    v = as_tensor_variable(v)
    if v.ndim == 1:
        (length,) = dims(v)
        size = length + abs(k)
        by_row = dimshuffle(pad(v, [(max(-k, 0), max(k, 0))]), 0, "x")
        return switch(eye(size, size, k, "bool"), by_row, np.zeros((), v.dtype))   # a 0 of v's dtype: bools stay bools
    if v.ndim == 2:
        return diagonal(v, k)
    raise ValueError("diag: the input must be a vector or a matrix, got %s" % v.type)


def diagonal(a, offset=0, axis1=0, axis2=1):
    """The elements a[..., i, i + offset] of the diagonal of dims axis1 and axis2, along a last dim
    that takes their place, as numpy's and Theano's diagonal."""
    a = as_tensor_variable(a)
    axis1, axis2 = (normalize_axis(axis, a.ndim, "diagonal")[0] for axis in (axis1, axis2))
    if axis1 == axis2:
        raise ValueError("diagonal: axis1 and axis2 cannot be the same, got both %d" % axis1)
    a = DimShuffle([d for d in range(a.ndim) if d not in (axis1, axis2)] + [axis1, axis2])(a)
    rows, cols = dims(a)[-2:]
    first_row, first_col = max(-offset, 0), max(offset, 0)
    steps = arange(maximum(minimum(rows - first_row, cols - first_col), 0))
    return a[(Ellipsis, steps + first_row, steps + first_col)]


# --- repeating -----------------------------------------------------------------------------------
def spread(x, counts, before):
    """x with dim d made counts[d] times longer (None or 1: left as it is): each copy given a new
    dim of its own beside d, before d (tile: the whole dim again and again) or after it (repeat:
    each element again and again), filled by broadcasting and then merged into d by a reshape."""
    order, target, merged = [], [], []
    for d, (size, count) in enumerate(zip(dims(x), counts)):
        if _is_one(count):
            order.append(d)
            target.append(size)
            merged.append(size)
            continue
        order += ["x", d] if before else [d, "x"]
        target += [count, size] if before else [size, count]
        merged.append(count * size)
    return reshape(alloc(DimShuffle(order)(x), *target), merged)


def _is_one(count):
    return count is None or (not isinstance(count, Variable) and int(count) == 1)


def tile(x, reps, ndim=None):
    """x repeated reps[d] times along each dim d, as numpy's and Theano's tile: reps is an int or a
    sequence of ints and symbolic scalars (a symbolic vector needs its length known); shorter reps
    or x get leading ones, and ndim, if given, is the least number of dims of the result."""
    x = as_tensor_variable(x)
    reps = as_list(reps, "tile")
    ndim = max(x.ndim, len(reps), ndim or 0)
    reps = [1] * (ndim - len(reps)) + reps
    return spread(pad_left(x, ndim), reps, before=True)


def as_list(counts, name):
    """counts (or sizes, or axes) given as an int, a symbolic scalar, a sequence or a symbolic
    vector of known length, as a list."""
    if isinstance(counts, (int, np.integer)) or isinstance(counts, Variable) and counts.ndim == 0:
        return [counts]
    if isinstance(counts, Variable):
        if counts.type.shape[0] is None:
            raise ValueError("%s: a symbolic vector of counts needs a known length; pass a list" % name)
        return [counts[d] for d in range(counts.type.shape[0])]
    return list(counts)


def repeat(x, repeats, axis=None):
    """Each element of x repeats times along axis (None: of the flattened x), as numpy's and Theano's
    repeat.  repeats is an int, a symbolic scalar, or a constant sequence of one count per element."""
    x, axis = axis_or_flattened(x, axis, "repeat")
    if isinstance(repeats, Variable):
        if repeats.ndim > 0:
            return _repeat_by_vector(x, repeats, axis)
        count = repeats
    else:
        counts = np.asarray(repeats, dtype="int64").reshape(-1)
        if counts.size > 1:          # a gather of each position as many times as its count
            length = x.type.shape[axis]
            if length is not None and length != counts.size:
                raise ValueError("repeat: %d counts for an axis of length %d" % (counts.size, length))
            if length is None:       # the gather would not see a length that differs: checked when run
                x = specify_shape(x, [counts.size if d == axis else None for d in range(x.ndim)])
            return subtensor(x, (slice(None),) * axis + (np.repeat(np.arange(counts.size), counts),))
        count = int(counts[0])
    return spread(x, [count if d == axis else None for d in range(x.ndim)], before=False)


def _repeat_by_vector(x, counts, axis):
    """x's slices along axis, slice i counts[i] times: a gather of the positions whose running
    count first passes each output position.  The result's length is the counts' sum, known only
    from their values (on jax the counts become static inputs, as nonzero's)."""
    from mlcore.graph.ops.along_axis import cumsum, searchsorted
    if counts.ndim != 1 or counts.dtype[:3] not in ("int", "uin"):
        raise TypeError("repeat: repeats must be an int scalar or an int vector, got %s" % (counts.type,))
    length = x.type.shape[axis]
    if None not in (length, counts.type.shape[0]) and length != counts.type.shape[0]:
        raise ValueError("repeat: %d counts for an axis of length %d" % (counts.type.shape[0], length))
    counts = cast(counts, "int64")
    positions = searchsorted(cumsum(counts), arange(counts.sum()), side="right")
    return subtensor(x, (slice(None),) * axis + (positions,))


# --- dropping and rotating -----------------------------------------------------------------------
def squeeze(x, axis=None):
    """x without its length-1 dims: axis=None drops those its type says are 1 (Theano's squeeze drops
    the broadcastable dims); axes named by axis are dropped whatever the type knows (they must be 1)."""
    x = as_tensor_variable(x)
    if axis is None:
        return DimShuffle([d for d, n in enumerate(x.type.shape) if n != 1])(x)
    dropped = normalize_axis(axis, x.ndim, "squeeze")
    for d in dropped:
        if x.type.shape[d] not in (None, 1):
            raise ValueError("Cannot squeeze axis %d, because the dimension is not 1 (in %s it has length %d, "
                             "not 1)" % (d, x.type, x.type.shape[d]))
    kept = [d for d in range(x.ndim) if d not in dropped]
    if all(x.type.shape[d] == 1 for d in dropped):
        return DimShuffle(kept)(x)
    sizes = dims(x)
    return reshape(x, [sizes[d] for d in kept], ndim=len(kept))


def roll(x, shift, axis=None):
    """x's elements moved shift places along axis (None: of the flattened x, the shape kept), the
    ones pushed off the end coming back at the start, as numpy's and Theano's roll.  axis may be a
    tuple, with one shift for all its axes or one each."""
    x = as_tensor_variable(x)
    if axis is None:
        flat, _ = axis_or_flattened(x, None)
        return reshape(roll(flat, shift, 0), dims(x), ndim=x.ndim)
    if isinstance(axis, (tuple, list)):
        shifts = shift if isinstance(shift, (tuple, list)) else [shift] * len(axis)
        for one_shift, one_axis in zip(shifts, axis):
            x = roll(x, one_shift, one_axis)
        return x
    axis = normalize_axis(axis, x.ndim, "roll")[0]
    length = dims(x)[axis]
    if isinstance(length, int) and (length == 0 or isinstance(shift, int) and shift % length == 0):
        return x
    cut = length - shift % length          # where the tail that moves to the front starts
    lead = (slice(None),) * axis
    return concatenate([subtensor(x, lead + (slice(cut, None),)), subtensor(x, lead + (slice(None, cut),))], axis)


# --- positions -----------------------------------------------------------------------------------
class Nonzero(Op):
    """The positions of a's nonzero entries as an int64 matrix, one row per dim of a and one
    column per entry, in C order (Theano's Nonzero: numpy's nonzero stacked).  How many there
    are is known only from the values: the jax backend makes the graph inputs a depends on static
    arguments of its jit, which retraces for each new value."""
    __props__ = ()

    def make_node(self, a):
        a = as_tensor_variable(a)
        if a.ndim == 0:
            raise ValueError("nonzero: a must have at least one dim, got the scalar %s" % (a,))
        return Apply(self, [a], [TensorType("int64", (a.ndim, None))])

    def pullback(self, inputs, outputs, output_grads):
        return [None]     # integer positions: no gradient, as Theano's


class Unique(Op):
    """numpy.unique as an op (Theano's Unique): the sorted distinct values of x flattened, or with
    axis the distinct slices along it, then as asked the int64 positions of their first
    occurrences, the positions in the result that rebuild the input (flattened, or along axis)
    and how often each occurs.  Their length is known only from the values, as Nonzero's."""
    __props__ = ("return_index", "return_inverse", "return_counts", "axis")

    def __init__(self, return_index=False, return_inverse=False, return_counts=False, axis=None):
        self.return_index, self.return_inverse = bool(return_index), bool(return_inverse)
        self.return_counts, self.axis = bool(return_counts), axis

    def make_node(self, x):
        x = as_tensor_variable(x)
        if self.axis is None:
            values = TensorType(x.dtype, (None,))
        else:
            axis = normalize_axis(self.axis, x.ndim, "unique")[0]
            values = TensorType(x.dtype, tuple(None if d == axis else n for d, n in enumerate(x.type.shape)))
        flags = (self.return_index, self.return_inverse, self.return_counts)
        return Apply(self, [x], [values] + [TensorType("int64", (None,)) for flag in flags if flag])

    def pullback(self, inputs, outputs, output_grads):
        if output_grads[0] is None:
            return [None]     # only the int outputs are used
        raise NotImplementedError("unique: the values picked out have no gradient in mlcore (nor in Theano); "
                                  "take x[index] with return_index=True to differentiate them")


# --- truth ---------------------------------------------------------------------------------------
def isfinite(x):
    """Whether each element is neither NaN nor infinite (ints always are), as numpy's isfinite."""
    x = as_tensor_variable(x)
    return invert(or_(isnan(x), isinf(x)))


def _truth(x):
    x = as_tensor_variable(x)
    return x if x.dtype == "bool" else neq(x, 0)


def all_(x, axis=None, keepdims=False):
    """Whether every element along axis (None: all) is true (nonzero), as a bool tensor."""
    return min_(_truth(x), axis, keepdims)


def any_(x, axis=None, keepdims=False):
    """Whether some element along axis (None: all) is true (nonzero), as a bool tensor."""
    return max_(_truth(x), axis, keepdims)


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise |a - b| <= atol + rtol * |b|, as numpy's isclose: infinities are close to
    themselves only, NaN to nothing (unless equal_nan, to NaN)."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    finite = and_(isfinite(a), isfinite(b))
    a_finite, b_finite = switch(finite, a, 0), switch(finite, b, 0)   # no inf - inf, and no warning of it
    close = switch(finite, le(abs_(a_finite - b_finite), atol + rtol * abs_(b_finite)), eq(a, b))
    return or_(close, and_(isnan(a), isnan(b))) if equal_nan else close


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether isclose holds for every element, as a bool scalar."""
    return all_(isclose(a, b, rtol, atol, equal_nan))

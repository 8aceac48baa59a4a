"""keras.ops that count or find entries: membership (isin), counts per value (bincount) and per
bin (histogram), partial order (argpartition), distinct values (unique) and where entries are
nonzero (nonzero).

unique and nonzero give as many entries as the data hold.  On values they run at once with numpy;
in a graph unique needs size= (as under jax.jit: the first `size` distinct values, fill_value
after them) and nonzero, to which Keras gives no size, is refused.  bincount's length is
max(x) + 1 (at least minlength), a shape the numpy and theano backends take from the run."""
import numpy as np

from mlcore import config
from mlcore.dtype_promotion import INDEX_DTYPE, result_type

from mlcore.graph.basic import Constant
from mlcore.graph.ops import along_axis
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops import reduce as red
from mlcore.graph.ops import shape as sh
from mlcore.graph.ops.extra_ops import any_, dims
from mlcore.graph.ops.indexing import inc_subtensor, set_subtensor
from mlcore.ops.arrays import linspace, ravel, reshape
from mlcore.ops.core import as_tensor, shape
from mlcore.ops.eager import _has_symbolic_input


def _last(x):
    """x with a new last axis of size 1, to compare each entry with a vector."""
    return sh.dimshuffle(x, list(range(x.ndim)) + ["x"])


def _counts(slots, length, weights=None):
    """How many entries of the int tensor `slots` hold each of 0..length-1 (the sum of their
    weights, where given), summed over slots' last axis; other slots count nowhere.  As int32, or
    in result_type(slots, weights) (Keras's bincount)."""
    hits = ew.eq(_last(slots), sh.arange(length))
    if weights is None:
        return ew.cast(red.sum_(hits, -2), INDEX_DTYPE)
    weights = as_tensor(weights)
    summed = red.sum_(ew.switch(hits, _last(weights), ew.zeros_like(_last(weights))), -2)
    return ew.cast(summed, result_type(slots.dtype, weights.dtype))


def isin(x1, x2, assume_unique=False, invert=False):
    """Whether each entry of x1 is among the entries of x2 (not among them where invert)."""
    found = any_(ew.eq(_last(as_tensor(x1)), ravel(x2)), -1)
    return ew.eq(found, False) if invert else found


def bincount(x, weights=None, minlength=0, sparse=False):
    """How often each of 0, 1, ..., max(x) occurs in the non-negative ints x (the sum of their
    weights, where given), at least minlength counts; a matrix x counts each row."""
    if sparse:
        raise ValueError("bincount: mlcore tensors are dense; sparse=True is not supported")
    x = as_tensor(x)
    if x.ndim not in (1, 2) or np.dtype(x.dtype).kind not in "iu":
        raise ValueError("bincount: x must be a vector or matrix of non-negative ints; received %s" % (x.type,))
    length = ew.maximum(red.max_(x) + 1, minlength) if x.ndim else minlength
    return _counts(x, length, weights)


def histogram(x, bins=10, range=None):  # noqa: A002
    """(counts, edges): how many entries of the vector x fall in each of `bins` equal bins from
    range's low to its high end (x's min and max by default), the last bin closed; the counts are
    floats, as jax.numpy gives them."""
    _check_histogram_arguments(bins, range)
    x = as_tensor(x)
    if x.ndim != 1:
        raise ValueError("Input tensor must be 1-dimensional. Received: input.shape=%s" % (x.type.shape,))
    if range is None:
        low, high = red.min_(x), red.max_(x)
        low, high = ew.switch(ew.eq(low, high), low - 0.5, low), ew.switch(ew.eq(low, high), high + 0.5, high)
    else:
        low, high = (as_tensor(end) for end in range)
    dtype = x.dtype if x.dtype.startswith("float") else config.floatx()
    low, high = ew.cast(low, dtype), ew.cast(high, dtype)
    edges = sh.concatenate([linspace(low, high, bins, endpoint=False, dtype=dtype), sh.dimshuffle(high, ["x"])], 0)
    slot = along_axis.searchsorted(edges, x, "right") - 1
    slot = ew.switch(ew.eq(x, high), bins - 1, slot)      # the last bin holds its right edge
    return ew.cast(_counts(slot, bins), dtype), edges


def _check_histogram_arguments(bins, range):  # noqa: A002
    """Keras's checks of histogram's arguments, in its words."""
    if not isinstance(bins, (int, np.integer)) or isinstance(bins, bool):
        raise TypeError("Argument `bins` must be of type `int`. Received: bins=%s" % (bins,))
    if bins < 0:
        raise ValueError("Argument `bins` should be a non-negative integer. Received: bins=%s" % (bins,))
    if range is not None:
        if not isinstance(range, (tuple, list)) or len(range) != 2:
            raise ValueError("Argument `range` must be a tuple of two elements. Received: range=%s" % (range,))
        if range[1] < range[0]:
            raise ValueError("The second element of `range` must be greater than the first. Received: range=%s"
                             % (range,))


def argpartition(x, kth, axis=-1):
    """Indices that put x's kth-smallest entry along axis in place kth, the smaller ones before it
    and the others after (here a stable argsort, the order partitioning leaves free).  kth is one
    integer, as Keras's Argpartition and jax take it."""
    if not isinstance(kth, (int, np.integer)):
        raise ValueError("kth must be an integer. Received:kth = %s" % (kth,))
    x = as_tensor(x)
    if axis is None:
        x, axis = ravel(x), 0
    return ew.cast(along_axis.argsort(x, axis), INDEX_DTYPE)


def _value(x):
    return x.data if isinstance(x, Constant) else np.asarray(x)


def _padded(values, size, fill):
    """values cut or padded to `size` entries along axis 0 with fill."""
    if size is None:
        return values
    values = values[:size]
    pad = np.full((size - len(values),) + values.shape[1:], fill, values.dtype)
    return np.concatenate([values, pad])


def unique(x, sorted=True, return_index=False, return_inverse=False, return_counts=False,  # noqa: A002
           axis=None, size=None, fill_value=None):
    """x's distinct values, in increasing order (and, where asked, the index of each one's first
    occurrence, where each entry of x is among them, and how often each occurs).  size: exactly
    that many, the first ones, fill_value after them (x's smallest value by default; as jax, the
    index of the first distinct value and a count of 0 there)."""
    extras = (return_index, return_inverse, return_counts)
    if not _has_symbolic_input([x]):
        x = _value(x)
        found = np.unique(x, True, True, True, axis=axis, equal_nan=False)     # each NaN its own, as Keras
        fill = found[0].min(initial=0) if fill_value is None and found[0].size else (fill_value or 0)
        pads = {1: found[1][:1], 3: 0}      # past the distinct values, jax repeats the first one's index
        out = [_padded(found[0], size, fill)] + [
            found[k] if k == 2 else _padded(found[k], size, pads[k]) for k in (1, 2, 3) if extras[k - 1]]
        return out[0] if len(out) == 1 else tuple(out)
    if size is None:
        raise ValueError("unique: in a graph the number of distinct values is known only when it runs; "
                         "pass size= (the output's length, as under jax.jit) or call unique on values")
    if axis is not None:
        raise ValueError("unique: in a graph only axis=None is supported; received axis=%r" % (axis,))
    return _unique_of_size(as_tensor(x), size, fill_value, extras)


def _unique_of_size(x, size, fill_value, extras):
    """unique of the flattened x as a graph: the sorted entries, a slot per distinct value (its rank
    among them; slot `size` collects those past the first size values and is cut off)."""
    flat = ravel(x)
    order = along_axis.argsort(flat, 0)
    ordered = flat[order]
    first = sh.concatenate([ew.ones_like(ordered[:1]) > 0, ew.neq(ordered[1:], ordered[:-1])], 0)
    rank = along_axis.cumsum(ew.cast(first, "int64"), 0) - 1
    slot = ew.switch(ew.and_(first, ew.lt(rank, size)), rank, size)
    fill = red.min_(flat) if fill_value is None else fill_value
    out = [set_subtensor(sh.alloc(ew.cast(as_tensor(fill), x.dtype), size + 1)[slot], ordered)[:size]]
    if extras[0]:
        out.append(set_subtensor(sh.alloc(order[0], size + 1)[slot], order)[:size])
    if extras[1]:
        out.append(reshape(set_subtensor(sh.zeros([dims(flat)[0]], "int64")[order], rank), shape(x)))
    if extras[2]:
        capped = ew.switch(ew.lt(rank, size), rank, size)
        out.append(inc_subtensor(sh.zeros([size + 1], "int64")[capped], 1)[:size])
    return out[0] if len(out) == 1 else tuple(out)


def nonzero(x):
    """The indices of x's nonzero entries, one array per axis.  On values only: how many there are
    is data, and Keras's nonzero has no size to fix it in a graph."""
    if _has_symbolic_input([x]):
        raise ValueError("nonzero: the number of nonzero entries is known only when the graph runs, so "
                         "nonzero works on values only; in a graph use where(x != 0, ...) or "
                         "unique(..., size=)")
    return tuple(indices.astype(INDEX_DTYPE) for indices in np.nonzero(_value(x)))

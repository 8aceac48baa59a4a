"""keras.ops that work with indices: where values fall among sorted ones (searchsorted, digitize),
flat indices as coordinates (unravel_index), picking among choices (select), reading and writing a
block or scattered entries (slice, slice_update, scatter, scatter_update), the k largest entries
(top_k, in_top_k) and sums, products, maxima and minima over segments of rows (segment_sum,
segment_prod, segment_max, segment_min)."""
import builtins

import numpy as np

from mlcore.graph.basic import Variable
from mlcore.graph.ops import along_axis
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops import reduce as red
from mlcore.graph.ops import shape as sh
from mlcore.graph.ops.common import is_float_dtype
from mlcore.graph.ops.extra_ops import dims
from mlcore.graph.ops.indexing import inc_subtensor, set_subtensor, subtensor
from mlcore.graph.ops.scatter import REDUCTIONS, scatter_reduce
from mlcore.ops.along_axis import take_along_axis
from mlcore.ops.core import as_tensor


def searchsorted(sorted_sequence, values, side="left"):
    """Where each of values would go in the sorted vector sorted_sequence to keep it sorted:
    before equal entries (side "left") or after them ("right")."""
    sorted_sequence = as_tensor(sorted_sequence)
    if sorted_sequence.ndim != 1:
        raise ValueError("searchsorted only supports 1-D sorted sequences; received sorted_sequence of "
                         "shape %s" % (sorted_sequence.type.shape,))
    length = sorted_sequence.type.shape[0]     # int32 where that holds every index, as Keras's tensorflow
    dtype = "int32" if length is not None and length <= np.iinfo("int32").max else "int64"    # backend
    return ew.cast(along_axis.searchsorted(sorted_sequence, as_tensor(values), side), dtype)


def digitize(x, bins):
    """The index of the bin each entry of x falls in, bins[i-1] <= x < bins[i] (increasing bins), as
    int32 (Keras's dtype)."""
    return ew.cast(searchsorted(bins, x, side="right"), "int32")


def unravel_index(indices, shape):
    """Flat indices into an array of `shape` as a tuple of coordinate arrays, one per axis."""
    rest = as_tensor(indices)
    coordinates = []
    for size in reversed(list(shape)):
        coordinates.append(ew.mod(rest, size))
        rest = ew.int_div(rest, size)
    return tuple(reversed(coordinates))


def select(condlist, choicelist, default=0):
    """The entry of the first choice whose condition holds, else default, elementwise."""
    if len(condlist) != len(choicelist):
        raise ValueError("select: condlist and choicelist must have the same length, got %d and %d"
                         % (len(condlist), len(choicelist)))
    if not condlist:
        raise ValueError("select: condlist must not be empty")
    out = as_tensor(default)
    for condition, choice in reversed(list(zip(condlist, choicelist))):
        out = ew.switch(ew.cast(as_tensor(condition), "bool"), as_tensor(choice), out)
    return out


def _as_index(x):
    """x as an integer tensor of indices: a float one (a KerasTensor's default dtype, which Keras's
    symbolic ops accept as indices) is cast to int64."""
    x = as_tensor(x)
    return ew.cast(x, "int64") if is_float_dtype(x.dtype) else x


def _starts(start_indices, name):
    """start_indices as a list of one start per axis: a tuple or list of ints or scalar tensors, or
    a vector (a numpy array, a graph tensor of known length)."""
    if isinstance(start_indices, np.ndarray):
        return list(start_indices)
    if not isinstance(start_indices, Variable):
        return list(start_indices)
    if start_indices.ndim != 1 or start_indices.type.shape[0] is None:
        raise ValueError("%s: `start_indices` must be a vector of known length, one start per axis; got %s"
                         % (name, start_indices.type))
    starts = _as_index(start_indices)
    return [starts[k] for k in range(start_indices.type.shape[0])]


def _block(x, start_indices, shape, name):
    """The key of the block of `shape` (a -1: the rest of the axis) at start_indices, the starts
    moved back where the block would run past the end (as jax's dynamic_slice)."""
    starts = _starts(start_indices, name)
    for entries, first, second in ((shape, "`inputs`", "`shape`"), (starts, "`start_indices`", "`inputs`")):
        if len(entries) != x.ndim:     # the bracket: Keras's words
            raise ValueError("%s: start_indices and shape need one entry per axis of the %d-d inputs, got %s and %s "
                             "(the number of dimensions in %s must match the number of dimensions in %s)"
                             % (name, x.ndim, list(starts), list(shape), first, second))
    key = []
    for start, size, length in zip(starts, shape, dims(x)):
        size = length - start if size == -1 else size
        if isinstance(start, (int, np.integer)) and isinstance(length, int):
            start = builtins.max(0, builtins.min(int(start), length - size))
        else:
            start = ew.maximum(0, ew.minimum(_as_index(start), length - size))
        key.append(builtins.slice(start, start + size))
    return tuple(key)


def slice(inputs, start_indices, shape):  # noqa: A001
    """The block of `shape` that starts at start_indices."""
    inputs = as_tensor(inputs)
    block = subtensor(inputs, _block(inputs, start_indices, shape, "slice"))
    known = [None if isinstance(size, Variable) or size == -1 else int(size) for size in shape]
    return sh.specify_shape(block, known)   # a symbolic start leaves the block's length to the run


def slice_update(inputs, start_indices, updates):
    """inputs with the block at start_indices replaced by updates."""
    inputs, updates = as_tensor(inputs), as_tensor(updates)
    key = _block(inputs, start_indices, dims(updates), "slice_update")
    return set_subtensor(subtensor(inputs, key), updates)


def _entries(target, indices):
    """target at the (N, k) integer indices: N entries (or slices, if k < target.ndim)."""
    indices = _as_index(indices)
    if indices.ndim != 2 or indices.type.shape[1] is None or indices.type.shape[1] > target.ndim:
        raise ValueError("scatter: indices must be a matrix with one row per entry and at most %d columns, "
                         "got shape %s" % (target.ndim, indices.type.shape))
    return subtensor(target, tuple(indices[:, k] for k in range(indices.type.shape[1])))


def scatter(indices, values, shape):
    """Zeros of `shape` with values added at indices (entries given twice add up)."""
    values = as_tensor(values)
    return inc_subtensor(_entries(sh.zeros(list(shape), values.dtype), indices), values)


def scatter_update(inputs, indices, updates, reduction=None):
    """inputs with the entries at indices set to updates or, by reduction ("add", "max", "min" or "mul", in
    any case, as Keras), combined with them: every update to an entry given twice takes part."""
    reduction = None if reduction is None else str(reduction).lower()
    if reduction not in (None, "add") + REDUCTIONS:
        raise ValueError("scatter_update: invalid reduction %r; supported values are None, 'add', 'max', 'min' "
                         "and 'mul'" % (reduction,))
    inputs, indices, updates = as_tensor(inputs), _as_index(indices), as_tensor(updates)
    target = _entries(inputs, indices)
    if reduction in (None, "add"):
        return (set_subtensor if reduction is None else inc_subtensor)(target, updates)
    updates = sh.alloc(updates, *dims(target))     # broadcast to the entries, as jax's .at[] does
    return scatter_reduce(inputs, indices, updates, reduction)


def top_k(x, k, sorted=True):  # noqa: A002
    """(values, indices) of the k largest entries along the last axis, largest first (of equal
    ones, the first; NaNs first, as lax.top_k); sorted=False allows any order, and gets this one."""
    x = as_tensor(x)
    if x.type.shape[-1] is not None and not 0 < k <= x.type.shape[-1]:
        raise ValueError("top_k: k=%d is out of range for x of shape %s" % (k, x.type.shape))
    indices = along_axis.argsort_descending(x, -1)[..., :k]
    return take_along_axis(x, indices, -1), indices


def in_top_k(targets, predictions, k):
    """Whether each sample's target class is among its k highest predictions (ties count for the
    target; a NaN prediction for it counts as the lowest)."""
    targets, predictions = _as_index(targets), as_tensor(predictions)
    at_target = take_along_axis(predictions, sh.dimshuffle(targets, 0, "x"), -1)
    at_target = ew.switch(ew.neq(at_target, at_target), -np.inf, at_target)
    return ew.le(1 + red.sum_(ew.gt(predictions, at_target), -1), k)


def _by_segment(data, segment_ids, num_segments, name, other):
    """data's rows laid out by segment, (num_segments, rows, ...), `other` where a row is not in
    that segment: a reduction over axis 1 then reduces each segment.  Rows whose id is outside
    [0, num_segments) (-1, say) are in none."""
    if num_segments is None:
        raise ValueError("Argument `num_segments` must be set for %s: the number of segments is the "
                         "output's size. Received: num_segments=None" % name)
    data, segment_ids = as_tensor(data), _as_index(segment_ids)
    member = ew.eq(sh.dimshuffle(sh.arange(num_segments), 0, "x"), sh.dimshuffle(segment_ids, "x", 0))
    rows = sh.dimshuffle(data, ["x"] + list(range(data.ndim)))
    return ew.switch(sh.dimshuffle(member, [0, 1] + ["x"] * (data.ndim - 1)), rows, other)


def segment_sum(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """The sum of the rows of data in each segment (0 for an empty one)."""
    return red.sum_(_by_segment(data, segment_ids, num_segments, "segment_sum", 0), 1)


def segment_max(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """The largest of the rows of data in each segment (the dtype's lowest value for an empty one)."""
    dtype = as_tensor(data).dtype
    lowest = -np.inf if dtype.startswith("float") else np.iinfo(dtype).min
    return red.max_(_by_segment(data, segment_ids, num_segments, "segment_max", lowest), 1)


def segment_min(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """The smallest of the rows of data in each segment (the dtype's highest value for an empty one)."""
    dtype = as_tensor(data).dtype
    highest = np.inf if dtype.startswith("float") else np.iinfo(dtype).max
    return red.min_(_by_segment(data, segment_ids, num_segments, "segment_min", highest), 1)


def segment_prod(data, segment_ids, num_segments=None, sorted=False):  # noqa: A002
    """The product of the rows of data in each segment (1 for an empty one)."""
    return red.prod(_by_segment(data, segment_ids, num_segments, "segment_prod", 1), 1)

"""keras.ops that run along one axis and keep its length: running sums and products, sorting,
and reading entries at indices along an axis (take_along_axis).  The graph's ops (Theano's
cumsum, cumprod, sort, argsort) do the work; this module gives them Keras's arguments."""
from mlcore.dtype_promotion import INDEX_DTYPE
from mlcore.graph.ops import along_axis
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.common import normalize_axis
from mlcore.graph.ops.extra_ops import dims
from mlcore.graph.ops.indexing import subtensor
from mlcore.graph.ops.shape import flatten
from mlcore.ops.core import as_tensor


def _running(graph_op, x, axis, dtype):
    """graph_op along axis, computed in dtype and giving dtype: by default x's own, int32 for bools
    (Keras's and jax's rule; the graph's, numpy's, widens small ints to 64 bits)."""
    x = as_tensor(x)
    dtype = dtype or ("int32" if x.dtype == "bool" else x.dtype)
    return ew.cast(graph_op(ew.cast(x, dtype), axis), dtype)


def cumsum(x, axis=None, dtype=None):
    """The running sum along axis (None: of x flattened)."""
    return _running(along_axis.cumsum, x, axis, dtype)


def cumprod(x, axis=None, dtype=None):
    """The running product along axis (None: of x flattened)."""
    return _running(along_axis.cumprod, x, axis, dtype)


def sort(x, axis=-1):
    """x's values in ascending order along axis (None: of x flattened), NaNs last."""
    return along_axis.sort(as_tensor(x), axis)


def argsort(x, axis=-1):
    """The indices (int32) that sort x along axis (None: of x flattened); equal values keep their
    order.  A scalar is sorted as a vector of one entry, as Keras does."""
    x = as_tensor(x)
    return ew.cast(along_axis.argsort(x, None if x.ndim == 0 else axis), INDEX_DTYPE)


def take_along_axis(x, indices, axis=None):
    """x's entries at `indices` along axis (None: of x and indices flattened), each other axis read
    at its own position, as numpy's take_along_axis: indices has x's number of axes, and a length-1
    axis of it broadcasts to x's length."""
    x, indices = as_tensor(x), as_tensor(indices)
    if axis is None:
        x, indices, axis = flatten(x), flatten(indices), 0
    if indices.ndim != x.ndim:
        raise ValueError("take_along_axis: indices need x's %d axes, got %s" % (x.ndim, indices.type))
    axis = normalize_axis(axis, x.ndim, "take_along_axis")[0]
    return subtensor(x, along_axis.along_axis_key(indices, axis, dims(x)))

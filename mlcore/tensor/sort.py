"""theano.tensor.sort: sort and argsort (the graph's Sort and Argsort, a stable sort) and Theano
1.0's top-k: topk, argtopk and topk_and_argtopk give the kth largest entries along an axis, or
the -kth smallest for a negative kth.

The top k are read from a stable argsort, so the values' gradient is that of reading entries by
index: the output gradient scattered back to where the values were.  Theano left the order of
its top k unspecified (sorted=True was not implemented); here they always come sorted, the
largest first for kth > 0, the smallest first for kth < 0, equal values in index order."""
import numbers

from mlcore.graph.ops.along_axis import along_axis_key, argsort, argsort_descending, sort  # noqa: F401
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.elemwise import abs_, cast, gt, switch
from mlcore.graph.ops.shape import flatten
from mlcore.tensor.basic import integer_dtypes


def _axis(x, axis):
    """x (flattened for axis None) and the axis as a non-negative int, checked as Theano checks it."""
    x = as_tensor_variable(x)
    if axis is None:
        return flatten(x), 0
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError('"axis" parameter must be integer, got "%s"' % type(axis))
    if x.ndim == 0:
        raise ValueError("topk: cannot take a scalar as input")
    if not -x.ndim <= axis < x.ndim:
        raise IndexError('"axis" parameter out of range, expected integer within [%d, %d]' % (-x.ndim, x.ndim - 1))
    return x, int(axis) % x.ndim


def _top_indices(x, kth, axis):
    """The positions along axis of the kth largest entries (largest first) or -kth smallest."""
    if isinstance(kth, numbers.Integral):
        if kth == 0:
            raise ValueError("topk: kth cannot be zero")
        size = x.type.shape[axis]
        if size is not None and abs(kth) > size:
            raise ValueError("topk: kth cannot be larger than the size of specified axis %d" % axis)
        order, count = (argsort_descending(x, axis), kth) if kth > 0 else (argsort(x, axis), -kth)
    else:
        kth = as_tensor_variable(kth)
        if kth.ndim != 0 or kth.dtype not in integer_dtypes:
            raise ValueError("topk: kth must be an integer scalar, got %s" % (kth.type,))
        order, count = switch(gt(kth, 0), argsort_descending(x, axis), argsort(x, axis)), abs_(kth)
    return order[(slice(None),) * axis + (slice(None, count),)]


def topk_and_argtopk(x, kth, axis=-1, sorted=True, idx_dtype="int64"):  # noqa: A002
    """(values, indices) of the kth largest entries of x along axis (the -kth smallest for a
    negative kth; axis None: of the flattened x); kth an int or an integer scalar variable.
    sorted=False allows any order, and gets the sorted one."""
    if idx_dtype not in integer_dtypes:
        raise TypeError('"idx_dtype" parameter must be an integer dtype, got "%s"' % (idx_dtype,))
    x, axis = _axis(x, axis)
    indices = _top_indices(x, kth, axis)
    return x[along_axis_key(indices, axis)], cast(indices, idx_dtype)


def topk(x, kth, axis=-1, sorted=True, idx_dtype="int64"):  # noqa: A002
    """The kth largest entries of x along axis (the -kth smallest for a negative kth)."""
    return topk_and_argtopk(x, kth, axis, sorted, idx_dtype)[0]


def argtopk(x, kth, axis=-1, sorted=True, idx_dtype="int64"):  # noqa: A002
    """The positions of the kth largest entries of x along axis (the -kth smallest for a negative
    kth), in idx_dtype."""
    return topk_and_argtopk(x, kth, axis, sorted, idx_dtype)[1]

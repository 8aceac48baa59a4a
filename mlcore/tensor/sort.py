"""theano.tensor.sort: sort and argsort (the graph's Sort and Argsort, a stable sort) and Theano
1.0's top-k: topk, argtopk and topk_and_argtopk give the kth largest entries along an axis, or
the -kth smallest for a negative kth.

The top k are read from a stable argsort, so the values' gradient is that of reading entries by
index: the output gradient scattered back to where the values were.  Theano left the order of
its top k unspecified (sorted=True was not implemented); here they always come sorted, the
largest first for kth > 0, the smallest first for kth < 0, equal values in index order.

sort and argsort also take Theano's symbolic axis (SortOp's second input); Theano's op classes
SortOp, ArgSortOp and TopKOp build the same graphs as the functions."""
import numbers

from mlcore.graph.ops import along_axis
from mlcore.graph.basic import Constant, Variable
from mlcore.graph.ops.along_axis import along_axis_key, argsort_descending
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.elemwise import abs_, cast, eq, gt, mod, switch
from mlcore.graph.ops.shape import flatten
from mlcore.tensor.basic import integer_dtypes
from mlcore.tensor.function_ops import FunctionOp


def _along(fn, a, axis, name):
    """fn(a, axis) for an int axis or None, or for a symbolic int scalar axis as Theano's sort
    takes one: that picks among fn along each axis (all of them computed; give an int to sort
    once)."""
    if not isinstance(axis, Variable):
        return fn(a, axis)
    if isinstance(axis, Constant):
        return fn(a, int(axis.data))
    a = as_tensor_variable(a)
    if axis.ndim != 0:
        raise TypeError("%s: axis must be an int, None or a scalar, got %s" % (name, axis.type))
    if a.ndim == 0:
        raise ValueError("%s: cannot sort a scalar, got %s" % (name, a.type))
    axis = mod(cast(axis, "int64"), a.ndim)
    out = fn(a, a.ndim - 1)
    for d in range(a.ndim - 1):
        out = switch(eq(axis, d), fn(a, d), out)
    return out


def sort(a, axis=-1, kind="quicksort", order=None):
    """a sorted along axis (None: flattened; a symbolic scalar: Theano's), as Theano's T.sort;
    kind= does not change the result."""
    return _along(lambda a, axis: along_axis.sort(a, axis, kind, order), a, axis, "sort")


def argsort(a, axis=-1, kind="quicksort", order=None):
    """The int64 indices that sort a along axis (None: flattened; a symbolic scalar: Theano's), by
    a stable sort whatever kind= says."""
    return _along(lambda a, axis: along_axis.argsort(a, axis, kind, order), a, axis, "argsort")


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


# --- Theano's op classes -------------------------------------------------------------------------
class SortOp(FunctionOp):
    """Theano's SortOp(kind, order=None), called on (a, axis=-1): sort."""
    __props__ = ("kind", "order")

    def __init__(self, kind="quicksort", order=None):
        self.kind, self.order = kind, None if not order else tuple(order)

    def build(self, a, axis=-1):
        return sort(a, axis, self.kind, self.order)


class ArgSortOp(SortOp):
    """Theano's ArgSortOp(kind, order=None), called on (a, axis=-1): argsort."""

    def build(self, a, axis=-1):
        return argsort(a, axis, self.kind, self.order)


class TopKOp(FunctionOp):
    """Theano's TopKOp(axis=-1, sorted=True, idx_dtype="int64", return_values=True,
    return_indices=True), called on (x, kth): the values and/or the indices of topk_and_argtopk."""
    __props__ = ("axis", "sorted", "idx_dtype", "return_values", "return_indices")

    def __init__(self, axis=-1, sorted=True, idx_dtype="int64", return_values=True,  # noqa: A002
                 return_indices=True):
        if not (return_values or return_indices):
            raise ValueError("TopKOp: return_values and return_indices cannot both be False")
        self.axis, self.sorted, self.idx_dtype = axis, sorted, idx_dtype
        self.return_values, self.return_indices = return_values, return_indices

    def build(self, x, kth):
        values, indices = topk_and_argtopk(x, kth, self.axis, self.sorted, self.idx_dtype)
        wanted = [out for out, flag in ((values, self.return_values), (indices, self.return_indices)) if flag]
        return wanted[0] if len(wanted) == 1 else wanted

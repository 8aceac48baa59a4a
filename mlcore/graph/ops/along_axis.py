"""Ops along one axis of a tensor: running sums and products (Theano's extra_ops.cumsum and
cumprod), sorting (theano.tensor.sort's sort and argsort) and binary search in a sorted vector
(extra_ops.searchsorted)."""
from mlcore.graph.basic import Apply, Op, TensorType
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.elemwise import zeros_like
from mlcore.graph.ops.reduce import accumulator_dtype
from mlcore.graph.ops.indexing import set_subtensor, subtensor
from mlcore.graph.ops.shape import arange, axis_or_flattened, dimshuffle, shape


class AlongOneAxis:
    """What the ops here share: one axis, and an output of x's shape."""

    def __init__(self, axis):
        self.axis = int(axis)

    def make_node(self, x):
        x = as_tensor_variable(x)
        if not 0 <= self.axis < x.ndim:
            raise ValueError("%s: axis %d out of range for %s" % (self, self.axis, x.type))
        return Apply(self, [x], [TensorType(self.output_dtype(x.dtype), x.type.shape)])

    def output_dtype(self, dtype):
        return dtype


class CumOp(AlongOneAxis, Op):
    """numpy's cumsum (mode "add") or cumprod ("mul") along one axis; bools and small ints
    accumulate in 64 bits, as numpy's do."""
    __props__ = ("axis", "mode")

    def __init__(self, axis, mode="add"):
        if mode not in ("add", "mul"):
            raise ValueError('CumOp: mode must be "add" or "mul", got %r' % (mode,))
        super().__init__(axis)
        self.mode = mode

    def output_dtype(self, dtype):
        return accumulator_dtype(dtype)

    def pullback(self, inputs, outputs, output_grads):
        """x_i reaches every output from i on, so its gradient sums g from the end; in a product
        each of those outputs is out_j / x_i times it (undefined at x_i = 0, as in Theano)."""
        (x,), (out,), (g,) = inputs, outputs, output_grads
        if self.mode == "add":
            return [self.sum_from_end(g)]
        return [self.sum_from_end(g * out) / x]

    def sum_from_end(self, g):
        reverse = (slice(None),) * self.axis + (slice(None, None, -1),)
        return CumOp(self.axis, "add")(g[reverse])[reverse]


class Sort(AlongOneAxis, Op):
    """x's values in ascending order along one axis (NaNs last, as numpy's)."""
    __props__ = ("axis",)

    def pullback(self, inputs, outputs, output_grads):
        """Sorting permutes: each value's gradient is g where the value went."""
        (x,), (g,) = inputs, output_grads
        key = along_axis_key(Argsort(self.axis)(x), self.axis)
        return [set_subtensor(zeros_like(x)[key], g)]


class Argsort(AlongOneAxis, Op):
    """The indices that sort x along one axis; ties keep their order (a stable sort), so every
    backend gives the same answer."""
    __props__ = ("axis",)

    def output_dtype(self, dtype):
        return "int64"

    def pullback(self, inputs, outputs, output_grads):
        """Positions are flat in x: a zero gradient, connected as Theano's (verify_grad checks it)."""
        return [zeros_like(inputs[0])]


class SearchSorted(Op):
    """Where each value of v would go in the sorted vector x to keep it sorted (numpy's
    searchsorted): before equal entries (side "left") or after them ("right")."""
    __props__ = ("side",)

    def __init__(self, side="left"):
        if side not in ("left", "right"):
            raise ValueError('searchsorted: side must be "left" or "right", got %r' % (side,))
        self.side = side

    def make_node(self, x, v):
        x, v = as_tensor_variable(x), as_tensor_variable(v)
        if x.ndim != 1:
            raise ValueError("searchsorted: x must be a sorted vector, got %s" % x.type)
        return Apply(self, [x, v], [TensorType("int64", v.type.shape)])

    def pullback(self, inputs, outputs, output_grads):
        """Insertion points are flat in x and v almost everywhere: zero gradients, as Theano's."""
        return [zeros_like(x) for x in inputs]


def along_axis_key(indices, axis, sizes=None):
    """The advanced index that reads x[..., indices[...], ...] along axis, as numpy's
    take_along_axis: every other dim indexed by its own position, broadcast against indices.
    sizes, x's shape, lets indices of length 1 in another dim broadcast to x's length there
    (default: indices' own shape)."""
    ndim, sizes = indices.ndim, shape(indices) if sizes is None else sizes
    key = []
    for d in range(ndim):
        if d == axis:
            key.append(indices)
        else:
            positions = arange(sizes[d])
            key.append(dimshuffle(positions, [0 if k == d else "x" for k in range(ndim)]))
    return tuple(key)


def sort(a, axis=-1, kind="quicksort", order=None):
    """a sorted along axis (None: flattened), as Theano's T.sort; kind= does not change the result."""
    _refuse_order(order, "sort")
    a, axis = axis_or_flattened(a, axis, "sort")
    return Sort(axis)(a)


def argsort(a, axis=-1, kind="quicksort", order=None):
    """The indices that sort a along axis (None: flattened), by a stable sort whatever kind= says."""
    _refuse_order(order, "argsort")
    a, axis = axis_or_flattened(a, axis, "argsort")
    return Argsort(axis)(a)


def argsort_descending(a, axis=-1):
    """The indices that sort a along axis from the largest, equal values in index order and NaNs
    first, as lax.top_k orders them: a stable ascending argsort of a reversed, read backwards
    (an argsort of -a would put NaNs last and wrap unsigned ints)."""
    a = as_tensor_variable(a)
    axis = axis % a.ndim
    reverse = (slice(None),) * axis + (slice(None, None, -1),)
    return (a.shape[axis] - 1) - subtensor(Argsort(axis)(subtensor(a, reverse)), reverse)


def _refuse_order(order, name):
    if order is not None:
        raise ValueError("%s: order= sorts structured arrays by field, and tensors have no fields" % name)


def searchsorted(x, v, side="left", sorter=None):
    """The indices at which the values v would be inserted into the sorted vector x to keep it
    sorted, as numpy's and Theano's searchsorted; sorter, the indices that sort x (argsort's)."""
    x = as_tensor_variable(x)
    if sorter is not None:
        sorter = as_tensor_variable(sorter)
        if sorter.ndim != 1:
            raise ValueError("searchsorted: sorter must be a vector of indices, got %s" % (sorter.type,))
        if sorter.dtype[:3] not in ("int", "uin"):
            raise TypeError("searchsorted: sorter must hold ints (argsort's indices), got %s" % (sorter.type,))
        x = x[sorter]
    return SearchSorted(side)(x, v)


def cumsum(x, axis=None):
    """The running sum along axis (None: of the flattened x), as numpy's and Theano's cumsum."""
    x, axis = axis_or_flattened(x, axis, "cumsum")
    return CumOp(axis, "add")(x)


def cumprod(x, axis=None):
    """The running product along axis (None: of the flattened x), as numpy's and Theano's cumprod."""
    x, axis = axis_or_flattened(x, axis, "cumprod")
    return CumOp(axis, "mul")(x)

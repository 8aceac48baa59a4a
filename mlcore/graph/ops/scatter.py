"""Scatter with a reduction: x with updates folded in at scattered entries by the larger, the smaller
or the product (numpy's np.maximum.at / minimum.at / multiply.at, jax's .at[].max / min / multiply),
every update to an entry given twice taking part.  Writing and adding are IncSubtensor's (indexing.py)."""
from mlcore.graph.basic import Apply, Op, TensorType
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.elemwise import cast, eq, ones_like, switch, zeros_like
from mlcore.graph.ops.indexing import as_written_into, inc_subtensor, subtensor

REDUCTIONS = ("max", "min", "mul")


class ScatterReduce(Op):
    """x with each row of the (N, k) integer `indices` naming an entry of x (a slice, if k < x.ndim) that is
    reduced with the matching row of updates, of shape (N,) + x.shape[k:]."""
    __props__ = ("reduction",)

    def __init__(self, reduction):
        if reduction not in REDUCTIONS:
            raise ValueError("ScatterReduce: reduction must be one of %s, got %r" % (REDUCTIONS, reduction))
        self.reduction = reduction

    def make_node(self, x, indices, updates):
        x, indices = as_tensor_variable(x), as_tensor_variable(indices)
        updates = as_written_into(x, as_tensor_variable(updates), self)
        if indices.ndim != 2 or not indices.dtype.startswith(("int", "uint")):
            raise TypeError("%s: indices must be an integer matrix, got %s" % (self, indices.type))
        k = x.ndim + 1 - updates.ndim
        if not 0 < k <= x.ndim or indices.type.shape[1] not in (None, k):
            raise ValueError("%s: updates of shape %s do not fit indices of shape %s into x of shape %s: they "
                             "need shape (N,) + x.shape[k:]" % (self, updates.type.shape, indices.type.shape,
                                                                x.type.shape))
        expected = (indices.type.shape[0],) + x.type.shape[k:]
        if any(None not in (a, b) and a != b for a, b in zip(updates.type.shape, expected)):
            raise ValueError("%s: updates have shape %s, indices and x of shapes %s and %s need %s"
                             % (self, updates.type.shape, indices.type.shape, x.type.shape, expected))
        return Apply(self, [x, indices, updates], [TensorType(x.dtype, x.type.shape)])

    def pullback(self, inputs, outputs, output_grads):
        (x, indices, updates), (out,), (g,) = inputs, outputs, output_grads
        key = tuple(indices[:, c] for c in range(x.ndim + 1 - updates.ndim))
        if self.reduction == "mul":
            gx, gu = _product_grads(x, indices, updates, g, key)
        else:
            gx, gu = _extremum_grads(x, updates, out, g, key)
        return [gx, None, gu]


def _scatter_add(x, key, values):
    """zeros like x with values added at key, repeats accumulating."""
    return inc_subtensor(subtensor(zeros_like(x), key), values)


def _extremum_grads(x, updates, out, g, key):
    """As jax: each entry's gradient is shared evenly by the values that tie for its result, x's and
    the updates'."""
    x_won, update_won = eq(x, out), eq(updates, subtensor(out, key))
    share = g / (cast(x_won, x.dtype) + _scatter_add(x, key, cast(update_won, x.dtype)))
    return switch(x_won, share, 0), switch(update_won, subtensor(share, key), 0)


def _product_grads(x, indices, updates, g, key):
    """out = x * (the product of the updates at its entry), so d out / d x is that product and d out / d u
    is x times the product of the other updates there.  That is kept / u, kept the product of the entry's
    nonzero updates, when no update there is 0, and kept when u is its only 0: no division by 0 (jax has
    no gradient for the updates when an entry is given twice)."""
    is_zero = cast(eq(updates, 0), x.dtype)
    nonzero = switch(is_zero, 1, updates)
    kept = ScatterReduce("mul")(ones_like(x), indices, nonzero)
    zeros = _scatter_add(x, key, is_zero)
    gx = g * switch(eq(zeros, 0), kept, 0)
    others = switch(eq(subtensor(zeros, key), is_zero), subtensor(kept, key) / nonzero, 0)
    return gx, subtensor(g * x, key) * others


def scatter_reduce(x, indices, updates, reduction):
    """x with updates folded in at the rows of indices by `reduction` ("max", "min" or "mul")."""
    return ScatterReduce(reduction)(x, indices, updates)

"""theano.tensor.subtensor: indexing by slices and integer tensors (x[...] itself, set_subtensor,
inc_subtensor, the ops Subtensor and IncSubtensor) and take, numpy's take with its out-of-range modes."""
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.elemwise import clip, mod
from mlcore.graph.ops.extra_ops import dims
from mlcore.graph.ops import indexing
from mlcore.graph.ops.indexing import IncSubtensor, Subtensor  # noqa: F401


def inc_subtensor(x, y, inplace=False, set_instead_of_inc=False, tolerate_inplace_aliasing=False):
    """x's base tensor with y added at x's indices (written there with set_instead_of_inc), where
    x is an indexed tensor such as a[1:3] or a[[0, 0, 2]]; entries indexed twice add up.  inplace
    and tolerate_inplace_aliasing let Theano write into the base's buffer: a graph here never
    writes into a value it was given (the backends reuse buffers only where that is safe), so
    they are accepted and change nothing."""
    if set_instead_of_inc:
        return indexing.set_subtensor(x, y)
    return indexing.inc_subtensor(x, y)


def set_subtensor(x, y, inplace=False, tolerate_inplace_aliasing=False):
    """x's base tensor with y written at x's indices: inc_subtensor(x, y, set_instead_of_inc=True)."""
    return inc_subtensor(x, y, inplace, True, tolerate_inplace_aliasing)


def take(a, indices, axis=None, mode="raise"):
    """The entries of a at the int tensor indices along axis (None: of a flattened), as numpy's
    take: the result has a's shape with that axis replaced by indices' shape.  mode "wrap" takes
    indices modulo the axis' length, "clip" clips them into it; with "raise" an index out of
    range is the caller's error (a compiled graph cannot raise)."""
    a, indices = as_tensor_variable(a), as_tensor_variable(indices)
    if indices.dtype[:3] not in ("int", "uin"):
        raise TypeError("take: indices must be integers, got %s" % indices.type)
    source = a.flatten() if axis is None else a
    length = dims(source)[0 if axis is None else axis]
    if mode == "wrap":
        indices = mod(indices, length)
    elif mode == "clip":
        indices = clip(indices, 0, length - 1)
    elif mode != "raise":
        raise ValueError('take: mode must be "raise", "wrap" or "clip", got %r' % (mode,))
    return source.take(indices, None if axis is None else axis)

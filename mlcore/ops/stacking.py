"""keras.ops' numpy joiners and splitters by direction: hstack / vstack / dstack (along columns,
rows and depth, with numpy's promotion of vectors and matrices), hsplit / vsplit / dsplit,
array_split (sections that may differ by one) and append.  Each is concatenate or split on the
axis numpy picks; the sizes that split cuts must be known when the graph is built."""
from mlcore.graph.ops import indexing
from mlcore.graph.ops import shape as sh
from mlcore.ops.arrays import concatenate, split
from mlcore.ops.core import as_tensor


# numpy's atleast_2d / atleast_3d: where x's axes go among the new ones ("x", of size 1)
_PROMOTIONS = {(0, 2): ["x", "x"], (1, 2): ["x", 0],
               (0, 3): ["x", "x", "x"], (1, 3): ["x", 0, "x"], (2, 3): [0, 1, "x"]}


def _at_least(x, ndim):
    x = as_tensor(x)
    return x if x.ndim >= ndim else sh.dimshuffle(x, _PROMOTIONS[x.ndim, ndim])


def hstack(xs):
    """The tensors joined along their columns (axis 1; vectors end to end)."""
    xs = [as_tensor(x) for x in xs]
    return concatenate(xs, axis=1 if xs[0].ndim > 1 else 0)


def vstack(xs):
    """The tensors joined along their rows (axis 0), a vector counting as one row."""
    return concatenate([_at_least(x, 2) for x in xs], axis=0)


def dstack(xs):
    """The tensors joined along a third axis, vectors and matrices given one."""
    return concatenate([_at_least(x, 3) for x in xs], axis=2)


def append(x1, x2, axis=None):
    """x2 after x1 along axis (None: both flattened)."""
    x1, x2 = as_tensor(x1), as_tensor(x2)
    if axis is None:
        return concatenate([sh.flatten(x1), sh.flatten(x2)])
    return concatenate([x1, x2], axis)


def hsplit(x, indices_or_sections):
    """split along the columns (axis 1; a vector's only axis)."""
    x = as_tensor(x)
    return split(x, indices_or_sections, axis=1 if x.ndim > 1 else 0)


def vsplit(x, indices_or_sections):
    return split(x, indices_or_sections, axis=0)


def dsplit(x, indices_or_sections):
    return split(x, indices_or_sections, axis=2)


def array_split(x, indices_or_sections, axis=0):
    """x cut along axis into indices_or_sections parts of sizes that differ by at most one (the
    first ones larger), as numpy's array_split."""
    x = as_tensor(x)
    axis %= x.ndim
    size = x.type.shape[axis]
    if size is None:
        raise ValueError("array_split: the size of axis %d of %s must be known" % (axis, x.type))
    sections = int(indices_or_sections)
    if sections <= 0:
        raise ValueError("array_split: indices_or_sections must be a positive int, got %r" % (indices_or_sections,))
    step, extra = divmod(size, sections)
    bounds = [k * step + min(k, extra) for k in range(sections + 1)]
    return [indexing.subtensor(x, (slice(None),) * axis + (slice(lo, hi),)) for lo, hi in zip(bounds, bounds[1:])]

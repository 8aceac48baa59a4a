"""keras.ops' numpy joiners and splitters by direction: hstack / vstack / dstack (along columns,
rows and depth, with numpy's promotion of vectors and matrices), hsplit / vsplit / dsplit,
array_split (sections that may differ by one) and append.  Each is concatenate or split on the
axis numpy picks."""
import numpy as np

from mlcore.graph.basic import Variable
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops import shape as sh
from mlcore.graph.ops.common import normalize_axis
from mlcore.graph.ops.extra_ops import dims
from mlcore.ops.arrays import concatenate, slices_at, split
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
    first ones larger), as numpy's array_split; the axis's length may be known only when the graph
    runs (the bounds are then symbolic), or cut at the given indices as split."""
    x = as_tensor(x)
    axis = normalize_axis(axis, x.ndim, "array_split")[0]
    if not isinstance(indices_or_sections, (int, np.integer)):
        return split(x, indices_or_sections, axis)
    sections = int(indices_or_sections)
    if sections <= 0:
        raise ValueError("array_split: indices_or_sections must be a positive int, got %r" % (indices_or_sections,))
    size = dims(x)[axis]
    step, extra = size // sections, size % sections
    first = ew.minimum if isinstance(size, Variable) else min
    return slices_at(x, axis, [k * step + first(k, extra) for k in range(sections + 1)])

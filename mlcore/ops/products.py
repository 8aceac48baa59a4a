"""keras.ops that multiply vectors pairwise: the cross product (cross), the sliding dot product
of two signals (correlate) and the Euclidean distance between every two rows (cdist).  Each is
a few graph ops, so it differentiates as they do."""
import numpy as np

from mlcore.dtype_promotion import COMPLEX, FLOATS, result_type
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops import reduce as red
from mlcore.graph.ops import shape as sh
from mlcore.ops.arrays import moveaxis
from mlcore.ops.core import as_tensor
from mlcore.ops.elementwise import promoted


def _components(x, axis, name):
    """The 3 components of the vectors along x's axis (a third of 0 for 2-vectors)."""
    x = moveaxis(as_tensor(x), axis, -1)
    size = x.type.shape[-1]
    if size not in (2, 3):
        raise ValueError("%s: the vectors must have 2 or 3 components along the axis; received shape %s"
                         % (name, x.type.shape))
    parts = [x[..., k] for k in range(size)]
    return parts + [ew.zeros_like(parts[0])] * (3 - size), size


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of the 2- or 3-vectors along axisa of x1 and axisb of x2, along axisc of
    the result (axis, where given, for all three); of two 2-vectors, only its z component."""
    if axis is not None:
        axisa = axisb = axisc = axis
    x1, x2 = promoted(x1, x2)
    (a0, a1, a2), size_a = _components(x1, axisa, "cross")
    (b0, b1, b2), size_b = _components(x2, axisb, "cross")
    z = a0 * b1 - a1 * b0
    if size_a == size_b == 2:
        return z
    return moveaxis(sh.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, z], -1), -1, axisc)


def correlate(x1, x2, mode="valid"):
    """The cross-correlation of two vectors, c[k] = sum over n of x1[n + k] * x2[n], at the shifts
    that mode keeps: "full" every overlap, "valid" the complete ones, "same" max(len) centred ones
    (numpy's choices).  Both lengths must be known when the graph is built.  As Keras's, it computes in
    float32 (float64 for int64; floats and complex numbers in their own dtype)."""
    x1, x2 = as_tensor(x1), as_tensor(x2)
    dtype = result_type(x1.dtype, x2.dtype)
    if dtype not in FLOATS + COMPLEX:
        dtype = "float64" if dtype == "int64" else "float32"
    x1, x2 = ew.cast(x1, dtype), ew.cast(x2, dtype)
    if x1.ndim != 1 or x2.ndim != 1 or None in x1.type.shape + x2.type.shape:
        raise ValueError("correlate: x1 and x2 must be vectors of known lengths; received %s and %s"
                         % (x1.type, x2.type))
    if mode not in ("valid", "same", "full"):
        raise ValueError("correlate: mode must be 'valid', 'same' or 'full'; received %r" % (mode,))
    (n,), (m,) = x1.type.shape, x2.type.shape
    length = n + m - 1
    padded = sh.pad(x1, [(m - 1, m - 1)])
    windows = padded[np.arange(length)[:, None] + np.arange(m)]    # (shift, n): x1 padded at n + shift
    full = red.sum_(windows * x2, -1)
    start, size = {"full": (0, length), "valid": (min(n, m) - 1, abs(n - m) + 1),
                   "same": ((m - 1) // 2 if n >= m else n // 2, max(n, m))}[mode]
    return full[start:start + size]


def cdist(x, y):
    """The Euclidean distance between each row of x (..., N, D) and each of y (..., M, D): (..., N, M)."""
    x, y = as_tensor(x), as_tensor(y)
    if x.ndim < 2 or y.ndim < 2:
        raise ValueError("cdist: x and y must have rank >= 2; received %s and %s" % (x.type, y.type))
    if None not in (x.type.shape[-1], y.type.shape[-1]) and x.type.shape[-1] != y.type.shape[-1]:
        raise ValueError("cdist: the last dimensions of x and y must match; received %s and %s"
                         % (x.type.shape, y.type.shape))
    rows_x = sh.dimshuffle(x, list(range(x.ndim - 1)) + ["x", x.ndim - 1])
    rows_y = sh.dimshuffle(y, list(range(y.ndim - 2)) + ["x", y.ndim - 2, y.ndim - 1])
    difference = rows_x - rows_y
    return ew.sqrt(red.sum_(difference * difference, -1))

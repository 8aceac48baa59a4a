"""keras.ops.linalg (also at mlcore.ops's top level, as in keras.ops): the graph's matrix ops with
Keras's names and arguments (inv, det, cholesky, eig, eigh, qr, svd, solve, solve_triangular,
pinv, lu_factor), and what Keras builds on them: lstsq, logdet, slogdet, matrix_rank,
cholesky_inverse, numpy's vector and matrix norms, and jvp (forward-mode derivatives by Rop).
Every function works on a matrix or on a stack of them (the last two axes)."""
import numpy as np

from mlcore.graph.basic import clone
from mlcore.graph.gradient import Rop
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops import extra_ops
from mlcore.graph.ops import linalg_decompositions as decompositions
from mlcore.graph.ops import nlinalg, slinalg
from mlcore.graph.ops import reduce as red
from mlcore.graph.ops.common import normalize_axis
from mlcore.graph.ops.extra_ops import dims
from mlcore.graph.ops.linalg import matmul, swap_last
from mlcore.graph.ops.shape import dimshuffle
from mlcore.ops.control_flow import at_once_on_values
from mlcore.ops.core import as_float


def _differ(m, n):
    """Whether two static lengths are known to differ."""
    return None not in (m, n) and m != n


def _matrices(name, x, square=True):
    """x as floats; a ValueError unless it is a matrix or a stack of them, and square where asked.
    Where one of the last two lengths is unknown, the run checks it (Keras refuses it at once)."""
    x = as_float(x)
    if x.ndim < 2:
        raise ValueError("%s: Input should have rank >= 2. Received: input.shape = %s" % (name, x.type.shape))
    if square and _differ(*x.type.shape[-2:]):
        raise ValueError("%s: expected a square matrix. Received non-square input with shape %s"
                         % (name, x.type.shape))
    return x


def cholesky(x, upper=False):
    """The Cholesky factor of a symmetric positive-definite x: L with x = L L^T, or L^T if upper."""
    return slinalg.cholesky(_matrices("cholesky", x), lower=not upper)


def det(x):
    return nlinalg.det(_matrices("det", x))


def inv(x):
    return nlinalg.matrix_inverse(_matrices("inv", x))


def eig(x):
    """(eigenvalues, eigenvectors as columns) of a square matrix whose eigenvalues are real."""
    return decompositions.eig(_matrices("eig", x))


def eigh(x):
    """(eigenvalues in ascending order, eigenvectors as columns) of a symmetric matrix."""
    return decompositions.eigh(_matrices("eigh", x))


def qr(x, mode="reduced"):
    """(q, r) with x = q r, q's columns orthonormal and r upper triangular; mode "complete" makes q square."""
    if mode not in ("reduced", "complete"):
        raise ValueError("`mode` argument value not supported. Expected one of {'reduced', 'complete'}. "
                         "Received: mode=%s" % (mode,))
    return decompositions.qr(_matrices("qr", x, square=False), mode)


def svd(x, full_matrices=True, compute_uv=True):
    """(u, s, vh) with x = u diag(s) vh, s descending; s alone if not compute_uv."""
    return decompositions.svd(as_float(x), full_matrices, compute_uv)


def _solved(name, solver, a, b):
    """solver(a, b) for a square a (or a stack) and b of right-hand sides: a matrix (or a stack) of
    columns, or one vector per matrix of a (b of one axis fewer, as Keras's tensorflow backend
    takes it), solved as one column."""
    a, b = _matrices(name, a), as_float(b)
    if b.ndim == a.ndim - 1:
        if _differ(a.type.shape[-1], b.type.shape[-1]):
            raise ValueError("%s: incompatible shapes between `a` and `b`. Expected `a.shape[-1] == "
                             "b.shape[-1]`. Received: a.shape=%s, b.shape=%s" % (name, a.type.shape, b.type.shape))
        column = solver(a, dimshuffle(b, *range(b.ndim), "x"))
        return column[..., 0]
    if b.ndim == a.ndim and _differ(a.type.shape[-2], b.type.shape[-2]):
        raise ValueError("%s: incompatible shapes between `a` and `b`. Expected `a.shape[-2] == b.shape[-2]`. "
                         "Received: a.shape=%s, b.shape=%s" % (name, a.type.shape, b.type.shape))
    return solver(a, b)


def solve(a, b):
    """x with a x = b, for a square a; b a vector or a matrix of right-hand sides (per matrix of a)."""
    return _solved("solve", slinalg.solve, a, b)


def solve_triangular(a, b, lower=False):
    """solve for a triangular a (its upper triangle, or its lower one if lower)."""
    return _solved("solve_triangular", lambda a, b: slinalg.solve_triangular(a, b, lower=lower), a, b)


def pinv(x, rcond=None):
    """The Moore-Penrose pseudo-inverse; rcond: singular values below rcond times the largest count as 0."""
    x = as_float(x)
    if rcond is None:
        return nlinalg.pinv(x)
    u, s, vh = decompositions.svd(x, full_matrices=False)
    kept = ew.gt(s, rcond * red.max_(s, -1, keepdims=True))
    inverse = ew.switch(kept, 1 / ew.switch(kept, s, 1), 0)
    return matmul(swap_last(vh) * dimshuffle(inverse, *range(inverse.ndim - 1), "x", inverse.ndim - 1),
                  swap_last(u))


def lstsq(a, b, rcond=None):
    """The x that minimises |a x - b| (the least-norm one when several do): pinv(a) b."""
    return matmul(pinv(a, rcond), as_float(b))


def slogdet(x):
    """(sign, log |det|) of the determinant."""
    determinant = det(x)
    return ew.sign(determinant), ew.log(ew.abs_(determinant))


def logdet(x):
    """log det(x) of a positive-definite matrix."""
    return slogdet(x)[1]


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002
    """numpy's norm: of vectors along one axis (ord None or 2: Euclidean; inf, -inf, 0, or any p), of
    matrices over two axes (None or "fro", "nuc", inf, -inf, 1, -1, 2, -2); axis None: of x flattened
    when ord is None, else of the vector or matrix x."""
    x = as_float(x)
    axes = normalize_axis(axis, x.ndim, "norm")
    if len(axes) == 1 or (ord is None and axis is None):
        return _vector_norm(x, ord, axes, keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError("norm: improper number of axes %s for x of shape %s" % (axis, x.type.shape))


def _vector_norm(x, ord, axes, keepdims):  # noqa: A002
    size = ew.abs_(x)
    if ord is None or ord == 2:
        return ew.sqrt(red.sum_(ew.sqr(x), axes, keepdims))
    if ord == float("inf"):
        return red.max_(size, axes, keepdims)
    if ord == float("-inf"):
        return red.min_(size, axes, keepdims)
    if ord == 0:
        return red.sum_(ew.cast(ew.neq(x, 0), x.dtype), axes, keepdims)
    if isinstance(ord, str):
        raise ValueError("norm: invalid ord %r for vectors" % (ord,))
    return red.sum_(size ** ord, axes, keepdims) ** (1.0 / ord)


def _matrix_norm(x, ord, axes, keepdims):  # noqa: A002
    rows, cols = axes
    if ord in (None, "fro"):
        return ew.sqrt(red.sum_(ew.sqr(x), axes, keepdims))
    if ord in ("nuc", 2, -2):
        last = [d for d in range(x.ndim) if d not in axes] + [rows, cols]
        values = decompositions.svd(dimshuffle(x, *last), compute_uv=False)
        out = {"nuc": red.sum_, 2: red.max_, -2: red.min_}[ord](values, -1)
        return dimshuffle(out, *_with_size_one(out.ndim, axes, x.ndim)) if keepdims else out
    sums = {1: (rows, red.max_), -1: (rows, red.min_), float("inf"): (cols, red.max_),
            float("-inf"): (cols, red.min_)}
    if ord not in sums:
        raise ValueError("norm: invalid ord %r for matrices" % (ord,))
    summed, pick = sums[ord]
    kept = cols if summed == rows else rows
    out = pick(red.sum_(ew.abs_(x), summed, keepdims=True), kept, keepdims=True)
    return out if keepdims else red.sum_(out, axes)        # a sum over size-1 axes drops them


def _with_size_one(ndim, axes, full_ndim):
    """The dimshuffle order that puts size-1 axes back at `axes` of a full_ndim result."""
    kept = iter(range(ndim))
    return ["x" if d in axes else next(kept) for d in range(full_ndim)]


def matrix_rank(x, tol=None):
    """How many singular values of x exceed tol (by default the largest one times max(M, N) times
    the dtype's eps, numpy's and jax's rule), as int32."""
    x = as_float(x)
    if x.ndim < 2:
        raise ValueError("matrix_rank: expected input to have rank >= 2; received shape %s" % (x.type.shape,))
    s = decompositions.svd(x, full_matrices=False, compute_uv=False)
    if tol is None:
        rows, columns = dims(x)[-2:]
        largest = max(rows, columns) if isinstance(rows, int) and isinstance(columns, int) \
            else ew.maximum(rows, columns)
        tol = red.max_(s, -1, keepdims=True) * ew.cast(largest, x.dtype) * np.finfo(x.dtype).eps
    return ew.cast(red.sum_(ew.gt(s, tol), -1), "int32")


def lu_factor(x):
    """(lu, pivots) as scipy.linalg.lu_factor gives them, for a matrix or a stack of them."""
    return slinalg.lu_factor(as_float(x))


def cholesky_inverse(x, upper=False):
    """The inverse of the matrix whose Cholesky factor is x: (L L^T)^-1 for a lower x, (U^T U)^-1
    for an upper one, from two triangular solves."""
    x = _matrices("cholesky_inverse", x)
    size = dims(x)[-1]
    identities = ew.zeros_like(x) + extra_ops.eye(size, size, 0, x.dtype)     # one per matrix of x
    inverse_factor = slinalg.solve_triangular(x, identities, lower=not upper)
    if upper:
        return matmul(inverse_factor, swap_last(inverse_factor))
    return matmul(swap_last(inverse_factor), inverse_factor)


@at_once_on_values
def jvp(fun, primals, tangents, has_aux=False):
    """(fun(*primals), J v): fun's outputs and their directional derivatives along `tangents` (one
    per primal), by the graph's Rop (forward mode as two reverse passes).  With has_aux, fun
    returns (outputs, aux) and aux comes third."""
    if len(primals) != len(tangents):
        raise ValueError("jvp: %d primals and %d tangents" % (len(primals), len(tangents)))
    primals = [as_float(p) for p in primals]
    inner = [p.type() for p in primals]       # stand-ins: constants cannot be differentiated
    result = fun(*inner)
    outputs, aux = result if has_aux else (result, None)
    many = isinstance(outputs, (list, tuple))
    outputs = [as_float(o) for o in (outputs if many else [outputs])]
    derivatives = Rop(outputs, inner, [as_float(t) for t in tangents], disconnected_outputs="ignore")
    found = clone(outputs + derivatives + ([] if aux is None else [aux]), list(zip(inner, primals)))
    count = len(outputs)
    values, derivatives = found[:count], found[count:2 * count]
    if many:
        values, derivatives = tuple(values), tuple(derivatives)
    else:
        values, derivatives = values[0], derivatives[0]
    return (values, derivatives, found[-1]) if has_aux else (values, derivatives)

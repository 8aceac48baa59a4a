"""T.slinalg: Theano's theano.tensor.slinalg (scipy.linalg's functions).  cholesky, solve,
solve_triangular and expm are ops (mlcore/graph/ops/slinalg.py); eigvalsh is eigh's first output
(of a matrix reduced by a Cholesky factor for the generalized problem), cho_solve two triangular
solves and kron a broadcast product.  Theano's Solve(A_structure=, lower=) is here too."""
from mlcore.graph.ops import slinalg as graph_slinalg
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.extra_ops import dims, tril
from mlcore.graph.ops.linalg import swap_last
from mlcore.graph.ops.linalg_decompositions import eigh
from mlcore.graph.ops.shape import DimShuffle, pad_left, reshape
from mlcore.graph.ops.slinalg import (Cholesky, Expm, SolveTriangular, cholesky, expm,  # noqa: F401
                                      solve, solve_triangular)


class Solve(graph_slinalg.Solve):
    """Theano's Solve(A_structure="general", lower=False, overwrite_A=False, overwrite_b=False):
    x with A x = b.  A_structure "lower_triangular" or "upper_triangular" gives the triangular
    solve (SolveTriangular, which reads that triangle only, and so does its gradient);
    "symmetric" reads A's upper triangle (lower=True: its lower one).  scipy's assume_a= is
    taken too.  The overwrite flags are accepted for Theano's signature."""

    def __new__(cls, A_structure="general", lower=False, overwrite_A=False, overwrite_b=False,
                assume_a=None):
        if A_structure in ("lower_triangular", "upper_triangular"):
            return SolveTriangular(lower=A_structure == "lower_triangular")
        return super().__new__(cls)

    def __init__(self, A_structure="general", lower=False, overwrite_A=False, overwrite_b=False,
                 assume_a=None):
        super().__init__(A_structure if assume_a is None else assume_a, lower)


def eigvalsh(a, b=None, lower=True):
    """The eigenvalues (ascending) of the symmetric matrix a's lower (or upper) triangle stands for,
    as scipy's; with b (positive definite, read from the same triangle), those of the generalized
    problem a v = w b v: of L^-1 a L^-T for b's Cholesky factor L, so it has a gradient for a and b."""
    uplo = "L" if lower else "U"
    if b is None:
        return eigh(a, uplo)[0]
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if not lower:                          # the upper triangles are the lower ones of the transposes
        a, b = swap_last(a), swap_last(b)
    a = tril(a) + swap_last(tril(a, -1))
    factor = cholesky(b, lower=True)
    left = solve_triangular(factor, a, lower=True)                             # L^-1 a
    return eigh(swap_last(solve_triangular(factor, swap_last(left), lower=True)))[0]


def solve_lower_triangular(a, b):
    """Theano's solve_lower_triangular: x with a @ x = b for a lower-triangular a."""
    return solve_triangular(a, b, lower=True)


def solve_upper_triangular(a, b):
    return solve_triangular(a, b, lower=False)


def solve_symmetric(a, b):
    """Theano's solve_symmetric: x with a @ x = b for a symmetric a (its upper triangle is read)."""
    return solve(a, b, assume_a="sym")


def cho_solve(c_and_lower, b, check_finite=True):
    """x with A @ x = b, given A's Cholesky factor: c_and_lower is (c, lower) as scipy's cho_solve
    takes it, or c alone, lower-triangular (Theano's cho_solve op), with A = c c^T (c^T c when
    upper).  Two triangular solves, whose gradients flow to c and b; check_finite is accepted for
    scipy's signature."""
    c, lower = c_and_lower if isinstance(c_and_lower, (tuple, list)) else (c_and_lower, True)
    c = as_tensor_variable(c)
    y = solve_triangular(c, b, trans=0 if lower else 1, lower=lower)
    return solve_triangular(c, y, trans=1 if lower else 0, lower=lower)


def kron(a, b):
    """The Kronecker product, as numpy's kron: the inputs get leading dims to the same number, then
    each element of a scales a whole copy of b.  As Theano's, two vectors (or fewer dims) are refused."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim + b.ndim <= 2:
        raise TypeError("kron: the inputs' dims must sum to 3 or more, got %d and %d" % (a.ndim, b.ndim))
    ndim = max(a.ndim, b.ndim)
    a, b = pad_left(a, ndim), pad_left(b, ndim)
    spread_a = DimShuffle([o for d in range(ndim) for o in (d, "x")])(a)
    spread_b = DimShuffle([o for d in range(ndim) for o in ("x", d)])(b)
    return reshape(spread_a * spread_b, [m * n for m, n in zip(dims(a), dims(b))])

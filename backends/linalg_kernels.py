"""The linear-algebra kernels of the backends that run on arrays, written once against the numpy
API: numpy.linalg and scipy.linalg, or jax.numpy.linalg and jax.scipy.linalg, which share it.

Where the libraries read a symmetric matrix differently (scipy reads one triangle, jax's
eigh and solve average the two), the kernel builds the symmetric matrix from the triangle the op
reads, so every backend computes the same function of its input."""
from mlcore.graph.ops import linalg_decompositions as decompositions, nlinalg, slinalg


def register_linalg(lower, xp, linalg, scipy_linalg):
    """Register the nlinalg, decomposition and slinalg ops' kernels in `lower`, for the array module
    xp and its linalg and scipy.linalg modules."""
    def square_checked(fn):
        """fn, checking first that its first argument holds square matrices (a shape mlcore's
        type left open is only known here)."""
        def factory(op, node):
            kernel = fn(op)

            def run(a, *rest):
                nlinalg.check_square(op.api_name, a.shape)
                return kernel(a, *rest)
            return run
        return factory

    def solve(op):
        if op.assume_a == "gen":
            return lambda a, b: scipy_linalg.solve(a, b)
        return lambda a, b: scipy_linalg.solve(from_triangle(xp, a, op.lower), b, assume_a=op.assume_a,
                                               lower=op.lower)

    kernels = {
        nlinalg.MatrixInverse: lambda op: linalg.inv,
        nlinalg.Det: lambda op: linalg.det,
        decompositions.Eig: lambda op: lambda a: tuple(part.real for part in linalg.eig(a)),
        decompositions.Eigh: lambda op: lambda a: as_results(linalg.eigh(from_triangle(xp, a, op.UPLO == "L"))),
        slinalg.Cholesky: lambda op: lambda a: scipy_linalg.cholesky(a, lower=op.lower),
        slinalg.Expm: lambda op: scipy_linalg.expm,
        slinalg.Solve: solve,
        slinalg.SolveTriangular: lambda op: lambda a, b: scipy_linalg.solve_triangular(
            a, b, trans=op.trans, lower=op.lower, unit_diagonal=op.unit_diagonal),
    }
    for op_class, fn in kernels.items():
        lower.register(op_class)(square_checked(fn))
    lower.register(nlinalg.MatrixPinv)(lambda op, node: linalg.pinv)
    lower.register(slinalg.LUFactor)(   # scipy's and jax's take one matrix
        lambda op, node: xp.vectorize(scipy_linalg.lu_factor, signature="(m,n)->(m,n),(k)"))
    lower.register(decompositions.SVD)(lambda op, node: lambda a: as_results(linalg.svd(
        a, full_matrices=op.full_matrices, compute_uv=op.compute_uv)))
    lower.register(decompositions.QR)(lambda op, node: lambda a: as_results(linalg.qr(a, mode=op.mode)))


def as_results(value):
    """A plain tuple for the named tuples that numpy and jax return (one array stays itself)."""
    return tuple(value) if isinstance(value, tuple) else value


def from_triangle(xp, a, lower):
    """The symmetric matrices that the lower (or upper) triangles of the stack a stand for."""
    part = xp.tril(a) if lower else xp.triu(a)
    return part + xp.swapaxes(xp.tril(a, -1) if lower else xp.triu(a, 1), -1, -2)

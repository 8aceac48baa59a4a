"""Matrix decompositions as ops: eig, eigh, svd, qr (Theano's nlinalg), on a matrix or a stack of
them.  The gradients are the standard reverse-mode rules (Giles 2008, Townsend 2016), written with
F_ij = 1 / (lambda_j - lambda_i) off the diagonal: they assume distinct eigen- or singular values."""
from mlcore.graph.ops.elemwise import switch, zeros_like
from mlcore.graph.ops.extra_ops import dims, eye, tril
from mlcore.graph.ops.linalg import matmul, swap_last
from mlcore.graph.ops.nlinalg import (MatrixOp, as_columns, as_rows, diag_embed, fold_to_triangle,
                                      identity_for)
from mlcore.graph.ops.slinalg import solve_triangular


def reciprocal_gaps(values):
    """F with F_ij = 1 / (values_j - values_i) off the diagonal and 0 on it, for values (..., n)."""
    on_diagonal = eye(dims(values)[-1], dtype="bool")
    gaps = as_rows(values) - as_columns(values)
    return switch(on_diagonal, 0, 1 / switch(on_diagonal, 1, gaps))


def sandwich(left, middle, right_t):
    """left @ middle @ right_t^T."""
    return matmul(left, matmul(middle, swap_last(right_t)))


class Eig(MatrixOp):
    """Eigenvalues w and right eigenvectors v of a general square matrix.  As Theano's Eig, both
    are real, in the input's dtype (the real parts of numpy's complex result): for matrices with
    real eigenvalues.  No gradient (neither Theano's Eig nor JAX's eigenvectors have one)."""
    api_name = "eig"

    def output_shapes(self, shape):
        return [shape[:-1], shape]


class Eigh(MatrixOp):
    """Eigenvalues (ascending) and orthonormal eigenvectors of the symmetric matrix that a's lower
    (UPLO="L") or upper triangle stands for; the other triangle is not read.
    With dS symmetric: dw = diag(V^T dS V), dV = V (F o V^T dS V), so
    S_bar = V (diag(w_bar) + F o V^T V_bar) V^T, folded onto the triangle read."""
    api_name = "eigh"
    __props__ = ("UPLO",)

    def __init__(self, UPLO="L"):
        if UPLO not in ("L", "U"):
            raise ValueError("eigh: UPLO must be 'L' or 'U', got %r" % (UPLO,))
        self.UPLO = UPLO

    def output_shapes(self, shape):
        return [shape[:-1], shape]

    def pullback(self, inputs, outputs, output_grads):
        (w, v), (gw, gv) = outputs, output_grads
        inner = diag_embed(gw) + reciprocal_gaps(w) * matmul(swap_last(v), gv)
        return [fold_to_triangle(sandwich(v, inner, v), self.UPLO == "L")]


class SVD(MatrixOp):
    """A = U diag(s) V^T for an m x n matrix, k = min(m, n) singular values in descending order:
    (u, s, vt) with u m x m and vt n x n (full_matrices) or m x k and k x n; s alone without
    compute_uv.  The gradient is Townsend's; with full matrices and m != n, the columns beyond
    the k-th of u or v are not unique and get no gradient."""
    api_name = "svd"
    square = False
    __props__ = ("full_matrices", "compute_uv")

    def __init__(self, full_matrices=True, compute_uv=True):
        self.full_matrices, self.compute_uv = bool(full_matrices), bool(compute_uv)

    def output_shapes(self, shape):
        batch, (m, n) = shape[:-2], shape[-2:]
        k = None if None in (m, n) else min(m, n)
        if not self.compute_uv:
            return [batch + (k,)]
        if self.full_matrices:
            return [batch + (m, m), batch + (k,), batch + (n, n)]
        return [batch + (m, k), batch + (k,), batch + (k, n)]

    def pullback(self, inputs, outputs, output_grads):
        (a,) = inputs
        if not self.compute_uv:
            u, _, vt = SVD(full_matrices=False)(a)
            return [sandwich(u, diag_embed(output_grads[0]), swap_last(vt))]
        u, s, vt = outputs
        gu, gs, gvt = output_grads
        m, n = a.type.shape[-2:]
        if self.full_matrices and (m is None or m != n):       # keep the first k columns of u and v
            k = dims(s)[-1]
            u, gu, vt, gvt = u[..., :, :k], gu[..., :, :k], vt[..., :k, :], gvt[..., :k, :]
        v, gv = swap_last(vt), swap_last(gvt)
        return [svd_pullback(a, u, s, v, gu, gs, gv)]


def svd_pullback(a, u, s, v, gu, gs, gv):
    """Townsend (2016): with F_ij = 1 / (s_j^2 - s_i^2),
    A_bar = U [(F o (U^T U_bar - U_bar^T U)) S + diag(s_bar) + S (F o (V^T V_bar - V_bar^T V))] V^T
            + (I - U U^T) U_bar S^-1 V^T + U S^-1 V_bar^T (I - V V^T)."""
    f = reciprocal_gaps(s * s)
    s_row, s_col = as_rows(s), as_columns(s)
    ut_gu, vt_gv = matmul(swap_last(u), gu), matmul(swap_last(v), gv)
    core = (f * (ut_gu - swap_last(ut_gu))) * s_row + diag_embed(gs) + s_col * (f * (vt_gv - swap_last(vt_gv)))
    outside_u = matmul(identity_for(a, -2) - matmul(u, swap_last(u)), gu / s_row)        # (I - UU^T) U_bar S^-1
    outside_v = matmul(identity_for(a, -1) - matmul(v, swap_last(v)), gv / s_row)        # (I - VV^T) V_bar S^-1
    return sandwich(u, core, v) + matmul(outside_u, swap_last(v)) + matmul(u, swap_last(outside_v))


class QR(MatrixOp):
    """A = Q R for an m x n matrix, k = min(m, n), as numpy.linalg.qr: mode "reduced" gives q (m x k)
    and r (k x n), "complete" q (m x m) and r (m x n), "r" r alone (k x n).  Gradient for m >= n (the
    reduced factors): with M = R R_bar^T - Q_bar^T Q and sym(M) the symmetric matrix of its lower
    triangle, A_bar = (Q_bar + Q sym(M)) R^-T."""
    api_name = "qr"
    square = False
    __props__ = ("mode",)

    def __init__(self, mode="reduced"):
        if mode not in ("reduced", "complete", "r"):
            raise ValueError("qr: mode must be 'reduced', 'complete' or 'r', got %r" % (mode,))
        self.mode = mode

    def output_shapes(self, shape):
        batch, (m, n) = shape[:-2], shape[-2:]
        k = None if None in (m, n) else min(m, n)
        r = batch + ((m if self.mode == "complete" else k), n)
        return [r] if self.mode == "r" else [batch + (m, m if self.mode == "complete" else k), r]

    def pullback(self, inputs, outputs, output_grads):
        (a,) = inputs
        m, n = a.type.shape[-2:]
        if m is not None and n is not None and m < n:
            raise NotImplementedError("qr: no gradient for a wide matrix (m < n), got shape %s" % (a.type.shape,))
        if self.mode == "complete" and (m is None or m != n):
            raise NotImplementedError("qr: mode='complete' has a gradient only for a square matrix, got shape %s"
                                      % (a.type.shape,))
        q, r = outputs if self.mode != "r" else QR("reduced")(a)
        gq = output_grads[0] if self.mode != "r" else zeros_like(q)
        mixed = matmul(r, swap_last(output_grads[-1])) - matmul(swap_last(gq), q)
        b = gq + matmul(q, tril(mixed) + swap_last(tril(mixed, -1)))
        return [swap_last(solve_triangular(r, swap_last(b), lower=False))]      # B R^-T = (R^-1 B^T)^T


def eig(x):
    """(w, v): the eigenvalues and right eigenvectors of a square matrix, real as in Theano."""
    return Eig()(x)


def eigh(a, UPLO="L"):
    """(w, v): the eigenvalues (ascending) and eigenvectors of a symmetric matrix, as numpy's eigh."""
    return Eigh(UPLO)(a)


def svd(a, full_matrices=True, compute_uv=True):
    """(u, s, vt) with a = u @ diag(s) @ vt, or s alone when compute_uv is False."""
    return SVD(full_matrices, compute_uv)(a)


def qr(a, mode="reduced"):
    """(q, r) with a = q @ r (mode "reduced" or "complete"), or r alone (mode "r")."""
    return QR(mode)(a)

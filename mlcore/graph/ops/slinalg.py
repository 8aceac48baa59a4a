"""scipy.linalg's ops: cholesky, lu_factor, solve, solve_triangular, expm (Theano's slinalg), on a matrix or a
stack of them.  A solve's right-hand side b is a vector or a matrix for a 2-d a, and a stack of
matrices with as many dims as a (batch dims broadcast) for a stacked a: as scipy, jax and PyTensor
read b alike only then."""
from mlcore.graph.basic import Apply, Op, TensorType
from mlcore.graph.ops.common import (_fmt, as_float_dtype, as_tensor_variable, broadcast_static_shapes, upcast,
                                     with_dtype)
from mlcore.graph.ops.elemwise import unbroadcast, zeros_like
from mlcore.graph.ops.extra_ops import dims, tril, triu
from mlcore.graph.ops.linalg import matmul, outer, swap_last
from mlcore.graph.ops.nlinalg import MatrixOp, diag_embed, diag_part, float_matrix, fold_to_triangle
from mlcore.graph.ops.shape import concatenate


class Cholesky(MatrixOp):
    """The triangular factor L (lower) with A = L L^T, or U = L^T (lower=False), read from that
    triangle of A only.  Murray (2016), as Theano: with P = tril(L^T L_bar), its diagonal halved,
    and S = L^-T P L^-1, A_bar is S + S^T on the triangle read (S on the diagonal)."""
    api_name = "cholesky"
    __props__ = ("lower",)

    def __init__(self, lower=True):
        self.lower = bool(lower)

    def pullback(self, inputs, outputs, output_grads):
        l, gl = outputs[0], output_grads[0]
        if not self.lower:
            l, gl = swap_last(l), swap_last(gl)
        phi = matmul(swap_last(l), gl)
        p = tril(phi) - diag_embed(diag_part(phi)) / 2
        left = solve_triangular(l, p, trans=1, lower=True)                       # L^-T P
        s = swap_last(solve_triangular(l, swap_last(left), trans=1, lower=True))  # L^-T P L^-1
        return [fold_to_triangle(s, self.lower)]


class LUFactor(MatrixOp):
    """scipy.linalg.lu_factor's (lu, pivots) of an (m, n) matrix, P A = L U: L below lu's diagonal
    (its unit diagonal implied), U on and above it; row i was swapped with row pivots[i], in order,
    for the min(m, n) pivots.  No gradient: the pivots are discrete, and jax's lu_factor has none."""
    api_name = "lu_factor"
    square = False

    def make_node(self, x):
        x = float_matrix(self.api_name, x, square=False)
        m, n = x.type.shape[-2:]
        pivots = None if None in (m, n) else min(m, n)
        return Apply(self, [x], [TensorType(x.dtype, x.type.shape), TensorType("int32", x.type.shape[:-2] + (pivots,))])


class Expm(MatrixOp):
    """The matrix exponential.  Its adjoint derivative at A applied to G is the top right block of
    expm([[A^T, G], [0, A^T]]) (Mathias 1996), so that is A_bar."""
    api_name = "expm"

    def pullback(self, inputs, outputs, output_grads):
        at, g = swap_last(inputs[0]), output_grads[0]
        blocks = concatenate([concatenate([at, g], -1), concatenate([zeros_like(at), at], -1)], -2)
        n = dims(at)[-1]
        return [expm(blocks)[..., :n, n:]]


def right_hand_side(api_name, a, b):
    """b's type checked against a's (see the module's docstring); the solution's static shape."""
    a_shape, b_shape = a.type.shape, b.type.shape
    vector = a.ndim == 2 and b.ndim == 1
    if not vector and b.ndim != a.ndim:
        raise ValueError("%s: b must be a vector or a matrix for a matrix a, or have a's dims for a stack, "
                         "got shapes %s and %s" % (api_name, _fmt(a_shape), _fmt(b_shape)))
    rows = b_shape[0] if vector else b_shape[-2]
    if None not in (rows, a_shape[-1]) and rows != a_shape[-1]:
        raise ValueError("%s: a of shape %s and b of shape %s do not match"
                         % (api_name, _fmt(a_shape), _fmt(b_shape)))
    if vector:
        return (a_shape[-1],)
    return broadcast_static_shapes(api_name, [a_shape[:-2], b_shape[:-2]]) + (a_shape[-1], b_shape[-1])


def times_transpose(u, v):
    """u v^T, vectors as columns (an outer product)."""
    return outer(u, v) if u.ndim == 1 else matmul(u, swap_last(v))


class SolveOp(Op):
    """x with op(a) x = b, for the a and b right_hand_side accepts."""
    api_name = None

    def make_node(self, a, b):
        a, b = float_matrix(self.api_name, a), as_tensor_variable(b)
        dtype = upcast(a.dtype, as_float_dtype(b.dtype))
        a, b = with_dtype(a, dtype), with_dtype(b, dtype)
        return Apply(self, [a, b], [TensorType(dtype, right_hand_side(self.api_name, a, b))])


class Solve(SolveOp):
    """scipy.linalg.solve: a is general ("gen"), or symmetric ("sym"), or positive definite ("pos"),
    these read from the lower or upper triangle only.  x = a^-1 b, so b_bar = a^-T g and
    a_bar = -b_bar x^T (folded onto the triangle read)."""
    api_name = "solve"
    __props__ = ("assume_a", "lower")

    def __init__(self, assume_a="gen", lower=False):
        assume_a = {"her": "sym", "general": "gen", "symmetric": "sym", "positive definite": "pos"}.get(
            assume_a, assume_a)
        if assume_a not in ("gen", "sym", "pos"):
            raise ValueError("solve: assume_a must be 'gen', 'sym', 'her' or 'pos', got %r" % (assume_a,))
        self.assume_a, self.lower = assume_a, bool(lower)

    def pullback(self, inputs, outputs, output_grads):
        a, b = inputs
        transposed = Solve(self.assume_a, not self.lower)      # a^T's triangle read is the other one
        b_bar = transposed(swap_last(a), output_grads[0])
        a_bar = -times_transpose(b_bar, outputs[0])
        if self.assume_a != "gen":
            a_bar = fold_to_triangle(a_bar, self.lower)
        return [unbroadcast(a_bar, a), unbroadcast(b_bar, b)]


class SolveTriangular(SolveOp):
    """scipy.linalg.solve_triangular: op(a) x = b for a triangular a (its other triangle is not
    read, nor its diagonal when unit_diagonal), op(a) = a (trans=0) or a^T (trans=1).  b_bar solves
    with the other op; a_bar = -b_bar x^T (or its transpose), kept on the part of a read."""
    api_name = "solve_triangular"
    __props__ = ("trans", "lower", "unit_diagonal")

    def __init__(self, trans=0, lower=False, unit_diagonal=False):
        trans = {"N": 0, "T": 1, "C": 1, 2: 1}.get(trans, trans)     # "C" is "T" for real matrices
        if trans not in (0, 1):
            raise ValueError("solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got %r" % (trans,))
        self.trans, self.lower, self.unit_diagonal = trans, bool(lower), bool(unit_diagonal)

    def pullback(self, inputs, outputs, output_grads):
        a, b = inputs
        b_bar = SolveTriangular(1 - self.trans, self.lower, self.unit_diagonal)(a, output_grads[0])
        a_bar = -(times_transpose(outputs[0], b_bar) if self.trans else times_transpose(b_bar, outputs[0]))
        strict = 1 if self.unit_diagonal else 0
        a_bar = tril(a_bar, -strict) if self.lower else triu(a_bar, strict)
        return [unbroadcast(a_bar, a), unbroadcast(b_bar, b)]


def cholesky(x, lower=True):
    """The Cholesky factor of a symmetric positive-definite matrix: lower (A = L L^T) or upper."""
    return Cholesky(lower)(x)


def lu_factor(a):
    return LUFactor()(a)


def expm(A):
    """The matrix exponential of a square matrix (or of each in a stack)."""
    return Expm()(A)


def solve(a, b, assume_a="gen", lower=False):
    """x with a @ x = b, as scipy.linalg.solve (and Theano's solve(A, b))."""
    return Solve(assume_a, lower)(a, b)


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False):
    """x with op(a) @ x = b for a triangular a, as scipy.linalg.solve_triangular."""
    return SolveTriangular(trans, lower, unit_diagonal)(a, b)

"""Matrix functions of numpy.linalg as ops: matrix_inverse, det, pinv, lstsq (Theano's nlinalg).

Each takes a square matrix or a stack of them (leading batch dims, as numpy.linalg, jax and
PyTensor's Blockwise ops all allow) and computes in a float dtype.  The helpers here (the
square-matrix check, moving between a matrix's triangle and the whole of it) are shared by the
decompositions and by slinalg."""
from mlcore.graph.basic import Apply, Op, TensorType
from mlcore.graph.ops.common import _fmt, as_float_dtype, as_tensor_variable, upcast, with_dtype
from mlcore.graph.ops.extra_ops import diagonal, dims, eye, tril, triu
from mlcore.graph.ops.linalg import matmul, swap_last
from mlcore.graph.ops.shape import DimShuffle


def check_square(api_name, shape):
    """Raise, naming the function and the shape, unless shape is a (stack of) square matrices;
    None dims pass (the kernels check again with the real shape)."""
    if len(shape) < 2 or (None not in shape[-2:] and shape[-1] != shape[-2]):
        raise ValueError("%s: needs a square matrix or a stack of them, got shape %s" % (api_name, _fmt(shape)))


def check_matrices(api_name, shape):
    if len(shape) < 2:
        raise ValueError("%s: needs a matrix or a stack of them, got shape %s" % (api_name, _fmt(shape)))


def float_matrix(api_name, x, square=True):
    """x as a float variable with >= 2 dims (square ones where asked), else an error naming api_name."""
    x = as_tensor_variable(x)
    (check_square if square else check_matrices)(api_name, x.type.shape)
    return with_dtype(x, as_float_dtype(x.dtype))


class MatrixOp(Op):
    """An op of one (stack of) matrices; api_name is the function users call, for errors."""
    api_name = None
    square = True

    def make_node(self, x):
        x = float_matrix(self.api_name, x, self.square)
        return Apply(self, [x], [TensorType(x.dtype, s) for s in self.output_shapes(x.type.shape)])

    def output_shapes(self, shape):
        return [shape]


# --- helpers for gradients: batched diagonals and triangles --------------------------------------
def expand_to_matrix(v):
    """v (...,) as (..., 1, 1), to scale a stack of matrices."""
    return DimShuffle(list(range(v.ndim)) + ["x", "x"])(v)


def as_rows(v):
    """v (..., n) as (..., 1, n): times a matrix, it scales the columns (as @ diag(v) does)."""
    return DimShuffle(list(range(v.ndim - 1)) + ["x", v.ndim - 1])(v)


def as_columns(v):
    """v (..., n) as (..., n, 1): times a matrix, it scales the rows (as diag(v) @ does)."""
    return DimShuffle(list(range(v.ndim - 1)) + [v.ndim - 1, "x"])(v)


def diag_embed(v):
    """The stack of diagonal matrices with v (..., n) on their diagonals."""
    return eye(dims(v)[-1], dtype=v.dtype) * as_rows(v)


def diag_part(x):
    """The diagonals (..., n) of a stack of matrices (..., n, n)."""
    return diagonal(x, 0, -2, -1)


def fold_to_triangle(g, lower):
    """The gradient wrt a, for a function that reads only a's lower (or upper) triangle as the
    symmetric matrix it stands for, given g, the gradient wrt that symmetric matrix: an entry below
    the diagonal stands for two, so it gets g_ij + g_ji."""
    if lower:
        return tril(g) + tril(swap_last(g), -1)
    return triu(g) + triu(swap_last(g), 1)


def identity_for(x, side):
    """The identity matching x's rows (side=-2) or columns (side=-1)."""
    return eye(dims(x)[side], dtype=x.dtype)


# --- the ops ------------------------------------------------------------------------------------
class MatrixInverse(MatrixOp):
    """inv(A).  d inv = -inv dA inv, so A_bar = -inv^T g inv^T."""
    api_name = "matrix_inverse"

    def pullback(self, inputs, outputs, output_grads):
        inv_t = swap_last(outputs[0])
        return [-matmul(inv_t, matmul(output_grads[0], inv_t))]


class Det(MatrixOp):
    """det(A).  d det = det tr(inv(A) dA), so A_bar = g det inv(A)^T."""
    api_name = "det"

    def output_shapes(self, shape):
        return [shape[:-2]]

    def pullback(self, inputs, outputs, output_grads):
        scale = expand_to_matrix(output_grads[0] * outputs[0])
        return [scale * swap_last(matrix_inverse(inputs[0]))]


class MatrixPinv(MatrixOp):
    """The Moore-Penrose pseudo-inverse X of an m x n matrix A (n x m).  Golub and Pereyra's
    derivative, for A of constant rank: dX = -X dA X + X X^T dA^T (I - A X) + (I - X A) dA^T X^T X."""
    api_name = "pinv"
    square = False

    def output_shapes(self, shape):
        return [shape[:-2] + (shape[-1], shape[-2])]

    def pullback(self, inputs, outputs, output_grads):
        (a,), (x,), (g,) = inputs, outputs, output_grads
        xt, gt = swap_last(x), swap_last(g)
        left_null = identity_for(a, -2) - matmul(a, x)       # I - A X, m x m
        right_null = identity_for(a, -1) - matmul(x, a)      # I - X A, n x n
        return [-matmul(xt, matmul(g, xt)) + matmul(left_null, matmul(gt, matmul(x, xt)))
                + matmul(matmul(xt, x), matmul(gt, right_null))]


def matrix_inverse(x):
    """The inverse of a square matrix (or of each in a stack), as Theano's nlinalg.matrix_inverse."""
    return MatrixInverse()(x)


def det(x):
    """The determinant of a square matrix (or of each in a stack)."""
    return Det()(x)


def pinv(x):
    """The Moore-Penrose pseudo-inverse of a matrix (or of each in a stack)."""
    return MatrixPinv()(x)


class Lstsq(Op):
    """numpy.linalg.lstsq(a, b, rcond) as an op (Theano's nlinalg.lstsq): the least-squares
    solution x of a @ x = b, the sums of squared residuals, the rank of a and its singular values.
    The residuals are empty unless a has full column rank and more rows than columns, so their
    length is known only from the values, as Nonzero's.  No gradient, as in Theano."""
    __props__ = ()

    def make_node(self, a, b, rcond):
        a = float_matrix("lstsq", a, square=False)
        b, rcond = as_tensor_variable(b), as_tensor_variable(rcond)
        if a.ndim != 2 or b.ndim not in (1, 2) or rcond.ndim != 0:
            raise ValueError("lstsq: needs a matrix a, a vector or matrix b and a scalar rcond, got %s, %s and %s"
                             % (a.type, b.type, rcond.type))
        if None not in (a.type.shape[0], b.type.shape[0]) and a.type.shape[0] != b.type.shape[0]:
            raise ValueError("lstsq: a has %d rows but b has %d" % (a.type.shape[0], b.type.shape[0]))
        dtype = upcast(a.dtype, as_float_dtype(b.dtype))
        a, b = with_dtype(a, dtype), with_dtype(b, dtype)
        x_shape = (a.type.shape[1],) + b.type.shape[1:]
        return Apply(self, [a, b, with_dtype(rcond, dtype)],
                     [TensorType(dtype, x_shape), TensorType(dtype, (None,)), TensorType("int64", ()),
                      TensorType(dtype, (None,))])

"""T.nlinalg: Theano's theano.tensor.nlinalg (numpy.linalg's functions).  The inverse, determinant,
pseudo-inverse, least squares and decompositions are ops (mlcore/graph/ops/nlinalg.py,
linalg_decompositions.py); the rest are written with them and the elementwise ops."""
import operator
from functools import reduce as _fold

import numpy as np

from mlcore.graph.ops.common import as_tensor_variable, normalize_axis
from mlcore.graph.ops.elemwise import abs_, cast, maximum, neq, sqrt
from mlcore.graph.ops.extra_ops import diag as numpy_diag, diagonal, dims, eye
from mlcore.graph.ops.linalg import dot, matmul
from mlcore.graph.ops.linalg_decompositions import Eig, Eigh, QR, SVD, eig, eigh, qr, svd  # noqa: F401
from mlcore.graph.ops.nlinalg import Det, Lstsq, MatrixInverse, MatrixPinv, det, matrix_inverse, pinv  # noqa: F401
from mlcore.graph.ops.reduce import max_, min_, sum_
from mlcore.graph.ops.shape import DimShuffle, reshape, transpose
from mlcore.graph.ops.slinalg import solve

inv = matrix_inverse


def trace(X, offset=0, axis1=0, axis2=1):
    """The sum of the diagonal (offset above the main one) of the dims axis1 and axis2."""
    return sum_(diagonal(X, offset, axis1, axis2), axis=-1)


def _of_ndim(name, x, ndim, what):
    """x as a tensor of ndim dims, else the TypeError Theano's nlinalg gives."""
    x = as_tensor_variable(x)
    if x.ndim != ndim:
        raise TypeError("%s: needs %s, got %s" % (name, what, x.type))
    return x


def extract_diag(x):
    """The main diagonal of a matrix, as Theano's extract_diag."""
    return diagonal(_of_ndim("extract_diag", x, 2, "a matrix"))


def alloc_diag(diag_values, offset=0):
    """The square matrix with the vector diag_values on diagonal offset, zeros elsewhere."""
    return numpy_diag(_of_ndim("alloc_diag", diag_values, 1, "a vector"), offset)


def diag(x):
    """Theano's nlinalg.diag: alloc_diag of a vector, extract_diag of a matrix (a TypeError for
    other tensors, where T.diag, numpy's, raises a ValueError)."""
    x = as_tensor_variable(x)
    if x.ndim not in (1, 2):
        raise TypeError("diag: needs a vector or a matrix, got %s" % (x.type,))
    return alloc_diag(x) if x.ndim == 1 else extract_diag(x)


def matrix_dot(*args):
    """The product of all the matrices given, left to right: matrix_dot(a, b, c) = a @ b @ c."""
    return _fold(dot, args)


def matrix_power(M, n):
    """M to the integer power n, by repeated squaring (n < 0: of M's inverse), as numpy's."""
    M = as_tensor_variable(M)
    if int(n) != n:
        raise TypeError("matrix_power: n must be an integer, got %r" % (n,))
    n = int(n)
    if n < 0:
        M, n = matrix_inverse(M), -n
    result, square = None, M
    while n:
        if n & 1:
            result = square if result is None else matmul(result, square)
        n >>= 1
        if n:
            square = matmul(square, square)
    return eye(dims(M)[-1], dtype=M.dtype) + M * 0 if result is None else result   # M * 0: one per matrix


def norm(x, ord=None, axis=None, keepdims=False):
    """numpy.linalg.norm: a vector norm over one axis, a matrix norm over two (the last two of a
    matrix); axis None: a vector's or a matrix's norm (ord None: the 2-norm of x flattened), and
    as Theano's, a scalar or a tensor of more dims is refused.  ord may also be Theano's strings
    'inf', '-inf' and 'fro'."""
    x = as_tensor_variable(x)
    ord = {"inf": np.inf, "-inf": -np.inf}.get(ord, ord)
    if axis is None and x.ndim == 0:
        raise ValueError("norm: needs a vector or a matrix, got the scalar %s" % (x.type,))
    if axis is None and x.ndim > 2:
        raise NotImplementedError("norm: a %d-d tensor needs axis=, one axis or two (Theano has no norm "
                                  "for more than 2 dims)" % x.ndim)
    if axis is None and ord is None:
        return sqrt(sum_(x * x, keepdims=keepdims))
    if axis is None:
        axis = tuple(range(x.ndim))
    axes = normalize_axis(axis, x.ndim, "norm")
    if isinstance(axis, (int, np.integer)) or len(axes) == 1:
        return vector_norm(x, ord, axes[0], keepdims)
    if len(axes) != 2:
        raise ValueError("norm: axis must be one or two axes, got %r" % (axis,))
    rows, cols = (normalize_axis(a, x.ndim, "norm")[0] for a in axis)
    return matrix_norm(x, ord, rows, cols, keepdims)


def vector_norm(x, ord, axis, keepdims):
    magnitude = abs_(x)
    if ord is None or ord == 2:
        return sqrt(sum_(x * x, axis, keepdims))
    if ord == np.inf:
        return max_(magnitude, axis, keepdims)
    if ord == -np.inf:
        return min_(magnitude, axis, keepdims)
    if ord == 0:
        return sum_(cast(neq(x, 0), x.dtype), axis, keepdims)
    if isinstance(ord, str):
        raise ValueError("norm: ord %r is not a vector norm" % (ord,))
    return sum_(magnitude ** ord, axis, keepdims) ** (1.0 / ord)


def matrix_norm(x, ord, rows, cols, keepdims):
    """A matrix norm over the dims rows and cols of x."""
    if ord in (2, -2, "nuc"):
        others = [d for d in range(x.ndim) if d not in (rows, cols)]
        singular_values = SVD(compute_uv=False)(transpose(x, others + [rows, cols]))
        reducer = {2: max_, -2: min_, "nuc": sum_}[ord]
        out = reducer(singular_values, axis=-1)
        if keepdims:
            order = list(range(len(others)))
            for d in sorted((rows, cols)):
                order.insert(d, "x")
            out = DimShuffle(order)(out)
        return out
    if ord in (None, "fro", "f"):
        out = sqrt(sum_(x * x, (rows, cols), keepdims=True))
    elif ord in (np.inf, -np.inf, 1, -1):
        summed, across = (cols, rows) if ord in (np.inf, -np.inf) else (rows, cols)
        out = (max_ if ord > 0 else min_)(sum_(abs_(x), summed, keepdims=True), across, keepdims=True)
    else:
        raise ValueError("norm: invalid ord %r for a matrix norm" % (ord,))
    if keepdims:
        return out
    return DimShuffle([d for d in range(x.ndim) if d not in (rows, cols)])(out)


def lstsq(a=None, b=None, rcond=-1):
    """The least-squares solution of a @ x = b, as numpy.linalg.lstsq: [x, residuals, rank,
    singular values of a], singular values below rcond times the largest counting as zero (-1:
    machine precision, None: numpy's default, that precision times max(a's rows, columns)).
    Theano 1.0's lstsq was the op class, called as lstsq()(a, b, rcond): called without a, this
    gives that op."""
    if a is None:
        return Lstsq()
    if rcond is None:
        a = as_tensor_variable(a)
        rcond = np.finfo(a.dtype if a.dtype.startswith("float") else "float64").eps * maximum(*dims(a))
    return Lstsq()(a, b, rcond)


def tensorinv(a, ind=2):
    """The inverse of a taken as a linear map from its first ind dims to the others, as
    numpy.linalg.tensorinv: tensordot(tensorinv(a, ind), a, ind) is the identity; the result has
    shape a.shape[ind:] + a.shape[:ind].  The gradient is the matrix inverse's."""
    a = as_tensor_variable(a)
    if not 0 < ind < a.ndim:
        raise ValueError("tensorinv: ind must be between 1 and a.ndim - 1 = %d, got %r" % (a.ndim - 1, ind))
    sizes = dims(a)
    rows, cols = _product(sizes[:ind]), _product(sizes[ind:])
    return reshape(matrix_inverse(reshape(a, [rows, cols])), sizes[ind:] + sizes[:ind])


def tensorsolve(a, b, axes=None):
    """x with tensordot(a, x, x.ndim) = b, as numpy.linalg.tensorsolve: a has shape b.shape + Q, x
    shape Q, and prod(Q) = prod(b.shape); axes (of a) are moved to the end first.  The gradient is
    solve's."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if axes is not None:
        moved = normalize_axis(axes, a.ndim, "tensorsolve")
        a = transpose(a, [d for d in range(a.ndim) if d not in moved] + list(moved))
    if a.ndim <= b.ndim:
        raise ValueError("tensorsolve: a needs more dims than b (b.shape + Q), got %s and %s" % (a.type, b.type))
    sizes = dims(a)
    solution_shape = sizes[b.ndim:]
    matrix = reshape(a, [_product(sizes[:b.ndim]), _product(solution_shape)])
    return reshape(solve(matrix, reshape(b, [_product(dims(b))])), solution_shape)


def _product(sizes):
    """The product of a list of ints and symbolic sizes (1 for none)."""
    return _fold(operator.mul, sizes, 1)

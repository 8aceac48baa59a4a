"""theano.sparse's operations, each written with dense ops on a SparseVariable's parts.

Structured operations (Theano's word) act on the stored entries only: they keep the pattern and
change data, so f(0) need not be 0.  A product with a dense operand gathers that operand at the
stored entries and scatter-adds into the dense result (one gather, one scatter-add per product); an
operation whose result has a new pattern (sparse + sparse, the conversions) finds it with nonzero,
whose size depends on the values.  T.grad with respect to a SparseVariable gives the gradient of its
stored values, as a SparseVariable of the same pattern (Theano's structured gradient).
"""
import scipy.sparse

import mlcore.tensor as T
from mlcore.sparse.indexing import getitem
from mlcore.sparse.variable import (INDEX_DTYPE, OTHER_FORMAT, SparseVariable, as_sparse_variable, dense_shape,
                                    entry_coordinates, held_format, is_sparse, with_data)


# --- parts, conversions ---------------------------------------------------------------------------
def csm_properties(x):
    """(data, indices, indptr, shape) of a sparse matrix, as Theano's."""
    return as_sparse_variable(x).components


def csm_data(x):
    return csm_properties(x)[0]


def csm_indices(x):
    return csm_properties(x)[1]


def csm_indptr(x):
    return csm_properties(x)[2]


def csm_shape(x):
    return csm_properties(x)[3]


class CSM:
    """Theano's CSM(format): CSR(data, indices, indptr, shape) builds a sparse matrix from its parts."""

    def __init__(self, format):
        self.format = format

    def __call__(self, data, indices, indptr, shape):
        parts = [T.as_tensor_variable(p) for p in (indices, indptr, shape)]
        return SparseVariable(self.format, T.as_tensor_variable(data), *(T.cast(p, INDEX_DTYPE) for p in parts))

    def __repr__(self):
        return "CSM{%s}" % self.format


CSR, CSC = CSM("csr"), CSM("csc")


def dense_from_sparse(x):
    """The dense matrix (stored entries scatter-added into zeros, so duplicates add up, as in scipy)."""
    x = as_sparse_variable(x)
    rows, cols = entry_coordinates(x)
    return T.inc_subtensor(T.zeros(dense_shape(x), dtype=x.dtype)[rows, cols], x.data)


def _from_dense(dense, format):
    dense = T.as_tensor_variable(dense)
    if dense.ndim != 2:
        raise TypeError("%s_from_dense: expects a matrix, got %s" % (format, dense.type))
    major = dense if format == "csr" else dense.T        # nonzero walks the compressed axis first
    compressed, indices = T.nonzero(major)
    rows, cols = (compressed, indices) if format == "csr" else (indices, compressed)
    indptr = T.extra_ops.searchsorted(compressed, T.arange(major.shape[0] + 1), side="left")
    shape = T.stack([dense.shape[0], dense.shape[1]])
    return CSM(format)(dense[rows, cols], indices, indptr, shape)


def csr_from_dense(x):
    return _from_dense(x, "csr")


def csc_from_dense(x):
    return _from_dense(x, "csc")


def transpose(x):
    """x.T: the same arrays read in the other format (CSR of A is CSC of A.T)."""
    x = as_sparse_variable(x)
    return SparseVariable(OTHER_FORMAT[x.format], x.data, x.indices, x.indptr, x.shape[::-1])


def cast(x, dtype):
    return as_sparse_variable(x).astype(dtype)


def _cast_to(dtype):
    return lambda x: cast(x, dtype)


# Theano's casts by dtype letter: int8 (b), int16 (w), int32 (i), int64 (l), float32, float64, complex64, complex128
bcast, wcast, icast, lcast = _cast_to("int8"), _cast_to("int16"), _cast_to("int32"), _cast_to("int64")
fcast, dcast, ccast, zcast = _cast_to("float32"), _cast_to("float64"), _cast_to("complex64"), _cast_to("complex128")


def remove0(x):
    """x without stored zeros, its indices sorted (scipy's eliminate_zeros and sort_indices)."""
    x = as_sparse_variable(x)
    return _from_dense(dense_from_sparse(x), x.format)


clean = ensure_sorted_indices = remove0


def sp_ones_like(x):
    x = as_sparse_variable(x)
    return with_data(x, T.ones_like(x.data))


def sp_zeros_like(x):
    """A matrix of x's shape and format that stores nothing."""
    x = as_sparse_variable(x)
    empty = T.zeros((0,), dtype=INDEX_DTYPE)
    return SparseVariable(x.format, T.zeros((0,), dtype=x.dtype), empty, T.zeros_like(x.indptr), x.shape)


def square_diagonal(diag):
    """The square CSC matrix with diag on its diagonal."""
    diag = T.as_tensor_variable(diag)
    n = diag.shape[0]
    return CSC(diag, T.arange(n), T.arange(n + 1), T.stack([n, n]))


# --- structured operations: f of the stored entries ------------------------------------------------
def _structured(fn, doc):
    def operation(x, *args):
        x = as_sparse_variable(x)
        return with_data(x, fn(x.data, *args))
    operation.__doc__ = doc
    return operation


structured_sigmoid = _structured(T.nnet.sigmoid, "sigmoid of the stored entries")
structured_exp = _structured(T.exp, "exp of the stored entries")
structured_log = _structured(T.log, "log of the stored entries")
structured_pow = _structured(lambda data, y: data ** y, "stored entries ** y (a scalar)")
structured_minimum = _structured(T.minimum, "minimum of the stored entries and y (a scalar)")
structured_maximum = _structured(T.maximum, "maximum of the stored entries and y (a scalar)")
structured_add = _structured(lambda data, y: data + y, "stored entries + y (a scalar)")

# Theano's elementwise functions with f(0) = 0, so that acting on the stored entries is exact.
_ZERO_PRESERVING = {"neg": T.neg, "abs_": abs, "sqr": T.sqr, "sqrt": T.sqrt, "sin": T.sin, "tan": T.tan,
                    "arcsin": T.arcsin, "arctan": T.arctan, "sinh": T.sinh, "arcsinh": T.arcsinh,
                    "tanh": T.tanh, "arctanh": T.arctanh, "rint": T.round, "sgn": T.sgn, "ceil": T.ceil,
                    "floor": T.floor, "trunc": T.trunc, "log1p": T.log1p, "expm1": T.expm1,
                    "deg2rad": T.deg2rad, "rad2deg": T.rad2deg}
globals().update((name, _structured(fn, "%s of a sparse matrix (0 stays 0)" % name))
                 for name, fn in _ZERO_PRESERVING.items())


def row_scale(x, s):
    """x with row i multiplied by s[i]."""
    x = as_sparse_variable(x)
    rows, _ = entry_coordinates(x)
    return with_data(x, x.data * T.as_tensor_variable(s)[rows])


def col_scale(x, s):
    """x with column j multiplied by s[j]."""
    x = as_sparse_variable(x)
    _, cols = entry_coordinates(x)
    return with_data(x, x.data * T.as_tensor_variable(s)[cols])


# --- arithmetic -------------------------------------------------------------------------------------
def _at_entries(x, dense):
    """A dense operand's values at x's stored entries (broadcast to x's shape first where it has
    fewer dims or dims of 1)."""
    rows, cols = entry_coordinates(x)
    dense = T.as_tensor_variable(dense)
    if dense.ndim == 0:
        return dense
    if dense.ndim == 1:
        return dense[cols]
    if 1 in dense.type.shape:
        dense = dense + T.zeros(dense_shape(x), dtype=dense.dtype)
    return dense[rows, cols]


def _sparse_pair(combine, x, y):
    """combine of two sparse matrices, sparse in x's format.  Of one pattern (the same index arrays:
    a weight and its gradient, w - lr * gw) it combines the stored values, in the graph's shapes;
    of two patterns it finds the result's with nonzero (its size follows the values)."""
    if x.format == y.format and x.indices is y.indices and x.indptr is y.indptr:
        return with_data(x, combine(x.data, y.data))
    return _from_dense(combine(dense_from_sparse(x), dense_from_sparse(y)), x.format)


def mul(x, y):
    """Elementwise product.  With a dense operand (or a scalar) it keeps the sparse operand's pattern;
    of two sparse matrices it stores where both store (in x's format)."""
    if not is_sparse(x):
        x, y = y, x
    x = as_sparse_variable(x)
    if is_sparse(y):
        return _sparse_pair(lambda a, b: a * b, x, y)
    return with_data(x, x.data * _at_entries(x, y))


def add(x, y):
    """x + y: sparse where both are sparse (in x's format), dense where one is dense, as Theano's."""
    if is_sparse(x) and is_sparse(y):
        return _sparse_pair(lambda a, b: a + b, x, y)
    return _dense(x) + _dense(y)


def sub(x, y):
    if is_sparse(x) and is_sparse(y):
        return _sparse_pair(lambda a, b: a - b, x, y)
    return _dense(x) - _dense(y)


def _dense(x):
    return dense_from_sparse(x) if is_sparse(x) else T.as_tensor_variable(x)


def _comparison(compare, name):
    def operation(x, y):
        result = T.cast(compare(_dense(x), _dense(y)), "uint8")
        return _from_dense(result, x.format) if is_sparse(x) and is_sparse(y) else result
    operation.__doc__ = ("x %s y as uint8, as Theano's: a sparse matrix (x's format) of two sparse ones, else "
                         "dense" % name)
    return operation


eq, neq = _comparison(T.eq, "=="), _comparison(T.neq, "!=")
lt, gt, le, ge = (_comparison(T.lt, "<"), _comparison(T.gt, ">"), _comparison(T.le, "<="),
                  _comparison(T.ge, ">="))


def sp_sum(x, axis=None, sparse_grad=False):
    """Sum of a sparse matrix (axis None, 0 or 1), dense.  Its gradient with respect to x is the
    structured one (sparse_grad=True's); sparse_grad is accepted for Theano's signature."""
    x = as_sparse_variable(x)
    if axis is None:
        return x.data.sum()
    if axis not in (0, 1, -1, -2):
        raise ValueError("sp_sum: axis must be None, 0 or 1, got %r" % (axis,))
    coordinate = entry_coordinates(x)[1 - axis % 2]
    return T.inc_subtensor(T.zeros((x.shape[1 - axis % 2],), dtype=x.dtype)[coordinate], x.data)


# --- products ---------------------------------------------------------------------------------------
def structured_dot(x, y):
    """x @ y with x sparse and y dense (a matrix or a vector): each stored entry times its row of y,
    scatter-added into its row of the result.  Dense @ sparse is (sparse.T @ dense.T).T; sparse @
    sparse is a sparse matrix in x's format."""
    if is_sparse(x) and is_sparse(y):
        return _from_dense(T.dot(dense_from_sparse(x), dense_from_sparse(y)), x.format)
    if not is_sparse(x):
        return structured_dot(transpose(y), T.as_tensor_variable(x).T).T
    y = T.as_tensor_variable(y)
    if y.ndim not in (1, 2):
        raise TypeError("structured_dot: the dense operand must be a vector or a matrix, got %s" % (y.type,))
    rows, cols = entry_coordinates(x)
    terms = x.data * y[cols] if y.ndim == 1 else x.data[:, None] * y[cols]
    out_shape = (x.shape[0],) if y.ndim == 1 else (x.shape[0], y.shape[1])
    return T.inc_subtensor(T.zeros(out_shape, dtype=terms.dtype)[rows], terms)


dot = true_dot = structured_dot


def sampling_dot(x, y, p):
    """(x @ y.T) at p's stored entries, times p's values (Theano's SamplingDot), in p's format."""
    p = as_sparse_variable(p)
    rows, cols = entry_coordinates(p)
    x, y = T.as_tensor_variable(x), T.as_tensor_variable(y)
    return with_data(p, p.data * (x[rows] * y[cols]).sum(axis=1))


# --- stacking ---------------------------------------------------------------------------------------
def _stack(join, blocks, format, dtype):
    blocks = [as_sparse_variable(b) for b in blocks]
    dense = join([dense_from_sparse(b) for b in blocks])
    if dtype is not None:
        dense = T.cast(dense, dtype)
    return _from_dense(dense, format or blocks[0].format)


def hstack(blocks, format=None, dtype=None):
    return _stack(lambda ds: T.concatenate(ds, axis=1), blocks, format, dtype)


def vstack(blocks, format=None, dtype=None):
    return _stack(lambda ds: T.concatenate(ds, axis=0), blocks, format, dtype)


# --- checking gradients -----------------------------------------------------------------------------
def verify_grad_sparse(op, pt, structured=False, *args, **kwargs):
    """Theano's verify_grad_sparse: mlcore.gradient.verify_grad of op at the points pt (scipy.sparse
    matrices and arrays), each sparse point varied through its stored values and a sparse result
    compared as a dense matrix.  Only structured=True can be checked: a sparse matrix here carries
    values (and gradients) at its stored entries alone, so the gradient at an entry not stored,
    which structured=False asks for, is not defined."""
    from mlcore.gradient import verify_grad
    if not structured:
        raise NotImplementedError("verify_grad_sparse(structured=False): mlcore's sparse gradients are "
                                  "structured (stored entries only); pass structured=True")
    pt = [p.asformat(held_format(p)) if scipy.sparse.issparse(p) else p for p in pt]
    builders = [(lambda data, p=p: CSM(p.format)(data, p.indices, p.indptr, p.shape)) if scipy.sparse.issparse(p)
                else (lambda value: value) for p in pt]

    def with_dense_result(*values):
        out = op(*[build(v) for build, v in zip(builders, values)])
        return dense_from_sparse(out) if is_sparse(out) else out
    return verify_grad(with_dense_result, [p.data if scipy.sparse.issparse(p) else p for p in pt], *args, **kwargs)


# --- a SparseVariable's operators and methods, as Theano's --------------------------------------------
def _reflected(operation):
    return lambda self, other: operation(other, self)


for _name, _method in {"__add__": add, "__radd__": _reflected(add), "__sub__": sub, "__rsub__": _reflected(sub),
                       "__mul__": mul, "__rmul__": _reflected(mul), "__lt__": lt, "__gt__": gt, "__le__": le,
                       "__ge__": ge, "__dot__": dot, "__rdot__": _reflected(dot), "__getitem__": getitem,
                       "toarray": dense_from_sparse, "sum": sp_sum, "zeros_like": sp_zeros_like,
                       "T": property(transpose)}.items():
    setattr(SparseVariable, _name, _method)

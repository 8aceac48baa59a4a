"""Sparse matrices in a graph, as theano.sparse has them, built on the dense graph.

A sparse matrix is held as the four dense arrays of its compressed form, as scipy.sparse holds it:
data (the stored values), indices (their columns in CSR, rows in CSC), indptr (where each row, or
column, starts in data) and shape.  A SparseVariable is those four symbolic variables plus the format,
so every sparse operation is written with the dense ops every backend already runs (gathers and
scatter-adds over the stored entries, as jax.experimental.sparse does), gradients included.  The
number of stored entries is a run-time size, as a batch size is: the jax backend compiles once per
number of entries.
"""
import numpy as np
import scipy.sparse

import mlcore.tensor as T
from mlcore import config
from mlcore.graph.basic import Constant

FORMATS = ("csr", "csc")
OTHER_FORMAT = {"csr": "csc", "csc": "csr"}     # the format of the transpose of the same arrays
INDEX_DTYPE = "int32"    # scipy's and Theano's dtype of indices, indptr and shape


class SparseType:
    """Theano's SparseType: a format and a dtype (x.type.format, x.type.dtype)."""

    def __init__(self, format, dtype):
        if format not in FORMATS:
            raise ValueError("sparse format %r is not offered; use one of %s" % (format, ", ".join(FORMATS)))
        self.format, self.dtype, self.ndim = format, np.dtype(dtype).name, 2

    def __eq__(self, other):
        return isinstance(other, SparseType) and (self.format, self.dtype) == (other.format, other.dtype)

    def __hash__(self):
        return hash((self.format, self.dtype))

    def __call__(self, name=None):
        return matrix(self.format, name, self.dtype)

    def __repr__(self):
        return "Sparse[%s, %s]" % (self.format, self.dtype)


SparseTensorType = SparseType     # PyTensor's name


class SparseVariable:
    """A sparse matrix in a graph: format plus the symbolic data, indices, indptr and shape.
    Arithmetic follows theano.sparse (x * y, x + y, x.T, x.toarray(), T.dot(x, w))."""

    ndim = 2
    handles_dense_operands = True     # dense_variable + sparse comes here (__radd__), not to the dense graph

    def __init__(self, format, data, indices, indptr, shape, name=None):
        self.type = SparseType(format, data.dtype)
        self.data, self.indices, self.indptr, self.shape = data, indices, indptr, shape
        self.name = name

    format = property(lambda self: self.type.format)
    dtype = property(lambda self: self.type.dtype)
    components = property(lambda self: (self.data, self.indices, self.indptr, self.shape))

    @property
    def wrt_variable(self):
        """What T.grad differentiates for this matrix: its stored values (Theano's structured gradient)."""
        return self.data

    def gradient_from(self, data_grad):
        """The gradient T.grad returns for this matrix: data_grad at its stored entries."""
        return SparseVariable(self.format, data_grad, self.indices, self.indptr, self.shape)

    def __repr__(self):
        return self.name or "SparseVariable{%s,%s}" % (self.format, self.dtype)

    def astype(self, dtype):
        return with_data(self, T.cast(self.data, dtype))

    def __neg__(self):
        return with_data(self, -self.data)

    # the operators and the other methods (x + y, T.dot's __dot__, x.T, x[i], x.toarray(), ...) are
    # set where the operations are written, at the end of mlcore/sparse/basic.py


def is_sparse(x):
    return isinstance(x, SparseVariable)


def with_data(x, data):
    """x's pattern with other stored values (a structured operation's result)."""
    return SparseVariable(x.format, data, x.indices, x.indptr, x.shape)


def matrix(format, name=None, dtype=None, shape=None):
    """A symbolic sparse input (Theano's sparse.matrix): its four parts are fresh graph inputs.
    shape=(rows, cols) is accepted for PyTensor's signature; the size is read from each value."""
    dtype = dtype or config.floatx()
    prefix = name or format
    data = T.vector("%s.data" % prefix, dtype=dtype)
    indices, indptr = (T.vector("%s.%s" % (prefix, part), dtype=INDEX_DTYPE) for part in ("indices", "indptr"))
    size = T.tensor(dtype=INDEX_DTYPE, shape=(2,), name="%s.shape" % prefix)
    return SparseVariable(SparseType(format, dtype).format, data, indices, indptr, size, name=name)


def csr_matrix(name=None, dtype=None, shape=None):
    return matrix("csr", name, dtype, shape)


def csc_matrix(name=None, dtype=None, shape=None):
    return matrix("csc", name, dtype, shape)


def _typed(format, dtype):
    return lambda name=None, shape=None: matrix(format, name, dtype, shape)


csr_fmatrix, csr_dmatrix = _typed("csr", "float32"), _typed("csr", "float64")
csc_fmatrix, csc_dmatrix = _typed("csc", "float32"), _typed("csc", "float64")


def held_format(value):
    """The format a scipy.sparse matrix is held in here: CSC stays CSC, every other becomes CSR."""
    return "csc" if value.format == "csc" else "csr"


def as_sparse_variable(x, name=None):
    """A SparseVariable for x: itself, or a constant for a scipy.sparse matrix (made CSR unless CSC)."""
    if isinstance(x, SparseVariable):
        return x
    if not scipy.sparse.issparse(x):
        raise TypeError("as_sparse_variable: %r is neither a SparseVariable nor a scipy.sparse matrix" % (x,))
    format = held_format(x)
    parts = split_value(x, format)
    constants = [Constant(T.TensorType(p.dtype, p.shape), p) for p in parts]
    return SparseVariable(format, *constants, name=name)


as_sparse = as_sparse_variable


def split_value(value, format, dtype=None, name="sparse input", allow_downcast=None):
    """A scipy.sparse matrix as the four arrays of `format` (its values cast by the dense inputs'
    rules), or an error naming the input."""
    if not scipy.sparse.issparse(value):
        raise TypeError("%s expects a scipy.sparse matrix, got %s" % (name, type(value).__name__))
    value = value.asformat(format)
    data = value.data if dtype is None else T.TensorType(dtype, (None,)).filter(value.data, name, allow_downcast)
    return (data, value.indices.astype(INDEX_DTYPE), value.indptr.astype(INDEX_DTYPE),
            np.asarray(value.shape, dtype=INDEX_DTYPE))


def join_value(format, data, indices, indptr, shape):
    """The scipy.sparse matrix of four computed arrays."""
    cls = scipy.sparse.csr_matrix if format == "csr" else scipy.sparse.csc_matrix
    return cls((np.asarray(data), np.asarray(indices), np.asarray(indptr)), shape=tuple(int(s) for s in shape))


def entry_coordinates(x):
    """(rows, cols) of each stored entry: the compressed axis of each entry is the row (CSR) or
    column (CSC) whose span of indptr holds it."""
    positions = T.arange(x.data.shape[0])
    compressed = T.cast(T.extra_ops.searchsorted(x.indptr[1:], positions, side="right"), INDEX_DTYPE)
    return (compressed, x.indices) if x.format == "csr" else (x.indices, compressed)


def dense_shape(x):
    return (x.shape[0], x.shape[1])


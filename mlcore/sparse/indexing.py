"""Indexing a sparse matrix, as Theano's x[...] on sparse variables, without making it dense.

Picking rows of a CSR matrix (columns of a CSC one) copies their spans of data and indices: one
gather.  Picking along the other axis first re-sorts the entries into the other format (one
argsort), picks there and sorts back.  A minibatch of rows of a large sparse shared matrix,
x[i * 64:(i + 1) * 64], costs what the rows hold, not rows times columns.
"""
import numpy as np

import mlcore.tensor as T
from mlcore.sparse.variable import INDEX_DTYPE, OTHER_FORMAT, SparseVariable, entry_coordinates


def convert(x, format):
    """x in `format` (CSR <-> CSC) by sorting its entries on (compressed, other) coordinates."""
    if x.format == format:
        return x
    rows, cols = entry_coordinates(x)
    major, minor = (rows, cols) if format == "csr" else (cols, rows)
    major_size = x.shape[0] if format == "csr" else x.shape[1]
    minor_size = T.cast(x.shape[1] if format == "csr" else x.shape[0], "int64")
    order = T.argsort(T.cast(major, "int64") * minor_size + minor, kind="stable")
    indptr = T.extra_ops.searchsorted(major[order], T.arange(major_size + 1), side="left")
    return SparseVariable(format, x.data[order], minor[order], T.cast(indptr, INDEX_DTYPE), x.shape)


def take_compressed(x, positions):
    """The rows (CSR) or columns (CSC) at `positions` (a vector, repeats allowed), in that order."""
    starts, stops = x.indptr[positions], x.indptr[positions + 1]
    new_indptr = T.concatenate([T.zeros((1,), dtype=INDEX_DTYPE), T.cast(T.cumsum(stops - starts), INDEX_DTYPE)])
    entry = T.arange(new_indptr[-1])
    owner = T.extra_ops.searchsorted(new_indptr[1:], entry, side="right")
    source = starts[owner] + (entry - new_indptr[owner])
    count = T.cast(positions.shape[0], INDEX_DTYPE)
    shape = T.stack([count, x.shape[1]]) if x.format == "csr" else T.stack([x.shape[0], count])
    return SparseVariable(x.format, x.data[source], x.indices[source], new_indptr, shape)


def _positions(key, size):
    """The positions an axis's key picks: a slice (any bounds and step), an int (one position, as
    Theano's x[i] gives a 1-row matrix), or a list or vector of ints."""
    if isinstance(key, slice):
        return None if key == slice(None) else T.arange(size)[key]
    key = T.as_tensor_variable(key)
    if key.dtype.startswith("float") or key.ndim > 1:
        raise TypeError("sparse indexing: %s is not an int, a slice or a vector of ints" % (key,))
    key = T.cast(key, "int64")
    return (key % size).dimshuffle("x") if key.ndim == 0 else key % size


def _is_scalar(key):
    return isinstance(key, (int, np.integer)) or (hasattr(key, "ndim") and key.ndim == 0)


def getitem(x, key):
    """Theano's x[key]: x[i, j] a dense scalar, x[list1, list2] a dense vector of those entries,
    anything else (slices, ints, lists, vectors per axis) a sparse matrix of x's format."""
    key = key if isinstance(key, tuple) else (key,)
    if len(key) > 2 or any(k is Ellipsis or k is None for k in key):
        raise IndexError("sparse indexing takes one or two keys (rows, columns) of ints, slices or int vectors, "
                         "got %r" % (key,))
    key = key + (slice(None),) * (2 - len(key))
    if all(_is_scalar(k) for k in key) or all(isinstance(k, (list, np.ndarray)) for k in key):
        return _entries(x, *key)
    rows, cols = _positions(key[0], x.shape[0]), _positions(key[1], x.shape[1])
    compressed, other = (rows, cols) if x.format == "csr" else (cols, rows)
    if compressed is not None:
        x = take_compressed(x, compressed)
    if other is not None:
        x = convert(take_compressed(convert(x, OTHER_FORMAT[x.format]), other), x.format)
    return x


def _entries(x, row_keys, col_keys):
    """x's values at (row_keys[k], col_keys[k]): a scalar for two ints, else a vector (stored
    duplicates add up, an entry not stored is 0)."""
    scalar = _is_scalar(row_keys)
    wanted_rows, wanted_cols = _positions(row_keys, x.shape[0]), _positions(col_keys, x.shape[1])
    rows, cols = entry_coordinates(x)
    match = T.eq(wanted_rows[:, None], rows[None, :]) & T.eq(wanted_cols[:, None], cols[None, :])
    values = T.switch(match, x.data[None, :], T.zeros((), dtype=x.dtype)).sum(axis=1)
    return values[0] if scalar else values

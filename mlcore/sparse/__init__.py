"""theano.sparse: sparse matrices in graphs (`import mlcore.sparse as sparse`).

    x = sparse.csr_matrix("x")                      # takes a scipy.sparse matrix
    y = sparse.structured_dot(x, w)                 # or T.dot(x, w): dense
    f = mlcore.function([x], y)

See mlcore/sparse/variable.py for how a sparse matrix lives in the dense graph.
"""
from mlcore.sparse.basic import *  # noqa: F401,F403
from mlcore.sparse.sharedvar import SparseSharedVariable, SparseTensorSharedVariable, shared  # noqa: F401
from mlcore.sparse.variable import (SparseTensorType, SparseType, SparseVariable, as_sparse,  # noqa: F401
                                    as_sparse_variable, csc_dmatrix, csc_fmatrix, csc_matrix, csr_dmatrix, csr_fmatrix, csr_matrix,
                                    is_sparse, matrix)

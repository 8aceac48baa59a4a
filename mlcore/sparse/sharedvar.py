"""Sparse shared variables: theano.shared(scipy_matrix), a sparse matrix kept between calls.

Its four parts are shared variables of their own, so a function's updates may give it a new
pattern (another number of stored entries), as Theano's sparse shared variables allow.
"""
import scipy.sparse

from mlcore.graph.basic import SharedVariable
from mlcore.sparse.variable import SparseVariable, held_format, join_value, split_value

PARTS = ("data", "indices", "indptr", "shape")


class SparseSharedVariable(SparseVariable):
    """A SparseVariable whose parts are shared variables; get_value() gives a scipy.sparse matrix."""

    def __init__(self, value, name=None, strict=False, format=None):
        format = format or held_format(value)
        label = name or "sparse"
        parts = [SharedVariable(part, name="%s.%s" % (label, which), strict=strict)
                 for which, part in zip(PARTS, split_value(value, format))]
        super().__init__(format, *parts, name=name)

    def get_value(self, borrow=False, return_internal_type=False):
        return join_value(self.format, *(part.get_value() for part in self.components))

    def set_value(self, value, borrow=False):
        for part, array in zip(self.components, split_value(value, self.format, self.dtype, self.name or "sparse")):
            part.set_value(array)


SparseTensorSharedVariable = SparseSharedVariable     # Theano's name


def shared(value, name=None, strict=False, allow_downcast=None, borrow=False, format=None):
    """Theano's sparse.shared (also what mlcore.shared makes of a scipy.sparse matrix)."""
    if not scipy.sparse.issparse(value):
        raise TypeError("sparse.shared: expects a scipy.sparse matrix, got %s" % type(value).__name__)
    return SparseSharedVariable(value, name, strict, format)

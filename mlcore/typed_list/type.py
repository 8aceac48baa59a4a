"""TypedListType: the type of a list whose items all have one tensor type (Theano's typed_list).

A list of arrays is a host Python value: jax.jit traces arrays, and PyTensor's compiled graphs hold
tensors, so neither can carry one.  A function whose graph holds a typed list therefore runs on the
numpy backend, the reference interpreter, whichever backend is asked (host_backend).  Inside the
graph a list's value is a 1-d numpy object array of the items (so the interpreter's array handling
passes it through unchanged); the function takes and gives Python lists.
"""
import numpy as np

from mlcore.graph.basic import TensorType, Variable, toposort


class TypedListType:
    """TypedListType(T.fvector): lists of float32 vectors.  Calling it makes a variable."""

    dtype, numpy_dtype, shape, ndim, static_dims = "object", np.dtype(object), (None,), 1, ()

    def __init__(self, ttype, depth=0):
        made = ttype() if callable(ttype) and not isinstance(ttype, TensorType) else None
        ttype = made.type if isinstance(made, Variable) else ttype
        if not isinstance(ttype, TensorType):
            raise TypeError("TypedListType takes the items' tensor type, such as T.fvector, not %r" % (ttype,))
        if depth:
            raise NotImplementedError("TypedListType: lists of lists (depth=%d) are not supported" % depth)
        self.ttype = ttype

    def __call__(self, name=None):
        return TypedListVariable(self, name=name)

    def __eq__(self, other):
        return isinstance(other, TypedListType) and self.ttype == other.ttype

    def __hash__(self):
        return hash(("TypedList", self.ttype))

    def __repr__(self):
        return "TypedList <%r>" % (self.ttype,)

    def allows_shape(self, shape):
        return len(shape) == 1

    def filter(self, value, name, allow_downcast=False, native=()):
        """A list (or tuple) of arrays of the item type, as the graph's object array; errors name the input."""
        if not isinstance(value, (list, tuple, np.ndarray)) or (isinstance(value, np.ndarray) and value.dtype != object):
            raise TypeError("Input %s is a typed list of %r: pass a Python list of arrays, not %s"
                            % (name, self.ttype, type(value).__name__))
        return as_items([self.ttype.filter(item, "%s[%d]" % (name, k), allow_downcast) for k, item in enumerate(value)])


def as_items(values):
    """A 1-d object array holding these arrays as they are (np.array would stack equal shapes)."""
    items = np.empty(len(values), dtype=object)
    items[:] = [None] * len(values)
    for k, value in enumerate(values):
        items[k] = value
    return items


class TypedListVariable(Variable):
    """A typed list in a graph, with Theano's list methods (each makes an op of mlcore.typed_list)."""

    ttype = property(lambda self: self.type.ttype)

    def __getitem__(self, index):
        from mlcore.typed_list.basic import getitem
        return getitem(self, index)

    def append(self, item):
        from mlcore.typed_list.basic import append
        return append(self, item)

    def extend(self, other):
        from mlcore.typed_list.basic import extend
        return extend(self, other)

    def insert(self, index, item):
        from mlcore.typed_list.basic import insert
        return insert(self, index, item)

    def remove(self, item):
        from mlcore.typed_list.basic import remove
        return remove(self, item)

    def reverse(self):
        from mlcore.typed_list.basic import reverse
        return reverse(self)

    def count(self, item):
        from mlcore.typed_list.basic import count
        return count(self, item)

    def ind(self, item):
        """Theano's name for index (index is already a Variable's attribute)."""
        from mlcore.typed_list.basic import index_
        return index_(self, item)


def holds_lists(fgraph):
    """Whether any variable of fgraph is a typed list."""
    variables = list(fgraph.inputs) + list(fgraph.outputs)
    variables += [v for node in toposort(fgraph.outputs) for v in node.inputs + node.outputs]
    return any(isinstance(v.type, TypedListType) for v in variables)


def host_backend(fgraph, backend):
    """The backend a function runs on: numpy where its graph holds a typed list, else backend."""
    return "numpy" if holds_lists(fgraph) else backend


def list_copier(host_copy):
    """host_copy, giving a typed list's value back as a Python list of numpy arrays."""
    return lambda value: [np.asarray(item) for item in value] if getattr(value, "dtype", None) == object \
        else host_copy(value)

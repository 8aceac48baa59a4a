"""x.shape: one object for Keras's and Theano's readers of a symbolic tensor's shape.

Keras 3 shows a symbolic tensor's shape as a tuple with None where a dim is unknown
(`keras.Input((4,)).shape == (None, 4)`); Theano's x.shape is a symbolic int vector
(`function([x], x.shape)`, `x.reshape((x.shape[0], -1))`).  A ShapeTuple is both: as a tuple
it holds the static shape, so it compares, prints and hashes as Keras's; indexing, unpacking and
iterating give each dim as an int where it is known and as a symbolic scalar where it is not, so
the same code builds graphs; arithmetic, `.eval()` and any other tensor method go to the
symbolic vector, which is what the graph gets wherever the ShapeTuple is used as a tensor.
"""
import operator

import numpy as np

from mlcore.graph.basic import Variable

_VECTOR_OPERATORS = ("sub", "mul", "truediv", "floordiv", "mod", "pow")


class ShapeTuple(tuple):
    """The static shape (None for unknown dims), backed by the symbolic shape vector."""

    def __new__(cls, static, vector, source=None):
        self = super().__new__(cls, static)
        self.vector = vector
        self.source = source     # the variable this is the shape of (x.shape), None for derived shapes
        return self

    @classmethod
    def of(cls, variable):
        from mlcore.graph.ops.shape import shape
        return cls(variable.type.shape, shape(variable), variable)

    def as_output(self):
        """The shape as a function's output.  x.shape of a statically shaped x is a constant vector;
        as an output it is computed from x instead (the rewrites fold it back), so that x's inputs
        count as used, as in Theano: function([x], specify_shape(x, (2, 2)).shape)."""
        from mlcore.graph.ops.shape import Shape
        return self.vector if self.source is None else Shape()(self.source)

    @classmethod
    def from_entries(cls, entries):
        """A shape made of ints and symbolic scalars, as concatenation produces."""
        from mlcore.graph.ops.common import as_tensor_variable, constant
        static = [None if isinstance(e, Variable) else int(e) for e in entries]
        if None in static:
            return cls(static, as_tensor_variable(list(entries)))
        return cls(static, constant(np.array(static, dtype="int64")))

    def __getitem__(self, key):
        static = tuple.__getitem__(self, key)
        if isinstance(key, slice):
            return ShapeTuple(static, self.vector[key])
        return self.vector[key] if static is None else static

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __add__(self, other):
        """A tuple concatenates (Keras's x.shape[:-1] + (units,)); anything else adds to the vector."""
        if isinstance(other, (tuple, list)):
            return _concatenated(self, other)
        return self.vector + other

    def __radd__(self, other):
        if isinstance(other, (tuple, list)):
            return _concatenated(other, self)
        return other + self.vector

    def __getattr__(self, name):
        return getattr(self.vector, name)

    def __reduce__(self):
        """Copied or pickled, a shape is its static tuple (the graph stays behind)."""
        return tuple, (tuple(tuple.__iter__(self)),)

    def __repr__(self):
        return tuple.__repr__(self)


def _concatenated(first, second):
    """Two shapes joined: a ShapeTuple, or where a None comes in (Keras's (None,) + x.shape[1:]),
    the plain static tuple."""
    entries = list(first) + list(second)
    if any(e is None for e in entries):
        return tuple(None if isinstance(e, Variable) else e for e in entries)
    return ShapeTuple.from_entries(entries)


def _vector_operator(name):
    forward, reflected = getattr(operator, name), "__r%s__" % name
    return (lambda self, other: forward(self.vector, other),
            lambda self, other: getattr(self.vector, reflected)(other))


for _name in _VECTOR_OPERATORS:
    _forward, _reflected = _vector_operator(_name)
    setattr(ShapeTuple, "__%s__" % _name, _forward)
    setattr(ShapeTuple, "__r%s__" % _name, _reflected)

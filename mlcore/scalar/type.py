"""Theano's scalar types (theano.scalar.float64, Scalar('int32'), ...) and the ways of making scalar
variables and constants.

A scalar here is a 0-d tensor: ScalarType is the 0-d TensorType with Theano's name and printing
(`Scalar(float64)`), so every op, rewrite, gradient and backend handles scalars with no code of
their own, and a scalar and a 0-d tensor (T.dscalar) mix freely, as Theano's as_scalar lets them.
"""
import numpy as np

from mlcore import config
from mlcore.graph.basic import Constant, TensorType, Variable


class ScalarType(TensorType):
    """The type of a scalar of one dtype; calling it makes a variable: float64('x')."""

    __slots__ = ()

    def __init__(self, dtype):
        super().__init__(config.floatx() if dtype == "floatX" else dtype, ())

    def __str__(self):
        return self.dtype

    def __repr__(self):
        return "Scalar(%s)" % self.dtype

    def upcast(self, *others):
        """The dtype that mixing this type with others gives (Theano's Scalar.upcast)."""
        return upcast(self.dtype, *(t.dtype for t in others))

    def make_variable(self, name=None):
        return self(name)


Scalar = ScalarType


def get_scalar_type(dtype):
    """Scalar(dtype), as Theano's cached constructor."""
    return ScalarType(dtype)


def upcast(dtype, *dtypes):
    """The dtype of mixing values of these dtypes, by numpy's rules (Theano's scalar upcast)."""
    return np.result_type(*(np.dtype(d) for d in (dtype,) + dtypes)).name


def constant(x, name=None):
    """A scalar constant.  A Python float takes float32 when float32 holds it exactly, else float64,
    and a Python int the smallest int dtype that holds it, as Theano's; numpy scalars keep theirs."""
    if isinstance(x, Variable):
        raise TypeError("theano.scalar.constant: %r is already a variable" % (x,))
    data = np.asarray(x)
    if data.ndim != 0:
        raise TypeError("theano.scalar.constant: a scalar is 0-d; got a value of shape %s" % (data.shape,))
    if not isinstance(x, (np.generic, np.ndarray)) and data.dtype.kind in "fi":
        candidates = ("float32", "float64") if data.dtype.kind == "f" else ("int8", "int16", "int32", "int64")
        data = next(data.astype(d) for d in candidates if data.astype(d) == data)
    return Constant(ScalarType(data.dtype), data, name=name)


def as_scalar(x, name=None, op=None):
    """x as a scalar variable: a 0-d variable as it is, a number as a constant; anything else is an
    error naming op and x's type."""
    if isinstance(x, Variable):
        if x.ndim != 0:
            raise TypeError("%s takes scalars (0-d variables), not %s of type %s; apply "
                            "T.elemwise.Elemwise(op) to tensors" % (op or "as_scalar", x, x.type))
        return x
    try:
        return constant(x, name)
    except (TypeError, ValueError) as err:
        raise TypeError("%s cannot make a scalar of %r: %s" % (op or "as_scalar", x, err)) from None


int8, int16, int32, int64 = map(ScalarType, ("int8", "int16", "int32", "int64"))
uint8, uint16, uint32, uint64 = map(ScalarType, ("uint8", "uint16", "uint32", "uint64"))
float16, float32, float64 = map(ScalarType, ("float16", "float32", "float64"))
complex64, complex128 = map(ScalarType, ("complex64", "complex128"))
bool_ = ScalarType("bool")

int_types = int8, int16, int32, int64
uint_types = uint8, uint16, uint32, uint64
float_types = float16, float32, float64
complex_types = complex64, complex128
discrete_types = int_types + uint_types
continuous_types = float_types + complex_types
all_types = discrete_types + continuous_types


def _several(scalar_type):
    """Theano's floats('xyz'): one variable per letter (per name of a list), a lone one for one name."""
    def make(names):
        return scalar_type(names) if len(names) == 1 else [scalar_type(n) for n in names]
    return make


ints, floats, complexs = _several(int64), _several(float64), _several(complex128)
complexs64, complexs128 = _several(complex64), _several(complex128)

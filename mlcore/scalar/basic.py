"""theano.scalar (theano.scalar.basic): scalar types, the scalar ops, and the classes to write new ones.

The built-in scalar ops are mlcore's elementwise ops themselves (theano.scalar.exp is the op that
T.exp applies), so a scalar graph is an ordinary mlcore graph on 0-d variables: it runs on every
backend and differentiates with T.grad, and T.elemwise.Elemwise(theano.scalar.add) is the op of
a + b.  Being elementwise, they take tensors too, where Theano's refuse them.  add and mul take
any number of inputs, as Theano's.
"""
import functools

from mlcore.graph.ops import elemwise as ew, elemwise_complex as ec, elemwise_math as em
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.shape import DimShuffle
from mlcore.scalar.op import BinaryScalarOp, Composite, ScalarOp, UnaryScalarOp  # noqa: F401
from mlcore.scalar.type import (Scalar, ScalarType, all_types, as_scalar, complex_types, complex64,  # noqa: F401
                                complex128, complexs, complexs64, complexs128, constant, continuous_types,
                                discrete_types, float16, float32, float64, float_types, floats, get_scalar_type,
                                int8, int16, int32, int64, int_types, ints, uint8, uint16, uint32, uint64,
                                uint_types, upcast)
from mlcore.scalar.type import bool_ as bool  # noqa: F401,A004  (Theano's theano.scalar.bool)
from mlcore.scalar.type_rules import (float_out, int_out, real_out, same_out, same_out_float_only,  # noqa: F401
                                      same_out_nocomplex, specific_out, transfer_type, upcast_out,
                                      upcast_out_no_complex, upcast_out_nobool, upgrade_to_float,
                                      upgrade_to_float_no_complex)

# Theano's op class names, for isinstance(node.op, theano.scalar.TrueDiv)
Add, Sub, Mul, TrueDiv, IntDiv, Mod, Pow = ew.Add, ew.Sub, ew.Mul, ew.TrueDiv, ew.IntDiv, ew.Mod, ew.Pow
Maximum, Minimum, Second, Switch, Cast = ew.Maximum, ew.Minimum, ew.Second, ew.Switch, ew.Cast
Neg, Abs, Sgn, Floor, Ceil, Sqr, Sqrt = ew.Neg, ew.Abs, ew.Sign, ew.Floor, ew.Ceil, ew.Sqr, ew.Sqrt
Exp, Log, Log1p, Expm1, Sin, Cos, Tanh = ew.Exp, ew.Log, ew.Log1p, ew.Expm1, ew.Sin, ew.Cos, ew.Tanh
EQ, NEQ, LT, LE, GT, GE = ew.Eq, ew.Neq, ew.Lt, ew.Le, ew.Gt, ew.Ge
AND, OR, XOR, Invert = em.BitAnd, em.BitOr, em.Xor, em.Invert

sub, true_div, int_div, mod, pow = Sub(), TrueDiv(), IntDiv(), Mod(), Pow()  # noqa: A001
maximum, minimum, second, switch = Maximum(), Minimum(), Second(), Switch()
neg, abs_, sgn, floor, ceil, sqr, sqrt = Neg(), Abs(), Sgn(), Floor(), Ceil(), Sqr(), Sqrt()
exp, log, log1p, expm1, sin, cos, tanh = Exp(), Log(), Log1p(), Expm1(), Sin(), Cos(), Tanh()
sigmoid, softplus, round_half_to_even = ew.Sigmoid(), ew.Softplus(), ew.Round()
eq, neq, lt, le, gt, ge = EQ(), NEQ(), LT(), LE(), GT(), GE()
and_, or_, xor, invert = AND(), OR(), XOR(), Invert()
tan, arcsin, arccos, arctan, arctan2 = em.Tan(), em.ArcSin(), em.ArcCos(), em.ArcTan(), em.ArcTan2()
sinh, cosh, arcsinh, arccosh, arctanh = em.Sinh(), em.Cosh(), em.ArcSinh(), em.ArcCosh(), em.ArcTanh()
log2, log10, exp2, inv, deg2rad, rad2deg = em.Log2(), em.Log10(), em.Exp2(), em.Reciprocal(), em.Deg2Rad(), em.Rad2Deg()
erf, erfc, erfinv, gamma, gammaln, psi = em.Erf(), em.Erfc(), em.ErfInv(), em.Gamma(), em.GammaLn(), em.Psi()
trunc, isnan, isinf = em.Trunc(), em.IsNan(), em.IsInf()
real, imag, conj, angle, complex, complex_from_polar = (ec.real, ec.imag, ec.conj, ec.angle,  # noqa: A001
                                                        ec.complex_, ec.complex_from_polar)
clip = ew.clip
floor_div = int_div
for _dtype in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32",
               "float64", "complex64", "complex128"):
    globals()["convert_to_" + _dtype] = Cast(_dtype)


def add(*terms):
    """The sum of any number of scalars (Theano's add is variadic)."""
    return functools.reduce(_add, terms[1:], terms[0])


def mul(*factors):
    """The product of any number of scalars (Theano's mul is variadic)."""
    return functools.reduce(_mul, factors[1:], factors[0])


_add, _mul = ew.Add(), ew.Mul()


def identity(x):
    """x itself, as a new variable (Theano's identity: tensor_copy is Elemwise{identity})."""
    x = as_tensor_variable(x)
    return DimShuffle(list(range(x.ndim)))(x)


def cast(x, dtype):
    """x as a scalar of dtype ("floatX" too); complex to real is refused, as Theano's."""
    x = as_scalar(x, op="cast")
    dtype = ScalarType(dtype).dtype
    if x.dtype.startswith("complex") and not dtype.startswith("complex"):
        raise TypeError("cast: casting %s from %s to %s is ambiguous; take real(), imag(), angle() or abs()"
                        % (x, x.dtype, dtype))
    return ew.cast(x, dtype)


def scalar_from_tensor(t):
    """A 0-d tensor as a scalar (T.scalar_from_tensor): here one is the other, so t itself."""
    return as_scalar(t, op="scalar_from_tensor")


def tensor_from_scalar(s):
    """A scalar as a 0-d tensor (T.tensor_from_scalar): here one is the other, so s itself."""
    return as_scalar(s, op="tensor_from_scalar")

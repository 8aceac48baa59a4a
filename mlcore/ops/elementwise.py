"""keras.ops' elementwise math, as numpy names it: unary functions of x, binary ones of
(x1, x2) that broadcast, comparisons, logical and bitwise ops, NaN/inf tests, where and clip.
Each is a graph op or a few of them; Python numbers stay weak, so 2 * x keeps x's dtype.

The graph's ops promote mixed dtypes by Theano's rules; keras.ops' functions first bring their
operands to the dtype Keras gives them (promoted: dtype_promotion.result_type), so that, as in
Keras, a bool tensor plus 1 is int32 and float16 with bfloat16 is float32."""
import numpy as np

from mlcore import losses
from mlcore.dtype_promotion import result_type
from mlcore.graph import autocast
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops import elemwise_math as em
from mlcore.graph.ops import extra_ops
from mlcore.graph.ops.common import is_complex, is_float_dtype, is_weak, with_dtype
from mlcore.ops.core import as_tensor, of_one_tensor


def promoted(*values, floating=False):
    """values as graph variables of the one dtype Keras's result_type gives them (of that and a Python
    float where `floating`: ints and bools become floatx, float16 and bfloat16 stay).  Python numbers
    are weak, and autocast weights count in the scope's dtype, as every op will read them.  Complex
    operands are left to the graph's rule (1j * float32 is complex64, as in jax)."""
    xs = [as_tensor(v) for v in values]
    if autocast.autocast_dtype() is not None:
        xs = autocast.autocast_inputs(xs)
    if any(is_complex(x.dtype) for x in xs):
        return xs
    dtypes = [type(x.data.item()) if is_weak(x) else x.dtype for x in xs]
    dtype = result_type(*dtypes, *[float] * floating)
    return [with_dtype(x, dtype) for x in xs]


def as_float(x):
    """x as floats (Keras's result_type(x.dtype, float)): ints and bools as floatx, any float (and
    complex) dtype its own."""
    return promoted(x, floating=True)[0]


def _unary(graph_fn, name):
    return of_one_tensor(graph_fn, name, "numpy's %s of x, elementwise." % name)


def _binary(graph_fn, name):
    def op(x1, x2):
        return graph_fn(*promoted(x1, x2))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = "numpy's %s of x1 and x2, elementwise, broadcasting." % name
    return op


abs = absolute = _unary(ew.abs_, "abs")  # noqa: A001
negative = _unary(ew.neg, "negative")
sign = _unary(ew.sign, "sign")
square = _unary(lambda x: ew.sqr(ew.cast(x, "int32") if x.dtype == "bool" else x), "square")
sqrt = _unary(ew.sqrt, "sqrt")
exp = _unary(ew.exp, "exp")
expm1 = _unary(ew.expm1, "expm1")
log = _unary(ew.log, "log")
log1p = _unary(ew.log1p, "log1p")
floor = _unary(lambda x: ew.floor(as_float(x)), "floor")     # of ints too, as numpy (and Keras)
ceil = _unary(lambda x: ew.ceil(as_float(x)), "ceil")
sin = _unary(ew.sin, "sin")
cos = _unary(ew.cos, "cos")
tanh = _unary(ew.tanh, "tanh")
tan = _unary(em.tan, "tan")
arcsin = _unary(em.arcsin, "arcsin")
arccos = _unary(em.arccos, "arccos")
arctan = _unary(em.arctan, "arctan")
sinh = _unary(em.sinh, "sinh")
cosh = _unary(em.cosh, "cosh")
arcsinh = _unary(em.arcsinh, "arcsinh")
arccosh = _unary(em.arccosh, "arccosh")
arctanh = _unary(em.arctanh, "arctanh")
log2 = _unary(em.log2, "log2")
log10 = _unary(em.log10, "log10")
exp2 = _unary(em.exp2, "exp2")
reciprocal = _unary(em.reciprocal, "reciprocal")
deg2rad = _unary(em.deg2rad, "deg2rad")
rad2deg = _unary(em.rad2deg, "rad2deg")
erf = _unary(em.erf, "erf")
erfc = _unary(em.erfc, "erfc")
erfinv = _unary(em.erfinv, "erfinv")
isnan = _unary(em.isnan, "isnan")
isinf = _unary(em.isinf, "isinf")
isfinite = _unary(extra_ops.isfinite, "isfinite")
bitwise_invert = bitwise_not = _unary(em.invert, "bitwise_invert")

add = _binary(ew.add, "add")
subtract = _binary(ew.sub, "subtract")
multiply = _binary(ew.mul, "multiply")
divide = true_divide = _binary(ew.true_div, "divide")
floor_divide = _binary(ew.int_div, "floor_divide")
mod = _binary(ew.mod, "mod")
power = _binary(ew.pow_, "power")
maximum = _binary(ew.maximum, "maximum")
minimum = _binary(ew.minimum, "minimum")
equal = _binary(ew.eq, "equal")
not_equal = _binary(ew.neq, "not_equal")
greater = _binary(ew.gt, "greater")
greater_equal = _binary(ew.ge, "greater_equal")
less = _binary(ew.lt, "less")
less_equal = _binary(ew.le, "less_equal")
logical_and = _binary(ew.and_, "logical_and")
logical_or = _binary(ew.or_, "logical_or")
arctan2 = _binary(em.arctan2, "arctan2")
nextafter = _binary(em.nextafter, "nextafter")


def bitwise_xor(x, y):
    """x ^ y, bit by bit (of ints or bools), with Keras's argument names."""
    return em.xor(as_tensor(x), as_tensor(y))


def logical_not(x):
    return ew.eq(as_tensor(x), False)


def logical_xor(x1, x2):
    return em.xor(ew.cast(as_tensor(x1), "bool"), ew.cast(as_tensor(x2), "bool"))


def round(x, decimals=0):  # noqa: A001
    """To the nearest multiple of 10**-decimals, halves to even (numpy's rule)."""
    x = as_tensor(x)
    if not decimals:
        return ew.round_(x)
    scale = 10.0 ** decimals
    return ew.round_(x * scale) / scale


def trunc(x):
    """Towards zero; ints and bools are their own."""
    x = as_tensor(x)
    if not is_float_dtype(x.dtype):
        return x
    return ew.sign(x) * ew.floor(ew.abs_(x))


def rsqrt(x):
    return em.reciprocal(ew.sqrt(as_tensor(x)))


def isposinf(x):
    x = as_tensor(x)
    return ew.and_(em.isinf(x), ew.gt(x, 0))


def isneginf(x):
    x = as_tensor(x)
    return ew.and_(em.isinf(x), ew.lt(x, 0))


def isclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|x1 - x2| <= atol + rtol * |x2|, elementwise; infinities are close only to themselves."""
    return extra_ops.isclose(*promoted(x1, x2), rtol, atol, equal_nan)


def logaddexp(x1, x2):
    """log(exp(x1) + exp(x2)) without overflow: the larger one plus log1p of the other's share."""
    x1, x2 = promoted(x1, x2, floating=True)
    return ew.maximum(x1, x2) + ew.log1p(ew.exp(-ew.abs_(x1 - x2)))


def divide_no_nan(x1, x2):
    """x1 / x2, and 0 where x2 is 0."""
    return losses.divide_no_nan(as_tensor(x1), as_tensor(x2))


def clip(x, x_min, x_max):
    """x limited to [x_min, x_max]; bools are clipped as int32, as Keras does."""
    x = as_tensor(x)
    return ew.clip(ew.cast(x, "int32") if x.dtype == "bool" else x, x_min, x_max)


def where(condition, x1=None, x2=None):
    """x1 where condition holds, else x2.  Without x1 and x2, numpy's where is nonzero(), whose
    output size depends on the data: the graph's shapes cannot express that."""
    if (x1 is None) != (x2 is None):
        raise ValueError("`x1` and `x2` either both should be `None` or both should have non-None value.")
    if x1 is None:
        raise ValueError("where(condition) without x1 and x2 (numpy's nonzero) has a data-dependent "
                         "shape, which mlcore's graphs do not support; pass x1 and x2")
    return ew.switch(ew.cast(as_tensor(condition), "bool"), *promoted(x1, x2))


# --- numpy's rarer elementwise math --------------------------------------------------------------
def cbrt(x):
    """The real cube root (negative for negative x)."""
    x = as_float(x)
    return ew.sign(x) * ew.abs_(x) ** (1.0 / 3.0)


def fabs(x):
    """|x| as floats."""
    return ew.abs_(as_float(x))


def sinc(x):
    """sin(pi x) / (pi x), 1 at 0 (the divisor kept off 0 there, so that the gradient stays finite)."""
    x = as_float(x)
    at_zero = ew.eq(x, 0)
    angle = ew.switch(at_zero, 1.0, np.pi * x)
    return ew.switch(at_zero, 1.0, ew.sin(angle) / angle)


def signbit(x):
    """Whether x's sign bit is set: x < 0, and -0.0 too (whose reciprocal is -inf)."""
    x = as_tensor(x)
    if not x.dtype.startswith("float"):
        return ew.lt(x, 0)
    return ew.or_(ew.lt(x, 0), ew.and_(ew.eq(x, 0), ew.lt(em.reciprocal(x), 0)))


def i0(x):
    """The modified Bessel function of the first kind, order 0."""
    return em.i0(as_float(x))


def copy(x):
    """x itself: graph variables are never changed in place, so a copy is the same value."""
    return as_tensor(x)


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """x with NaN as `nan` and infinities as posinf / neginf (by default the dtype's largest
    finite values); ints and bools have neither and come back unchanged."""
    x = as_tensor(x)
    if not x.dtype.startswith("float"):
        return x
    largest = float(np.finfo(x.dtype).max)
    x = ew.switch(em.isnan(x), nan, x)
    x = ew.switch(ew.and_(em.isinf(x), ew.gt(x, 0)), largest if posinf is None else posinf, x)
    return ew.switch(ew.and_(em.isinf(x), ew.lt(x, 0)), -largest if neginf is None else neginf, x)


def hypot(x1, x2):
    """sqrt(x1**2 + x2**2), as floats."""
    x1, x2 = promoted(x1, x2, floating=True)
    return ew.sqrt(ew.sqr(x1) + ew.sqr(x2))


def _nan_ignoring(pick, name):
    def op(x1, x2):
        x1, x2 = promoted(x1, x2)
        return ew.switch(em.isnan(x1), x2, ew.switch(em.isnan(x2), x1, pick(x1, x2)))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = "numpy's %s of x1 and x2: a NaN loses to a number." % name
    return op


fmax = _nan_ignoring(ew.maximum, "fmax")
fmin = _nan_ignoring(ew.minimum, "fmin")


def fmod(x1, x2):
    """C's remainder of x1 / x2, with the sign of x1 (mod's has the sign of x2)."""
    x1, x2 = promoted(x1, x2)
    rest = ew.mod(x1, x2)
    return ew.switch(ew.and_(ew.neq(rest, 0), ew.neq(ew.lt(rest, 0), ew.lt(x1, 0))), rest - x2, rest)


def heaviside(x1, x2):
    """0 where x1 < 0, 1 where x1 > 0, x2 where x1 is 0; as floats."""
    x1, x2 = promoted(x1, x2, floating=True)
    return ew.switch(ew.lt(x1, 0), 0.0, ew.switch(ew.gt(x1, 0), 1.0, x2))


def logaddexp2(x1, x2):
    """log2(2**x1 + 2**x2) without overflow, as logaddexp in base 2."""
    x1, x2 = promoted(x1, x2, floating=True)
    return ew.maximum(x1, x2) + em.log2(1 + em.exp2(-ew.abs_(x1 - x2)))


def ldexp(x1, x2):
    """x1 * 2**x2, for an integer exponent x2."""
    x2 = as_tensor(x2)
    if not x2.dtype.startswith(("int", "uint")):
        raise TypeError("ldexp exponent must be an integer type. Received: x2 dtype=%s" % x2.dtype)
    x1, exponent = promoted(x1, x2, floating=True)
    return x1 * em.exp2(exponent)

"""The rarer elementwise math of Theano's tensor module: trigonometric and hyperbolic functions and
their inverses, logs and powers in other bases, truncation, the error, gamma and Bessel functions,
NaN/inf tests and bitwise ops.  Each is a name the backends look up (backends/array_api.py) and its gradient as math."""
import math

import numpy as np

from mlcore.graph.basic import Constant, Op
from mlcore.graph.ops.common import as_float_dtype, as_tensor_variable, constant, is_weak, with_dtype
from mlcore.graph.ops.elemwise import (Binary, Elemwise, FloatUnary, Unary, eq, exp, log, op_function, sqr, sqrt,
                                       switch, zeros_like)

SQRT_PI = math.sqrt(math.pi)
LN2, LN10 = math.log(2), math.log(10)


class Tan(FloatUnary):
    def grad(self, i, out, g): return [g * (1 + sqr(out))]

class ArcSin(FloatUnary):
    def grad(self, i, out, g): return [g / sqrt(1 - sqr(i[0]))]

class ArcCos(FloatUnary):
    def grad(self, i, out, g): return [-g / sqrt(1 - sqr(i[0]))]

class ArcTan(FloatUnary):
    def grad(self, i, out, g): return [g / (1 + sqr(i[0]))]

class ArcTan2(Binary):
    """arctan2(y, x): the angle of the point (x, y), in (-pi, pi]."""
    dtype_rule = "float"

    def grad(self, i, out, g):
        y, x = i
        r2 = sqr(x) + sqr(y)
        return [g * x / r2, -g * y / r2]

class Sinh(FloatUnary):
    def grad(self, i, out, g): return [g * cosh(i[0])]

class Cosh(FloatUnary):
    def grad(self, i, out, g): return [g * sinh(i[0])]

class ArcSinh(FloatUnary):
    def grad(self, i, out, g): return [g / sqrt(sqr(i[0]) + 1)]

class ArcCosh(FloatUnary):
    def grad(self, i, out, g): return [g / sqrt(sqr(i[0]) - 1)]

class ArcTanh(FloatUnary):
    def grad(self, i, out, g): return [g / (1 - sqr(i[0]))]

class Log2(FloatUnary):
    def grad(self, i, out, g): return [g / (i[0] * LN2)]

class Log10(FloatUnary):
    def grad(self, i, out, g): return [g / (i[0] * LN10)]

class Exp2(FloatUnary):
    def grad(self, i, out, g): return [g * out * LN2]

class Erf(FloatUnary):
    def grad(self, i, out, g): return [g * (2 / SQRT_PI) * exp(-sqr(i[0]))]

class Erfc(FloatUnary):
    def grad(self, i, out, g): return [g * (-2 / SQRT_PI) * exp(-sqr(i[0]))]

class ErfInv(FloatUnary):
    def grad(self, i, out, g): return [g * (SQRT_PI / 2) * exp(sqr(out))]

class ErfCx(FloatUnary):
    """The scaled complementary error function exp(x**2) * erfc(x), which keeps erfc's tail finite."""
    def grad(self, i, out, g): return [g * (2 * i[0] * out - 2 / SQRT_PI)]

class ErfCInv(FloatUnary):
    """erfc's inverse, erfcinv(erfc(x)) = x."""
    def grad(self, i, out, g): return [g * (-SQRT_PI / 2) * exp(sqr(out))]

class Gamma(FloatUnary):
    def grad(self, i, out, g): return [g * out * psi(i[0])]

class GammaLn(FloatUnary):
    """log |Gamma(x)|."""
    def grad(self, i, out, g): return [g * psi(i[0])]

class Psi(FloatUnary):
    """The digamma function, d/dx log Gamma(x)."""
    def grad(self, i, out, g): return [g * tri_gamma(i[0])]

class TriGamma(FloatUnary):
    """psi's derivative (polygamma(1, x)); its own gradient is not implemented, as in Theano."""

class Polygamma(Binary):
    """polygamma(n, x): the n-th derivative of psi (n = 0 is psi itself), for integer n >= 0."""

    def make_node(self, n, x):
        n, x = as_tensor_variable(n), as_tensor_variable(x)
        if np.dtype(n.dtype).kind not in "iu":
            raise TypeError("polygamma: the order n must be an integer tensor, got %s of type %s" % (n, n.type))
        n = constant(n.data, "int64") if is_weak(n) else n    # a weak int would become x's float
        return super().make_node(n, with_dtype(x, as_float_dtype(x.dtype)))

    def output_dtype(self, dtypes): return dtypes[1]
    def grad(self, i, out, g): return [None, g * polygamma(i[0] + 1, i[1])]

class Chi2SF(Binary):
    """chi2sf(x, k): the survival function P(X > x) of the chi-square distribution with k degrees of
    freedom, the regularized upper incomplete gamma function Q(k/2, x/2)."""
    dtype_rule = "float"

    def grad(self, i, out, g):
        x, k = i
        if not isinstance(k, Constant):
            raise NotImplementedError("chi2sf: no gradient with respect to the degrees of freedom k (%s); "
                                      "give k as a number to differentiate with respect to x" % (k,))
        half = k / 2    # minus the density: x**(k/2 - 1) exp(-x/2) / (2**(k/2) Gamma(k/2))
        return [-g * exp((half - 1) * log(x) - x / 2 - half * LN2 - gammaln(half)), None]

class I0(FloatUnary):
    """The modified Bessel function of the first kind of order 0."""
    def grad(self, i, out, g): return [g * i1(i[0])]

class I1(FloatUnary):
    """The modified Bessel function of the first kind of order 1; i1(x) / x tends to 1/2 at 0."""
    def grad(self, i, out, g):
        x = i[0]
        return [g * (i0(x) - switch(eq(x, 0), 0.5, out / switch(eq(x, 0), 1, x)))]

class J0(FloatUnary):
    """The Bessel function of the first kind of order 0."""
    def grad(self, i, out, g): return [-g * j1(i[0])]

class J1(FloatUnary):
    """The Bessel function of the first kind of order 1."""
    def grad(self, i, out, g): return [g * (j0(i[0]) - jv(2, i[0])) / 2]

class Jv(Binary):
    """jv(v, x): the Bessel function of the first kind of real order v.  As in Theano, no
    gradient with respect to the order."""
    dtype_rule = "float"
    def grad(self, i, out, g): return [None, g * (jv(i[0] - 1, i[1]) - jv(i[0] + 1, i[1])) / 2]

class Iv(Binary):
    """iv(v, x): the modified Bessel function of the first kind of real order v (no gradient
    with respect to the order, as in Theano)."""
    dtype_rule = "float"
    def grad(self, i, out, g): return [None, g * (iv(i[0] - 1, i[1]) + iv(i[0] + 1, i[1])) / 2]

class Trunc(Unary):
    """Towards zero: the integer part."""
    def grad(self, i, out, g): return [zeros_like(i[0])]

class Reciprocal(FloatUnary):
    def grad(self, i, out, g): return [-g * sqr(out)]

class Deg2Rad(FloatUnary):
    def grad(self, i, out, g): return [g * (math.pi / 180)]

class Rad2Deg(FloatUnary):
    def grad(self, i, out, g): return [g * (180 / math.pi)]

class IsNan(Unary):
    dtype_rule = "bool"
    def grad(self, i, out, g): return [None]

class IsInf(Unary):
    dtype_rule = "bool"
    def grad(self, i, out, g): return [None]

class Xor(Binary):
    """Bitwise xor of ints, logical xor of bools (numpy's bitwise_xor)."""
    def grad(self, i, out, g): return [None, None]

class Invert(Unary):
    """Bitwise not of ints, logical not of bools (numpy's invert, Python's ~)."""
    def grad(self, i, out, g): return [None]

class BitAnd(Binary):
    """Bitwise and of ints, logical and of bools (numpy's bitwise_and)."""
    def grad(self, i, out, g): return [None, None]

class BitOr(Binary):
    """Bitwise or of ints, logical or of bools (numpy's bitwise_or)."""
    def grad(self, i, out, g): return [None, None]

class LeftShift(Binary):
    """x * 2**y on ints, the bits shifted left (numpy's left_shift)."""
    def grad(self, i, out, g): return [None, None]

class RightShift(Binary):
    """x // 2**y on ints, the bits shifted right with the sign kept (numpy's right_shift)."""
    def grad(self, i, out, g): return [None, None]


class UfuncRules:
    """The rules of a numpy ufunc of two broadcasting inputs that some backend's library lacks
    (PyTensor has no gcd, lcm or nextafter), for an Op: typed as an elementwise op but not one, so
    that fusion leaves it whole and a backend without it can run the node with the reference
    kernel.  Backends look the ufunc up by the op's name.  No gradient: gcd and lcm take ints,
    nextafter is a step function."""

    nin = 2
    dtype_rule = "upcast"
    output_dtype = Elemwise.output_dtype
    make_node = Elemwise.make_node

    @property
    def name(self):
        return type(self).__name__.lower()

    def pullback(self, inputs, outputs, output_grads):
        return [None] * self.nin


class Gcd(UfuncRules, Op):
    """The greatest common divisor of ints, >= 0."""

class Lcm(UfuncRules, Op):
    """The least common multiple of ints, >= 0."""

class NextAfter(UfuncRules, Op):
    """The next float after x1 towards x2."""
    dtype_rule = "float"


tan, arcsin, arccos, arctan, arctan2 = map(op_function, (Tan, ArcSin, ArcCos, ArcTan, ArcTan2))
sinh, cosh, arcsinh, arccosh, arctanh = map(op_function, (Sinh, Cosh, ArcSinh, ArcCosh, ArcTanh))
log2, log10, exp2, reciprocal, deg2rad, rad2deg = map(op_function, (Log2, Log10, Exp2, Reciprocal, Deg2Rad, Rad2Deg))
erf, erfc, erfinv, gammaln, psi, tri_gamma = map(op_function, (Erf, Erfc, ErfInv, GammaLn, Psi, TriGamma))
isnan, isinf, xor, invert = map(op_function, (IsNan, IsInf, Xor, Invert))
erfcx, erfcinv, gamma, i0, i1, trunc = map(op_function, (ErfCx, ErfCInv, Gamma, I0, I1, Trunc))
polygamma, chi2sf = map(op_function, (Polygamma, Chi2SF))
j0, j1, jv, iv = map(op_function, (J0, J1, Jv, Iv))
bitwise_and, bitwise_or, left_shift, right_shift = map(op_function, (BitAnd, BitOr, LeftShift, RightShift))
UFUNCS = (Gcd, Lcm, NextAfter)
gcd, lcm, nextafter = map(op_function, UFUNCS)

"""Complex tensors: their parts (real, imag, angle), their conjugate, and one made of parts (complex,
complex_from_polar).

Gradients follow Theano's convention: for a real cost C of z = x + iy, the gradient is
dC/dx + i dC/dy (PyTorch's too; JAX's grad gives its conjugate).  Under it an op that is
holomorphic, f(z) with a complex derivative f'(z), pulls g back to g * conj(f'(z)), which
Elemwise.pullback makes of every ordinary op's rule.  The ops here are not holomorphic: each
writes its rule in the convention directly (marked holomorphic = False)."""
from mlcore.graph.ops.common import (as_float_dtype, as_tensor_variable, complex_dtype, is_complex, real_dtype,
                                     upcast, with_dtype)
from mlcore.graph.ops.elemwise import Binary, Unary, cos, op_function, sin, zeros_like
from mlcore.graph.ops.elemwise_math import arctan2


class Real(Unary):
    """The real part, x of x + iy: a real tensor; the cost moves along x only."""
    holomorphic = False
    def output_dtype(self, dtypes): return real_dtype(dtypes[0])
    def grad(self, i, out, g): return [complex_(g, zeros_like(g))]

class Imag(Unary):
    """The imaginary part, y of x + iy: the cost moves along y only."""
    holomorphic = False
    def output_dtype(self, dtypes): return real_dtype(dtypes[0])
    def grad(self, i, out, g): return [complex_(zeros_like(g), g)]

class Conj(Unary):
    """x - iy: y's gradient changes sign, so the gradient is conjugated too."""
    holomorphic = False
    def grad(self, i, out, g): return [conj(g)]

class Complex(Binary):
    """real + i imag, from two real tensors of one dtype (Theano's T.complex, jax.lax.complex)."""
    holomorphic = False

    def make_node(self, real, imag):
        node = super().make_node(real, imag)
        if any(is_complex(x.dtype) or x.dtype != node.inputs[0].dtype for x in node.inputs):
            raise TypeError("complex: the real and imaginary parts must be real tensors of one dtype, "
                            "got %s and %s" % (node.inputs[0].type, node.inputs[1].type))
        return node

    def output_dtype(self, dtypes):
        return complex_dtype(upcast(*dtypes))

    def grad(self, i, out, g): return [real(g), imag(g)]


_real, _imag, _conj, _complex = map(op_function, (Real, Imag, Conj, Complex))


def real(x):
    """The real part of x; a real x is its own."""
    x = as_tensor_variable(x)
    return _real(x) if is_complex(x.dtype) else x


def imag(x):
    """The imaginary part of x; zeros for a real x."""
    x = as_tensor_variable(x)
    return _imag(x) if is_complex(x.dtype) else zeros_like(x)


def conj(x):
    """The complex conjugate of x; a real x is its own."""
    x = as_tensor_variable(x)
    return _conj(x) if is_complex(x.dtype) else x


def complex_(real, imag):
    """real + i imag, broadcasting: ints become floatx, and both parts the wider float dtype."""
    real, imag = as_tensor_variable(real), as_tensor_variable(imag)
    dtype = upcast(as_float_dtype(real.dtype), as_float_dtype(imag.dtype))
    return _complex(with_dtype(real, dtype), with_dtype(imag, dtype))


def angle(x):
    """The argument of each entry, in (-pi, pi]: pi for a negative real one (and -0.0), else 0 for reals."""
    x = as_tensor_variable(x)
    if not is_complex(x.dtype):
        x = with_dtype(x, as_float_dtype(x.dtype))
    return arctan2(imag(x), real(x))


def complex_from_polar(abs, angle):  # noqa: A002  (Theano's argument names)
    """abs * (cos(angle) + i sin(angle))."""
    abs, angle = as_tensor_variable(abs), as_tensor_variable(angle)
    return complex_(abs * cos(angle), abs * sin(angle))


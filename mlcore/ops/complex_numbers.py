"""keras.ops on complex tensors: numpy's real, imag, conj, angle and isreal, keras.ops.view_as_real and
view_as_complex (a complex tensor and its (..., 2) float layout), and keras.ops.nn.polar."""
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops import elemwise_complex as ec
from mlcore.graph.ops import shape as sh
from mlcore.graph.ops.common import _fmt
from mlcore.ops.core import as_tensor, of_one_tensor
from mlcore.ops.elementwise import as_float

real = of_one_tensor(ec.real, "real", "The real part of x, elementwise; a real x is its own.")
imag = of_one_tensor(ec.imag, "imag", "The imaginary part of x, elementwise; zeros for a real x.")
conjugate = conj = of_one_tensor(ec.conj, "conjugate", "The complex conjugate of x; a real x is its own.")


def isreal(x):
    """Whether each entry's imaginary part is zero (everywhere, for a real x)."""
    return ew.eq(ec.imag(as_tensor(x)), 0)


def angle(x):
    """The argument of each entry in (-pi, pi]; ints become floatx (Keras's angle)."""
    return ec.angle(as_float(x))


def view_as_real(x):
    """A complex tensor as floats of shape (..., 2): the real parts, then the imaginary ones."""
    x = as_tensor(x)
    return sh.stack([ec.real(x), ec.imag(x)], axis=-1)


def view_as_complex(x):
    """A float tensor of shape (..., 2) as the complex64 tensor real + i imag of shape (...,), as Keras
    makes it whatever the floats' width."""
    x = as_tensor(x)
    if x.ndim < 1 or x.type.shape[-1] != 2:
        raise ValueError("Last dimension of input must be size 2 (real and imaginary). Received shape: %s"
                         % _fmt(x.type.shape))
    return ec.complex_(ew.cast(x[..., 0], "float32"), ew.cast(x[..., 1], "float32"))


def polar(abs_, angle):
    """The complex tensor abs_ * (cos(angle) + i sin(angle)) (torch.polar, keras.ops.nn.polar)."""
    return ec.complex_from_polar(as_float(abs_), as_float(angle))

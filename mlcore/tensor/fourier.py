"""theano.tensor.fourier: Theano's older, complex-valued fft(a, n=None, axis=None), numpy.fft.fft
along one axis (the last by default), the input cropped or zero-padded to n there; the result is
complex128, as Theano's.  Fourier is its op class and fft its instance.  Built on the graph's DFT
op, so it runs on every backend and has a gradient (Theano's had none enabled)."""
import numbers

from mlcore.graph.basic import Constant, Variable
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.elemwise import cast, maximum, zeros_like
from mlcore.graph.ops.elemwise_complex import complex_, imag, real
from mlcore.graph.ops.extra_ops import dims
from mlcore.graph.ops.fourier import DFT, float_part
from mlcore.graph.ops.shape import concatenate, dimshuffle, zeros
from mlcore.tensor.basic import integer_dtypes
from mlcore.tensor.function_ops import FunctionOp


def _axis(a, axis):
    """axis as an int in range (None: the last), or the TypeError Theano gives."""
    if axis is None:
        return a.ndim - 1
    if isinstance(axis, Constant):
        axis = axis.data.item()
    if isinstance(axis, Variable):
        raise NotImplementedError("fft: a symbolic axis would make the result's shape depend on its value; "
                                  "give an int")
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or not 0 <= axis < a.ndim:
        raise TypeError("fft: axis must be an int from 0 to %d for %s, got %r" % (a.ndim - 1, a.type, axis))
    return int(axis)


def _fit(x, n):
    """x cropped or zero-padded to length n along its last axis."""
    sizes = dims(x)
    padding = zeros(sizes[:-1] + [maximum(n - sizes[-1], 0)], x.dtype)
    return concatenate([x, padding], -1)[..., :n]


def _check_length(n):
    n = as_tensor_variable(n)
    if n.ndim != 0 or n.dtype not in integer_dtypes:
        raise TypeError("fft: n, the transformed length, must be an int scalar, got %s" % (n.type,))
    if isinstance(n, Constant) and n.data < 1:
        raise TypeError("fft: n, the transformed length, must be at least 1, got %s" % (n.data,))
    return n


class Fourier(FunctionOp):
    """Theano's Fourier op class: Fourier()(a, n, axis) is fft(a, n, axis)."""

    def build(self, a, n=None, axis=None):
        a = as_tensor_variable(a)
        if a.ndim < 1:
            raise TypeError("fft: the input must be an array, not the scalar %s" % (a.type,))
        axis = _axis(a, axis)
        order = [d for d in range(a.ndim) if d != axis] + [axis]
        moved = dimshuffle(a, *order)
        if moved.dtype.startswith("complex"):
            parts = [real(moved), imag(moved)]
        else:
            parts = [float_part(moved), zeros_like(float_part(moved))]
        if n is not None:
            n = _check_length(n)
            parts = [_fit(part, n) for part in parts]
        spectrum = complex_(*[cast(part, "float64") for part in DFT(1)(*parts)])
        return dimshuffle(spectrum, *[order.index(d) for d in range(a.ndim)])


fft = Fourier()

"""The discrete Fourier transform as ops on real tensors.  A complex signal travels as two float
tensors of one shape, its real and its imaginary part, as Keras 3's fft ops pass them (T.complex
and T.real/T.imag convert to and from the graph's complex dtypes); each op here takes and gives such pairs.

The DFT is linear, so each pullback is a DFT of the output gradients.  For y = A x on complex
values and a real cost, with a gradient written g = dL/dRe + i dL/dIm, the rule is x_bar = A^H g.
The DFT matrix F is symmetric with F^H = n F^-1, so the fft's pullback is n times the inverse
fft of g and the inverse's is the fft of g over n.  rfft and irfft keep only the half spectrum
0..n//2 of a real signal, whose other half is its mirror image, so their pullbacks weigh each
kept bin by how many bins of the full spectrum it stands for (see half_spectrum_weights)."""
import numpy as np

from mlcore.graph.basic import Apply, Op, TensorType
from mlcore.graph.ops.common import _fmt, as_float_dtype, as_tensor_variable, upcast, with_dtype


def float_part(x):
    x = as_tensor_variable(x)
    return with_dtype(x, as_float_dtype(x.dtype))


def complex_pair(name, real, imag, min_ndim=1):
    """real and imag as float tensors of one dtype and shape, of at least min_ndim dims."""
    real, imag = float_part(real), float_part(imag)
    if real.type.shape != imag.type.shape:     # each message holds Keras's words too, in brackets
        raise ValueError("%s: the real and imaginary parts must have the same shape, got %s and %s (Both the "
                         "real and imaginary parts should have the same shape)"
                         % (name, _fmt(real.type.shape), _fmt(imag.type.shape)))
    if real.ndim < min_ndim:
        raise ValueError("%s: needs a tensor of rank >= %d, got shape %s (Input should have rank >= %d)"
                         % (name, min_ndim, _fmt(real.type.shape), min_ndim))
    dtype = upcast(real.dtype, imag.dtype)
    return with_dtype(real, dtype), with_dtype(imag, dtype)


def check_length(name, shape, axes, want=None):
    """The transformed axes' lengths, which must be known (and equal to want, where given)."""
    lengths = shape[-axes:]
    if None in lengths:
        raise ValueError("%s: the last %s of the input must be known, got shape %s (Input should have its %s "
                         "fully-defined)" % (name, "axis" if axes == 1 else "%d axes" % axes, _fmt(shape),
                                             "last dimension" if axes == 1 else "%d axes" % axes))
    if want is not None and lengths[-1] != want:
        raise ValueError("%s: the last axis of the input must be of length %d, got shape %s"
                         % (name, want, _fmt(shape)))
    return lengths


def half_spectrum_weights(n, dtype):
    """How much of the full n-point spectrum each bin k = 0..n//2 of the half one stands for, over 2:
    1 for the zero frequency and (n even) the Nyquist bin, which have no mirror image, 1/2 for the
    others, each of which also stands for its conjugate at n - k."""
    weights = np.full(n // 2 + 1, 0.5, dtype=dtype)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    return weights


class DFT(Op):
    """The complex DFT over the last `axes` axes (numpy's fftn), or its inverse (ifftn, which
    divides by n, the product of their lengths): (real, imag) -> (real, imag)."""
    __props__ = ("axes", "inverse")

    def __init__(self, axes=1, inverse=False):
        self.axes, self.inverse = int(axes), bool(inverse)

    def make_node(self, real, imag):
        real, imag = complex_pair(str(self), real, imag, self.axes)
        check_length(str(self), real.type.shape, self.axes)
        return Apply(self, [real, imag], [real.type, imag.type])

    def pullback(self, inputs, outputs, output_grads):
        n = float(np.prod(check_length(str(self), inputs[0].type.shape, self.axes)))
        real, imag = DFT(self.axes, not self.inverse)(*output_grads)
        scale = 1.0 / n if self.inverse else n
        return [real * scale, imag * scale]


class RFFT(Op):
    """The DFT of a real signal of length n along the last axis, its bins 0..n//2:
    x (..., n) -> (real, imag), each (..., n//2 + 1).
    Pullback: dL/dx_j = Re sum_k g_k e^(2 pi i jk/n), which is n irfft(w g) for the half-spectrum
    weights w (irfft counts each bin but the zero and Nyquist ones twice)."""
    __props__ = ("n",)

    def __init__(self, n):
        self.n = int(n)

    def make_node(self, x):
        x = float_part(x)
        if x.ndim < 1:
            raise ValueError("rfft: needs a tensor of rank >= 1, got a scalar")
        check_length("rfft", x.type.shape, 1, self.n)
        out = TensorType(x.dtype, x.type.shape[:-1] + (self.n // 2 + 1,))
        return Apply(self, [x], [out, out])

    def pullback(self, inputs, outputs, output_grads):
        weights = half_spectrum_weights(self.n, inputs[0].dtype) * self.n
        return [IRFFT(self.n)(output_grads[0] * weights, output_grads[1] * weights)]


class IRFFT(Op):
    """The real signal of length n whose spectrum has bins 0..n//2 (real, imag), each (..., n//2 + 1),
    along the last axis (numpy's irfft; the imaginary parts of the zero and Nyquist bins are not read).
    Pullback: the rfft of g, times 1/n for the bins counted once and 2/n for the others."""
    __props__ = ("n",)

    def __init__(self, n):
        self.n = int(n)

    def make_node(self, real, imag):
        real, imag = complex_pair("irfft", real, imag)
        check_length("irfft", real.type.shape, 1, self.n // 2 + 1)
        return Apply(self, [real, imag], [TensorType(real.dtype, real.type.shape[:-1] + (self.n,))])

    def pullback(self, inputs, outputs, output_grads):
        real, imag = RFFT(self.n)(output_grads[0])
        weights = 1.0 / (half_spectrum_weights(self.n, inputs[0].dtype) * self.n)
        return [real * weights, imag * weights]


def dft(real, imag, axes=1, inverse=False):
    """(real, imag) of the complex DFT (or its inverse) over the last `axes` axes."""
    return DFT(axes, inverse)(real, imag)


def rfft(x):
    """(real, imag) of the DFT of the real x along its last axis (of known length n), bins 0..n//2."""
    x = float_part(x)
    return RFFT(check_length("rfft", x.type.shape, 1)[-1])(x)


def irfft(real, imag, n):
    """The real signal of length n whose half spectrum (bins 0..n//2, the last axis) is (real, imag)."""
    return IRFFT(n)(real, imag)

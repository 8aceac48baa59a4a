"""The discrete Fourier transform as ops on real tensors.  A complex signal travels as two float
tensors of one shape, its real and its imaginary part, as Keras 3's fft ops pass them (T.complex
and T.real/T.imag convert to and from the graph's complex dtypes); each op here takes and gives such pairs.

The DFT is linear, so each pullback is a DFT of the output gradients.  For y = A x on complex
values and a real cost, with a gradient written g = dL/dRe + i dL/dIm, the rule is x_bar = A^H g.
The DFT matrix F is symmetric with F^H = n F^-1, so the fft's pullback is n times the inverse
fft of g and the inverse's is the fft of g over n.  rfft and irfft keep only the half spectrum
0..n//2 of a real signal, whose other half is its mirror image, so their pullbacks weigh each
kept bin by how many bins of the full spectrum it stands for (see half_spectrum_weights).

A transformed length may be unknown while building (Theano's rfft of a T.matrix()): the kernels
read it from the arrays, and the pullbacks scale by it symbolically."""
import functools
import operator

import numpy as np

from mlcore.graph.basic import Apply, Op, TensorType
from mlcore.graph.ops.common import _fmt, as_float_dtype, as_tensor_variable, upcast, with_dtype
from mlcore.graph.ops.elemwise import and_, cast, eq, mod, or_, switch
from mlcore.graph.ops.shape import arange, shape


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
    others, each of which also stands for its conjugate at n - k.  A symbolic n gives them
    symbolically."""
    if not isinstance(n, int):
        bins = arange(n // 2 + 1)
        single = or_(eq(bins, 0), and_(eq(bins, n // 2), eq(mod(n, 2), 0)))
        return cast(switch(single, 1.0, 0.5), dtype)
    weights = np.full(n // 2 + 1, 0.5, dtype=dtype)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    return weights


def last_length(x, axes=1):
    """The number of entries in x's last `axes` dims: an int where its type knows them, else symbolic."""
    known = x.type.shape[-axes:]
    if None not in known:
        return int(np.prod(known))
    sizes = shape(x)
    return functools.reduce(operator.mul, [sizes[d] for d in range(x.ndim - axes, x.ndim)])


def as_scale(n, dtype):
    """A length as a factor of a dtype graph: a Python float, or the symbolic length cast to dtype (an
    int64 factor would make a float32 gradient float64)."""
    return float(n) if isinstance(n, int) else cast(n, dtype)


class DFT(Op):
    """The complex DFT over the last `axes` axes (numpy's fftn), or its inverse (ifftn, which
    divides by n, the product of their lengths): (real, imag) -> (real, imag)."""
    __props__ = ("axes", "inverse")

    def __init__(self, axes=1, inverse=False):
        self.axes, self.inverse = int(axes), bool(inverse)

    def make_node(self, real, imag):
        real, imag = complex_pair(str(self), real, imag, self.axes)
        return Apply(self, [real, imag], [real.type, imag.type])

    def pullback(self, inputs, outputs, output_grads):
        n = as_scale(last_length(inputs[0], self.axes), inputs[0].dtype)
        real, imag = DFT(self.axes, not self.inverse)(*output_grads)
        scale = 1.0 / n if self.inverse else n
        return [real * scale, imag * scale]


class RFFT(Op):
    """The DFT of a real signal of length n along the last axis, its bins 0..n//2:
    x (..., n) -> (real, imag), each (..., n//2 + 1); n None: x's length, known or not.
    Pullback: dL/dx_j = Re sum_k g_k e^(2 pi i jk/n), which is n irfft(w g) for the half-spectrum
    weights w (irfft counts each bin but the zero and Nyquist ones twice)."""
    __props__ = ("n",)

    def __init__(self, n=None):
        self.n = None if n is None else int(n)

    def make_node(self, x):
        x = float_part(x)
        if x.ndim < 1:
            raise ValueError("rfft: needs a tensor of rank >= 1, got a scalar")
        if self.n is not None:
            check_length("rfft", x.type.shape, 1, self.n)
        length = x.type.shape[-1]
        out = TensorType(x.dtype, x.type.shape[:-1] + (None if length is None else length // 2 + 1,))
        return Apply(self, [x], [out, out])

    def pullback(self, inputs, outputs, output_grads):
        x = inputs[0]
        n = last_length(x)
        weights = half_spectrum_weights(n, x.dtype) * as_scale(n, x.dtype)
        length_of = [] if isinstance(n, int) else [x]      # an unknown length is read from x itself
        return [IRFFT(n if isinstance(n, int) else None)(output_grads[0] * weights, output_grads[1] * weights,
                                                         *length_of)]


class IRFFT(Op):
    """The real signal of length n whose spectrum has bins 0..n//2 (real, imag), each (..., n//2 + 1),
    along the last axis (numpy's irfft; the imaginary parts of the zero and Nyquist bins are not read).
    n None: the last length of a third input, like (rfft's pullback), or else 2 (bins - 1), plus
    one when odd.  Pullback: the rfft of g, times 1/n for the bins counted once and 2/n for the others."""
    __props__ = ("n", "odd")

    def __init__(self, n=None, odd=False):
        self.n, self.odd = None if n is None else int(n), bool(odd)

    def make_node(self, real, imag, *like):
        real, imag = complex_pair("irfft", real, imag)
        bins = real.type.shape[-1]
        if self.n is not None:
            check_length("irfft", real.type.shape, 1, self.n // 2 + 1)
            length = self.n
        elif like:
            like = (as_tensor_variable(like[0]),)
            length = like[0].type.shape[-1]
        else:
            length = None if bins is None else 2 * (bins - 1) + self.odd
        return Apply(self, [real, imag, *like], [TensorType(real.dtype, real.type.shape[:-1] + (length,))])

    def length(self, bins, like=None):
        """The output's length, for a kernel: n, like's last length, or from the number of bins."""
        if self.n is not None:
            return self.n
        return like.shape[-1] if like is not None else 2 * (bins - 1) + self.odd

    def pullback(self, inputs, outputs, output_grads):
        real, imag = RFFT()(output_grads[0])
        n = last_length(outputs[0])
        weights = 1.0 / (half_spectrum_weights(n, inputs[0].dtype) * as_scale(n, inputs[0].dtype))
        return [real * weights, imag * weights] + [None] * (len(inputs) - 2)


def dft(real, imag, axes=1, inverse=False):
    """(real, imag) of the complex DFT (or its inverse) over the last `axes` axes."""
    return DFT(axes, inverse)(real, imag)


def rfft(x):
    """(real, imag) of the DFT of the real x along its last axis (of known length n), bins 0..n//2."""
    x = float_part(x)
    return RFFT(check_length("rfft", x.type.shape, 1)[-1])(x)


def irfft(real, imag, n=None, odd=False):
    """The real signal of length n whose half spectrum (bins 0..n//2, the last axis) is (real, imag);
    n None: 2 (bins - 1), plus one when odd."""
    return IRFFT(n, odd)(real, imag)

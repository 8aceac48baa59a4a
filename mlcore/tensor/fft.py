"""theano.tensor.fft: the n-dimensional DFT of a batch of real signals and its inverse, with complex
values as a trailing dim of 2 (real, imaginary), as Theano's rfft and irfft give and take them.

The first dim is the batch; the transform runs over all the others, the last one halved (bins
0..n//2, as numpy's rfftn).  norm: None (the forward transform unscaled, the inverse divided by N,
numpy's default), "ortho" (both divided by sqrt(N)) or "no_norm" (neither scaled), N being the
number of entries of one signal.  Built on the graph's RFFT, IRFFT and DFT ops, so every backend
runs them and their gradients come from those ops."""
import numpy as np

from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.fourier import DFT, IRFFT, RFFT, float_part
from mlcore.graph.ops.shape import dimshuffle, stack

NORMS = (None, "ortho", "no_norm")


def _check(name, x, norm, min_ndim):
    if norm not in NORMS:
        raise ValueError("%s: norm must be None, 'ortho' or 'no_norm', got %r" % (name, norm))
    if x.ndim < min_ndim:
        raise ValueError("%s: needs a batch of signals of at least %d dims, got %s" % (name, min_ndim, x.type))
    if None in x.type.shape[1:]:
        raise ValueError("%s: the signals' lengths must be known while building (every dim but the batch), "
                         "got %s" % (name, x.type))


def _over_middle_dims(real, imag, inverse):
    """The complex DFT of (real, imag) over the dims between the batch and the last one."""
    middle = real.ndim - 2
    if middle == 0:
        return real, imag
    last_first = [0, real.ndim - 1] + list(range(1, real.ndim - 1))     # the last dim moved next to the batch
    back = [0] + list(range(2, real.ndim)) + [1]
    real, imag = DFT(middle, inverse)(dimshuffle(real, *last_first), dimshuffle(imag, *last_first))
    return dimshuffle(real, *back), dimshuffle(imag, *back)


def rfft(inp, norm=None):
    """inp (m, n1, ..., nk), real -> (m, n1, ..., nk // 2 + 1, 2): each signal's DFT, real and imaginary
    parts in the last dim."""
    x = float_part(as_tensor_variable(inp))
    _check("rfft", x, norm, 2)
    real, imag = RFFT(x.type.shape[-1])(x)
    real, imag = _over_middle_dims(real, imag, inverse=False)
    if norm == "ortho":
        scale = 1.0 / float(np.sqrt(np.prod(x.type.shape[1:])))
        real, imag = real * scale, imag * scale
    return stack([real, imag], axis=-1)


def irfft(inp, norm=None, is_odd=False):
    """inp (m, n1, ..., h, 2), the half spectra rfft gives -> (m, n1, ..., nk), real, where nk is
    2 * (h - 1), plus one when is_odd."""
    x = float_part(as_tensor_variable(inp))
    _check("irfft", x, norm, 3)
    if x.type.shape[-1] != 2:
        raise ValueError("irfft: the last dim holds the real and imaginary parts, so its length must be 2, got %s"
                         % (x.type,))
    n = 2 * (x.type.shape[-2] - 1) + bool(is_odd)
    real, imag = _over_middle_dims(x[..., 0], x[..., 1], inverse=True)
    out = IRFFT(n)(real, imag)
    size = float(np.prod(x.type.shape[1:-2]) * n)
    if norm == "ortho":
        out = out * float(np.sqrt(size))
    elif norm == "no_norm":
        out = out * size
    return out

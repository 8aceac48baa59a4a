"""theano.tensor.fft: the n-dimensional DFT of a batch of real signals and its inverse, with complex
values as a trailing dim of 2 (real, imaginary), as Theano's rfft and irfft give and take them.

The first dim is the batch; the transform runs over all the others, the last one halved (bins
0..n//2, as numpy's rfftn).  norm: None (the forward transform unscaled, the inverse divided by N,
numpy's default), "ortho" (both divided by sqrt(N)) or "no_norm" (neither scaled), N being the
number of entries of one signal.  The signals' lengths need not be known while building (a
T.matrix() or a shared variable, as in Theano).  Built on the graph's RFFT, IRFFT and DFT ops, so
every backend runs them and their gradients come from those ops."""
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.elemwise import cast
from mlcore.graph.ops.fourier import DFT, IRFFT, RFFT, float_part, last_length
from mlcore.graph.ops.shape import dimshuffle, stack

NORMS = (None, "ortho", "no_norm")


def _check(name, x, norm, min_ndim):
    if norm not in NORMS:
        raise ValueError("%s: norm must be None, 'ortho' or 'no_norm', got %r" % (name, norm))
    if x.ndim < min_ndim:
        raise ValueError("%s: needs a batch of signals of at least %d dims, got %s" % (name, min_ndim, x.type))


def _signal_size(x, dtype):
    """The number of entries in one signal of the batch x: a Python float where x's type knows it
    (exact in a graph of any float dtype), else a symbolic scalar of dtype."""
    n = last_length(x, x.ndim - 1)
    return float(n) if isinstance(n, int) else cast(n, dtype)


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
    real, imag = RFFT()(x)
    real, imag = _over_middle_dims(real, imag, inverse=False)
    if norm == "ortho":
        size = _signal_size(x, x.dtype)
        real, imag = real / size ** 0.5, imag / size ** 0.5
    return stack([real, imag], axis=-1)


def irfft(inp, norm=None, is_odd=False):
    """inp (m, n1, ..., h, 2), the half spectra rfft gives -> (m, n1, ..., nk), real, where nk is
    2 * (h - 1), plus one when is_odd."""
    x = float_part(as_tensor_variable(inp))
    _check("irfft", x, norm, 3)
    if is_odd not in (True, False):
        raise ValueError("irfft: is_odd must be True or False, got %r" % (is_odd,))
    if x.type.shape[-1] not in (None, 2):
        raise ValueError("irfft: the last dim holds the real and imaginary parts, so its length must be 2, got %s"
                         % (x.type,))
    real, imag = _over_middle_dims(x[..., 0], x[..., 1], inverse=True)
    out = IRFFT(odd=is_odd)(real, imag)
    if norm is not None:
        size = _signal_size(out, out.dtype)
        out = out * (size ** 0.5 if norm == "ortho" else size)
    return out

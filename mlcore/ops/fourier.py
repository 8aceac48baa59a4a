"""keras.ops' Fourier transforms: fft, fft2, ifft2, rfft, irfft, and the short-time transform and
its inverse (stft, istft).  A complex tensor is a (real, imag) tuple of float tensors, as in
Keras 3; the transforms are the graph's fourier ops, so they differentiate and run on every
backend.  stft and istft follow Keras's (which are scipy.signal's, scaled): frames fft_length
long, each windowed by a window of sequence_length zero-padded at both ends to fft_length."""
import numpy as np

from mlcore.graph.ops import fourier
from mlcore.graph.ops import shape as sh
from mlcore.graph.ops.elemwise import gt, switch
from mlcore.graph.ops.extra_ops import dims
from mlcore.graph.ops.indexing import IncSubtensor, Slot, expand_spec
from mlcore.ops.arrays import take
from mlcore.ops.core import as_float, as_tensor
from mlcore.ops.sequences import extract_sequences


def _pair(name, x, min_ndim=1):
    """x, a (real, imag) tuple, as two float tensors of one shape."""
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError("%s: input `x` should be a tuple of two tensors - real and imaginary (Input `x` should be a "
                         "tuple of two tensors). Received: x=%r" % (name, x))
    return fourier.complex_pair(name, as_float(x[0]), as_float(x[1]), min_ndim)


def _dft(name, x, axes, inverse=False):
    """The DFT over the last `axes` axes of x = (real, imag), whose lengths Keras requires known (the
    graph's DFT does not)."""
    real, imag = _pair(name, x, axes)
    fourier.check_length(name, real.type.shape, axes)
    return fourier.dft(real, imag, axes=axes, inverse=inverse)


def _transform_length(name, n):
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError("%s: the transform needs a positive integer length, got fft_length=%r" % (name, n))
    return int(n)


def _fit_last(name, x, length):
    """x's last axis cut or zero-padded at its end to `length`, as numpy's n= argument does."""
    have = fourier.check_length(name, x.type.shape, 1)[-1]
    if have > length:
        return x[..., :length]
    return sh.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, length - have)]) if have < length else x


def fft(x):
    """The DFT along the last axis of the complex x = (real, imag); gives (real, imag)."""
    return _dft("fft", x, 1)


def fft2(x):
    """The 2-D DFT over the last two axes of x = (real, imag)."""
    return _dft("fft2", x, 2)


def ifft2(x):
    """The inverse 2-D DFT (divided by the number of points) over the last two axes of x = (real, imag)."""
    return _dft("ifft2", x, 2, inverse=True)


def rfft(x, fft_length=None):
    """(real, imag) of the DFT of the real x along its last axis, bins 0..fft_length//2; x is cut or
    zero-padded to fft_length (default: its own length) first."""
    x = as_float(x)
    if x.ndim < 1:
        raise ValueError("rfft: Input should have rank >= 1. Received: input.shape = ()")
    n = fourier.check_length("rfft", x.type.shape, 1)[-1] if fft_length is None else fft_length
    n = _transform_length("rfft", n)
    return fourier.rfft(_fit_last("rfft", x, n))


def irfft(x, fft_length=None):
    """The real signal of length fft_length (default 2 * (bins - 1)) whose half spectrum is
    x = (real, imag) along the last axis, cut or zero-padded to fft_length//2 + 1 bins first."""
    real, imag = _pair("irfft", x)
    n = 2 * (fourier.check_length("irfft", real.type.shape, 1)[-1] - 1) if fft_length is None else fft_length
    n = _transform_length("irfft", n)
    return fourier.irfft(_fit_last("irfft", real, n // 2 + 1), _fit_last("irfft", imag, n // 2 + 1), n)


# --- short-time transforms -------------------------------------------------------------------------
def _padded_window(window, sequence_length, fft_length, dtype):
    """The window (a name, values, or None for none) zero-padded at both ends to fft_length, or None."""
    if window is None:
        return None
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError('If a string is passed to `window`, it must be one of `"hann"`, `"hamming"`. '
                             "Received: window=%s" % (window,))
        # scipy.signal.get_window's periodic windows: the symmetric one of sequence_length + 1, less its end
        window = {"hann": np.hanning, "hamming": np.hamming}[window](sequence_length + 1)[:-1].astype(dtype)
    window = as_tensor(window)
    if window.ndim != 1 or window.type.shape[0] != sequence_length:
        raise ValueError("The shape of `window` must be equal to [sequence_length]. Received: window shape=%s"
                         % (window.type.shape,))
    left = (fft_length - sequence_length) // 2
    return sh.pad(as_float(window), [(left, fft_length - sequence_length - left)])


def _reflect_indices(length, pad):
    """The indices that pad an axis of `length` by `pad` on each side as numpy's mode="reflect" does
    (mirrored about the end entries, bouncing back and forth for pads longer than the axis)."""
    if length == 1:
        return np.zeros(length + 2 * pad, dtype="int64")
    period = 2 * (length - 1)
    positions = np.arange(-pad, length + pad) % period
    return np.where(positions < length, positions, period - positions)


def _check_stft_arguments(sequence_length, sequence_stride, fft_length):
    if not isinstance(sequence_stride, (int, np.integer)) or sequence_stride <= 0:
        raise ValueError("`sequence_stride` must be a positive integer. Received: sequence_stride=%s"
                         % (sequence_stride,))
    if fft_length < sequence_length:
        raise ValueError("`fft_length` must equal or larger than `sequence_length`. Received: sequence_length=%s, "
                         "fft_length=%s" % (sequence_length, fft_length))


def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """(real, imag), each (..., frames, fft_length//2 + 1): the rfft of each frame of the last axis,
    fft_length long and sequence_stride apart, times the window.  With center, x is first padded
    by fft_length//2 on each side by reflection, so that frame t is centred on t * sequence_stride."""
    _check_stft_arguments(sequence_length, sequence_stride, fft_length)
    x = as_tensor(x)
    if x.dtype not in ("float32", "float64"):
        raise TypeError("stft: invalid input type. Expected `float32` or `float64`. Received: input type=%s"
                        % (x.dtype,))
    length = fourier.check_length("stft", x.type.shape, 1)[-1] if x.ndim else None
    if length is None:
        raise ValueError("stft: Input should have rank >= 1. Received: input.shape = ()")
    if center:
        x = take(x, _reflect_indices(length, fft_length // 2), axis=-1)
    frames = extract_sequences(x, fft_length, sequence_stride)
    win = _padded_window(window, sequence_length, fft_length, x.dtype)
    return fourier.rfft(frames if win is None else frames * win)


def _overlap_add(frames, stride):
    """frames (..., count, length) summed into one signal, frame k starting at k * stride; the count
    may be known only when the graph runs (a variable number of frames)."""
    count, length = dims(frames)[-2], frames.type.shape[-1]
    starts = np.arange(count) if isinstance(count, int) else sh.arange(count)
    positions = sh.dimshuffle(as_tensor(starts) * stride, 0, "x") + np.arange(length)
    signal = sh.zeros(dims(frames)[:-2] + [(count - 1) * stride + length], frames.dtype)
    # the op itself, not inc_subtensor(signal[..., positions]): a small constant signal[...] folds at once
    return IncSubtensor(expand_spec(("...", Slot(1)), signal.ndim))(signal, frames, positions)


def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann", center=True):
    """The signal whose stft is x = (real, imag): each frame's irfft, windowed, overlap-added and
    divided by the overlap-added squared window where that is above 1e-10 (scipy's istft); without
    a window, divided by the overlap count and scaled by fft_length / sequence_stride (as Keras).
    The result runs from fft_length//2 (center) or 0, for `length` samples or to the end (less
    fft_length//2 with center)."""
    _check_stft_arguments(sequence_length, sequence_stride, fft_length)
    real, imag = _pair("istft", x, 2)     # the frames' count may be unknown, their bins not (_fit_last)
    bins = fft_length // 2 + 1      # as scipy's istft, the spectra are cut or zero-padded to fft_length's
    frames = fourier.irfft(_fit_last("istft", real, bins), _fit_last("istft", imag, bins), fft_length)
    win = _padded_window(window, sequence_length, fft_length, real.dtype)
    squares = sh.ones((fft_length,), real.dtype) if win is None else win * win
    norm = _overlap_add(sh.alloc(squares, dims(real)[-2], fft_length), sequence_stride)
    signal = _overlap_add(frames if win is None else frames * win, sequence_stride)
    signal = signal / switch(gt(norm, 1e-10), norm, 1.0)
    if win is None:
        signal = signal * (fft_length / sequence_stride)
    start = fft_length // 2 if center else 0
    end = dims(signal)[-1] - start if length is None else start + length
    return signal[..., start:end]


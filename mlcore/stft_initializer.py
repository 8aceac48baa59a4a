"""keras.initializers.STFT (also STFTInitializer): the kernels of a 1-d convolution that computes a
short-time Fourier transform, as STFTSpectrogram uses them.  Kept beside mlcore.initializers, which
imports it, because it needs scipy's window functions."""
import numpy as np
import scipy.signal

from mlcore import config
from mlcore.initializers import Initializer


class STFT(Initializer):
    """A (frame_length, 1, bins) kernel whose column k is the real (cos) or the imaginary (-sin)
    part of e^(-2 pi i k t / fft_length), fft_length = 2 (bins - 1), times the window (a name of a
    scipy.signal.windows function, values, or None) over its L2 norm (scaling "density") or its
    L1 norm ("spectrum"); periodic takes the periodic form of a named window."""

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ("real", "imag"):
            raise ValueError("side should be 'real' or 'imag', not %s" % (side,))
        if isinstance(window, str):
            scipy.signal.get_window(window, 1)          # an unknown name fails here
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError("Scaling is invalid, it must be `None`, 'density' or 'spectrum'. Received scaling=%s"
                             % (scaling,))
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape, dtype=None):
        frame_length, _, bins = shape
        time = np.arange(frame_length).reshape(frame_length, 1, 1)
        angle = -2 * np.pi * time * np.arange(bins).reshape(1, 1, bins) / ((bins - 1) * 2)
        kernel = np.cos(angle) if self.side == "real" else np.sin(angle)
        if self.window is not None:
            window = self.window
            if isinstance(window, str):
                window = scipy.signal.get_window(window, frame_length, self.periodic)
            window = np.asarray(window, dtype="float64")
            if window.shape != (frame_length,):
                raise ValueError("The shape of `window` must be equal to [frame_length]. Received: window shape=%s"
                                 % (window.shape,))
            scale = {"density": np.sqrt(np.sum(window ** 2)), "spectrum": np.sum(np.abs(window)), None: 1.0}
            kernel = kernel * window.reshape(frame_length, 1, 1) / scale[self.scaling]
        return kernel.astype(dtype or config.floatx())

    def get_config(self):
        window = self.window.tolist() if isinstance(self.window, np.ndarray) else self.window
        return {"side": self.side, "window": window, "periodic": self.periodic, "scaling": self.scaling}

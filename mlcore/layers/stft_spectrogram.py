"""STFTSpectrogram (Keras 3's layer): the spectrogram of each channel of a (batch, time, channels)
signal, computed as Keras does, by a strided 1-d convolution with the STFT initializer's real and
imaginary kernels, which are weights (trainable, like any layer's, unless trainable=False)."""
import math
import warnings

import scipy.signal

from mlcore import config, ops
from mlcore.initializers import STFT
from mlcore.layers.base import Layer
from mlcore.layers.conv_base import from_image, image_kernel, to_image
from mlcore.layers.convolutional import check_rank, standardize_data_format

MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")


class STFTSpectrogram(Layer):
    """mode: "real" or "imag" (a part of the STFT), "stft" (both, concatenated along frequency),
    "angle", "magnitude", "psd" (the power, doubled on the bins with a mirror image) or "log"
    (of the magnitude).  Frames are frame_length long (windowed by `window`, scaled by `scaling`
    as the STFT initializer does), frame_step apart (default frame_length // 2); fft_length defaults
    to the next power of two.  Output (batch, frames, channels * bins) channels_last, or with
    expand_dims (batch, frames, bins, channels); channels_first (batch, channels * bins, frames) or
    (batch, channels, frames, bins)."""

    def __init__(self, mode="log", frame_length=256, frame_step=None, fft_length=None, window="hann",
                 periodic=False, scaling="density", padding="valid", expand_dims=False, data_format=None, **kwargs):
        if frame_step is not None and (frame_step > frame_length or frame_step < 1):
            raise ValueError("`frame_step` should be a positive integer not greater than `frame_length`. "
                             "Received frame_step=%s, frame_length=%s" % (frame_step, frame_length))
        if fft_length is not None and fft_length < frame_length:
            raise ValueError("`fft_length` should be not less than `frame_length`. Received fft_length=%s, "
                             "frame_length=%s" % (fft_length, frame_length))
        if fft_length is not None and (fft_length & -fft_length) != fft_length:
            warnings.warn("`fft_length` is recommended to be a power of two. Received fft_length=%s" % fft_length)
        if mode not in MODES:
            raise ValueError("Output mode is invalid, it must be one of %s. Received: mode=%s"
                             % (", ".join(MODES), mode))
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError("Scaling is invalid, it must be `None`, 'density' or 'spectrum'. Received scaling=%s"
                             % (scaling,))
        if padding not in ("valid", "same"):
            raise ValueError("Padding is invalid, it should be 'valid', 'same'. Received: padding=%s" % (padding,))
        if isinstance(window, str):
            scipy.signal.get_window(window, 1)          # an unknown name fails here
        super().__init__(**kwargs)
        self.mode, self.frame_length, self.frame_step, self.fft_length = mode, frame_length, frame_step, fft_length
        self.window, self.periodic, self.scaling, self.padding = window, periodic, scaling, padding
        self.expand_dims, self.data_format = expand_dims, standardize_data_format(data_format)
        self._frame_step = frame_step or frame_length // 2
        self._fft_length = fft_length or 2 ** int(math.ceil(math.log2(frame_length)))

    def build(self, input_shape):
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        if self.mode != "imag":
            self.real_kernel = self.add_weight(shape, STFT("real", self.window, self.scaling, self.periodic),
                                               name="real_kernel")
        if self.mode != "real":
            self.imag_kernel = self.add_weight(shape, STFT("imag", self.window, self.scaling, self.periodic),
                                               name="imag_kernel")
        self.built = True       # layer.build(shape) called directly builds it too, as in Keras

    def _channels(self, input_shape):
        return input_shape[-1] if self.data_format == "channels_last" else input_shape[1]

    def _convolve(self, signals, kernel, channels):
        """signals (batch * channels, time, 1) convolved with kernel: (batch, channels, frames, bins)."""
        out = ops.conv(to_image(signals, 1, "channels_last"), image_kernel(ops.cast(kernel, signals.dtype), 1),
                       strides=(1, self._frame_step), padding=self.padding, data_format="channels_last")
        out = from_image(out, 1, "channels_last")
        return ops.reshape(out, (-1, channels) + tuple(out.shape[1:]))

    def call(self, inputs):
        check_rank(self, inputs.type.shape, 3)
        if inputs.dtype not in ("float16", "float32", "float64"):
            raise TypeError("Invalid input type. Expected `float16`, `float32` or `float64`. Received: input type=%s"
                            % (inputs.dtype,))
        channels = self._channels(inputs.type.shape)
        signals = inputs if self.data_format == "channels_first" else ops.transpose(inputs, (0, 2, 1))
        signals = ops.reshape(signals, (-1, signals.shape[2], 1))
        real = self._convolve(signals, self.real_kernel, channels) if self.mode != "imag" else None
        imag = self._convolve(signals, self.imag_kernel, channels) if self.mode != "real" else None
        return self._arrange(self._combine(real, imag))

    def _combine(self, real, imag):
        """The mode's quantity from the parts, each (batch, channels, frames, bins)."""
        if self.mode in ("real", "imag"):
            return real if self.mode == "real" else imag
        if self.mode == "angle":
            return ops.arctan2(imag, real)
        if self.mode == "stft":
            return ops.concatenate([real, imag], axis=3)
        power = ops.square(real) + ops.square(imag)
        if self.mode == "psd":     # the bins between the zero and the last one stand for two
            return power + ops.pad(power[:, :, :, 1:-1], [(0, 0), (0, 0), (0, 0), (1, 1)])
        magnitude = ops.sqrt(ops.maximum(power, config.epsilon()))
        return magnitude if self.mode == "magnitude" else ops.log(ops.maximum(magnitude, config.epsilon()))

    def _arrange(self, out):
        """(batch, channels, frames, bins) in the layer's output layout."""
        if self.data_format == "channels_last":
            if self.expand_dims:
                return ops.transpose(out, (0, 2, 3, 1))
            out = ops.transpose(out, (0, 2, 1, 3))
            return ops.reshape(out, (-1, out.shape[1], out.shape[2] * out.shape[3]))
        if self.expand_dims:
            return out
        out = ops.transpose(out, (0, 1, 3, 2))
        return ops.reshape(out, (-1, out.shape[1] * out.shape[2], out.shape[3]))

    def compute_output_shape(self, input_shape):
        channels = self._channels(input_shape)
        time = input_shape[1] if self.data_format == "channels_last" else input_shape[2]
        bins = (self._fft_length // 2 + 1) * (2 if self.mode == "stft" else 1)
        if time is None:
            frames = None
        elif self.padding == "same":
            frames = -(-time // self._frame_step)
        else:
            frames = max(0, (time - self.frame_length) // self._frame_step + 1)
        if self.data_format == "channels_last":
            return (input_shape[0], frames, bins, channels) if self.expand_dims else \
                (input_shape[0], frames, bins * channels)
        return (input_shape[0], channels, frames, bins) if self.expand_dims else \
            (input_shape[0], bins * channels, frames)

    def get_config(self):
        window = self.window.tolist() if hasattr(self.window, "tolist") else self.window
        return {**super().get_config(), "mode": self.mode, "frame_length": self.frame_length,
                "frame_step": self.frame_step, "fft_length": self.fft_length, "window": window,
                "periodic": self.periodic, "scaling": self.scaling, "padding": self.padding,
                "data_format": self.data_format, "expand_dims": self.expand_dims}

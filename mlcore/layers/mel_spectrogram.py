"""MelSpectrogram (Keras 3's layer): audio (batch, samples) or (samples,) to a (batch, num_mel_bins, frames)
mel-scale spectrogram, in decibels by default, as Keras computes it: the magnitude of ops.stft (centred
frames) to the power mag_exp, weighed by HTK-style triangular mel filters, then 10 log10 relative to
ref_power, floored top_db below the largest value of the whole batch.  It has no weights."""
import numpy as np

from mlcore import ops
from mlcore.layers.base import Layer

MEL_BREAK_FREQUENCY_HERTZ = 700.0
MEL_HIGH_FREQUENCY_Q = 1127.0


def hertz_to_mel(frequencies):
    return MEL_HIGH_FREQUENCY_Q * np.log(1.0 + np.asarray(frequencies) / MEL_BREAK_FREQUENCY_HERTZ)


def linear_to_mel_weight_matrix(num_mel_bins, num_spectrogram_bins, sampling_rate, lower_edge_hertz,
                                upper_edge_hertz, dtype="float32"):
    """The (num_spectrogram_bins, num_mel_bins) matrix of triangular filters, each peaking at 1 at its
    band's centre, with edges evenly spaced in mels; the DC bin gets no weight (HTK's convention).
    Computed in float64 (Keras computes in float32: its weights differ from these by up to 1e-5)."""
    frequencies = np.linspace(0.0, sampling_rate / 2.0, num_spectrogram_bins)[1:]
    bins_mel = hertz_to_mel(frequencies)[:, None]
    edges = np.linspace(hertz_to_mel(lower_edge_hertz), hertz_to_mel(upper_edge_hertz), num_mel_bins + 2)
    lower, center, upper = edges[:-2][None, :], edges[1:-1][None, :], edges[2:][None, :]
    weights = np.maximum(0.0, np.minimum((bins_mel - lower) / (center - lower), (upper - bins_mel) / (upper - center)))
    return np.pad(weights, [[1, 0], [0, 0]]).astype(dtype)


def centred_frames(signals, frame_length, stride):
    """(..., samples) audio as the (..., frames, frame_length) frames of stft(center=True): the audio padded
    by frame_length // 2 on each side by reflection, cut every `stride` samples.  The number of samples
    may be a symbolic size (known only at run time)."""
    samples, half = ops.shape(signals)[-1], frame_length // 2
    count = (samples + 2 * half - frame_length) // stride + 1
    period = ops.maximum(2 * (samples - 1), 1)       # one sample: all frames read it
    positions = (ops.expand_dims(ops.arange(count) * stride, -1) + (np.arange(frame_length) - half)) % period
    return ops.take(signals, ops.where(positions < samples, positions, period - positions), axis=-1)


class MelSpectrogram(Layer):
    def __init__(self, fft_length=2048, sequence_stride=512, sequence_length=None, window="hann",
                 sampling_rate=16000, num_mel_bins=128, min_freq=20.0, max_freq=None, power_to_db=True,
                 top_db=80.0, mag_exp=2.0, min_power=1e-10, ref_power=1.0, **kwargs):
        self.fft_length = fft_length
        self.sequence_stride = sequence_stride
        self.sequence_length = sequence_length or fft_length
        if self.fft_length < self.sequence_length:
            raise ValueError("`fft_length` must be greater than or equal to   `sequence_length`. Received: "
                             "`sequence_length`=%s, `fft_length`=%s." % (self.sequence_length, self.fft_length))
        self.window = window
        self.sampling_rate = sampling_rate
        self.num_mel_bins = num_mel_bins
        self.min_freq = min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db = power_to_db
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power
        super().__init__(**kwargs)

    def call(self, inputs):
        dtype = self.dtype if self.dtype in ("float32", "float64") else "float32"
        inputs = ops.cast(inputs, dtype)
        # each centred frame through stft on its own (stride fft_length: one stft frame per frame), so that
        # the length of the audio may be known only when the graph runs
        real, imag = ops.stft(centred_frames(inputs, self.fft_length, self.sequence_stride), self.sequence_length,
                              self.fft_length, self.fft_length, window=self.window, center=False)
        real, imag = ops.squeeze(real, -2), ops.squeeze(imag, -2)
        power = ops.power(ops.sqrt(ops.square(real) + ops.square(imag)), self.mag_exp)
        filters = linear_to_mel_weight_matrix(self.num_mel_bins, self.fft_length // 2 + 1, self.sampling_rate,
                                              self.min_freq, self.max_freq, dtype)
        outputs = ops.tensordot(power, filters, axes=1)
        if self.power_to_db:
            outputs = self._decibels(outputs)
        return ops.cast(ops.swapaxes(outputs, -1, -2), self.compute_dtype)

    def _decibels(self, power):
        reference = 10.0 * np.log10(max(abs(self.ref_power), self.min_power))
        decibels = 10.0 * ops.log10(ops.maximum(power, self.min_power)) - reference
        return ops.maximum(decibels, ops.max(decibels) - self.top_db)

    def compute_output_shape(self, input_shape):
        samples = input_shape[-1]
        frames = None if samples is None else (samples + self.sequence_stride + 1) // self.sequence_stride
        return tuple(input_shape[:-1]) + (self.num_mel_bins, frames)

    def get_config(self):
        return {**super().get_config(), "fft_length": self.fft_length, "sequence_stride": self.sequence_stride,
                "sequence_length": self.sequence_length, "window": self.window, "sampling_rate": self.sampling_rate,
                "num_mel_bins": self.num_mel_bins, "min_freq": self.min_freq, "max_freq": self.max_freq,
                "power_to_db": self.power_to_db, "top_db": self.top_db, "mag_exp": self.mag_exp,
                "min_power": self.min_power, "ref_power": self.ref_power}

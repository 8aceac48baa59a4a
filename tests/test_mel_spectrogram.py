"""MelSpectrogram against Keras 3.15's layer: the mel filters bit for bit, the spectrogram in a model on
every backend and eagerly, configs, Keras-written files, and Keras's argument error."""
import numpy as np
import pytest

from mlcore import function, layers
from mlcore.graph.basic import TensorType
from mlcore.layers.mel_spectrogram import linear_to_mel_weight_matrix
from mlcore.models import load_model

CASES = [dict(fft_length=512, sequence_stride=128, num_mel_bins=40, sampling_rate=8000),
         dict(fft_length=256, sequence_stride=64, sequence_length=200, power_to_db=False, mag_exp=1.0,
              window="hamming", min_freq=100.0, max_freq=3000),
         dict(fft_length=256, sequence_stride=100, top_db=20.0, ref_power=0.5, num_mel_bins=16)]


@pytest.fixture(scope="module")
def audio():
    return np.random.default_rng(0).standard_normal((2, 2000)).astype("float32")


@pytest.mark.parametrize("kwargs", CASES)
def test_mel_filters_equal_keras_s(keras, kwargs):
    theirs = keras.layers.MelSpectrogram(**kwargs)
    fft_length = kwargs["fft_length"]
    expected = theirs.linear_to_mel_weight_matrix(theirs.num_mel_bins, fft_length // 2 + 1, theirs.sampling_rate,
                                                  theirs.min_freq, theirs.max_freq)
    got = linear_to_mel_weight_matrix(theirs.num_mel_bins, fft_length // 2 + 1, theirs.sampling_rate,
                                      theirs.min_freq, theirs.max_freq)
    # Keras computes them in float32: its narrow bands are off by up to 1.5e-5 from these float64 ones
    np.testing.assert_allclose(got, np.asarray(expected), rtol=0, atol=2e-5)


@pytest.mark.parametrize("kwargs", CASES)
def test_spectrogram_equals_keras_s_on_every_backend(keras, backend, audio, kwargs):
    theirs = np.asarray(keras.layers.MelSpectrogram(**kwargs)(audio))
    scale = np.abs(theirs).max()
    signal = TensorType("float32", (None, audio.shape[1]))()
    layer = layers.MelSpectrogram(**kwargs)
    symbolic = layer(signal)
    assert symbolic.type.shape == (None,) + tuple(theirs.shape[1:]) == layer.compute_output_shape((None, 2000))
    ours = function([signal], symbolic, backend=backend)(audio)
    # rtol 1e-4: Keras's float32 mel filters are off by up to 8e-5 (relative) in the narrow low bands
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=2e-6 * scale)
    one = np.asarray(keras.layers.MelSpectrogram(**kwargs)(audio[0]))   # its own top_db floor
    np.testing.assert_allclose(layers.MelSpectrogram(**kwargs)(audio[0]), one, rtol=1e-4, atol=2e-6 * scale)


def test_config_and_keras_files(keras, tmp_path, audio):
    kwargs = CASES[0]
    ours, theirs = layers.MelSpectrogram(**kwargs).get_config(), keras.layers.MelSpectrogram(**kwargs).get_config()
    assert {k: v for k, v in ours.items() if k not in ("name", "dtype")} == {
        k: v for k, v in theirs.items() if k not in ("name", "dtype")}
    model = keras.Sequential([keras.Input((2000,)), keras.layers.MelSpectrogram(**kwargs)])
    model.save(tmp_path / "mel.keras")
    np.testing.assert_allclose(load_model(tmp_path / "mel.keras").predict(audio, verbose=0),
                               model.predict(audio, verbose=0), rtol=1e-5, atol=1e-4)
    with pytest.raises(ValueError, match="`fft_length` must be greater than or equal to"):
        layers.MelSpectrogram(fft_length=128, sequence_length=256)

"""keras.utils.audio_dataset_from_directory on .wav files written here with the `wave` module: decoding
(PCM 8/16/24/32-bit -> float32 value / full scale, as tf.audio.decode_wav), padding and output_sequence_length,
ragged, labels, and Keras 3's own file index and split (its pure-python dataset_utils; its loader needs
TensorFlow)."""
import os
import wave

import numpy as np
import pytest

import mlcore
from mlcore import layers, utils

pytestmark = pytest.mark.usefixtures("numpy_backend")


def write_wav(path, values, bits, rate=8000):
    """values: int (samples, channels) PCM codes of `bits` bits, signed (8-bit stored unsigned, as WAV does)."""
    values = np.asarray(values)
    width = bits // 8
    data = b"".join(int(v + 128 if bits == 8 else v).to_bytes(width, "little", signed=bits != 8)
                    for v in values.reshape(-1))
    with wave.open(str(path), "wb") as f:
        f.setnchannels(values.shape[1])
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(data)


def codes(rng, n, channels, bits):
    return rng.integers(-2 ** (bits - 1), 2 ** (bits - 1), (n, channels))


@pytest.mark.parametrize("bits", [8, 16, 24, 32])
def test_pcm_is_decoded_to_float32_over_full_scale(tmp_path, rng, bits):
    pcm = codes(rng, 50, 2, bits)
    pcm[:2] = [[-2 ** (bits - 1), 2 ** (bits - 1) - 1], [0, 1]]
    os.makedirs(tmp_path / "a")
    write_wav(tmp_path / "a" / "x.wav", pcm, bits)
    ds = utils.audio_dataset_from_directory(str(tmp_path), batch_size=None, verbose=False)
    audio, label = ds[0]
    assert audio.dtype == np.float32 and audio.shape == (50, 2) and int(label) == 0
    np.testing.assert_array_equal(audio, (pcm / 2.0 ** (bits - 1)).astype("float32"))
    assert audio.min() == -1.0 and audio.max() <= 1.0     # 32-bit's largest code rounds to 1 in float32


@pytest.fixture
def audio_dir(tmp_path, rng):
    """3 classes of mono 16-bit files of different lengths; returns (directory, {path: pcm codes})."""
    pcm = {}
    for c, name in enumerate(["no", "up", "yes"]):
        os.makedirs(tmp_path / name)
        for i in range(3 + c):
            path = str(tmp_path / name / ("%d.wav" % i))
            pcm[path] = codes(rng, 20 + 7 * i + c, 1, 16)
            write_wav(path, pcm[path], 16)
        (tmp_path / name / "readme.txt").write_text("not audio")
    return str(tmp_path), pcm


def expected_audio(pcm, length):
    """The float32 audio of pcm codes cut or zero-padded to length."""
    audio = np.zeros((length, pcm.shape[1]), "float32")
    audio[:min(length, len(pcm))] = pcm[:length] / 32768.0
    return audio


def test_batches_are_padded_to_their_longest_sequence(audio_dir, capsys):
    directory, pcm = audio_dir
    ds = utils.audio_dataset_from_directory(directory, batch_size=4, shuffle=False)
    assert capsys.readouterr().out == "Found 12 files belonging to 3 classes.\n"
    assert ds.class_names == ["no", "up", "yes"] and len(ds) == 3
    assert ds.file_paths == sorted(pcm, key=lambda p: (os.path.dirname(p), p))
    labels = []
    for k, (audio, y) in enumerate(ds):
        paths = ds.file_paths[4 * k:4 * k + 4]
        longest = max(len(pcm[p]) for p in paths)
        assert audio.shape == (len(paths), longest, 1) and audio.dtype == np.float32 and y.dtype == np.int32
        np.testing.assert_array_equal(audio, [expected_audio(pcm[p], longest) for p in paths])
        labels.extend(y)
    assert labels == [0] * 3 + [1] * 4 + [2] * 5


def test_output_sequence_length_cuts_and_pads(audio_dir):
    directory, pcm = audio_dir
    ds = utils.audio_dataset_from_directory(directory, batch_size=5, output_sequence_length=30, shuffle=False,
                                            label_mode="categorical", verbose=False)
    audio, y = ds[1]
    assert audio.shape == (5, 30, 1) and y.shape == (5, 3) and y.dtype == np.float32
    np.testing.assert_array_equal(audio, [expected_audio(pcm[p], 30) for p in ds.file_paths[5:10]])
    np.testing.assert_array_equal(y.argmax(1), [1, 1, 2, 2, 2])
    unlabelled = utils.audio_dataset_from_directory(directory, labels=None, batch_size=5, output_sequence_length=30,
                                                    shuffle=False, verbose=False)
    np.testing.assert_array_equal(unlabelled[1], audio)


def test_ragged_keeps_each_length(audio_dir):
    directory, pcm = audio_dir
    ds = utils.audio_dataset_from_directory(directory, batch_size=4, ragged=True, shuffle=False, verbose=False)
    audio, _ = ds[0]
    assert audio.dtype == object and [a.shape for a in audio] == [pcm[p].shape for p in ds.file_paths[:4]]
    np.testing.assert_array_equal(audio[2], expected_audio(pcm[ds.file_paths[2]], len(pcm[ds.file_paths[2]])))
    lengths = [len(a) for a in ds.unbatch().map(lambda a, y: a)]
    assert lengths == [len(pcm[p]) for p in ds.file_paths]


def test_index_and_split_match_keras(audio_dir, keras):
    from keras.src.utils import dataset_utils
    directory, _ = audio_dir
    paths, labels, class_names = dataset_utils.index_directory(directory, "inferred", formats=(".wav",), seed=5,
                                                               verbose=False)
    train, val = utils.audio_dataset_from_directory(directory, seed=5, validation_split=0.25, subset="both",
                                                    batch_size=None, verbose=False)
    expected = [dataset_utils.get_training_or_validation_split(paths, labels, 0.25, subset)
                for subset in ("training", "validation")]
    assert train.file_paths == expected[0][0] and val.file_paths == expected[1][0]
    assert [int(y) for _, y in val] == list(expected[1][1]) and train.class_names == class_names
    assert train.reshuffle and not val.reshuffle


def test_sampling_rate_is_checked(audio_dir, tmp_path):
    directory, _ = audio_dir
    assert len(utils.audio_dataset_from_directory(directory, sampling_rate=8000, verbose=False)) == 1
    with pytest.raises(NotImplementedError, match="sampled at 8000 Hz, not sampling_rate=16000"):
        list(utils.audio_dataset_from_directory(directory, sampling_rate=16000, verbose=False))
    with pytest.raises(ValueError, match="integer value"):
        utils.audio_dataset_from_directory(directory, sampling_rate=8000.0)
    with pytest.raises(ValueError, match="higher than 0"):
        utils.audio_dataset_from_directory(directory, sampling_rate=0)
    with pytest.raises(ValueError, match="both `ragged` and `output_sequence_length`"):
        utils.audio_dataset_from_directory(directory, ragged=True, output_sequence_length=10)
    with pytest.raises(ValueError, match="label_mode"):
        utils.audio_dataset_from_directory(directory, label_mode="sparse")
    with pytest.raises(ValueError, match="exactly 2 class_names"):
        utils.audio_dataset_from_directory(directory, label_mode="binary", verbose=False)
    os.makedirs(tmp_path / "empty" / "a")
    with pytest.raises(ValueError, match="No audio files found"):
        utils.audio_dataset_from_directory(str(tmp_path / "empty"), verbose=False)


def test_a_broken_file_is_skipped_with_a_warning(audio_dir):
    directory, pcm = audio_dir
    broken = os.path.join(directory, "up", "broken.wav")
    with open(broken, "wb") as f:
        f.write(b"RIFF....WAVEjunk")
    ds = utils.audio_dataset_from_directory(directory, batch_size=len(pcm) + 1, shuffle=False, verbose=False)
    with pytest.warns(UserWarning, match="broken.wav"):
        audio, labels = ds[0]
    assert len(audio) == len(labels) == len(pcm)


def test_a_model_fits_on_audio_batches(audio_dir):
    directory, pcm = audio_dir
    ds = utils.audio_dataset_from_directory(directory, batch_size=4, output_sequence_length=32, seed=1,
                                            verbose=False)
    utils.set_random_seed(0)
    model = mlcore.Sequential([layers.Input((32, 1)), layers.Flatten(), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(ds.map(lambda a, y: (a * 10.0, y)).cache(), epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3 and np.all(np.isfinite(history.history["loss"]))
    assert model.predict(ds.map(lambda a, y: a), verbose=0).shape == (len(pcm), 3)

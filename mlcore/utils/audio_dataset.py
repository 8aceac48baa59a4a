"""keras.utils.audio_dataset_from_directory: the .wav files of one sub-folder per class, decoded with Python's
`wave` module into float32 (samples, channels) arrays in [-1, 1] as tf.audio.decode_wav gives them, in batches
padded to their longest sequence (or cut and padded to output_sequence_length)."""
import functools
import wave

import numpy as np

from mlcore.utils.dataset_ops import stack_padded
from mlcore.utils.dataset_utils import dataset_from_directory

ALLOWED_FORMATS = (".wav",)
# PCM sample width in bytes -> (numpy dtype of a sample, the value that maps to 1.0); 8-bit PCM is unsigned
# with its zero at 128, and 24-bit samples are read as the top three bytes of an int32
_PCM = {1: ("uint8", 128.0), 2: ("<i2", 32768.0), 3: ("<i4", 2.0 ** 31), 4: ("<i4", 2.0 ** 31)}


def decode_wav(path, desired_samples=-1):
    """(audio, sample_rate) of a PCM .wav file: float32 (samples, channels), each PCM value divided by the
    full scale of its width; desired_samples >= 0 cuts or zero-pads the audio to that many samples."""
    try:
        with wave.open(path, "rb") as f:
            width, channels, rate = f.getsampwidth(), f.getnchannels(), f.getframerate()
            frames = f.readframes(f.getnframes())
    except (wave.Error, EOFError) as e:
        raise ValueError("audio_dataset_from_directory: %r is not a PCM .wav file: %s" % (path, e)) from None
    dtype, scale = _PCM[width]
    raw = np.frombuffer(frames, dtype="uint8")
    if width == 3:  # little-endian 24-bit: put each sample's three bytes at the top of an int32
        raw = np.pad(raw.reshape(-1, 3), ((0, 0), (1, 0))).reshape(-1)
    samples = raw.view(dtype).astype("float32")
    audio = ((samples - 128.0 if width == 1 else samples) / scale).astype("float32").reshape(-1, channels)
    if desired_samples >= 0:
        audio = np.pad(audio[:desired_samples], ((0, max(desired_samples - len(audio), 0)), (0, 0)))
    return audio, rate


def load_audio(path, sampling_rate, output_sequence_length):
    """One file's audio, checked against sampling_rate when given: mlcore reads, but does not resample (an
    error that stops the loop, where an unreadable file is only skipped with a warning)."""
    audio, rate = decode_wav(path, -1 if output_sequence_length is None else output_sequence_length)
    if sampling_rate is not None and rate != sampling_rate:
        raise NotImplementedError("audio_dataset_from_directory: %r is sampled at %d Hz, not sampling_rate=%d; "
                                  "mlcore does not resample audio (Keras does it with tensorflow-io)"
                                  % (path, rate, sampling_rate))
    return audio


def ragged_batch(sequences):
    """A batch of sequences of their own lengths: a 1-d object array of (samples, channels) arrays."""
    batch = np.empty(len(sequences), dtype=object)
    batch[:] = [np.asarray(s) for s in sequences]
    return batch


def audio_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, batch_size=32,
                                 sampling_rate=None, output_sequence_length=None, ragged=False, shuffle=True,
                                 seed=None, validation_split=None, subset=None, follow_links=False, verbose=True):
    """A PyDataset of (audio, labels) batches (audio alone when label_mode or labels is None) from the .wav
    files under directory, with Keras 3's arguments, file order, seeded shuffle and validation split; it has
    `class_names`, `file_paths` and tf.data's methods. subset="both" gives [training, validation]. audio is
    float32 (batch, samples, channels) in [-1, 1]: the batch's sequences zero-padded to the longest, or each
    cut or padded to output_sequence_length; ragged=True leaves each its own length (an object array of
    (samples, channels) arrays). sampling_rate, when given, must be every file's rate (no resampling)."""
    caller = "audio_dataset_from_directory"
    if ragged and output_sequence_length is not None:
        raise ValueError("%s: Cannot set both `ragged` and `output_sequence_length`" % caller)
    if sampling_rate is not None:
        if not isinstance(sampling_rate, int):
            raise ValueError("%s: `sampling_rate` should have an integer value. Received: sampling_rate=%r"
                             % (caller, sampling_rate))
        if sampling_rate <= 0:
            raise ValueError("%s: `sampling_rate` should be higher than 0. Received: sampling_rate=%r"
                             % (caller, sampling_rate))
    load = functools.partial(load_audio, sampling_rate=sampling_rate, output_sequence_length=output_sequence_length)
    return dataset_from_directory(caller, "audio files", ALLOWED_FORMATS, load, directory, labels, label_mode,
                                  class_names, batch_size, shuffle, seed, validation_split, subset, follow_links,
                                  "tf", verbose, collate=ragged_batch if ragged else stack_padded)

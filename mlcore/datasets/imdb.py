"""IMDB movie reviews (Maas et al. 2011), as keras.datasets.imdb: 25,000 training and 25,000
test reviews as sequences of word indices (ranked by frequency), labelled 1 (positive) or 0."""

import warnings

import numpy as np

from mlcore.datasets import text_sequences
from mlcore.datasets.safe_files import load_npz
from mlcore.datasets.splits import shuffled
from mlcore.utils.file_utils import get_file

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb.npz"
FILE_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"  # sha256
WORD_INDEX_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb_word_index.json"
WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"  # md5


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1,
              oov_char=2, index_from=3, **kwargs):
    """`(x_train, y_train), (x_test, y_test)`, shuffled with `seed`: object arrays of index lists
    (each after `start_char`, word i as i + index_from; those outside the `num_words` most
    frequent or among the `skip_top` most frequent become `oov_char`, or are dropped when it is
    None; reviews of `maxlen` words or more are left out) and integer label arrays.
    Keras 1's `nb_words` is accepted for `num_words`."""
    if "nb_words" in kwargs:
        warnings.warn("The `nb_words` argument in `load_data` has been renamed `num_words`.",
                      stacklevel=2)
        num_words = kwargs.pop("nb_words")
    if kwargs:
        raise TypeError(f"imdb.load_data: unrecognized keyword arguments: {kwargs}.")
    f = load_npz(get_file(fname=path, origin=ORIGIN, file_hash=FILE_HASH))
    rng = np.random.RandomState(seed)
    x_train, labels_train = shuffled(rng, f["x_train"], f["y_train"])
    x_test, labels_test = shuffled(rng, f["x_test"], f["y_test"])
    x_train = text_sequences.shift(x_train, start_char, index_from)
    x_test = text_sequences.shift(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = text_sequences.remove_long_seq(maxlen, x_train, labels_train)
        x_test, labels_test = text_sequences.remove_long_seq(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(f"imdb.load_data: after filtering for sequences shorter than "
                             f"maxlen={maxlen}, no sequence was kept. Increase maxlen.")
    xs = text_sequences.limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    idx = len(x_train)
    return ((np.array(xs[:idx], dtype="object"), labels[:idx]),
            (np.array(xs[idx:], dtype="object"), labels[idx:]))


def get_word_index(path="imdb_word_index.json"):
    """The `{word: index}` dict; in load_data's sequences word i appears as i + index_from."""
    return text_sequences.load_word_index(path, WORD_INDEX_ORIGIN, WORD_INDEX_HASH)

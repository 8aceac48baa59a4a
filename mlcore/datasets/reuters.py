"""Reuters newswires, as keras.datasets.reuters: 11,228 newswires as sequences of word indices
(ranked by frequency), labelled with one of 46 topics (get_label_names)."""

import numpy as np

from mlcore.datasets import text_sequences
from mlcore.datasets.safe_files import load_npz
from mlcore.datasets.splits import shuffled
from mlcore.utils.file_utils import get_file

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/reuters.npz"
FILE_HASH = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"  # sha256
WORD_INDEX_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/reuters_word_index.json"
WORD_INDEX_HASH = "4d44cc38712099c9e383dc6e5f11a921"  # md5
LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas", "cpi",
    "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal",
    "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc",
    "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead")


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2,
              seed=113, start_char=1, oov_char=2, index_from=3):
    """`(x_train, y_train), (x_test, y_test)`: the newswires shuffled with `seed`, encoded as
    imdb.load_data encodes reviews, the last `test_split` of them the test set."""
    f = load_npz(get_file(fname=path, origin=ORIGIN, file_hash=FILE_HASH))
    xs, labels = shuffled(np.random.RandomState(seed), f["x"], f["y"])
    xs = text_sequences.shift(xs, start_char, index_from)
    if maxlen:
        xs, labels = text_sequences.remove_long_seq(maxlen, xs, labels)
    xs = text_sequences.limit_vocabulary(xs, num_words, skip_top, oov_char)
    idx = int(len(xs) * (1 - test_split))
    return ((np.array(xs[:idx], dtype="object"), np.array(labels[:idx])),
            (np.array(xs[idx:], dtype="object"), np.array(labels[idx:])))


def get_word_index(path="reuters_word_index.json"):
    """The `{word: index}` dict; in load_data's sequences word i appears as i + index_from."""
    return text_sequences.load_word_index(path, WORD_INDEX_ORIGIN, WORD_INDEX_HASH)


def get_label_names():
    """The 46 topic names, indexed by label."""
    return LABEL_NAMES

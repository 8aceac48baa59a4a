"""What IMDB and Reuters share: word indices shifted past the reserved ones, long sequences
dropped, rare or too frequent words cut, as Keras's loaders do; and the word index files."""

import json

from mlcore.utils.file_utils import get_file

def shift(xs, start_char, index_from):
    """Each sequence as a list, its indices raised by `index_from`, after `start_char` if given."""
    head = [] if start_char is None else [start_char]
    return [head + [w + index_from for w in x] for x in xs]


def remove_long_seq(maxlen, seq, label):
    """The sequences shorter than `maxlen`, with their labels (Keras's python_utils helper)."""
    kept = [(x, y) for x, y in zip(seq, label) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def limit_vocabulary(xs, num_words, skip_top, oov_char):
    """Indices outside [skip_top, num_words) become `oov_char`, or are dropped when it is None."""
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is None:
        return [[w for w in x if skip_top <= w < num_words] for x in xs]
    return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]


def load_word_index(path, origin, file_hash):
    """The `{word: index}` dict of a word index JSON file, downloaded once."""
    with open(get_file(path, origin=origin, file_hash=file_hash)) as f:
        return json.load(f)

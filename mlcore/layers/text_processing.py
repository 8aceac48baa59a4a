"""TextVectorization's text steps, done as the TensorFlow string ops Keras calls do them:

- standardize: tf.strings.lower lowercases ASCII letters only (its default encoding); punctuation goes with
  Keras's regular expression, whose class holds the 32 ASCII punctuation characters;
- split: tf.strings.split breaks on runs of ASCII whitespace (" \\t\\n\\v\\f\\r"; Python's str.split would also
  break on Unicode spaces), tf.strings.unicode_split into Unicode characters;
- ngrams: tf.strings.ngrams gives, for each width in turn, every window of that many tokens joined by a space.

Split text is a list of rows, each a list of str tokens (TensorFlow's ragged tensor).
"""
import re
import string

import numpy as np

PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')    # Keras's pattern
ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
NON_WHITESPACE = re.compile(r"[^ \t\n\v\f\r]+")


def map_texts(function, texts):
    """function applied to each str of the array `texts`, as an array of the same shape."""
    return np.array([function(text) for text in texts.reshape(-1).tolist()], dtype=str).reshape(texts.shape)


def standardize(texts, how):
    """"lower", "strip_punctuation" or both ("lower_and_strip_punctuation") applied to a str array."""
    if how in ("lower", "lower_and_strip_punctuation"):
        texts = map_texts(lambda text: text.translate(ASCII_LOWER), texts)
    if how in ("strip_punctuation", "lower_and_strip_punctuation"):
        texts = map_texts(lambda text: PUNCTUATION.sub("", text), texts)
    return texts


def split(texts, how):
    """The tokens of each str of the 1-d array `texts`: "whitespace" or "character"."""
    if how == "whitespace":
        return [NON_WHITESPACE.findall(text) for text in texts.tolist()]
    return [list(text) for text in texts.tolist()]


def ngrams(tokens, widths):
    """The ngrams of one row of tokens, widths in the given order."""
    return [" ".join(tokens[k:k + width]) for width in widths for k in range(len(tokens) - width + 1)]


def dense_ngrams(texts, widths):
    """ngrams over the last axis of an unsplit str array (each row gives as many)."""
    rows = [ngrams(row, widths) for row in texts.reshape(-1, texts.shape[-1]).tolist()]
    count = len(rows[0]) if rows else 0
    return np.array(rows, dtype=str).reshape(texts.shape[:-1] + (count,))

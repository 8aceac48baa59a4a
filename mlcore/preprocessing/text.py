"""Keras 2's keras.preprocessing.text (from keras-preprocessing 1.1, which Keras 3 keeps as
keras._legacy.preprocessing.text): the Tokenizer, text_to_word_sequence, one_hot and hashing_trick of
the classic text tutorials, with Keras 2's results.  Index 0 is never a word's: it is left for padding.
Keras 3's way to do this inside a model is mlcore.layers.TextVectorization.

    tokenizer = Tokenizer(num_words=1000)
    tokenizer.fit_on_texts(texts)                     # word_index: most frequent word first, from 1
    sequences = tokenizer.texts_to_sequences(texts)   # lists of word indices
    x = tokenizer.texts_to_matrix(texts, mode="tfidf")
"""
import collections
import hashlib
import json
import warnings

import numpy as np

FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'    # punctuation (without "'"), tabs and line breaks


def text_to_word_sequence(input_text, filters=FILTERS, lower=True, split=" "):
    """The words of a text: lowercased (lower=True), each character of `filters` made a separator,
    split on `split`, empty words dropped."""
    if lower:
        input_text = input_text.lower()
    input_text = input_text.translate(str.maketrans({c: split for c in filters}))
    return [word for word in input_text.split(split) if word]


def one_hot(input_text, n, filters=FILTERS, lower=True, split=" ", analyzer=None):
    """hashing_trick with Python's hash(): word indices in [1, n), not unique, and (as str hashes are
    salted per process, unless PYTHONHASHSEED is set) not the same from one run to the next."""
    return hashing_trick(input_text, n, hash_function=hash, filters=filters, lower=lower, split=split,
                         analyzer=analyzer)


def _md5(word):
    return int(hashlib.md5(word.encode()).hexdigest(), 16)


def hashing_trick(text, n, hash_function=None, filters=FILTERS, lower=True, split=" ", analyzer=None):
    """Each word of the text as hash_function(word) % (n - 1) + 1: an index in [1, n).  hash_function is
    Python's hash() by default, "md5" for one stable across runs, or any function from str to int;
    `analyzer`, when given, splits the text instead of text_to_word_sequence."""
    if hash_function is None:
        hash_function = hash
    elif hash_function == "md5":
        hash_function = _md5
    words = text_to_word_sequence(text, filters, lower, split) if analyzer is None else analyzer(text)
    return [hash_function(word) % (n - 1) + 1 for word in words]


class Tokenizer:
    """Turns texts into sequences of word indices or into (texts, num_words) matrices, as Keras 2's.

    fit_on_texts counts the words: `word_counts` (an OrderedDict, in first-seen order), `word_docs` (how
    many texts hold each word), `document_count`, and `word_index`, the index of each word, 1 for the most
    frequent (ties keep the order first seen), after `oov_token` (index 1) when one is given.  Every word
    is indexed; `num_words` only limits what texts_to_sequences and the matrices keep (indices below
    num_words), out-of-vocabulary words becoming oov_token's index, or dropped without one.  A text may be
    a string, or a list of tokens (taken as they are, lowercased with lower=True); char_level=True makes
    each character a token.  Keras 1's nb_words= is accepted for num_words."""

    def __init__(self, num_words=None, filters=FILTERS, lower=True, split=" ", char_level=False,
                 oov_token=None, analyzer=None, **kwargs):
        if "nb_words" in kwargs:
            warnings.warn("The `nb_words` argument in `Tokenizer` has been renamed `num_words`.")
            num_words = kwargs.pop("nb_words")
        document_count = kwargs.pop("document_count", 0)
        if kwargs:
            raise TypeError("Unrecognized keyword arguments: " + str(kwargs))
        self.word_counts = collections.OrderedDict()
        self.word_docs = collections.defaultdict(int)
        self.filters = filters
        self.split = split
        self.lower = lower
        self.num_words = num_words
        self.document_count = document_count
        self.char_level = char_level
        self.oov_token = oov_token
        self.index_docs = collections.defaultdict(int)
        self.word_index = {}
        self.index_word = {}
        self.analyzer = analyzer

    def _tokens(self, text):
        if self.char_level or isinstance(text, list):
            if self.lower:
                text = [token.lower() for token in text] if isinstance(text, list) else text.lower()
            return text
        if self.analyzer is not None:
            return self.analyzer(text)
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts):
        """Count the words of `texts` (strings, a generator of strings, or lists of tokens) into the
        vocabulary, and index it afresh: call it before texts_to_sequences and texts_to_matrix."""
        for text in texts:
            self.document_count += 1
            tokens = self._tokens(text)
            for word in tokens:
                self.word_counts[word] = self.word_counts.get(word, 0) + 1
            for word in set(tokens):
                self.word_docs[word] += 1
        by_count = sorted(self.word_counts.items(), key=lambda item: item[1], reverse=True)   # stable
        vocabulary = ([] if self.oov_token is None else [self.oov_token]) + [word for word, _ in by_count]
        self.word_index = {word: i for i, word in enumerate(vocabulary, start=1)}
        self.index_word = {i: word for word, i in self.word_index.items()}
        for word, count in self.word_docs.items():
            self.index_docs[self.word_index[word]] = count

    def fit_on_sequences(self, sequences):
        """Count in how many sequences each index occurs (for tfidf), without texts."""
        self.document_count += len(sequences)
        for sequence in sequences:
            for i in set(sequence):
                self.index_docs[i] += 1

    def texts_to_sequences(self, texts):
        """Each text as the list of its words' indices (see the class)."""
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts):
        oov_index = self.word_index.get(self.oov_token)
        for text in texts:
            sequence = []
            for word in self._tokens(text):
                i = self.word_index.get(word)
                if i is not None and not (self.num_words and i >= self.num_words):
                    sequence.append(i)
                elif self.oov_token is not None:
                    sequence.append(oov_index)
            yield sequence

    def sequences_to_texts(self, sequences):
        """Each sequence of indices as its words joined by spaces (the inverse of texts_to_sequences,
        up to case, filtered characters and the words num_words leaves out)."""
        return list(self.sequences_to_texts_generator(sequences))

    def sequences_to_texts_generator(self, sequences):
        oov_index = self.word_index.get(self.oov_token)
        for sequence in sequences:
            words = []
            for i in sequence:
                word = self.index_word.get(i)
                if word is not None and not (self.num_words and i >= self.num_words):
                    words.append(word)
                elif self.oov_token is not None:
                    words.append(self.index_word[oov_index])
            yield " ".join(words)

    def texts_to_matrix(self, texts, mode="binary"):
        """sequences_to_matrix(texts_to_sequences(texts), mode)."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences, mode="binary"):
        """A float64 (len(sequences), num_words) matrix (num_words: the argument, else the vocabulary's
        size + 1), row i from sequence i's counts c of each index j < num_words: 1 ("binary"), c
        ("count"), c / len(sequence) ("freq"), or (1 + log c) * log(1 + documents / (1 + documents
        holding j)) ("tfidf")."""
        if self.num_words:
            num_words = self.num_words
        elif self.word_index:
            num_words = len(self.word_index) + 1
        else:
            raise ValueError("Specify a dimension (`num_words` argument), or fit on some text data first.")
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Fit the Tokenizer on some data before using tfidf mode.")
        x = np.zeros((len(sequences), num_words))
        for row, sequence in enumerate(sequences):
            counts = collections.Counter(j for j in sequence if j < num_words)
            for j, c in counts.items():
                if mode == "count":
                    x[row, j] = c
                elif mode == "freq":
                    x[row, j] = c / len(sequence)
                elif mode == "binary":
                    x[row, j] = 1
                elif mode == "tfidf":      # weighting scheme 2 of https://en.wikipedia.org/wiki/Tf-idf
                    x[row, j] = (1 + np.log(c)) * np.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
                else:
                    raise ValueError("Unknown vectorization mode:", mode)
        return x

    def get_config(self):
        """The arguments and the counts (the dicts as JSON strings), as Keras 2's."""
        return {"num_words": self.num_words, "filters": self.filters, "lower": self.lower, "split": self.split,
                "char_level": self.char_level, "oov_token": self.oov_token,
                "document_count": self.document_count, "word_counts": json.dumps(self.word_counts),
                "word_docs": json.dumps(self.word_docs), "index_docs": json.dumps(self.index_docs),
                "index_word": json.dumps(self.index_word), "word_index": json.dumps(self.word_index)}

    def to_json(self, **kwargs):
        """{"class_name": "Tokenizer", "config": get_config()} as a JSON string (kwargs go to json.dumps);
        tokenizer_from_json reads it back, as Keras 2's reads it."""
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()}, **kwargs)


def tokenizer_from_json(json_string):
    """The Tokenizer that to_json() wrote (or Keras 2's Tokenizer.to_json())."""
    config = dict(json.loads(json_string)["config"])
    counts = {name: json.loads(config.pop(name)) for name in
              ("word_counts", "word_docs", "index_docs", "index_word", "word_index")}
    tokenizer = Tokenizer(**config)
    tokenizer.word_counts = counts["word_counts"]
    tokenizer.word_docs = counts["word_docs"]
    tokenizer.index_docs = {int(i): c for i, c in counts["index_docs"].items()}    # JSON made the keys str
    tokenizer.index_word = {int(i): w for i, w in counts["index_word"].items()}
    tokenizer.word_index = counts["word_index"]
    return tokenizer

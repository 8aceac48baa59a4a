"""IntegerLookup: integer tokens to contiguous indices (and back, with invert=True), as keras.layers.IntegerLookup,
whose Keras 3 implementation runs on TensorFlow's hash tables.  Here the vocabulary is a constant of the graph:
a lookup compares each input with every vocabulary entry, fine for the small vocabularies of categorical
features.  The vocabulary comes from `vocabulary` or from adapt() on numpy data (eager, as Keras's adapt).

Index layout, as Keras's: [mask token (output_mode "int" only)] [num_oov_indices OOV slots] [vocabulary].
"""
import numpy as np

from mlcore import ops
from mlcore.layers.base import Layer
from mlcore.layers.preprocessing_encoding import check_output_mode, encode_categorical, refuse_sparse

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


class IntegerLookup(Layer):
    """int tokens -> int64 indices (or, output_mode one_hot / multi_hot / count / tf_idf, their encodings
    over vocabulary_size() slots, the mask token counting nowhere).  A token outside the vocabulary goes to
    an OOV slot: token mod num_oov_indices (oov_method "floormod"; "farmhash" needs TensorFlow's FarmHash
    and is refused).  With num_oov_indices=0 an unknown token gets index -1 (Keras raises at run time; a
    graph cannot).  invert=True maps indices back to tokens (unknown ones to oov_token)."""

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1, vocabulary=None,
                 vocabulary_dtype="int64", idf_weights=None, invert=False, output_mode="int", sparse=False,
                 pad_to_max_tokens=False, oov_method="floormod", salt=None, name=None, **kwargs):
        self._frozen_vocab_size = kwargs.pop("vocabulary_size", None)
        kwargs.pop("has_input_vocabulary", None)
        super().__init__(name=name, **kwargs)
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError("If `max_tokens` is set for `IntegerLookup`, it must be greater than 1. Received: "
                             "max_tokens=%r" % (max_tokens,))
        if num_oov_indices < 0:
            raise ValueError("The value of `num_oov_indices` argument for `IntegerLookup` must >= 0. Received: "
                             "num_oov_indices=%r" % (num_oov_indices,))
        if vocabulary_dtype != "int64":
            raise ValueError("Only `vocabulary_dtype='int64'` is supported at this time. Received: "
                             "vocabulary_dtype=%r" % (vocabulary_dtype,))
        check_output_mode("IntegerLookup", output_mode, OUTPUT_MODES)
        refuse_sparse("IntegerLookup", sparse)
        if invert and output_mode != "int":
            raise ValueError("`output_mode` must be `'int'` when `invert` is true. Received: output_mode=%r"
                             % (output_mode,))
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError("`oov_method` must be 'floormod' or 'farmhash'. Received: oov_method=%r" % (oov_method,))
        if oov_method == "farmhash" and num_oov_indices > 1:
            raise NotImplementedError("IntegerLookup: oov_method='farmhash' hashes the tokens' strings with "
                                      "TensorFlow's FarmHash64, which mlcore does not have")
        self.max_tokens, self.num_oov_indices = max_tokens, num_oov_indices
        self.mask_token, self.oov_token = mask_token, oov_token
        self.vocabulary_dtype, self.invert, self.output_mode = vocabulary_dtype, invert, output_mode
        self.sparse, self.pad_to_max_tokens, self.oov_method, self.salt = sparse, pad_to_max_tokens, oov_method, salt
        self.input_vocabulary, self.input_idf_weights = vocabulary, idf_weights
        self._tokens, self.idf_weights = np.zeros(0, "int64"), None
        if output_mode == "tf_idf" and vocabulary is not None and idf_weights is None:
            raise ValueError("When specifying the `vocabulary` argument, in TF-IDF output mode, the `idf_weights` "
                             "argument must also be provided.")
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # --- the vocabulary -----------------------------------------------------------------------------------
    def _oov_start_index(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self):
        return self._oov_start_index() + self.num_oov_indices

    def _special_tokens(self):
        return [self.mask_token] * self._oov_start_index() + [self.oov_token] * self.num_oov_indices

    def vocabulary_size(self):
        """The number of indices: the special ones (mask, OOV) and the vocabulary's."""
        return len(self._tokens) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens=True):
        vocabulary = [int(t) for t in self._tokens]
        return self._special_tokens() + vocabulary if include_special_tokens else vocabulary

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """The tokens, in index order: with or without the special tokens at the front."""
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError("`idf_weights` should only be set if output_mode is `'tf_idf'`. Received: "
                             "output_mode=%s and idf_weights=%s" % (self.output_mode, idf_weights))
        vocabulary = np.asarray(vocabulary).reshape(-1)
        if vocabulary.size == 0:
            raise ValueError("Cannot set an empty vocabulary. Received: vocabulary=%s" % (vocabulary,))
        special = self._special_tokens()
        found_special = list(vocabulary[:len(special)]) == special
        tokens = vocabulary[len(special):] if found_special else vocabulary
        unique, counts = np.unique(tokens, return_counts=True)
        if np.any(counts > 1):
            raise ValueError("The passed vocabulary has at least one repeated term. Please uniquify your dataset. "
                             "The repeated terms are: %s" % sorted(unique[counts > 1].tolist()))
        for token, argument in ((self.mask_token, "mask_token"), (self.oov_token if self.invert else None,
                                                                  "oov_token")):
            if token is not None and token in tokens:
                raise ValueError("Found reserved %s at unexpected location in `vocabulary`: include the special "
                                 "tokens only at the start, in this order: %s. Received: %s=%s"
                                 % (argument, special, argument, token))
        if self.max_tokens is not None and len(special) + len(tokens) > self.max_tokens:
            raise ValueError("Attempted to set a vocabulary larger than the maximum vocab size. Received vocabulary "
                             "size is %d; `max_tokens` is %d." % (len(special) + len(tokens), self.max_tokens))
        self._tokens = tokens.astype("int64")
        if idf_weights is not None:
            idf_weights = np.asarray(idf_weights, dtype="float64")
            if len(idf_weights) != len(vocabulary):
                raise ValueError("`idf_weights` must be the same length as vocabulary. len(idf_weights) is %d; "
                                 "len(vocabulary) is %d" % (len(idf_weights), len(vocabulary)))
            front = 0 if found_special else len(special)
            self._set_idf(idf_weights, front, np.average(idf_weights))
        self._frozen_vocab_size = self.vocabulary_size()

    def _set_idf(self, weights, front, front_value):
        """idf weights of the special slots (front_value) and of the vocabulary, zeros up to max_tokens
        with pad_to_max_tokens."""
        back = self.max_tokens - front - len(weights) if self.pad_to_max_tokens and self.max_tokens else 0
        self.idf_weights = np.pad(weights, (front, back), constant_values=(front_value, 0)).astype(self.dtype)

    def adapt(self, data, steps=None):
        """The vocabulary of numpy data: the most frequent tokens first (ties: the larger token first), at most
        max_tokens indices in all; in tf_idf mode each row (each entry of 1-d data) is a document."""
        if self.input_vocabulary is not None:
            raise ValueError("Cannot adapt layer '%s' after setting a static vocabulary via `vocabulary` argument "
                             "or `set_vocabulary()` method." % self.name)
        if isinstance(data, (list, tuple, np.ndarray)) or hasattr(data, "__array__"):
            data = np.asarray(data, dtype="int64")
            batches = [data.reshape(-1, 1) if data.ndim == 1 else data]
        else:
            batches = [np.atleast_2d(np.asarray(b, dtype="int64")) for k, b in enumerate(data)
                       if steps is None or k < steps]
        counts, documents = {}, {}
        for batch in batches:
            for token, count in zip(*np.unique(batch, return_counts=True)):
                counts[token] = counts.get(token, 0) + count
            for row in batch.reshape(len(batch), -1):
                for token in np.unique(row):
                    documents[token] = documents.get(token, 0) + 1
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        tokens = np.array(sorted(counts, key=lambda t: (counts[t], t), reverse=True), dtype="int64")
        if self.max_tokens:
            tokens = tokens[:self.max_tokens - self._token_start_index()]
        self._tokens = tokens
        if self.output_mode == "tf_idf":
            num_documents = sum(len(b) for b in batches)
            idf = np.log(1 + num_documents / (1 + np.array([documents[t] for t in tokens], dtype="float64")))
            self._set_idf(idf, self._token_start_index(), idf.astype(self.dtype).mean())
        self._frozen_vocab_size = self.vocabulary_size()

    # --- calling ------------------------------------------------------------------------------------------
    def call(self, inputs):
        inputs = ops.cast(inputs, "int64")
        if self.invert:
            return self._tokens_of(inputs)
        indices = self._indices_of(inputs)
        if self.output_mode == "int":
            return indices
        depth = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
        if self.output_mode != "tf_idf":
            return encode_categorical(indices, self.output_mode, depth, "int64")
        counts = encode_categorical(indices, "count", depth, self.dtype)
        return counts * ops.cast(self.idf_weights, self.dtype)

    def _indices_of(self, inputs):
        """Each token's index; the mask token's is 0 in int mode, out of every slot otherwise."""
        if self.num_oov_indices == 0:
            unknown = -1
        elif self.num_oov_indices == 1:
            unknown = self._oov_start_index()
        else:
            unknown = ops.mod(inputs, self.num_oov_indices) + self._oov_start_index()
        positions = np.arange(len(self._tokens), dtype="int64") + self._token_start_index()
        indices = self._look_up(inputs, self._tokens, positions, unknown)
        if self.mask_token is not None:
            masked = 0 if self.output_mode == "int" else np.iinfo("int64").max     # encodes as no slot
            indices = ops.where(ops.equal(inputs, self.mask_token), masked, indices)
        return ops.cast(indices, "int64")

    def _tokens_of(self, indices):
        """invert=True: each index's token, oov_token for the OOV slots and indices out of range."""
        table = np.array(self._special_tokens() + list(self._tokens), dtype="int64")
        table[self._oov_start_index():self._token_start_index()] = self.oov_token
        return self._look_up(indices, np.arange(len(table)), table, np.int64(self.oov_token))

    @staticmethod
    def _look_up(keys, known_keys, values, default):
        """values[k] where keys == known_keys[k], default elsewhere: comparisons with every known key (a
        gather from a constant table would not trace under jax)."""
        matches = ops.equal(ops.expand_dims(keys, -1), known_keys)
        return ops.where(ops.any(matches, axis=-1), ops.sum(ops.where(matches, values, 0), axis=-1), default)

    def get_config(self):
        """Keras's keys; an adapted vocabulary (Keras keeps it in the archive's assets) is written as the
        `vocabulary` with its special tokens, and its idf weights as `idf_weights`, so that it loads back."""
        vocabulary, idf_weights = self.input_vocabulary, self.input_idf_weights
        if vocabulary is None and len(self._tokens):
            vocabulary = self.get_vocabulary()
            if self.idf_weights is not None:
                idf_weights = self.idf_weights[:len(vocabulary)]
        return {**super().get_config(), "invert": self.invert, "max_tokens": self.max_tokens,
                "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token, "mask_token": self.mask_token,
                "output_mode": self.output_mode, "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
                "vocabulary_dtype": self.vocabulary_dtype, "idf_weights": _listed(idf_weights),
                "vocabulary": _listed(vocabulary), "vocabulary_size": self._frozen_vocab_size,
                "oov_method": self.oov_method, "salt": self.salt}


def _listed(values):
    """An array-like as the JSON list Keras's config holds, or None."""
    return None if values is None else np.asarray(values).tolist()

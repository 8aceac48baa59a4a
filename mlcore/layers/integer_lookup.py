"""IntegerLookup: integer tokens to contiguous indices (and back, with invert=True), as keras.layers.IntegerLookup,
whose Keras 3 implementation runs on TensorFlow's hash tables.  Here the vocabulary (index_lookup: set, adapted,
saved as Keras's) is a constant of the graph: a lookup compares each input with every vocabulary entry, fine for
the small vocabularies of categorical features, and the layer runs inside models on every backend.
"""
import numpy as np

from mlcore import ops
from mlcore.layers.index_lookup import IndexLookup
from mlcore.layers.preprocessing_encoding import ListsAsTensors, encode_categorical


class IntegerTokens(ListsAsTensors):
    """The lookups of a vocabulary of integers, shared by IntegerLookup and IndexLookup(vocabulary_dtype="int64"),
    in the graph: a token's index is found by comparing it with every vocabulary entry."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.oov_method == "farmhash" and self.num_oov_indices > 1:
            raise NotImplementedError("%s: oov_method='farmhash' hashes the tokens' decimal strings with FarmHash64, "
                                      "which mlcore's graphs (with no string dtype) cannot do" % type(self).__name__)

    def _as_tokens(self, data):
        return np.asarray(data, dtype="int64")

    # --- calling ------------------------------------------------------------------------------------------
    def call(self, inputs):
        self._ensure_known_vocab_size()
        inputs = ops.cast(inputs, "int64")
        if self.invert:
            return self._tokens_of(inputs)
        indices = self._indices_of(inputs)
        if self.output_mode == "int":
            return indices
        depth = self._encoding_depth()
        if self.output_mode != "tf_idf":
            return encode_categorical(indices, self.output_mode, depth, "int64")
        counts = encode_categorical(indices, "count", depth, self.idf_weights.dtype)
        return counts * self.idf_weights

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
            indices = ops.where(ops.equal(inputs, self.mask_token), self._mask_index(), indices)
        return ops.cast(indices, "int64")

    def _tokens_of(self, indices):
        """invert=True: each index's token, oov_token for the OOV slots and indices out of range."""
        table = self._tokens_by_index()
        return self._look_up(indices, np.arange(len(table)), table, np.int64(self.oov_token))

    @staticmethod
    def _look_up(keys, known_keys, values, default):
        """values[k] where keys == known_keys[k], default elsewhere: comparisons with every known key (a
        gather from a constant table would not trace under jax)."""
        matches = ops.equal(ops.expand_dims(keys, -1), known_keys)
        return ops.where(ops.any(matches, axis=-1), ops.sum(ops.where(matches, values, 0), axis=-1), default)

    def get_config(self):
        """Keras's, with its tokens as Python ints."""
        config = super().get_config()
        for key in ("oov_token", "mask_token"):
            if config[key] is not None:
                config[key] = int(config[key])
        return config


class IntegerLookup(IntegerTokens, IndexLookup):
    """int tokens -> int64 indices (or, output_mode one_hot / multi_hot / count / tf_idf, their encodings
    over vocabulary_size() slots, the mask token counting nowhere).  A token outside the vocabulary goes to
    an OOV slot: token mod num_oov_indices (oov_method "floormod"; "farmhash" hashes the tokens' decimal
    strings, which a graph cannot, and is refused).  With num_oov_indices=0 an unknown token gets index -1
    (Keras raises at run time; a graph cannot).  invert=True maps indices back to tokens (unknown ones to
    oov_token).  A (nested) list of ints is one input, as in Keras."""

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1, vocabulary=None,
                 vocabulary_dtype="int64", idf_weights=None, invert=False, output_mode="int", sparse=False,
                 pad_to_max_tokens=False, oov_method="floormod", salt=None, name=None, **kwargs):
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError("If `max_tokens` is set for `IntegerLookup`, it must be greater than 1. Received: "
                             "max_tokens=%r" % (max_tokens,))
        if num_oov_indices < 0:
            raise ValueError("The value of `num_oov_indices` argument for `IntegerLookup` must >= 0. Received: "
                             "num_oov_indices=%r" % (num_oov_indices,))
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend (mlcore's tensors are "
                             "dense).")
        if vocabulary_dtype != "int64":
            raise ValueError("Only `vocabulary_dtype='int64'` is supported at this time. Received: "
                             "vocabulary_dtype=%r" % (vocabulary_dtype,))
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices, mask_token=mask_token,
                         oov_token=oov_token, vocabulary=vocabulary, vocabulary_dtype=vocabulary_dtype,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode, sparse=sparse,
                         pad_to_max_tokens=pad_to_max_tokens, oov_method=oov_method, salt=salt, name=name, **kwargs)

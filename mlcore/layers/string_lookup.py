"""keras.layers.StringLookup: strings to vocabulary indices (and back), on the host (host_layer), with the
vocabulary handling every lookup layer shares (index_lookup).

A lookup is a dict lookup of each distinct string.  Strings outside the vocabulary go to the OOV slot, or with
num_oov_indices > 1 to slot FarmHash64(string) mod num_oov_indices (SipHash-2-4 with a salt), as Keras's
TensorFlow hash buckets place them.  invert=True maps indices back to a numpy str array.
"""
import numpy as np

from mlcore import config
from mlcore.layers.host_layer import HostLayer, as_strings, encode_values
from mlcore.layers.index_lookup import IndexLookup
from mlcore.utils.string_hashing import hash_buckets


class StringTokens(HostLayer):
    """The lookups of a vocabulary of strings, shared by StringLookup and IndexLookup(vocabulary_dtype="string"):
    str (or bytes) tokens -> int64 indices, or their one_hot / multi_hot / count encodings (int64) or tf_idf
    weights (float32) over vocabulary_size() slots.  Called on arrays or lists; returns numpy."""

    encoding = "utf-8"          # how bytes tokens are decoded (StringLookup's argument)
    _index, _indexed_tokens = {}, None      # {token: index}, and the vocabulary it was built from

    def _as_tokens(self, data):
        return as_strings(data, self.encoding)

    def call(self, inputs):
        if self.invert:
            return self._tokens_by_index_of(np.asarray(inputs, dtype=np.int64))
        return self.encode(self.lookup(self._as_tokens(inputs)))

    def lookup(self, tokens):
        """Each token's index, int64, shaped as the str array `tokens` (the mask token's: _mask_index())."""
        unique, inverse = np.unique(tokens.reshape(-1), return_inverse=True)
        index = self._token_index()
        found = np.array([index.get(token, -1) for token in unique.tolist()], dtype=np.int64)
        masked = unique == self.mask_token if self.mask_token is not None else np.zeros(len(unique), bool)
        unknown = (found < 0) & ~masked
        if unknown.any():
            found[unknown] = self._oov_indices(unique[unknown])
        found[masked] = self._mask_index()
        return found[inverse].reshape(tokens.shape)

    def _oov_indices(self, tokens):
        if self.num_oov_indices == 0:
            raise ValueError("When `num_oov_indices=0` all inputs should be in vocabulary, found OOV values %s, "
                             "consider setting `num_oov_indices=1`." % tokens.tolist())
        if self.num_oov_indices == 1:
            return self._oov_start_index()
        return hash_buckets(tokens.tolist(), self.num_oov_indices, self.salt) + self._oov_start_index()

    def _token_index(self):
        """{token: index} of the vocabulary, rebuilt when the vocabulary has changed."""
        if self._indexed_tokens is not self._tokens:
            start = self._token_start_index()
            self._index = {token: start + k for k, token in enumerate(self._tokens.tolist())}
            self._indexed_tokens = self._tokens
        return self._index

    def encode(self, indices):
        """Indices (from lookup) in the layer's output mode: as they are, or encoded over the vocabulary."""
        if self.output_mode == "int":
            return indices
        self._ensure_known_vocab_size()
        depth = self._encoding_depth()
        caller = "%s '%s'" % (type(self).__name__, self.name)
        if self.output_mode != "tf_idf":
            return encode_values(indices, self.output_mode, depth, "int64", caller)
        return encode_values(indices, "count", depth, config.floatx(), caller) * self.idf_weights

    def _tokens_by_index_of(self, indices):
        """invert=True: each index's token, oov_token outside the vocabulary."""
        table = np.append(self._tokens_by_index(), self.oov_token)     # the last entry: any unknown index
        known = (indices >= 0) & (indices < len(table) - 1)
        return table[np.where(known, indices, -1)]


class StringLookup(StringTokens, IndexLookup):
    """keras.layers.StringLookup: str (or bytes) tokens -> int64 indices, or their encodings (StringTokens)."""

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]", vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", pad_to_max_tokens=False, sparse=False,
                 encoding="utf-8", name=None, salt=None, **kwargs):
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend (mlcore's arrays are "
                             "dense).")
        self.encoding = encoding
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices, mask_token=mask_token,
                         oov_token=oov_token, vocabulary=vocabulary, idf_weights=idf_weights, invert=invert,
                         output_mode=output_mode, pad_to_max_tokens=pad_to_max_tokens, sparse=sparse, name=name,
                         salt=salt, vocabulary_dtype="string", **kwargs)

    def get_config(self):
        config = {**super().get_config(), "encoding": self.encoding}
        del config["vocabulary_dtype"]          # strings are the only kind
        return config

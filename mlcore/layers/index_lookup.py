"""What Keras's lookup layers share (keras.src.layers.preprocessing.index_lookup.IndexLookup): the index layout,
the vocabulary (set_vocabulary from an array or a text file, or adapt), the idf weights of tf_idf mode, the
config and the saved state.  IntegerLookup looks its tokens up in a graph, StringLookup on the host; both
subclass this and say how raw data becomes an array of their tokens (_as_tokens).

Index layout, as Keras's: [mask token (output_mode "int" only)] [num_oov_indices OOV slots] [vocabulary].
adapt() counts tokens in batches (update_state), then keeps the most frequent (finalize_state): ties go to the
larger token, at most max_tokens indices in all; in tf_idf mode each row of a batch is a document and a token's
idf weight is log(1 + documents / (1 + documents holding it)), the special slots getting the weights' mean.
"""
import collections
import functools
import itertools
import os

import numpy as np

from mlcore import config
from mlcore.layers.base import Layer

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
NO_SLOT = np.iinfo(np.int64).max        # an index that encodes in no slot: how a mask token is dropped


def validate_string_arg(value, allowed, caller, argument, allow_none=False, allow_callables=False):
    """Keras's check of an argument that takes one of a few names (or None, or a callable, where allowed)."""
    if (allow_none and value is None) or (allow_callables and callable(value)) or \
            (isinstance(value, str) and value in allowed):
        return
    raise ValueError("Unknown value for `%s` argument of %s. Allowed values are: %s. Received: %s=%s"
                     % (argument, caller, allowed, argument, value))


def checked_salt(salt, caller, expected="a tuple of 2 integers"):
    """A salt as the two 64-bit key words of SipHash that Keras keeps: [salt, salt] for one integer."""
    if salt is None:
        return None
    if isinstance(salt, (tuple, list)) and len(salt) == 2:
        return list(salt)
    if isinstance(salt, int):
        return [salt, salt]
    raise ValueError("The `salt` argument for `%s` can only be %s, or a single integer. Received: salt=%s."
                     % (caller, expected, salt))


def adapt_batches(data, steps=None):
    """The batches adapt() reads: an array or a list is one batch (a 1-d one as a column, so that each entry is a
    document); any other iterable (a dataset, a generator) gives its batches, the first `steps` of them."""
    if isinstance(data, (list, tuple, str, bytes, np.ndarray)) or not hasattr(data, "__iter__"):
        array = np.asarray(data)
        return [array.reshape(-1, 1) if array.ndim == 1 else array]
    return itertools.islice(data, steps)


def listed(values):
    """An array-like as the JSON list Keras's config holds, or None."""
    return None if values is None else np.asarray(values).tolist()


class IndexLookup(Layer):
    """The vocabulary of a lookup layer; subclasses define _as_tokens(data) and call().  Made directly, as
    Keras's IndexLookup can be, it is the lookup of its vocabulary_dtype's tokens (direct_index_lookup)."""

    supports_jit = False      # Keras's flag: its lookups run on the host

    def __new__(cls, *args, **kwargs):
        if cls is IndexLookup:
            cls = direct_index_lookup(kwargs.get("vocabulary_dtype", args[4] if len(args) > 4 else None))
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary_dtype, vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", sparse=False, pad_to_max_tokens=False,
                 oov_method="floormod", name=None, salt=None, **kwargs):
        frozen_vocab_size = kwargs.pop("vocabulary_size", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("dtype", None)       # as Keras: indices are int64, idf weights floatx
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError("If set, `max_tokens` must be greater than 1. Received: max_tokens=%s" % (max_tokens,))
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError("If pad_to_max_tokens is True, must set `max_tokens`. Received: max_tokens=%s"
                             % (max_tokens,))
        if num_oov_indices < 0:
            raise ValueError("`num_oov_indices` must be greater than or equal to 0. Received: num_oov_indices=%s"
                             % (num_oov_indices,))
        validate_string_arg(oov_method, ("floormod", "farmhash"), type(self).__name__, "oov_method")
        if salt is not None and vocabulary_dtype == "int64" and oov_method != "farmhash":
            raise ValueError("`salt` can only be used when `oov_method='farmhash'`. Received: oov_method=%s"
                             % (oov_method,))
        salt = checked_salt(salt, "IndexLookup")
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        validate_string_arg(output_mode, OUTPUT_MODES, type(self).__name__, "output_mode")
        if invert and output_mode != "int":
            raise ValueError("`output_mode` must be `'int'` when `invert` is true. Received: output_mode=%s"
                             % (output_mode,))
        if sparse and output_mode == "int":
            raise ValueError("`sparse` may only be true if `output_mode` is `'one_hot'`, `'multi_hot'`, `'count'` "
                             "or `'tf_idf'`. Received: sparse=%s and output_mode=%s" % (sparse, output_mode))
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError("`idf_weights` should only be set if `output_mode` is `'tf_idf'`. Received: "
                             "idf_weights=%s and output_mode=%s" % (idf_weights, output_mode))
        super().__init__(name=name, **kwargs)
        self.invert, self.max_tokens, self.num_oov_indices = invert, max_tokens, num_oov_indices
        self.mask_token, self.oov_token, self.output_mode = mask_token, oov_token, output_mode
        self.sparse, self.pad_to_max_tokens, self.vocabulary_dtype = sparse, pad_to_max_tokens, vocabulary_dtype
        self.oov_method, self.salt = oov_method, salt
        self._frozen_vocab_size, self._has_input_vocabulary = frozen_vocab_size, has_input_vocabulary
        self._tokens = self._as_tokens([])
        self.idf_weights = None if idf_weights is None else np.asarray(idf_weights, config.floatx())
        if output_mode == "tf_idf" and has_input_vocabulary and idf_weights is None:
            raise ValueError("When specifying the `vocabulary` argument, in TF-IDF output mode, the `idf_weights` "
                             "argument must also be provided.")
        self.reset_state()
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        # the vocabulary as given, for get_config (set_vocabulary() forgets it); not a file's path, nor an adapted
        # vocabulary coming back from get_config (has_input_vocabulary=False), which get_config writes as such
        given = has_input_vocabulary and not isinstance(vocabulary, str)
        self.input_vocabulary, self.input_idf_weights = (vocabulary, idf_weights) if given else (None, None)

    def _as_tokens(self, data):
        """data (a list or an array) as a numpy array of this layer's tokens."""
        raise NotImplementedError

    # --- the index layout ---------------------------------------------------------------------------------
    def _oov_start_index(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _mask_index(self):
        """The mask token's index: 0 in "int" mode; in the encoding modes one that counts in no slot."""
        return 0 if self.output_mode == "int" else NO_SLOT

    def _token_start_index(self):
        return self._oov_start_index() + self.num_oov_indices

    def _special_tokens(self):
        return [self.mask_token] * self._oov_start_index() + [self.oov_token] * self.num_oov_indices

    def _tokens_by_index(self):
        """The token of every index (the mask's and OOV slots' included), for inverse lookups."""
        return self._as_tokens(self._special_tokens() + self._tokens.tolist())

    def vocabulary_size(self):
        """The number of indices: the special ones (mask, OOV) and the vocabulary's."""
        return len(self._tokens) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens=True):
        """The tokens in index order, so that a token's index in the list is its index from the layer."""
        tokens = self._tokens.tolist()
        return self._special_tokens() + tokens if include_special_tokens else tokens

    # --- setting the vocabulary ---------------------------------------------------------------------------
    def set_vocabulary(self, vocabulary, idf_weights=None):
        """The tokens in index order (an array, or the path of a text file with one per line), with or without
        the special tokens at the front; in tf_idf mode their idf weights, which must be given then only."""
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError("`idf_weights` should only be set if output_mode is `'tf_idf'`. Received: "
                             "output_mode=%s and idf_weights=%s" % (self.output_mode, idf_weights))
        if isinstance(vocabulary, str):
            vocabulary, found_special = self._read_vocabulary_file(vocabulary), False
        else:
            vocabulary = self._as_tokens(vocabulary).reshape(-1)
            if vocabulary.size == 0:
                raise ValueError("Cannot set an empty vocabulary. Received: vocabulary=%s" % (vocabulary,))
            special = self._special_tokens()
            found_special = vocabulary[:len(special)].tolist() == special
        tokens = vocabulary[self._token_start_index():] if found_special else vocabulary
        self._check_tokens(vocabulary, tokens)
        self._tokens, self.input_vocabulary, self.input_idf_weights = tokens, None, None
        self._record_vocabulary_size()
        if idf_weights is not None:
            idf_weights = np.asarray(idf_weights)
            if len(idf_weights) != len(vocabulary):
                raise ValueError("`idf_weights` must be the same length as vocabulary. len(idf_weights) is %d; "
                                 "len(vocabulary) is %d" % (len(idf_weights), len(vocabulary)))
            if idf_weights.ndim != 1:
                raise ValueError("TF-IDF data must be a 1-index array. Received: type(idf_weights)=%s"
                                 % type(idf_weights))
            # without the special tokens' own weights, those slots get the mean of the others
            front = 0 if found_special else self._token_start_index()
            self._set_idf_weights(idf_weights, front, np.average(idf_weights))

    def _read_vocabulary_file(self, path):
        if not os.path.exists(path):
            raise ValueError("Vocabulary file %s does not exist." % path)
        if self.output_mode == "tf_idf":
            raise ValueError("output_mode `'tf_idf'` does not support loading a vocabulary from file.")
        return self._as_tokens(vocabulary_lines(path))

    def load_assets(self, dir_path):
        """Keras keeps a vocabulary that was not given as `vocabulary` (an adapted one) out of the config, as
        the archive's assets/<layer path>/vocabulary.txt, special tokens included; its idf weights, already
        loaded with the layer's variables, go with it."""
        path = os.path.join(dir_path, "vocabulary.txt")
        if self.input_vocabulary is not None or not os.path.exists(path):
            return
        tokens = self._as_tokens(vocabulary_lines(path))
        idf_weights = self.idf_weights[:len(tokens)] if self.output_mode == "tf_idf" else None
        self.set_vocabulary(tokens, idf_weights=idf_weights)

    def _check_tokens(self, vocabulary, tokens):
        """Keras's checks of a vocabulary's tokens (vocabulary: them with any special tokens in front)."""
        repeated = [t for t, count in collections.Counter(tokens.tolist()).items() if count > 1]
        if repeated:
            raise ValueError("The passed vocabulary has at least one repeated term. Please uniquify your dataset. "
                             "The repeated terms are: %s" % repeated)
        special = self._special_tokens()
        for token, what in ((self.mask_token, "mask"), (self.oov_token if self.invert else None, "OOV")):
            if token is not None and token in tokens.tolist():
                raise ValueError("Found reserved %s token at unexpected location in `vocabulary`. Note that passed "
                                 "`vocabulary` does not need to include the OOV and mask tokens. Either remove all "
                                 "mask and OOV tokens, or include them only at the start of the vocabulary in "
                                 "precisely this order: %s. Received: %s_token=%s at vocabulary index %s"
                                 % (what, special, what.lower(), token,
                                    np.flatnonzero(vocabulary == token)[-1:].tolist()))
        size = self._token_start_index() + len(tokens)
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError("Attempted to set a vocabulary larger than the maximum vocab size. Received vocabulary "
                             "size is %d; `max_tokens` is %d." % (size, self.max_tokens))

    def _set_idf_weights(self, weights, front, front_value):
        """The idf weight of every index: front_value for the first `front`, then weights, then zeros up to
        max_tokens with pad_to_max_tokens."""
        back = self.max_tokens - front - len(weights) if self.pad_to_max_tokens and self.max_tokens else 0
        weights = np.pad(np.asarray(weights, config.floatx()), (front, back), constant_values=(front_value, 0))
        self.idf_weights = weights.astype(config.floatx())

    def _record_vocabulary_size(self):
        """Keep the vocabulary size the encodings' width follows; outside "int" mode (and without
        pad_to_max_tokens) it may not change afterwards, as in Keras."""
        size = self.vocabulary_size()
        if self.output_mode != "int" and not self.pad_to_max_tokens and self._frozen_vocab_size is not None \
                and size != self._frozen_vocab_size:
            raise RuntimeError("When using `output_mode=%s` and `pad_to_max_tokens=False`, the vocabulary size "
                               "cannot be changed after the layer is called. Old vocab size is %s, new vocab size "
                               "is %s" % (self.output_mode, self._frozen_vocab_size, size))
        self._frozen_vocab_size = size

    def _ensure_known_vocab_size(self):
        if self.output_mode != "int" and not self.pad_to_max_tokens and self._frozen_vocab_size is None:
            raise RuntimeError("When using `output_mode=%s` and `pad_to_max_tokens=False`, you must set the layer's "
                               "vocabulary before calling it. Either pass a `vocabulary` argument to the layer, or "
                               "call `adapt` with some sample data." % self.output_mode)

    def _encoding_depth(self):
        return self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size

    # --- adapt --------------------------------------------------------------------------------------------
    def adapt(self, data, steps=None):
        """Learn the vocabulary of `data`: an array or a list, or an iterable of batches (a dataset, a
        generator: its first `steps` batches)."""
        self.reset_state()
        for batch in adapt_batches(data, steps):
            self.update_state(batch)
        self.finalize_state()

    def reset_state(self):
        """Forget what update_state counted."""
        self._token_counts, self._document_counts, self._num_documents = collections.Counter(), collections.Counter(), 0

    def update_state(self, data):
        """Count the tokens of one batch; each row is a document (a 1-d batch is one)."""
        tokens = self._as_tokens(data)
        tokens = tokens.reshape(1, -1) if tokens.ndim < 2 else tokens.reshape(len(tokens), -1)
        self.count_documents(tokens.tolist())

    def count_documents(self, documents):
        """Count the tokens of each document, a list of tokens (TextVectorization's rows of words)."""
        if self._has_input_vocabulary:
            raise ValueError("Cannot adapt layer '%s' after setting a static vocabulary via `vocabulary` argument "
                             "or `set_vocabulary()` method." % self.name)
        for document in documents:
            self._token_counts.update(document)
            if self.output_mode == "tf_idf":
                self._document_counts.update(set(document))
        self._num_documents += len(documents)

    def finalize_state(self):
        """The most frequent tokens counted become the vocabulary (nothing changes if none were counted)."""
        if self._has_input_vocabulary or not self._token_counts:
            self._record_vocabulary_size()
            return
        counts = self._token_counts
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        ranked = sorted(counts, key=lambda token: (counts[token], token), reverse=True)
        if self.max_tokens:
            ranked = ranked[:self.max_tokens - self._token_start_index()]
        self._tokens = self._as_tokens(ranked)
        if self.output_mode == "tf_idf":
            held_by = np.array([self._document_counts[token] for token in ranked], dtype="float64")
            idf = np.log(1 + self._num_documents / (1 + held_by)).astype(config.floatx())
            self._set_idf_weights(idf, self._token_start_index(), idf.mean())
        self.reset_state()
        self._record_vocabulary_size()

    # --- shapes, config and saved state -------------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = self._encoding_depth()
        input_shape = tuple(input_shape)
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        return input_shape[:-1] + (depth,)

    def get_config(self):
        """Keras's keys.  A vocabulary not given as `vocabulary` (adapted, set later, or read from a file), which
        Keras keeps in the archive's assets, is written as the `vocabulary` with its special tokens (and its idf
        weights as `idf_weights`), so that it loads back; has_input_vocabulary=False keeps it adaptable."""
        vocabulary, idf_weights, extra = self.input_vocabulary, self.input_idf_weights, {}
        if vocabulary is None and len(self._tokens):
            vocabulary = self.get_vocabulary()
            if self.idf_weights is not None:
                idf_weights = self.idf_weights[:len(vocabulary)]
            extra = {"has_input_vocabulary": self._has_input_vocabulary}
        return {**super().get_config(), "invert": self.invert, "max_tokens": self.max_tokens,
                "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token, "mask_token": self.mask_token,
                "output_mode": self.output_mode, "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
                "vocabulary_dtype": self.vocabulary_dtype, "idf_weights": listed(idf_weights),
                "vocabulary": listed(vocabulary), "vocabulary_size": self._frozen_vocab_size,
                "oov_method": self.oov_method, "salt": self.salt, **extra}

    @classmethod
    def from_config(cls, config, safe_mode=None):
        """As Keras, a config being loaded in safe mode may not name a vocabulary file (outside the archive)."""
        refuse_vocabulary_file(config.get("vocabulary"), safe_mode)
        return cls(**config)

    def save_own_variables(self, store):
        """Keras's saved state: the idf weights, in tf_idf mode."""
        if self.output_mode == "tf_idf" and self.idf_weights is not None:
            store["idf_weights"] = self.idf_weights

    def load_own_variables(self, store):
        if self.output_mode == "tf_idf" and "idf_weights" in store:
            self.idf_weights = np.asarray(store["idf_weights"], config.floatx())


@functools.cache
def direct_index_lookup(vocabulary_dtype):
    """The class of IndexLookup(vocabulary_dtype=...): Keras's IndexLookup is a layer of its own (its tests make
    it), with StringLookup's lookups of strings or IntegerLookup's of integers under its own arguments, name
    and config."""
    if vocabulary_dtype == "string":
        from mlcore.layers.string_lookup import StringTokens as lookups
    else:
        from mlcore.layers.integer_lookup import IntegerTokens as lookups
    return type("IndexLookup", (lookups, IndexLookup), {"__module__": __name__, "__doc__": IndexLookup.__doc__})


def vocabulary_lines(path):
    """A vocabulary file's tokens, one a line, trailing empty lines left out, as Keras reads them."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def refuse_vocabulary_file(vocabulary, safe_mode):
    """Keras's safe-mode rule for configs that name a vocabulary file: loading one could read any file."""
    from mlcore import config as settings
    if isinstance(vocabulary, str) and safe_mode is not None and settings.effective_safe_mode(safe_mode):
        raise ValueError("Requested the loading of a vocabulary file outside of the model archive. This carries a "
                         "potential risk of loading arbitrary and sensitive files and thus it is disallowed by "
                         "default. If you trust the source of the artifact, you can override this error by passing "
                         "`safe_mode=False` to the loading function, or calling "
                         "`keras.config.enable_unsafe_deserialization(). Vocabulary file: '%s'" % vocabulary)

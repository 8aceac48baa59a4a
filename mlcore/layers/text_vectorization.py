"""keras.layers.TextVectorization: a batch of strings to token indices (or multi-hot, count, tf-idf vectors), on
the host (host_layer).  Each string is standardized, split into words (text_processing), grouped into ngrams,
then looked up in a StringLookup whose mask token "" takes index 0 and whose OOV token "[UNK]" index 1.

In "int" mode the rows of indices are padded with 0 (or cut) to output_sequence_length, or to the longest row of
the batch.  In the other modes each string is one sample (one document for tf_idf).  A callable standardize gets
a numpy str array, as Keras gives it on backends other than TensorFlow; a callable split gets the 1-d array of
standardized strings and returns one sequence of tokens per string.
"""
import numpy as np

from mlcore.layers import text_processing
from mlcore.layers.host_layer import HostLayer, as_strings
from mlcore.layers.index_lookup import OUTPUT_MODES, adapt_batches, refuse_vocabulary_file, validate_string_arg
from mlcore.layers.string_lookup import StringLookup

STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
SPLIT = ("whitespace", "character")


class TextVectorization(HostLayer):
    """Strings -> int64 token indices (batch, sequence) in "int" mode, else one vector per string over the
    vocabulary: "multi_hot" / "count" (int64), "tf_idf" (float32), "one_hot" (one per token, padded rows 0)."""

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation", split="whitespace", ngrams=None,
                 output_mode="int", output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
                 idf_weights=None, sparse=False, ragged=False, encoding="utf-8", name=None, **kwargs):
        if sparse:
            raise ValueError("`sparse=True` can only be used with the TensorFlow backend (mlcore's arrays are "
                             "dense).")
        if ragged:
            raise ValueError("`ragged=True` can only be used with the TensorFlow backend (mlcore's arrays are "
                             "dense: use output_sequence_length, or the rows' lengths, instead).")
        validate_string_arg(standardize, STANDARDIZE, "TextVectorization", "standardize", allow_none=True,
                            allow_callables=True)
        validate_string_arg(split, SPLIT, "TextVectorization", "split", allow_none=True, allow_callables=True)
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        validate_string_arg(output_mode, OUTPUT_MODES, "TextVectorization", "output_mode")
        if not (ngrams is None or isinstance(ngrams, int) or
                isinstance(ngrams, tuple) and all(isinstance(width, int) for width in ngrams)):
            raise ValueError("`ngrams` must be None, an integer, or a tuple of integers. Received: ngrams=%s"
                             % (ngrams,))
        if output_mode == "int" and not (output_sequence_length is None or isinstance(output_sequence_length, int)):
            raise ValueError("`output_sequence_length` must be either None or an integer when `output_mode` is "
                             "'int'. Received: output_sequence_length=%s" % (output_sequence_length,))
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError("`output_sequence_length` must not be set if `output_mode` is not 'int'. Received "
                             "output_sequence_length=%s." % (output_sequence_length,))
        self._standardize, self._split, self._ngrams_arg = standardize, split, ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._output_mode, self._output_sequence_length = output_mode, output_sequence_length
        self._ragged, self._encoding = ragged, encoding
        # whether the vocabulary came with the layer (FeatureSpace then does not adapt it), as Keras keeps it
        self._has_input_vocabulary = has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        super().__init__(name=name, **kwargs)
        self._lookup_layer = StringLookup(max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
                                          pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode,
                                          sparse=sparse, has_input_vocabulary=has_input_vocabulary, encoding=encoding,
                                          vocabulary_size=vocabulary_size)

    # --- the vocabulary: the StringLookup's ---------------------------------------------------------------
    def adapt(self, data, batch_size=None, steps=None):
        """Learn the vocabulary of `data`: an array or a list of strings, or an iterable of batches of them (a
        dataset, a generator: its first `steps` batches)."""
        self.reset_state()
        for batch in adapt_batches(data, steps):
            self.update_state(batch)
        self.finalize_state()

    def update_state(self, data):
        tokens = self._preprocess(as_strings(data, self._encoding))
        if isinstance(tokens, list):
            self._lookup_layer.count_documents(tokens)
        else:
            self._lookup_layer.update_state(tokens)

    def finalize_state(self):
        self._lookup_layer.finalize_state()

    def reset_state(self):
        self._lookup_layer.reset_state()

    def get_vocabulary(self, include_special_tokens=True):
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    # --- calling ------------------------------------------------------------------------------------------
    def _preprocess(self, texts):
        """Standardized, split (a list of token lists) and ngrammed text; unsplit, a str array."""
        if callable(self._standardize):
            texts = as_strings(self._standardize(texts), self._encoding)
        elif self._standardize is not None:
            texts = text_processing.standardize(texts, self._standardize)
        if self._split is None:
            return texts if self._ngrams is None else text_processing.dense_ngrams(texts, self._ngrams)
        if texts.ndim > 1:
            if texts.shape[-1] != 1 or texts.ndim > 2:
                raise ValueError("When using `TextVectorization` to tokenize strings, the input rank must be 1 or "
                                 "the last shape dimension must be 1. Received: inputs.shape=%s with rank=%d"
                                 % (texts.shape, texts.ndim))
            texts = texts[:, 0]
        if callable(self._split):
            rows = [as_strings(row, self._encoding).reshape(-1).tolist() for row in self._split(texts)]
        else:
            rows = text_processing.split(texts, self._split)
        return rows if self._ngrams is None else [text_processing.ngrams(row, self._ngrams) for row in rows]

    def call(self, inputs):
        texts = as_strings(inputs, self._encoding)
        if texts.ndim == 0:
            return self.call(texts.reshape(1))[0]
        tokens = self._preprocess(texts)
        lookup = self._lookup_layer
        if isinstance(tokens, list):
            return lookup.encode(self._padded_indices(tokens))
        indices = lookup.lookup(tokens)
        if self._output_mode == "int" and self._output_sequence_length is not None:
            indices = indices[..., :self._output_sequence_length]
            short = self._output_sequence_length - indices.shape[-1]
            indices = np.pad(indices, [(0, 0)] * (indices.ndim - 1) + [(0, short)])
        return lookup.encode(indices)

    def _padded_indices(self, rows):
        """The rows' token indices as a matrix: each row padded (with 0 in "int" mode, with an index in no slot
        otherwise) or cut to output_sequence_length, or padded to the longest row."""
        lengths = np.array([len(row) for row in rows], dtype=np.int64)
        indices = self._lookup_layer.lookup(np.array([token for row in rows for token in row], dtype=str))
        width = self._output_sequence_length
        if width is None:
            width = int(lengths.max()) if len(rows) else 0
        padded = np.full((len(rows), width), self._lookup_layer._mask_index(), dtype=np.int64)
        row_of = np.repeat(np.arange(len(rows)), lengths)
        position = np.arange(len(indices)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        kept = position < width
        padded[row_of[kept], position[kept]] = indices[kept]
        return padded

    def compute_output_shape(self, input_shape):
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        if self._split is None:
            input_shape = tuple(input_shape) + (1,) if len(input_shape) <= 1 else tuple(input_shape)
        else:
            input_shape = tuple(input_shape) + (None,)
        return self._lookup_layer.compute_output_shape(input_shape)

    # --- config and saved state ---------------------------------------------------------------------------
    def get_config(self):
        """Keras's keys; callables as serialize_keras_object writes them, and an adapted vocabulary as the
        StringLookup's config holds it."""
        lookup = self._lookup_layer.get_config()
        config = {**super().get_config(), "max_tokens": lookup["max_tokens"],
                  "standardize": _serialized(self._standardize), "split": _serialized(self._split),
                  "ngrams": self._ngrams_arg,
                  "output_mode": self._output_mode, "output_sequence_length": self._output_sequence_length,
                  "pad_to_max_tokens": lookup["pad_to_max_tokens"], "sparse": lookup["sparse"],
                  "ragged": self._ragged, "vocabulary": lookup["vocabulary"], "idf_weights": lookup["idf_weights"],
                  "encoding": self._encoding, "vocabulary_size": self.vocabulary_size()}
        if "has_input_vocabulary" in lookup:
            config["has_input_vocabulary"] = lookup["has_input_vocabulary"]
        return config

    @classmethod
    def from_config(cls, config, safe_mode=None):
        from mlcore.saving import deserialize_keras_object
        config = dict(config)
        refuse_vocabulary_file(config.get("vocabulary"), safe_mode)
        for key in ("standardize", "split"):
            if isinstance(config.get(key), dict):
                config[key] = deserialize_keras_object(config[key])
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)

    def save_own_variables(self, store):
        self._lookup_layer.save_own_variables(store)

    def load_own_variables(self, store):
        self._lookup_layer.load_own_variables(store)


def _serialized(option):
    """A standardize or split option as Keras's saved config holds it: a name, or a named function's
    serialize_keras_object dict (an anonymous one stays as it is, for in-memory configs)."""
    from mlcore.saving import serialize_keras_object
    if option is None or isinstance(option, str) or getattr(option, "__name__", "<lambda>") == "<lambda>":
        return option
    return serialize_keras_object(option)

"""Embedding: integer indices looked up as rows of a trained (input_dim, output_dim) table."""
import math

import numpy as np

from mlcore import constraints, initializers, ops, regularizers
from mlcore.layers.base import Layer
from mlcore.layers.convolutional import pop_keras1
from mlcore.layers.lora import LoraLayer, adapted_weight
from mlcore.layers.quantization import (QuantizableLayer, quantize_int4_weight, quantize_weight,
                                       read_quantization_config, serialize_quantization_config)

# mlcore.quantizers is imported where used: it imports mlcore.ops, which imports the layers package

KERAS1_EMBEDDING = {"init": "embeddings_initializer", "W_regularizer": "embeddings_regularizer",
                    "W_constraint": "embeddings_constraint"}


def _check_dim(name, value):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError("`%s` must be a positive integer. Received: %s=%s (of type %s)."
                         % (name, name, value, type(value).__name__))
    return int(value)


class Embedding(LoraLayer, QuantizableLayer, Layer):
    """(batch, ...) indices in [0, input_dim) to (batch, ..., output_dim) vectors; float inputs are cast
    to int32 first, as Keras does.  Keras 1/2's input_length= sets the input shape of a first layer, and
    their init=, W_regularizer=, W_constraint= spellings are accepted.  mask_zero=True makes index 0 padding:
    the output's mask (mlcore/keras_masks.py) is False there, so RNNs skip those steps.  quantize("int8")
    stores the table in int8 with one scale per row; quantize("int4") packs it two values a byte, with a scale
    per row or, per group of block_size columns, a scale and a zero point.  lora_rank= or enable_lora(rank)
    fine-tunes a low-rank update of the frozen table (mlcore/layers/lora.py)."""
    rowwise = True
    embeddings = adapted_weight("embeddings")
    LORA_WEIGHT = "embeddings"
    BUILD_KEEPS_LORA_ALPHA = False
    QUANTIZED_VARIABLES = {"int8": ["embeddings", "embeddings_scale"],
                           "int4": ["embeddings", "embeddings_scale", "embeddings_zero", "g_idx"]}

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, weights=None, lora_rank=None, lora_alpha=None,
                 quantization_config=None, **kwargs):
        old = pop_keras1(kwargs, KERAS1_EMBEDDING)
        input_length = kwargs.pop("input_length", None)
        if input_length is not None and "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,)
        activity_regularizer = kwargs.pop("activity_regularizer", None)
        super().__init__(**kwargs)
        self.autocast = False       # as Keras's: rows looked up in float32, then cast to the compute dtype
        self.input_dim = _check_dim("input_dim", input_dim)
        self.output_dim = _check_dim("output_dim", output_dim)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.embeddings_initializer = initializers.get(old.get("embeddings_initializer", embeddings_initializer))
        self.embeddings_regularizer = regularizers.get(old.get("embeddings_regularizer", embeddings_regularizer))
        self.embeddings_constraint = constraints.get(old.get("embeddings_constraint", embeddings_constraint))
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.quantization_config = read_quantization_config(quantization_config)
        self.set_lora_arguments(lora_rank, lora_alpha)
        if weights is not None:
            self.build()
            self.set_weights(weights if isinstance(weights, list) and len(weights) == 1 else [weights])

    def build(self, input_shape=None):
        if self.quantization_mode:
            self.quantized_build((self.input_dim, self.output_dim), self.quantization_mode, self.quantization_config)
        else:
            self.embeddings = self.add_weight((self.input_dim, self.output_dim), self.embeddings_initializer,
                                              regularizer=self.embeddings_regularizer,
                                              constraint=self.embeddings_constraint, name="embeddings")
        self.built = True
        self.enable_lora_argument()

    def integer_build(self, embeddings_shape, mode, config):
        """The quantized table and its scales (one per row, or per row and group of columns), as zeros and ones."""
        from mlcore.quantizers.grouped import group_indices
        from mlcore.quantizers.quantization_config import int4_block_size
        block_size = int4_block_size(self, config) if mode == "int4" else None
        self._int4_block_size = None if block_size == -1 else block_size
        packed_shape = (self.input_dim, (self.output_dim + 1) // 2) if mode == "int4" else embeddings_shape
        self.embeddings = self.add_weight(packed_shape, "zeros", dtype="int8", trainable=False, name="embeddings")
        scale_shape = (self.input_dim,) if self._int4_block_size is None else \
            (self.input_dim, math.ceil(self.output_dim / block_size))
        self.embeddings_scale = self.add_weight(scale_shape, "ones", trainable=False, name="embeddings_scale")
        if self._int4_block_size is not None:
            self.embeddings_zero = self.add_weight(scale_shape, "zeros", dtype="int8", trainable=False,
                                                   name="embeddings_zero")
            self.g_idx = self.add_weight((self.output_dim,), "zeros", dtype="float32", trainable=False, name="g_idx")
            self.g_idx.assign(group_indices(self.output_dim, block_size))

    def quantize_weights(self, mode, config):
        """The stored table quantized (LoRA's factors stay apart from it, as in Keras)."""
        table, scale, zero = self._quantized_values(mode, config, self._embeddings, config)
        self.drop_weight(self._embeddings)
        self.quantized_build((self.input_dim, self.output_dim), mode, config)
        self._embeddings.assign(table)
        self.embeddings_scale.assign(scale)
        if zero is not None:
            self.embeddings_zero.assign(zero)

    def _quantized_values(self, mode, config, table, weight_config):
        """(values, scale per row, zero per row and group or None) of a float table; int4 values packed."""
        from mlcore.quantizers import pack_int4
        from mlcore.quantizers.quantization_config import int4_block_size
        if mode == "int4":
            values, scale, zero = quantize_int4_weight(weight_config, table, -1, int4_block_size(self, config))
            return pack_int4(values, axis=-1)[0], scale, zero
        return quantize_weight(weight_config, table, -1) + (None,)

    # --- LoRA (mlcore/layers/lora.py) ---
    def lora_weight_shape(self):
        return self.input_dim, self.output_dim

    def lora_input_product(self, indices, factor_a):
        return ops.take(factor_a, indices, axis=0)

    def dequantized_weight(self):
        return self._dequantized_rows(ops.arange(self.input_dim))

    def requantized(self, table):
        """Keras re-quantizes a merged table with the default quantizers, whatever the layer's config."""
        return self._quantized_values(self.quantization_mode, self.quantization_config, table, None)

    def call(self, inputs):
        if inputs.dtype not in ("int32", "int64"):
            inputs = ops.cast(inputs, "int32")
        if self._is_quantized:
            outputs = self.plus_lora_output(inputs, self._dequantized_rows(inputs))
        else:
            outputs = ops.cast(self.embeddings[inputs], self.compute_dtype)
        self.add_activity_loss(outputs)
        return outputs

    def int4_values(self):
        """The int4 table's values (int8), unpacked to (input_dim, output_dim)."""
        from mlcore.quantizers import unpack_int4
        return unpack_int4(self._embeddings, self.output_dim, axis=-1)

    def _dequantized_rows(self, inputs):
        """The rows of the quantized table: values / scale, or (values - zero) * scale per group of columns."""
        from mlcore.quantizers import dequantize_with_sz_map
        table = self.int4_values() if self.quantization_mode == "int4" else self._embeddings
        rows = ops.cast(ops.take(table, inputs, axis=0), self.compute_dtype)
        if self._int4_block_size is None:
            return ops.divide(rows, ops.expand_dims(ops.take(self.embeddings_scale, inputs, axis=0), -1))
        return dequantize_with_sz_map(rows, ops.take(self.embeddings_scale, inputs, axis=0),
                                      ops.take(self.embeddings_zero, inputs, axis=0), self.g_idx, group_axis=-1)

    def compute_mask(self, inputs, mask=None):
        return ops.not_equal(inputs, 0) if self.mask_zero else None

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
                "mask_zero": self.mask_zero,
                "quantization_config": serialize_quantization_config(self.quantization_config),
                **self.lora_config()}

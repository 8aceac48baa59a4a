"""ReversibleEmbedding: an Embedding that also maps vectors back to logits over its vocabulary, as the input
and output layers of a language model that share (tie) one table."""
from mlcore import ops
from mlcore.keras_masks import set_keras_mask
from mlcore.layers.embedding import Embedding
from mlcore.layers.quantization import float_kernel_product, int8_product, quantize_int4_weight, quantize_weight


class ReversibleEmbedding(Embedding):
    """layer(indices) looks rows up as Embedding does; layer(vectors, reverse=True) gives (..., input_dim)
    logits: vectors times the transposed table (tie_weights=True) or times a separate trainable
    (output_dim, input_dim) `reverse_embeddings`.  reverse_dtype computes the logits in that dtype;
    logit_soft_cap=c gives c * tanh(logits / c).  A forward call with mask_zero=True masks index 0, as
    Embedding; a reverse call's output has no mask.  quantize("int8"/"int4") quantizes the table as Embedding
    does and the separate reverse table per vocabulary column; a quantized reverse call quantizes its inputs
    too (AbsMaxQuantizer over the last axis, unless the config says otherwise), as Keras's."""
    QUANTIZED_VARIABLES = {
        mode: names + ["reverse_embeddings", "reverse_embeddings_scale"] + (["reverse_embeddings_zero"]
                                                                            if mode == "int4" else [])
        for mode, names in Embedding.QUANTIZED_VARIABLES.items()}

    def __init__(self, input_dim, output_dim, tie_weights=True, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False, reverse_dtype=None,
                 logit_soft_cap=None, **kwargs):
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer, embeddings_constraint=embeddings_constraint,
                         mask_zero=mask_zero, **kwargs)
        self.tie_weights = tie_weights
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap

    def build(self, input_shape=None):
        super().build(input_shape)
        if not self.tie_weights and not self._is_quantized:
            self.reverse_embeddings = self.add_weight((self.output_dim, self.input_dim),
                                                      self.embeddings_initializer, name="reverse_embeddings")

    def call(self, inputs, reverse=False):
        if not reverse:
            outputs = super().call(inputs)
            if self.mask_zero:
                set_keras_mask(outputs, super().compute_mask(inputs))
            return outputs
        if self._is_quantized:
            return self._soft_cap(self._quantized_logits(inputs))
        kernel = ops.transpose(self.embeddings) if self.tie_weights else self.reverse_embeddings
        if self.reverse_dtype is not None:
            inputs, kernel = ops.cast(inputs, self.reverse_dtype), ops.cast(kernel, self.reverse_dtype)
        return self._soft_cap(ops.matmul(inputs, kernel))

    def _soft_cap(self, logits):
        if self.logit_soft_cap is not None:
            logits = ops.tanh(logits / self.logit_soft_cap) * self.logit_soft_cap
        return logits

    # --- quantization ------------------------------------------------------------------------------
    def integer_build(self, embeddings_shape, mode, config):
        """The quantized table (Embedding's) and, untied, the quantized (output_dim, input_dim) reverse table with
        a scale per vocabulary column (int4: packed along output_dim, per group with float32 zero points)."""
        from mlcore import quantizers
        super().integer_build(embeddings_shape, mode, config)
        self.inputs_quantizer = quantizers.QuantizationConfig.activation_quantizer_or_default(
            config, quantizers.AbsMaxQuantizer(axis=-1))
        if self.tie_weights:
            return
        rows = (self.output_dim + 1) // 2 if mode == "int4" else self.output_dim
        self.reverse_embeddings = self.add_weight((rows, self.input_dim), "zeros", dtype="int8", trainable=False,
                                                  name="reverse_embeddings")
        scale_shape = (self.input_dim,) if self._int4_block_size is None else \
            (self.embeddings_scale.shape[1], self.input_dim)
        self.reverse_embeddings_scale = self.add_weight(scale_shape, "ones", trainable=False,
                                                        name="reverse_embeddings_scale")
        if self._int4_block_size is not None:
            self.reverse_embeddings_zero = self.add_weight(scale_shape, "zeros", trainable=False,
                                                           name="reverse_embeddings_zero")

    def quantize_weights(self, mode, config):
        from mlcore import quantizers
        reverse = None
        if not self.tie_weights:
            if mode == "int4":
                values, scale, zero = quantize_int4_weight(config, self.reverse_embeddings, 0,
                                                           quantizers.quantization_config.int4_block_size(self, config))
                reverse = (quantizers.pack_int4(values, axis=0)[0], scale, zero)
            else:
                reverse = quantize_weight(config, self.reverse_embeddings, 0) + (None,)
            self.drop_weight(self.reverse_embeddings)
        super().quantize_weights(mode, config)
        if reverse is not None:
            self.reverse_embeddings.assign(reverse[0])
            self.reverse_embeddings_scale.assign(reverse[1])
            if reverse[2] is not None:
                self.reverse_embeddings_zero.assign(reverse[2])

    def _quantized_logits(self, inputs):
        """inputs times the quantized (output_dim, input_dim) table: the int8 (or unpacked int4) values, exact in
        int32 with quantized inputs, over the scales; per group, times the dequantized float table."""
        from mlcore import quantizers
        if self.tie_weights:
            kernel, scale = ops.transpose(self._embeddings), self.embeddings_scale
            zero = None if self._int4_block_size is None else ops.transpose(self.embeddings_zero)
            scale = scale if zero is None else ops.transpose(scale)
        else:
            kernel, scale = self.reverse_embeddings, self.reverse_embeddings_scale
            zero = getattr(self, "reverse_embeddings_zero", None)
        if self.quantization_mode == "int4":
            kernel = quantizers.unpack_int4(kernel, self.output_dim, axis=0)
        if zero is not None:
            kernel = quantizers.dequantize_with_sz_map(ops.cast(kernel, self.compute_dtype), scale, zero, self.g_idx,
                                                       group_axis=0)
            return float_kernel_product(ops.matmul, inputs, kernel, self.inputs_quantizer, None, lambda s: s,
                                        self.compute_dtype)
        return int8_product(ops.matmul, inputs, kernel, scale, self.inputs_quantizer, None, lambda s: s,
                            self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        return None     # the forward call sets its own mask: compute_mask cannot tell the two calls apart

    def compute_output_shape(self, input_shape, reverse=False):
        if reverse:
            return tuple(input_shape[:-1]) + (self.input_dim,)
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        return {**super().get_config(), "tie_weights": self.tie_weights, "reverse_dtype": self.reverse_dtype,
                "logit_soft_cap": self.logit_soft_cap}

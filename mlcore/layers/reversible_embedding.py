"""ReversibleEmbedding: an Embedding that also maps vectors back to logits over its vocabulary, as the input
and output layers of a language model that share (tie) one table."""
from mlcore import ops
from mlcore.keras_masks import set_keras_mask
from mlcore.layers.embedding import Embedding


class ReversibleEmbedding(Embedding):
    """layer(indices) looks rows up as Embedding does; layer(vectors, reverse=True) gives (..., input_dim)
    logits: vectors times the transposed table (tie_weights=True) or times a separate trainable
    (output_dim, input_dim) `reverse_embeddings`.  reverse_dtype computes the logits in that dtype;
    logit_soft_cap=c gives c * tanh(logits / c).  A forward call with mask_zero=True masks index 0, as
    Embedding; a reverse call's output has no mask."""

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
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight((self.output_dim, self.input_dim),
                                                      self.embeddings_initializer, name="reverse_embeddings")

    def call(self, inputs, reverse=False):
        if not reverse:
            outputs = super().call(inputs)
            if self.mask_zero:
                set_keras_mask(outputs, super().compute_mask(inputs))
            return outputs
        kernel = ops.transpose(self.embeddings) if self.tie_weights else self.reverse_embeddings
        if self.reverse_dtype is not None:
            inputs, kernel = ops.cast(inputs, self.reverse_dtype), ops.cast(kernel, self.reverse_dtype)
        logits = ops.matmul(inputs, kernel)
        if self.logit_soft_cap is not None:
            logits = ops.tanh(logits / self.logit_soft_cap) * self.logit_soft_cap
        return logits

    def compute_mask(self, inputs, mask=None):
        return None     # the forward call sets its own mask: compute_mask cannot tell the two calls apart

    def compute_output_shape(self, input_shape, reverse=False):
        if reverse:
            return tuple(input_shape[:-1]) + (self.input_dim,)
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        return {**super().get_config(), "tie_weights": self.tie_weights, "reverse_dtype": self.reverse_dtype,
                "logit_soft_cap": self.logit_soft_cap}

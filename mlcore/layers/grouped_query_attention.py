"""GroupedQueryAttention (Ainslie et al., 2023), keras.layers.GroupQueryAttention: multi-head attention
whose num_query_heads query heads share num_key_value_heads key and value heads, each key/value head
serving num_query_heads // num_key_value_heads query heads.  It is MultiHeadAttention over (batch, steps,
features) inputs with narrower key and value projections, repeated head-wise before attending."""
from mlcore.graph import ops
from mlcore.layers.attention import static_shape
from mlcore.layers.multi_head_attention import MultiHeadAttention


def check_last_dims(query_shape, value_shape):
    """The query and value of one feature size, which is the output's."""
    if query_shape[-1] != value_shape[-1]:
        raise ValueError("The last dimension of `query_shape` and `value_shape` must be equal, but are %s, %s. "
                         "Received: query_shape=%s, value_shape=%s" % (query_shape[-1], value_shape[-1],
                                                                      static_shape(query_shape),
                                                                      static_shape(value_shape)))


class GroupedQueryAttention(MultiHeadAttention):
    """layer(query, value, key=None, ...) as MultiHeadAttention (attention_mask, query_mask, value_mask,
    key_mask, use_causal_mask, sliding_window, return_attention_scores: (batch, num_query_heads, T, S)
    scores); query and value have the same feature size, which is also the output's.  The sublayers
    are Keras's: query, key, value, attention_output (and gate with use_gate) EinsumDense layers saved
    under _query_dense... as Keras 3 saves them."""
    keras_class_name = "GroupQueryAttention"     # the name Keras 3 exports it, and saves it, under

    def __init__(self, head_dim, num_query_heads, num_key_value_heads, dropout=0.0, use_bias=True,
                 sliding_window=None, flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, use_gate=False,
                 seed=None, **kwargs):
        if not isinstance(num_key_value_heads, int) or isinstance(num_key_value_heads, bool) or \
                num_key_value_heads <= 0:
            raise ValueError("GroupQueryAttention: `num_key_value_heads` must be a positive integer. Received: "
                             "num_key_value_heads=%r" % (num_key_value_heads,))
        super().__init__(num_query_heads, head_dim, dropout=dropout, use_bias=use_bias,
                         sliding_window=sliding_window, flash_attention=flash_attention,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                         bias_constraint=bias_constraint, use_gate=use_gate, seed=seed, **kwargs)
        if num_query_heads % num_key_value_heads != 0:
            raise ValueError("`num_query_heads` must be divisible by `num_key_value_heads`.")
        self.head_dim = head_dim
        self.num_query_heads = num_query_heads
        self.num_key_value_heads = num_key_value_heads
        self.num_repeats = num_query_heads // num_key_value_heads

    @property
    def sublayer_attributes(self):
        """Where Keras 3's weight files keep the sublayers: GroupQueryAttention has no public names for them."""
        return ("_dropout_layer", "_key_dense", "_output_dense", "_query_dense", "_softmax", "_value_dense") + \
            (("_gate_dense",) if self.use_gate else ())

    def build(self, query_shape, value_shape, key_shape=None):
        for name, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if shape is not None and len(shape) != 3:
                raise ValueError("GroupQueryAttention '%s' takes (batch, steps, features) inputs; the %s has "
                                 "shape %s" % (self.name, name, tuple(shape)))
        check_last_dims(query_shape, value_shape)
        super().build(query_shape, value_shape, key_shape)

    def _projection(self, name, input_shape, size, activation=None):
        """Queries (and the gate) get num_query_heads heads; keys and values num_key_value_heads."""
        heads = self.num_key_value_heads if name in ("key", "value") else self.num_query_heads
        return self._einsum_dense(name, "abc,cde->abde", "de", [None, heads, size], input_shape, activation)

    def _key_value_heads(self, key, value):
        """Each key and value head repeated for the query heads it serves, before _compute_attention."""
        key, value = super()._key_value_heads(key, value)
        return ops.repeat(key, self.num_repeats, axis=2), ops.repeat(value, self.num_repeats, axis=2)

    def _compute_attention(self, query, key, value, attention_mask=None, training=None, use_causal_mask=False):
        """Keras's GroupQueryAttention signature, whose sixth argument is use_causal_mask."""
        return super()._compute_attention(query, key, value, attention_mask, training, use_causal_mask=use_causal_mask)

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        check_last_dims(query_shape, value_shape)
        return super().compute_output_shape(query_shape, value_shape, key_shape)

    def get_config(self):
        config = super().get_config()
        for mlcore_only in ("num_heads", "key_dim", "value_dim", "output_shape", "attention_axes"):
            config.pop(mlcore_only)
        return {**config, "head_dim": self.head_dim, "num_query_heads": self.num_query_heads,
                "num_key_value_heads": self.num_key_value_heads}


"""Keras 3's single-head attention layers over [query, value] or [query, value, key] ((batch, Tq, dim),
(batch, Tv, dim), (batch, Tv, dim), or with more leading dims, (batch, ..., Tq, dim)): Attention
(Luong's dot product) and AdditiveAttention (Bahdanau's sum of tanh).  The output is
softmax(scores) @ value, (batch, ..., Tq, dim); the value's mask keeps padded steps out of the
softmax, and the query's mask zeroes the padded steps' outputs and is the output's mask."""
from mlcore.graph import ops
from mlcore.layers.base import Layer
from mlcore.tensor.basic import shape_padaxis
from mlcore.utils.rng import layer_streams


def as_bool(mask):
    """A Keras mask as booleans: nonzero is True."""
    return mask if mask.dtype == "bool" else ops.neq(mask, 0)


def causal_mask(query_length, value_length):
    """(1, Tq, Tv), True where value step j <= query step i: no query step sees a later one."""
    rows = ops.dimshuffle(ops.arange(query_length), "x", 0, "x")
    return ops.ge(rows, ops.dimshuffle(ops.arange(value_length), "x", "x", 0))


def static_shape(shape):
    """A shape as a plain tuple, None where a dim is unknown (x.shape iterates to symbolic sizes there)."""
    return tuple(tuple.__iter__(shape)) if isinstance(shape, tuple) else tuple(shape)


def large_negative(dtype):
    """What a masked score becomes: far below any real one, within float16's range (Keras's values)."""
    return 65504.0 if dtype == "float16" else 1.0e9


def is_list_of_inputs(inputs):
    """A list or tuple of tensors, or of their shapes; a shape (ints and None) is one input's."""
    return isinstance(inputs, (list, tuple)) and not any(d is None or isinstance(d, int) for d in inputs)


class Attention(Layer):
    """Dot-product attention: scores = query @ key^T (times a learned scalar `scale` with use_scale);
    score_mode="concat" scores sum(tanh(query + key)) instead, times a learned concat_score_weight."""

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError("Invalid value for argument score_mode. Expected one of {'dot', 'concat'}. "
                             "Received: score_mode=%s" % (score_mode,))
        self.use_scale = use_scale
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        if dropout > 0:             # as in Keras, no random state where nothing is dropped
            self.seed_generator = layer_streams(seed)

    def build(self, input_shape):
        self._check_inputs(input_shape)
        self.scale = self.add_weight((), "ones", name="scale") if self.use_scale else None
        self.concat_score_weight = self.add_weight((), "ones", name="concat_score_weight") \
            if self.score_mode == "concat" else None
        self.built = True

    def _calculate_scores(self, query, key):
        """(batch, Tq, Tv) scores of each query step against each key step."""
        if self.score_mode == "dot":
            scores = ops.matmul(query, key.swapaxes(-1, -2))
            return scores if self.scale is None else scores * self.scale
        pairs = _pairs(query, key)
        return self.concat_score_weight * ops.sum_(ops.tanh(pairs if self.scale is None else self.scale * pairs),
                                                   axis=-1)

    def call(self, inputs, mask=None, training=False, return_attention_scores=False, use_causal_mask=False):
        self._check_inputs(inputs, mask)
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        self._check_shapes(query, value, key)
        query_mask, value_mask = (mask[0], mask[1]) if mask else (None, None)
        scores = self._calculate_scores(query, key)
        keep = None if value_mask is None else shape_padaxis(as_bool(value_mask), -2)
        if use_causal_mask:
            causal = causal_mask(scores.shape[-2], scores.shape[-1])
            keep = causal if keep is None else ops.and_(keep, causal)
        if keep is not None:
            scores = ops.switch(keep, scores, scores - large_negative(scores.dtype))
        weights = ops.softmax(scores, axis=-1)
        if training and self.dropout > 0:
            kept = self.seed_generator.binomial(weights.shape, p=1.0 - self.dropout, dtype=weights.dtype)
            weights = weights * kept / (1.0 - self.dropout)
        outputs = ops.matmul(weights, value)
        if query_mask is not None:
            outputs = ops.switch(shape_padaxis(as_bool(query_mask), -1), outputs, 0.0)
        return (outputs, weights) if return_attention_scores else outputs

    def compute_mask(self, inputs, mask=None):
        self._check_inputs(inputs, mask)
        return None if not mask or mask[0] is None else mask[0]

    def compute_output_shape(self, input_shape):
        return static_shape(input_shape[0])[:-1] + (static_shape(input_shape[1])[-1],)

    def _check_inputs(self, inputs, mask=None):
        """The inputs (or their shapes, in build) and masks as lists of 2 or 3, in Keras's words."""
        name = type(self).__name__
        if not is_list_of_inputs(inputs):
            raise ValueError("%s layer must be called on a list of inputs, namely [query, value] or [query, value, "
                             "key]. Received: inputs=%s." % (name, inputs))
        if not 2 <= len(inputs) <= 3:
            raise ValueError("%s layer accepts inputs list of length 2 or 3, namely [query, value] or [query, "
                             "value, key]. Received length: %d." % (name, len(inputs)))
        if mask is not None and not isinstance(mask, (list, tuple)):
            raise ValueError("%s layer mask must be a list, namely [query_mask, value_mask]. Received: mask=%s."
                             % (name, mask))
        if mask is not None and not 2 <= len(mask) <= 3:
            raise ValueError("%s layer accepts mask list of length 2 or 3. Received: inputs=%s, mask=%s."
                             % (name, inputs, mask))

    def _check_shapes(self, query, value, key):
        """(batch, ..., steps, features) each, of one rank; the query and key of one feature size, the
        key and value of one number of steps."""
        (q, k), (tk, tv) = (query.type.shape[-1], key.type.shape[-1]), (key.type.shape[-2], value.type.shape[-2])
        if len({query.ndim, value.ndim, key.ndim}) > 1 or query.ndim < 3 or (None not in (q, k) and q != k) or \
                (None not in (tk, tv) and tk != tv):
            raise ValueError("%s '%s' takes (batch, ..., Tq, dim) queries, (batch, ..., Tv, dim) values and keys; "
                             "got query %s, value %s, key %s" % (type(self).__name__, self.name, query.type.shape,
                                                                 value.type.shape, key.type.shape))

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale, "score_mode": self.score_mode,
                "dropout": self.dropout, "seed": self.seed}


def _pairs(query, key):
    """query + key for every pair of steps: (batch, ..., Tq, Tv, dim)."""
    return shape_padaxis(query, -2) + shape_padaxis(key, -3)


class AdditiveAttention(Attention):
    """Additive attention: scores = sum(scale * tanh(query + key)) over the features, `scale` a learned
    vector of the query's size (with use_scale, the default)."""

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._check_inputs(input_shape)
        dim = input_shape[0][-1]
        if dim is None:
            raise ValueError("AdditiveAttention '%s': the query's last dim must be known; got shape %s"
                             % (self.name, tuple(input_shape[0])))
        self.scale = self.add_weight((dim,), "glorot_uniform", name="scale") if self.use_scale else None
        self.built = True

    def _calculate_scores(self, query, key):
        tanh = ops.tanh(_pairs(query, key))
        return ops.sum_(tanh if self.scale is None else self.scale * tanh, axis=-1)

    def get_config(self):
        config_ = super().get_config()
        del config_["score_mode"]
        return config_

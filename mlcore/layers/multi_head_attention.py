"""MultiHeadAttention, as Keras 3's (Vaswani et al., 2017): query, key and value projected to num_heads
heads by EinsumDense sublayers named query, key and value, scaled dot-product attention per head, and
the heads projected back by attention_output.  Those sublayers and their weights ((dim, num_heads,
key_dim) kernels...) are Keras's, under Keras's attribute names, so that weights and files interoperate.

The query, value and key may have more dims than (batch, steps, features): attention_axes says which of
the projected dims (batch..., steps..., heads, channels) attention runs over.
"""
import math
import string

from mlcore.graph import ops
from mlcore.graph.basic import Variable
from mlcore.keras_masks import get_keras_mask
from mlcore.layers.activations import Softmax
from mlcore.layers.attention import as_bool, causal_mask, static_shape
from mlcore.layers.base import KernelBiasOptions, Layer
from mlcore.layers.core import Dropout
from mlcore.layers.einsum_dense import EinsumDense
from mlcore.layers.recurrent_cells import build_sublayer


def projection_equation(free_dims, bound_dims, output_dims):
    """(equation, bias axes) of a projection that sums the input's last bound_dims dims against the
    kernel's first ones: "abc,cde->abde" for the query's (batch, T, dim) to (batch, T, heads, key_dim)."""
    letters = string.ascii_lowercase
    free, bound = letters[:free_dims], letters[free_dims:free_dims + bound_dims]
    out = letters[free_dims + bound_dims:free_dims + bound_dims + output_dims]
    return "%s,%s->%s" % (free + bound, bound + out, free + out), out


def attention_equations(rank, attention_axes):
    """The einsums of projected (batch..., steps..., heads, channels) tensors of `rank` dims: key with
    query to scores (batch dims and heads, query steps, key steps), and scores with value to outputs."""
    target = string.ascii_lowercase[:rank]
    fresh = iter(string.ascii_lowercase[rank:])
    source = "".join(next(fresh) if i in attention_axes else c for i, c in enumerate(target))
    batch = "".join(c for i, c in enumerate(target) if i not in attention_axes and i != rank - 1)
    scores = batch + "".join(target[i] for i in attention_axes) + "".join(source[i] for i in attention_axes)
    return "%s,%s->%s" % (source, target, scores), "%s,%s->%s" % (scores, source, target), len(scores)


def check_positive_int(name, value, optional=False):
    """Keras's check of num_heads, key_dim and value_dim (None allowed where optional)."""
    if optional and value is None:
        return
    if not isinstance(value, int) or value <= 0:
        raise ValueError("Received an invalid value for argument `%s`, expected a positive integer%s. Received: "
                         "%s=%s" % (name, " or `None`" if optional else "", name, value))


def standardize_output_shape(output_shape):
    """output_shape as a tuple (an int is one dim), or None."""
    if not output_shape:
        return None
    if isinstance(output_shape, int):
        return (output_shape,)
    try:
        return tuple(output_shape)
    except TypeError:
        raise ValueError("Invalid `output_shape`: %s. When specified, the `output_shape` should be of type tuple, "
                         "list, or int." % (output_shape,)) from None


def check_value_and_key_shapes(value_shape, key_shape):
    if value_shape[1:-1] != key_shape[1:-1]:
        raise ValueError("All dimensions of `value` and `key`, except the last one, must be equal. Received: "
                         "value_shape=%s and key_shape=%s" % (value_shape, key_shape))


class MultiHeadAttention(KernelBiasOptions, Layer):
    """layer(query, value, key=None, ...): (batch, T, dim) queries attend to (batch, S, dim) values, the
    keys being the values unless given.  Masks: the query's and value's Keras masks (or query_mask,
    value_mask, key_mask), attention_mask (batch, T, S), use_causal_mask and sliding_window all combine."""

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True, output_shape=None,
                 attention_axes=None, sliding_window=None, flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, use_gate=False, seed=None, **kwargs):
        check_positive_int("num_heads", num_heads)
        check_positive_int("key_dim", key_dim)
        check_positive_int("value_dim", value_dim, optional=True)
        if sliding_window is not None and (not isinstance(sliding_window, int) or sliding_window <= 0):
            raise ValueError("`sliding_window` must be `None` or a positive integer. Received: sliding_window=%s"
                             % (sliding_window,))
        super().__init__(**kwargs)
        self.supports_masking = True
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim if value_dim else key_dim
        self.dropout = dropout
        self.use_bias = use_bias
        self.use_gate = use_gate
        self._output_shape = standardize_output_shape(output_shape)
        if attention_axes and not isinstance(attention_axes, (int, list, tuple)):
            raise ValueError("`attention_axes` must be an int, list, or tuple.Received: attention_axes=%s"
                             % (attention_axes,))
        self.attention_axes = (attention_axes,) if isinstance(attention_axes, int) else attention_axes
        self.sliding_window = sliding_window
        self.seed = seed
        if flash_attention and dropout > 0.0:   # mlcore has no flash kernel, but keeps Keras's rule
            raise ValueError("Dropout is not supported when flash attention is enabled. Please set dropout to 0.0 "
                             "to use flash attention.")
        self.set_kernel_bias_options({}, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                                     activity_regularizer, kernel_constraint, bias_constraint)

    @property
    def sublayer_attributes(self):
        """Where Keras 3's weight files keep the sublayers (attribute names, public ones first)."""
        return ("key_dense", "output_dense", "query_dense", "value_dense", "_dropout_layer") + \
            (("_gate_dense",) if self.use_gate else ()) + ("_softmax",)

    query_dense = property(lambda self: self._query_dense)
    key_dense = property(lambda self: self._key_dense)
    value_dense = property(lambda self: self._value_dense)
    output_dense = property(lambda self: self._output_dense)

    # --- building -------------------------------------------------------------------------------------
    def build(self, query_shape, value_shape, key_shape=None):
        # the build config, as Keras records it: static shapes, a key_shape only where given
        self._build_shapes_dict = {name: list(static_shape(shape)) for name, shape in (
            ("query_shape", query_shape), ("value_shape", value_shape), ("key_shape", key_shape)) if shape is not None}
        query_shape, value_shape = static_shape(query_shape), static_shape(value_shape)
        key_shape = value_shape if key_shape is None else static_shape(key_shape)
        check_value_and_key_shapes(value_shape, key_shape)
        self._query_dense = self._projection("query", query_shape, self.key_dim)
        self._key_dense = self._projection("key", key_shape, self.key_dim)
        if self.use_gate:
            self._gate_dense = self._projection("gate", query_shape, self.value_dim, activation="sigmoid")
        self._value_dense = self._projection("value", value_shape, self.value_dim)
        rank = len(value_shape) + 1
        self.attention_axes = tuple(range(1, rank - 2)) if self.attention_axes is None else \
            tuple(axis if axis >= 0 else rank - 1 + axis for axis in self.attention_axes)
        self._dot_product_equation, self._combine_equation, scores_rank = attention_equations(rank,
                                                                                               self.attention_axes)
        norm_axes = tuple(range(scores_rank - len(self.attention_axes), scores_rank))
        self._softmax = Softmax(axis=norm_axes, dtype=self.dtype_policy)
        self._dropout_layer = Dropout(rate=self.dropout, seed=self.seed, dtype=self.dtype_policy)
        output_shape = self._output_shape or (query_shape[-1],)
        equation, bias_axes = projection_equation(len(query_shape) - 1, 2, len(output_shape))
        self._output_dense = self._einsum_dense("attention_output", equation, bias_axes,
                                                [None] * (len(query_shape) - 2) + list(output_shape),
                                                query_shape[:-1] + (self.num_heads, self.value_dim))
        self.built = True

    def _projection(self, name, input_shape, size, activation=None):
        """The EinsumDense taking (batch..., features) to (batch..., num_heads, size)."""
        equation, bias_axes = projection_equation(len(input_shape) - 1, 1, 2)
        return self._einsum_dense(name, equation, bias_axes, [None] * (len(input_shape) - 2) + [self.num_heads, size],
                                  input_shape, activation)

    def _einsum_dense(self, name, equation, bias_axes, output_shape, input_shape, activation=None):
        """A built EinsumDense sublayer with this layer's weight options (fresh initializers each, as Keras)."""
        layer = EinsumDense(equation, output_shape, activation=activation,
                            bias_axes=bias_axes if self.use_bias else None,
                            kernel_initializer=self.kernel_initializer.clone(),
                            bias_initializer=self.bias_initializer.clone(), kernel_regularizer=self.kernel_regularizer,
                            bias_regularizer=self.bias_regularizer, activity_regularizer=self.activity_regularizer,
                            kernel_constraint=self.kernel_constraint, bias_constraint=self.bias_constraint,
                            name=name, dtype=self.dtype_policy)
        build_sublayer(self, layer, input_shape)
        return layer

    # --- calling ----------------------------------------------------------------------------------------
    def __call__(self, query, value=None, key=None, **kwargs):
        """Keras's layer(query, value, key=None, ...).  The value and key travel on as keyword arguments, which
        functional models record and replay; arrays run as one eager call over [query, value(, key)], whose
        placeholders come back here as that list."""
        if isinstance(query, list):
            query, value, key = (query + [None])[:3]
        if value is None:
            raise TypeError("MultiHeadAttention '%s' takes a query and a value: layer(query, value)" % self.name)
        tensors = [query, value] + ([] if key is None else [key])
        if not any(isinstance(t, Variable) for t in tensors):
            return self._call_eagerly(tensors, **kwargs)
        if not self.built:
            self.build(query.type.shape, value.type.shape, None if key is None else key.type.shape)
        return super().__call__(query, value=value, **({} if key is None else {"key": key}), **kwargs)

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None, use_causal_mask=False):
        # the inputs' Keras masks, unless given (Keras reads the key's only when a key is given)
        key_mask = get_keras_mask(key) if key_mask is None and key is not None else key_mask
        key = value if key is None else key
        query_mask = get_keras_mask(query) if query_mask is None else query_mask
        value_mask = get_keras_mask(value) if value_mask is None else value_mask
        attention_mask = self._compute_attention_mask(query, value, query_mask, value_mask, key_mask, attention_mask,
                                                      use_causal_mask)
        gate = self._gate_dense.call(query) if self.use_gate else None
        # five positional arguments: what overrides of MultiHeadAttention's and GroupQueryAttention's signatures take
        outputs, scores = self._compute_attention(self._query_dense.call(query), *self._key_value_heads(key, value),
                                                  attention_mask, training)
        outputs = self._output_dense.call(outputs if gate is None else outputs * gate)
        return (outputs, scores) if return_attention_scores else outputs

    def _key_value_heads(self, key, value):
        """The key and value projected to heads (GroupedQueryAttention repeats them to the query's)."""
        return self._key_dense.call(key), self._value_dense.call(value)

    def _compute_attention_mask(self, query, value, query_mask=None, value_mask=None, key_mask=None,
                                attention_mask=None, use_causal_mask=False):
        """Every mask that applies, as one boolean (batch, T, S) (or broadcastable) mask, or None."""
        masks = []
        if query_mask is not None:
            masks.append(ops.dimshuffle(as_bool(query_mask), 0, 1, "x"))
        for mask in (value_mask, key_mask):
            if mask is not None:
                masks.append(ops.dimshuffle(as_bool(mask), 0, "x", 1))
        if use_causal_mask:
            masks.append(causal_mask(query.shape[1], value.shape[1]))
        if self.sliding_window is not None:
            offset = ops.sub(ops.dimshuffle(ops.arange(query.shape[1]), "x", 0, "x"),
                             ops.dimshuffle(ops.arange(value.shape[1]), "x", "x", 0))
            masks.append(ops.lt(ops.abs_(offset), self.sliding_window))
        if attention_mask is not None:
            masks.insert(0, as_bool(attention_mask))
        combined = masks[0] if masks else None
        for mask in masks[1:]:
            combined = ops.and_(combined, mask)
        return combined

    def _compute_attention(self, query, key, value, attention_mask=None, training=None, return_attention_scores=False,
                           use_causal_mask=False):
        """Scaled dot-product attention of projected heads: (outputs, scores before dropout), the scores
        whatever return_attention_scores says (Keras's override point; call() has folded the causal mask
        into attention_mask, a direct caller may ask for it here)."""
        if use_causal_mask:
            causal = causal_mask(query.shape[1], value.shape[1])
            attention_mask = causal if attention_mask is None else ops.and_(as_bool(attention_mask), causal)
        query = query * ops.cast(1.0 / math.sqrt(float(self.key_dim)), query.dtype)
        scores = ops.einsum(self._dot_product_equation, key, query)
        if attention_mask is not None:
            # (batch, T, S) gets the scores' heads axis, before its query and key steps, as Keras expands it
            lead = attention_mask.ndim - 2 * len(self.attention_axes)
            attention_mask = ops.dimshuffle(attention_mask, *range(lead), *["x"] * (scores.ndim - attention_mask.ndim),
                                            *range(lead, attention_mask.ndim))
        scores = self._softmax.call(scores, mask=attention_mask)
        dropped = self._dropout_layer.call(scores, training=training) if self.dropout > 0.0 else scores
        return ops.einsum(self._combine_equation, dropped, value), scores

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        query_shape, value_shape = static_shape(query_shape), static_shape(value_shape)
        check_value_and_key_shapes(value_shape, value_shape if key_shape is None else static_shape(key_shape))
        return query_shape[:-1] + self._output_shape if self._output_shape else query_shape

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
                "use_gate": self.use_gate, "output_shape": self._output_shape, "attention_axes": self.attention_axes,
                "sliding_window": self.sliding_window, **self.kernel_bias_config(), "seed": self.seed}

"""Embedding: integer indices looked up as rows of a trained (input_dim, output_dim) table."""
import numpy as np

from mlcore import constraints, initializers, ops, regularizers
from mlcore.layers.base import Layer
from mlcore.layers.convolutional import pop_keras1

KERAS1_EMBEDDING = {"init": "embeddings_initializer", "W_regularizer": "embeddings_regularizer",
                    "W_constraint": "embeddings_constraint"}


def _check_dim(name, value):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError("`%s` must be a positive integer. Received: %s=%r (of type %s)."
                         % (name, name, value, type(value).__name__))
    return int(value)


class Embedding(Layer):
    """(batch, ...) indices in [0, input_dim) to (batch, ..., output_dim) vectors; float inputs are cast
    to int32 first, as Keras does.  Keras 1/2's input_length= sets the input shape of a first layer, and
    their init=, W_regularizer=, W_constraint= spellings are accepted.  mask_zero=True makes index 0 padding:
    the output's mask (mlcore/keras_masks.py) is False there, so RNNs skip those steps."""
    rowwise = True

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, weights=None, **kwargs):
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
        if weights is not None:
            self.build()
            self.set_weights(weights if isinstance(weights, list) and len(weights) == 1 else [weights])

    def build(self, input_shape=None):
        self.embeddings = self.add_weight((self.input_dim, self.output_dim), self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint, name="embeddings")
        self.built = True

    def call(self, inputs):
        if inputs.dtype not in ("int32", "int64"):
            inputs = ops.cast(inputs, "int32")
        outputs = ops.cast(self.embeddings[inputs], self.compute_dtype)
        self.add_activity_loss(outputs)
        return outputs

    def compute_mask(self, inputs, mask=None):
        return ops.not_equal(inputs, 0) if self.mask_zero else None

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
                "mask_zero": self.mask_zero, "quantization_config": None}

"""Keras's Loss classes: a loss function's per-sample values weighted (sample weights, masks) and
reduced to the scalar the optimizer minimises."""
from mlcore import config, dtype_policies, losses
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.reduce import prod, sum_
from mlcore.graph.ops.shape import dimshuffle, shape
from mlcore.losses.functions import (accepts_arrays, binary_crossentropy, binary_focal_crossentropy,
                                     categorical_crossentropy, categorical_focal_crossentropy,
                                     categorical_generalized_cross_entropy, categorical_hinge, cosine_similarity,
                                     dice, divide_no_nan, hinge, huber, kl_divergence, log_cosh,
                                     mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
                                     mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy,
                                     squared_hinge, squeeze_or_expand_to_same_rank, tversky)
from mlcore.keras_masks import get_keras_mask
from mlcore.utils.naming import to_snake_case


REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")


def apply_mask(sample_weight, mask, dtype, reduction):
    """Merge a boolean mask into the sample weights; for mean reductions masked entries
    leave the divisor too (valid entries get weight total / valid)."""
    if mask is None:
        return sample_weight
    if reduction in ("mean", "sum_over_batch_size"):
        total = ew.cast(prod(shape(mask)), dtype)
        valid = sum_(ew.cast(mask, dtype))
        float_mask = ew.switch(mask, divide_no_nan(total, valid), 0.0)
    else:
        float_mask = ew.cast(mask, dtype)
    if sample_weight is None:
        return float_mask
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, ew.cast(sample_weight, dtype))
    if sample_weight.ndim < float_mask.ndim:    # one weight per sequence, over its steps (Keras raises here)
        sample_weight = dimshuffle(sample_weight, *range(sample_weight.ndim), *["x"] * (float_mask.ndim - sample_weight.ndim))
    return sample_weight * float_mask


def loss_mask(y_pred, values):
    """The entries a loss leaves out: those of a masked output (padding steps) and those the loss
    function itself masked (ignore_class), both."""
    in_mask, out_mask = get_keras_mask(y_pred), values.tag.get("keras_mask")
    if in_mask is None or out_mask is None:
        return out_mask if in_mask is None else in_mask
    return ew.and_(in_mask, out_mask)


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size", dtype=None):
    """Weight per-sample (or per-element) losses and reduce them as Keras's Loss.__call__ does."""
    values = ew.cast(as_tensor_variable(values), dtype or config.floatx())
    sample_weight = None if sample_weight is None else ew.cast(as_tensor_variable(sample_weight), values.dtype)
    sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    if reduction in (None, "none") or values.ndim == 0:
        return values
    loss = sum_(values)
    if reduction == "sum":
        return loss
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return divide_no_nan(loss, sum_(sample_weight))
    return divide_no_nan(loss, ew.cast(prod(shape(values)), loss.dtype))


# --- Loss classes --------------------------------------------------------------------------------
class Loss:
    """A loss object: call(y_true, y_pred) gives per-sample losses, __call__ weights and reduces them."""

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in REDUCTIONS:
            raise ValueError("Invalid value for argument `reduction`. Expected one of %s. Received: "
                             "reduction=%r" % (REDUCTIONS, reduction))
        self.name = name or to_snake_case(type(self).__name__)
        self.reduction = reduction
        # floatx, not the global policy, by default: a mixed_float16 model's loss is computed in float32
        self._dtype_policy = dtype_policies.get(dtype or config.floatx())
        self._dtype = self._dtype_policy.compute_dtype

    @property
    def dtype(self):
        """The dtype the loss computes in (its policy's compute dtype); read-only, as in Keras."""
        return self._dtype

    @accepts_arrays
    def __call__(self, y_true, y_pred, sample_weight=None):
        """The weighted, reduced loss; masked entries (loss_mask) leave the mean."""
        losses = self.call(ew.cast(as_tensor_variable(y_true), self.dtype), ew.cast(y_pred, self.dtype))
        return reduce_weighted_values(losses, sample_weight, loss_mask(y_pred, losses), self.reduction, self.dtype)

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A Loss around a per-sample function fn(y_true, y_pred, **kwargs)."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name or fn.__name__, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = {**super().get_config(), **self._fn_kwargs}
        if type(self) is LossFunctionWrapper:
            config["fn"] = losses.serialize(self.fn)
        return config

    @classmethod
    def from_config(cls, config):
        if "fn" in config:
            config = {**config, "fn": losses.get(config["fn"])}
        return cls(**config)


def _wrapper_class(class_name, fn, default_name):
    """A LossFunctionWrapper subclass with Keras's constructor (reduction, name, dtype)."""
    def __init__(self, reduction="sum_over_batch_size", name=default_name, dtype=None):
        LossFunctionWrapper.__init__(self, fn, reduction, name, dtype)

    return type(class_name, (LossFunctionWrapper,), {"__init__": __init__, "__doc__": "Reduced %s." % fn.__name__})


MeanSquaredError = _wrapper_class("MeanSquaredError", mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _wrapper_class("MeanAbsoluteError", mean_absolute_error, "mean_absolute_error")
MeanAbsolutePercentageError = _wrapper_class("MeanAbsolutePercentageError", mean_absolute_percentage_error,
                                             "mean_absolute_percentage_error")
MeanSquaredLogarithmicError = _wrapper_class("MeanSquaredLogarithmicError", mean_squared_logarithmic_error,
                                             "mean_squared_logarithmic_error")
LogCosh = _wrapper_class("LogCosh", log_cosh, "log_cosh")
Hinge = _wrapper_class("Hinge", hinge, "hinge")
SquaredHinge = _wrapper_class("SquaredHinge", squared_hinge, "squared_hinge")
CategoricalHinge = _wrapper_class("CategoricalHinge", categorical_hinge, "categorical_hinge")
KLDivergence = _wrapper_class("KLDivergence", kl_divergence, "kl_divergence")
Poisson = _wrapper_class("Poisson", poisson, "poisson")


class CosineSimilarity(LossFunctionWrapper):
    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(cosine_similarity, reduction, name, dtype, axis=axis)
        self.axis = axis


class Huber(LossFunctionWrapper):
    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(huber, reduction, name, dtype, delta=delta)
        self.delta = delta


class BinaryCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, reduction, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class CategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, reduction, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size", axis=-1,
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction, name, dtype, from_logits=from_logits,
                         ignore_class=ignore_class, axis=axis)
        self.from_logits, self.ignore_class, self.axis = from_logits, ignore_class, axis



class BinaryFocalCrossentropy(LossFunctionWrapper):
    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                 axis=-1, reduction="sum_over_batch_size", name="binary_focal_crossentropy", dtype=None):
        super().__init__(binary_focal_crossentropy, reduction, name, dtype, apply_class_balancing=apply_class_balancing,
                         alpha=alpha, gamma=gamma, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.apply_class_balancing, self.alpha, self.gamma = apply_class_balancing, alpha, gamma
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy", dtype=None):
        super().__init__(categorical_focal_crossentropy, reduction, name, dtype, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.alpha, self.gamma = alpha, gamma
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class Dice(LossFunctionWrapper):
    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(dice, reduction, name, dtype, axis=axis)
        self.axis = axis


class Tversky(LossFunctionWrapper):
    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky", axis=None, dtype=None):
        super().__init__(tversky, reduction, name, dtype, alpha=alpha, beta=beta, axis=axis)
        self.alpha, self.beta, self.axis = alpha, beta, axis


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    def __init__(self, q=0.5, reduction="sum_over_batch_size", name="categorical_generalized_cross_entropy",
                 dtype=None):
        if not 0 < q < 1:
            raise ValueError("CategoricalGeneralizedCrossEntropy: q must be in the interval (0, 1). Received: q=%r"
                             % (q,))
        super().__init__(categorical_generalized_cross_entropy, reduction, name, dtype, q=q)
        self.q = q

# --- lookup --------------------------------------------------------------------------------------

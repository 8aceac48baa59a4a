"""Mean-style metrics, as Keras's: the (sample-weighted) mean or sum over every batch seen of some
per-sample values (Mean, Sum), of a function of the targets and predictions (MeanMetricWrapper and
the accuracy, error and crossentropy metrics), and RootMeanSquaredError.  Their state is a total and
a count, updated inside the compiled step (metrics/base.py)."""
from mlcore import config, losses
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.common import as_float_dtype, as_tensor_variable
from mlcore.graph.ops.reduce import argmax, max_, mean, sum_
from mlcore.graph.ops.shape import dimshuffle, shape
from mlcore.keras_masks import get_keras_mask
from mlcore.losses import (binary_crossentropy, categorical_crossentropy, categorical_hinge,  # noqa: F401
                           cosine_similarity as _cosine_loss, hinge, huber, kl_divergence, log_cosh,
                           mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
                           mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy, squared_hinge)
from mlcore.metrics.base import Metric


def reduce_to_samplewise_values(values, sample_weight, dtype, reduce_fn=mean):
    """Per-sample values and weights, as Keras's Mean and Sum reduce them: weights are broadcast to the
    values, and extra trailing dims are reduced away by reduce_fn (mean for Mean, sum for Sum)."""
    values = ew.cast(as_tensor_variable(values), dtype)
    mask = values.tag.get("keras_mask")
    if sample_weight is not None:
        sample_weight = losses.apply_mask(ew.cast(as_tensor_variable(sample_weight), dtype), mask, dtype, "sum")
        values, sample_weight = losses.squeeze_or_expand_to_same_rank(values, sample_weight)
        if values.ndim > sample_weight.ndim:
            values = reduce_fn(values, axis=list(range(sample_weight.ndim, values.ndim)))
        sample_weight = sample_weight * ew.ones_like(values)
        values = values * sample_weight
        if sample_weight.ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=list(range(1, sample_weight.ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=list(range(1, values.ndim)))
    return values, sample_weight


class Mean(Metric):
    """The (weighted) mean of the values given, over all batches."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), "zeros", name="total")
        self.count = self.add_variable((), "zeros", name="count")

    def update_state(self, values, sample_weight=None):
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight, self.dtype)
        if sample_weight is not None:
            count = sum_(sample_weight)
        else:
            count = ew.cast(shape(values)[0], self.dtype) if values.ndim else 1.0
        self.total.assign(self.total + sum_(values))
        self.count.assign(self.count + count)

    def result(self):
        return losses.divide_no_nan(self.total, self.count)


class Sum(Metric):
    """The (weighted) sum of the values given."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), "zeros", name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(values, sample_weight, self.dtype, reduce_fn=sum_)
        self.total.assign(self.total + sum_(values))

    def result(self):
        return self.total


class MeanMetricWrapper(Mean):
    """The mean of fn(y_true, y_pred, **kwargs): the per-sample values of any such function."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or "mean_metric_wrapper", dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        """The padding steps of a masked prediction (mlcore/keras_masks.py) leave the mean."""
        mask = get_keras_mask(y_pred)
        if mask is not None:
            sample_weight = losses.apply_mask(sample_weight, mask, self.dtype, "sum")
        super().update_state(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight)

    def get_config(self):
        config = {**super().get_config(), **self._fn_kwargs}
        if type(self) is MeanMetricWrapper:
            config["fn"] = losses.serialize(self._fn)
        return config

    @classmethod
    def from_config(cls, config):
        from mlcore.metrics import get
        if "fn" in config:
            config = {**config, "fn": get(config["fn"])}
        return cls(**config)


class RootMeanSquaredError(Mean):
    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = losses.squeeze_or_expand_to_same_rank(ew.cast(as_tensor_variable(y_true), self.dtype),
                                                               ew.cast(as_tensor_variable(y_pred), self.dtype))
        super().update_state(ew.sqr(y_pred - y_true), sample_weight)

    def result(self):
        return ew.sqrt(super().result())


# --- accuracy functions: per-sample 1.0 for a hit, 0.0 for a miss ----------------------------------
@losses.accepts_arrays
def accuracy(y_true, y_pred):
    y_true, y_pred = losses.squeeze_or_expand_to_same_rank(*losses.cast_to_pred_dtype(y_true, y_pred))
    return ew.cast(ew.eq(y_true, y_pred), config.floatx())


@losses.accepts_arrays
def binary_accuracy(y_true, y_pred, threshold=0.5):
    y_true, y_pred = losses.squeeze_or_expand_to_same_rank(as_tensor_variable(y_true), as_tensor_variable(y_pred))
    return ew.cast(ew.eq(y_true, ew.cast(ew.gt(y_pred, threshold), y_true.dtype)), config.floatx())


def _labels(y_true, y_pred):
    """Integer-valued labels with (n, 1) squeezed to (n,) when the scores are (n, k)."""
    y_true, y_pred = as_tensor_variable(y_true), as_tensor_variable(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.type.shape[-1] == 1:
        y_true = dimshuffle(y_true, list(range(y_true.ndim - 1)))
    return y_true, y_pred


@losses.accepts_arrays
def sparse_categorical_accuracy(y_true, y_pred):
    y_true, y_pred = _labels(y_true, y_pred)
    dtype = as_float_dtype(y_pred.dtype)
    return ew.cast(ew.eq(ew.cast(y_true, dtype), ew.cast(argmax(y_pred, axis=-1), dtype)), config.floatx())


@losses.accepts_arrays
def categorical_accuracy(y_true, y_pred):
    return sparse_categorical_accuracy(argmax(as_tensor_variable(y_true), axis=-1), y_pred)


def _in_top_k(labels, scores, k):
    """True where the label's score has fewer than k scores strictly above it (ties count as in)."""
    label_scores = sum_(losses.one_hot(labels, shape(scores)[-1], dtype=scores.dtype) * scores, axis=-1,
                        keepdims=True)
    return ew.lt(sum_(ew.cast(ew.gt(scores, label_scores), "int64"), axis=-1), k)


@losses.accepts_arrays
def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1 where the label is among the k best: of the scores, or (from_sorted_ids) of the class ids that
    y_pred lists best first, (n, N) with N >= k, as a model that ranks without scoring gives them."""
    y_true, y_pred = _labels(y_true, y_pred)
    if from_sorted_ids:
        listed = ew.eq(dimshuffle(ew.cast(y_true, y_pred.dtype), 0, "x"), y_pred[:, :k])
        return ew.cast(max_(listed, axis=-1), config.floatx())
    return ew.cast(_in_top_k(ew.cast(y_true, "int64"), y_pred, k), config.floatx())


@losses.accepts_arrays
def top_k_categorical_accuracy(y_true, y_pred, k=5):
    return sparse_top_k_categorical_accuracy(argmax(as_tensor_variable(y_true), axis=-1), y_pred, k)


@losses.accepts_arrays
def cosine_similarity(y_true, y_pred, axis=-1):
    return -_cosine_loss(y_true, y_pred, axis)


# --- metric classes ------------------------------------------------------------------------------
def _mean_metric(class_name, fn, default_name):
    """A MeanMetricWrapper subclass with Keras's constructor (name, dtype)."""
    def __init__(self, name=default_name, dtype=None):
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype)

    return type(class_name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": "Mean %s." % fn.__name__})


Accuracy = _mean_metric("Accuracy", accuracy, "accuracy")
CategoricalAccuracy = _mean_metric("CategoricalAccuracy", categorical_accuracy, "categorical_accuracy")
SparseCategoricalAccuracy = _mean_metric("SparseCategoricalAccuracy", sparse_categorical_accuracy,
                                         "sparse_categorical_accuracy")
MeanSquaredError = _mean_metric("MeanSquaredError", mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _mean_metric("MeanAbsoluteError", mean_absolute_error, "mean_absolute_error")
MeanAbsolutePercentageError = _mean_metric("MeanAbsolutePercentageError", mean_absolute_percentage_error,
                                           "mean_absolute_percentage_error")
MeanSquaredLogarithmicError = _mean_metric("MeanSquaredLogarithmicError", mean_squared_logarithmic_error,
                                           "mean_squared_logarithmic_error")
LogCoshError = _mean_metric("LogCoshError", log_cosh, "logcosh")
Hinge = _mean_metric("Hinge", hinge, "hinge")
SquaredHinge = _mean_metric("SquaredHinge", squared_hinge, "squared_hinge")
CategoricalHinge = _mean_metric("CategoricalHinge", categorical_hinge, "categorical_hinge")
KLDivergence = _mean_metric("KLDivergence", kl_divergence, "kl_divergence")
Poisson = _mean_metric("Poisson", poisson, "poisson")


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name, dtype, threshold=threshold)
        self.threshold = threshold


class TopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name, dtype, k=k)
        self.k = k


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False):
        sorted_ids = {"from_sorted_ids": True} if from_sorted_ids else {}     # in the config only when set, as Keras's
        super().__init__(sparse_top_k_categorical_accuracy, name, dtype, k=k, **sorted_ids)
        self.k, self.from_sorted_ids = k, from_sorted_ids


class CosineSimilarity(MeanMetricWrapper):
    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name, dtype, axis=axis)
        self.axis = axis


class BinaryCrossentropy(MeanMetricWrapper):
    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0):
        super().__init__(binary_crossentropy, name, dtype, from_logits=from_logits, label_smoothing=label_smoothing)
        self.from_logits, self.label_smoothing = from_logits, label_smoothing


class CategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False, label_smoothing=0, axis=-1):
        super().__init__(categorical_crossentropy, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False, ignore_class=None,
                 axis=-1):
        super().__init__(sparse_categorical_crossentropy, name, dtype, from_logits=from_logits,
                         ignore_class=ignore_class, axis=axis)
        self.from_logits, self.ignore_class, self.axis = from_logits, ignore_class, axis



"""Metrics, as keras.metrics, split in two halves:

- batch_statistics(y_true, y_pred, sample_weight=None) builds symbolic (total, count)
  scalars for one batch, computed inside the compiled train/test step;
- update_state_from_batch(total, count), result() and reset_state() accumulate them
  in Python across batches, so result() is the sample-weighted mean over the epoch,
  exactly what Keras's Mean-based metrics report.

update_state(y_true, y_pred, sample_weight=None) on numpy arrays compiles the
symbolic half (numpy backend) and feeds the Python half, for standalone use.
"""
import math

import numpy as np

from mlcore import config, losses
from mlcore.graph.basic import TensorType
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.common import as_float_dtype, as_tensor_variable
from mlcore.graph.ops.reduce import argmax, mean, sum_
from mlcore.graph.ops.shape import dimshuffle, shape
from mlcore.losses import (binary_crossentropy, categorical_crossentropy, categorical_hinge,  # noqa: F401
                           cosine_similarity as _cosine_loss, hinge, huber, kl_divergence, log_cosh,
                           mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
                           mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy, squared_hinge)


class Metric:
    """Base class: a name, a symbolic per-batch part and a Python accumulator of (total, count)."""

    def __init__(self, dtype=None, name=None):       # Keras 3's order
        self.name = name or losses.to_snake_case(type(self).__name__)
        self.dtype = dtype or config.floatx()
        self._compiled = {}
        self.reset_state()

    def batch_statistics(self, *args, sample_weight=None):
        """Symbolic (total, count) of one batch."""
        raise NotImplementedError

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state_from_batch(self, total, count):
        self.total += float(total)
        self.count += float(count)

    def result(self):
        return self.total / self.count if self.count else 0.0

    def _update_from_arrays(self, arrays, sample_weight):
        """Compile batch_statistics for these shapes and dtypes once, run it, accumulate."""
        arrays = [_as_input_array(a, self.dtype) for a in arrays]
        if sample_weight is not None:
            arrays.append(np.asarray(sample_weight, self.dtype))
        key = tuple((a.shape, a.dtype.str) for a in arrays) + (sample_weight is None,)
        if key not in self._compiled:
            from mlcore.function import function
            inputs = [TensorType(a.dtype, a.shape)() for a in arrays]
            weight = None if sample_weight is None else inputs[-1]
            stats = self.batch_statistics(*inputs[:len(inputs) - (weight is not None)], sample_weight=weight)
            self._compiled[key] = function(inputs, list(stats), backend="numpy", on_unused_input="ignore")
        self.update_state_from_batch(*self._compiled[key](*arrays))

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __getstate__(self):
        return {**self.__dict__, "_compiled": {}}

    def __repr__(self):
        return "<%s name=%s>" % (type(self).__name__, self.name)


def _as_input_array(value, float_dtype):
    value = np.asarray(value)
    return value.astype(float_dtype) if value.dtype.kind in "fb" else value


def reduce_to_samplewise_values(values, sample_weight, dtype):
    """Per-sample values and weights, as Keras's Mean reduces them: weights are broadcast to the
    values, and extra trailing dims are averaged away."""
    values = ew.cast(as_tensor_variable(values), dtype)
    mask = values.tag.get("keras_mask")
    if sample_weight is not None:
        sample_weight = losses.apply_mask(ew.cast(as_tensor_variable(sample_weight), dtype), mask, dtype, "sum")
        values, sample_weight = losses.squeeze_or_expand_to_same_rank(values, sample_weight)
        if values.ndim > sample_weight.ndim:
            values = mean(values, axis=list(range(sample_weight.ndim, values.ndim)))
        sample_weight = sample_weight * ew.ones_like(values)
        values = values * sample_weight
        if sample_weight.ndim > 1:
            sample_weight = mean(sample_weight, axis=list(range(1, sample_weight.ndim)))
    if values.ndim > 1:
        values = mean(values, axis=list(range(1, values.ndim)))
    return values, sample_weight


class Mean(Metric):
    """The (weighted) mean of the values given, over all batches."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def batch_statistics(self, values, sample_weight=None):
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight, self.dtype)
        if sample_weight is not None:
            count = sum_(sample_weight)
        else:
            count = ew.cast(shape(values)[0], self.dtype) if values.ndim else 1.0
        return sum_(values), ew.cast(as_tensor_variable(count), self.dtype)

    def update_state(self, values, sample_weight=None):
        self._update_from_arrays([values], sample_weight)


class Sum(Mean):
    """The (weighted) sum of the values given."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def result(self):
        return self.total


class MeanMetricWrapper(Mean):
    """The mean of fn(y_true, y_pred, **kwargs): the per-sample values of any such function."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None) or "mean_metric_wrapper", dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def batch_statistics(self, y_true, y_pred, sample_weight=None):
        return super().batch_statistics(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight)

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._update_from_arrays([y_true, y_pred], sample_weight)

    def get_config(self):
        config = {**super().get_config(), **self._fn_kwargs}
        if type(self) is MeanMetricWrapper:
            config["fn"] = losses.serialize(self._fn)
        return config

    @classmethod
    def from_config(cls, config):
        if "fn" in config:
            config = {**config, "fn": get(config["fn"])}
        return cls(**config)


class RootMeanSquaredError(Mean):
    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def batch_statistics(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = losses.squeeze_or_expand_to_same_rank(ew.cast(as_tensor_variable(y_true), self.dtype),
                                                               ew.cast(as_tensor_variable(y_pred), self.dtype))
        return super().batch_statistics(ew.sqr(y_pred - y_true), sample_weight)

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._update_from_arrays([y_true, y_pred], sample_weight)

    def result(self):
        return math.sqrt(super().result())


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
def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    y_true, y_pred = _labels(y_true, y_pred)
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
    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name, dtype, k=k)
        self.k = k


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


# --- lookup --------------------------------------------------------------------------------------
_CLASSES = (Metric, Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
            SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError,
            RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
            CosineSimilarity, LogCoshError, Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson,
            BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy)
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update({losses.to_snake_case(cls.__name__): cls for cls in _CLASSES})
for _alias, _cls in (("bce", BinaryCrossentropy), ("mse", MeanSquaredError), ("mae", MeanAbsoluteError),
                     ("mape", MeanAbsolutePercentageError), ("msle", MeanSquaredLogarithmicError)):
    ALL_OBJECTS_DICT[_alias] = ALL_OBJECTS_DICT[_alias.upper()] = _cls


def serialize(metric):
    if isinstance(metric, Metric):
        return {"module": "mlcore.metrics", "class_name": type(metric).__name__, "config": metric.get_config()}
    return losses.serialize(metric)


def deserialize(config, custom_objects=None):
    table = {**ALL_OBJECTS_DICT, **(custom_objects or {})}
    name, params = (config, {}) if isinstance(config, str) else (config["class_name"], config.get("config") or {})
    if name not in table:
        raise ValueError("Unknown metric: %r. Valid names are: %s" % (name, ", ".join(sorted(table))))
    return table[name].from_config(params)


def get(identifier, loss=None, y_true=None, y_pred=None):
    """A metric from a name, a dict, a class, an instance or a function (Keras's metrics.get).

    Given the compiled loss or the symbolic targets and outputs, it resolves as
    model.compile() does instead: the result is always a Metric, named by the string
    given ("acc" stays "acc", "mse" stays "mse") or after the object, and
    "accuracy"/"acc" become binary, sparse categorical or categorical accuracy.
    """
    if loss is None and y_true is None and y_pred is None:
        return losses.resolve_identifier(identifier, deserialize, "metric")
    if identifier is None:
        raise ValueError("Expected metric, received `None`")
    if str(identifier).lower() in ("accuracy", "acc"):
        metric = _accuracy_for(loss, y_true, y_pred)
    else:
        metric = get(identifier)
    name = identifier if isinstance(identifier, str) else getattr(metric, "name", None) or \
        losses.to_snake_case(getattr(metric, "__name__", type(metric).__name__))
    if not isinstance(metric, Metric):
        metric = MeanMetricWrapper(metric)
    metric.name = name
    return metric


def _accuracy_for(loss, y_true, y_pred):
    """Keras 3 reads the static shapes; where they are unknown, Keras 2's reading of the loss decides."""
    if y_true is not None and y_pred is not None and y_pred.type.shape[-1] is not None:
        is_binary, is_sparse = losses.is_binary_or_sparse_categorical(y_true, y_pred)
    else:
        name = getattr(loss, "name", None) or getattr(loss, "__name__", None) or str(loss)
        is_binary = "binary" in name.lower()
        is_sparse = "sparse" in name.lower()
    if is_binary:
        return BinaryAccuracy()
    return SparseCategoricalAccuracy() if is_sparse else CategoricalAccuracy()

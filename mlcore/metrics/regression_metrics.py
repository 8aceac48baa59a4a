"""Regression scores, as Keras's: R2Score (the coefficient of determination, from running sums) and
the correlations between targets and predictions, averaged over samples as Mean does."""
import numpy as np

from mlcore import config, losses
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.reduce import mean, std, sum_, var
from mlcore.graph.ops.shape import dimshuffle
from mlcore.metrics.base import Metric
from mlcore.metrics.f_score_metrics import check_2d_inputs
from mlcore.metrics.mean_metrics import MeanMetricWrapper

_CLASS_AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")


class R2Score(Metric):
    """1 - residual sum of squares / total sum of squares, per output column, then aggregated; with
    num_regressors p, adjusted by (n - 1) / (n - p - 1) for n values seen (when p < n - 1).

    n counts the entries of weight other than 0 (Keras counts every entry): the copies of rows that
    pad a short batch in a compiled step are weighted 0 and must not count."""

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if class_aggregation not in _CLASS_AGGREGATIONS:
            raise ValueError("Invalid value for argument `class_aggregation`. Expected one of %s. Received: "
                             "class_aggregation=%r" % (_CLASS_AGGREGATIONS, class_aggregation))
        if num_regressors < 0:
            raise ValueError("Invalid value for argument `num_regressors`. Expected a value >= 0. Received: "
                             "num_regressors=%r" % (num_regressors,))
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        self.num_samples = self.add_variable((), "zeros", name="num_samples")
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        check_2d_inputs(self, y_true_shape, y_pred_shape)
        num_classes = y_pred_shape[-1]
        for attribute, name in (("squared_sum", "squared_sum"), ("sum", "sum"), ("total_mse", "residual"),
                                ("count", "count")):
            setattr(self, attribute, self.add_variable((num_classes,), "zeros", name=name))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = losses.squeeze_or_expand_to_same_rank(ew.cast(as_tensor_variable(y_true), self.dtype),
                                                               ew.cast(as_tensor_variable(y_pred), self.dtype))
        if not self._built:
            self._build(y_true.type.shape, y_pred.type.shape)
        weight = 1.0 if sample_weight is None else ew.cast(as_tensor_variable(sample_weight), self.dtype)
        if getattr(weight, "ndim", 0) == 1:
            weight = dimshuffle(weight, 0, "x")
        weight = weight * ew.ones_like(y_true)
        weighted_y_true = y_true * weight
        self.sum.assign(self.sum + sum_(weighted_y_true, axis=0))
        self.squared_sum.assign(self.squared_sum + sum_(y_true * weighted_y_true, axis=0))
        self.total_mse.assign(self.total_mse + sum_(ew.sqr(y_true - y_pred) * weight, axis=0))
        self.count.assign(self.count + sum_(weight, axis=0))
        self.num_samples.assign(self.num_samples + sum_(ew.cast(ew.neq(weight, 0), self.dtype)))

    def result(self):
        total = self.squared_sum - self.sum * (self.sum / self.count)
        raw_scores = 1 - self.total_mse / total
        raw_scores = ew.switch(ew.eq(ew.abs_(raw_scores), np.inf), 0.0, raw_scores)
        if self.class_aggregation == "uniform_average":
            score = mean(raw_scores)
        elif self.class_aggregation == "variance_weighted_average":
            score = sum_(total * raw_scores) / sum_(total)
        else:
            score = raw_scores
        if not self.num_regressors:
            return score
        n, p = self.num_samples, self.num_regressors
        return ew.switch(ew.lt(p, n - 1), 1 - (1 - score) * (n - 1) / ew.maximum(n - p - 1, 1), score)

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


@losses.accepts_arrays
def pearson_correlation(y_true, y_pred, axis=-1):
    """The Pearson correlation coefficient of y_true and y_pred along axis."""
    y_true, y_pred = losses.squeeze_or_expand_to_same_rank(*losses.cast_to_pred_dtype(y_true, y_pred))
    y_true = y_true - mean(y_true, axis=axis, keepdims=True)
    y_pred = y_pred - mean(y_pred, axis=axis, keepdims=True)
    y_true = y_true / std(y_true, axis=axis, keepdims=True)
    y_pred = y_pred / std(y_pred, axis=axis, keepdims=True)
    return mean(y_true * y_pred, axis=axis)


@losses.accepts_arrays
def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation coefficient along axis, written as Keras 3 writes it (its
    covariance term centres y_true on the mean of y_pred)."""
    y_true, y_pred = losses.squeeze_or_expand_to_same_rank(*losses.cast_to_pred_dtype(y_true, y_pred))
    true_mean, pred_mean = mean(y_true, axis=axis, keepdims=True), mean(y_pred, axis=axis, keepdims=True)
    norm = var(y_true, axis=axis, keepdims=True) + var(y_pred, axis=axis, keepdims=True) + \
        ew.sqr(true_mean - pred_mean)
    covariance = (y_true - pred_mean) * (y_pred - pred_mean)
    return mean(2 * covariance / (norm + config.epsilon()), axis=axis)


class PearsonCorrelation(MeanMetricWrapper):
    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(pearson_correlation, name, dtype, axis=axis)
        self.axis = axis


class ConcordanceCorrelation(MeanMetricWrapper):
    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(concordance_correlation, name, dtype, axis=axis)
        self.axis = axis

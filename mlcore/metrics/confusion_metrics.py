"""Confusion-matrix metrics, as Keras's: TruePositives, FalsePositives, TrueNegatives,
FalseNegatives, Precision, Recall and AUC.  Their state is a (weighted) count, per threshold, of
some cells of the confusion matrix, a prediction above a threshold counting as positive."""
import numpy as np

from mlcore import config
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.common import as_tensor_variable, constant
from mlcore.graph.ops.reduce import mean, sum_
from mlcore.graph.ops.shape import arange, dimshuffle, flatten, shape
from mlcore.losses import divide_no_nan, squeeze_or_expand_to_same_rank
from mlcore.metrics.base import Metric

NEG_INF = -1e10


def parse_thresholds(thresholds, default):
    """Keras's reading: None gives the default; a number or a list, its values, each in [0, 1]."""
    if thresholds is None:
        return [default]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds]
    invalid = [t for t in values if t is None or not 0 <= t <= 1]
    if invalid:
        raise ValueError("Threshold values must be in [0, 1]. Received: %s" % invalid)
    return [float(t) for t in values]


def evenly_spaced(thresholds):
    """Whether the thresholds are 0, 1/(k-1), ..., 1 (k >= 3).  Keras then counts predictions by
    bucket, after clipping them to [0, 1]; mlcore clips them too, so that both give one number."""
    k = len(thresholds)
    return k >= 3 and np.allclose(thresholds, np.arange(k, dtype="float32") / (k - 1), atol=config.epsilon())


def _weight_like(sample_weight, y_pred):
    """Sample weights given per sample ((n,)) or per value, shaped to broadcast against y_pred."""
    weight = dimshuffle(sample_weight, list(range(sample_weight.ndim)) + ["x"])
    return squeeze_or_expand_to_same_rank(y_pred, weight, expand_rank_1=False)[1]


def _keep_top_k(scores, k):
    """The scores, with those outside the k largest of their row set to NEG_INF (ties go to the
    earlier index, as top_k picks them)."""
    last = scores.ndim - 1
    own = dimshuffle(scores, list(range(scores.ndim)) + ["x"])                 # (..., C, 1): x_j
    other = dimshuffle(scores, list(range(last)) + ["x", last])               # (..., 1, C): x_i
    index = arange(shape(scores)[-1])
    earlier = ew.lt(dimshuffle(index, ["x", 0]), dimshuffle(index, [0, "x"]))    # [j, i]: i < j
    ahead = ew.or_(ew.gt(other, own), ew.and_(ew.eq(other, own), earlier))
    inside = ew.cast(ew.lt(sum_(ew.cast(ahead, "int64"), axis=-1), k), scores.dtype)
    return scores * inside + NEG_INF * (1 - inside)


def _class_column(x, class_id):
    return x[(slice(None),) * (x.ndim - 1) + (slice(class_id, class_id + 1),)]


def confusion_counts(cells, y_true, y_pred, thresholds, sample_weight=None, top_k=None, class_id=None,
                     clip=False, multi_label=False, label_weights=None, dtype="float32"):
    """{cell: its weighted count per threshold} for each cell asked ("true_positives",
    "false_positives", "true_negatives", "false_negatives"): shape (thresholds,), or with
    multi_label (thresholds, labels), the last axis of y_pred being the labels."""
    y_true = ew.cast(as_tensor_variable(y_true), dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(ew.cast(as_tensor_variable(y_pred), dtype), y_true)
    weight = 1.0
    if sample_weight is not None:
        weight = _weight_like(ew.cast(as_tensor_variable(sample_weight), dtype), y_pred)
    if top_k is not None:
        y_pred = _keep_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError("When class_id is provided, y_pred must be a 2D array with shape (num_samples, "
                             "num_classes), found shape: %s" % (y_pred.type.shape,))
        y_true, y_pred = _class_column(y_true, class_id), _class_column(y_pred, class_id)
        if sample_weight is not None and weight.type.shape[-1] != 1:
            weight = _class_column(weight, class_id)
    if clip:
        y_pred = ew.clip(y_pred, 0.0, 1.0)
    weight = ew.ones_like(y_pred) * weight
    if label_weights is not None:
        weight = weight * constant(np.asarray(label_weights, dtype))
    positive = ew.cast(ew.neq(y_true, 0), dtype)
    if not multi_label:
        y_pred, positive, weight = flatten(y_pred), flatten(positive), flatten(weight)
    limits = constant(np.asarray(thresholds, dtype).reshape((-1,) + (1,) * y_pred.ndim))
    above = ew.cast(ew.gt(dimshuffle(y_pred, ["x"] + list(range(y_pred.ndim))), limits), dtype)
    true_weight, false_weight = weight * positive, weight * (1 - positive)
    factors = {"true_positives": (above, true_weight), "false_positives": (above, false_weight),
               "true_negatives": (1 - above, false_weight), "false_negatives": (1 - above, true_weight)}
    return {cell: sum_(factors[cell][0] * factors[cell][1], axis=1) for cell in cells}


class ConfusionMatrixMetric(Metric):
    """A count per threshold of the confusion-matrix cells in `cells`: (variable name, cell) pairs."""

    cells = ()

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(dtype=dtype, name=name)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        self.thresholds = parse_thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        self._thresholds_distributed_evenly = evenly_spaced(self.thresholds)
        for variable_name, _ in self.cells:
            setattr(self, variable_name, self.add_variable((len(self.thresholds),), "zeros", name=variable_name))

    def update_state(self, y_true, y_pred, sample_weight=None):
        counts = confusion_counts({cell for _, cell in self.cells}, y_true, y_pred, self.thresholds, sample_weight,
                                  self.top_k, self.class_id, clip=self._thresholds_distributed_evenly,
                                  dtype=self.dtype)
        for variable_name, cell in self.cells:
            variable = getattr(self, variable_name)
            variable.assign(variable + counts[cell])

    def per_threshold(self, value):
        """A scalar for a single threshold, else one value per threshold (Keras's result)."""
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class _CellCount(ConfusionMatrixMetric):
    """The count of one cell, kept in `accumulator` (Keras's _ConfusionMatrixConditionCount)."""

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds, name=name, dtype=dtype)

    def result(self):
        return self.per_threshold(self.accumulator)


class TruePositives(_CellCount):
    cells = (("accumulator", "true_positives"),)


class FalsePositives(_CellCount):
    cells = (("accumulator", "false_positives"),)


class TrueNegatives(_CellCount):
    cells = (("accumulator", "true_negatives"),)


class FalseNegatives(_CellCount):
    cells = (("accumulator", "false_negatives"),)


class _PositiveRate(ConfusionMatrixMetric):
    """true positives / (true positives + the other cell counted), with top_k and class_id."""

    def result(self):
        true_positives, other = (getattr(self, name) for name, _ in self.cells)
        return self.per_threshold(divide_no_nan(true_positives, true_positives + other))

    def get_config(self):
        return {**super().get_config(), "top_k": self.top_k, "class_id": self.class_id}


class Precision(_PositiveRate):
    """The fraction of the predicted positives that are positive."""
    cells = (("true_positives", "true_positives"), ("false_positives", "false_positives"))


class Recall(_PositiveRate):
    """The fraction of the positives predicted positive."""
    cells = (("true_positives", "true_positives"), ("false_negatives", "false_negatives"))


_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = ("interpolation", "majoring", "minoring")


class AUC(Metric):
    """The area under the ROC or precision-recall curve, as a Riemann sum over num_thresholds
    thresholds spread evenly over [0, 1] (or those given)."""

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        if str(curve).lower() not in _CURVES:
            raise ValueError('Invalid AUC curve value: "%s". Expected values are ["PR", "ROC", "PRGAIN"]' % curve)
        if str(summation_method).lower() not in _SUMMATIONS:
            raise ValueError('Invalid AUC summation method value: "%s". Expected values are ["interpolation", '
                             '"majoring", "minoring"]' % summation_method)
        super().__init__(name=name, dtype=dtype)
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(parse_thresholds(thresholds, None))
            self.num_thresholds = len(inner) + 2
        else:
            if num_thresholds <= 1:
                raise ValueError("Argument `num_thresholds` must be an integer > 1. Received: num_thresholds=%s"
                                 % num_thresholds)
            self.num_thresholds = num_thresholds
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self._thresholds_distributed_evenly = evenly_spaced([0.0] + inner + [1.0])
        # end points just outside [0, 1], so that rounding cannot put a prediction beyond them
        self._thresholds = np.array([0.0 - config.epsilon()] + inner + [1.0 + config.epsilon()])
        self.curve = _CURVES[str(curve).lower()]
        self.summation_method = summation_method.lower()
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else np.asarray(label_weights, self.dtype)
        self._from_logits = from_logits
        if num_labels and not multi_label:
            raise ValueError("`num_labels` is needed only when `multi_label` is True.")
        self._built = False
        if not multi_label or num_labels:
            self._build(num_labels if multi_label else None)

    @property
    def thresholds(self):
        return list(self._thresholds)

    def _build(self, num_labels):
        """The four counts, per threshold (and per label with multi_label)."""
        variable_shape = (self.num_thresholds,) + ((num_labels,) if self.multi_label else ())
        for cell in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            setattr(self, cell, self.add_variable(variable_shape, "zeros", name=cell))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = as_tensor_variable(y_pred)
        if not self._built:
            if y_pred.ndim != 2 or y_pred.type.shape[-1] is None:
                raise ValueError("`y_pred` must have rank 2 and a known number of labels when `multi_label=True`; "
                                 "got shape %s" % (y_pred.type.shape,))
            self._build(y_pred.type.shape[-1])
        if self._from_logits:
            y_pred = ew.sigmoid(y_pred)
        cells = ("true_positives", "false_positives", "true_negatives", "false_negatives")
        counts = confusion_counts(cells, y_true, y_pred, self._thresholds, sample_weight,
                                  clip=self._thresholds_distributed_evenly, multi_label=self.multi_label,
                                  label_weights=None if self.multi_label else self.label_weights, dtype=self.dtype)
        for cell in cells:
            variable = getattr(self, cell)
            variable.assign(variable + counts[cell])

    def result(self):
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._over_labels(_interpolated_pr_areas(tp, fp, fn))
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, divide_no_nan(tp, tp + fp)
        else:
            x, y = _precision_recall_gains(tp, fp, tn, fn)
        low, high = y[:-1], y[1:]
        heights = {"interpolation": (low + high) / 2, "minoring": ew.minimum(low, high),
                   "majoring": ew.maximum(low, high)}[self.summation_method]
        return self._over_labels((x[:-1] - x[1:]) * heights)

    def _over_labels(self, areas):
        """The sum of the areas between thresholds; with multi_label, the (weighted) mean over labels."""
        by_label = sum_(areas, axis=0)
        if not self.multi_label:
            return by_label
        if self.label_weights is None:
            return mean(by_label)
        weights = constant(self.label_weights)
        return divide_no_nan(sum_(by_label * weights), sum_(weights))

    def get_config(self):
        config_ = {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                   "summation_method": self.summation_method, "multi_label": self.multi_label,
                   "num_labels": self.num_labels,
                   "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
                   "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config_["thresholds"] = self.thresholds[1:-1]
        return config_


def _interpolated_pr_areas(tp, fp, fn):
    """The area under the precision-recall curve between consecutive thresholds, interpolated as
    Davis and Goadrich (2006): the true positives change linearly with the predicted positives p,
    so precision = slope + intercept / p, integrated over recall = tp / positives."""
    predicted = tp + fp
    d_tp = tp[:-1] - tp[1:]
    d_predicted = predicted[:-1] - predicted[1:]
    slope = divide_no_nan(d_tp, ew.maximum(d_predicted, 0))
    intercept = tp[1:] - slope * predicted[1:]
    both_positive = ew.and_(ew.gt(predicted[:-1], 0), ew.gt(predicted[1:], 0))
    ratio = ew.switch(both_positive, divide_no_nan(predicted[:-1], ew.maximum(predicted[1:], 0)),
                      ew.ones_like(predicted[1:]))
    return divide_no_nan(slope * (d_tp + intercept * ew.log(ratio)), ew.maximum(tp[1:] + fn[1:], 0))


def _precision_recall_gains(tp, fp, tn, fn):
    """(recall gain, precision gain) of Flach and Kull (2015), 0 and 1 where there is no true positive."""
    scale = divide_no_nan(tp + fn, tn + fp)
    no_true_positive = ew.eq(tp, 0)
    recall_gain = ew.switch(no_true_positive, 0.0, 1.0 - scale * divide_no_nan(fn, tp))
    precision_gain = ew.switch(no_true_positive, 1.0, 1.0 - scale * divide_no_nan(fp, tp))
    return ew.maximum(recall_gain, 0.0), precision_gain

"""One rate at a constraint on another, as Keras's SensitivityAtSpecificity, SpecificityAtSensitivity,
PrecisionAtRecall and RecallAtPrecision: the four confusion counts at num_thresholds thresholds
spread evenly over [0, 1] (confusion_metrics.py), and the best value of one rate among the
thresholds where the other reaches the value asked."""
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.reduce import max_
from mlcore.losses import divide_no_nan
from mlcore.metrics.base import Metric
from mlcore.metrics.confusion_metrics import ConfusionMatrixMetric

_CELLS = ("true_positives", "false_positives", "true_negatives", "false_negatives")


class SensitivitySpecificityBase(ConfusionMatrixMetric):
    """Subclasses name the rate constrained (also their constructor's first argument) and the rate
    maximised: "sensitivity" (= "recall"), "specificity" or "precision"."""

    cells = tuple((cell, cell) for cell in _CELLS)
    constrained = dependent = None

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        if not 0 <= value <= 1:
            raise ValueError("Argument `%s` must be in the range [0, 1]. Received: %s=%r"
                             % (self.constrained, self.constrained, value))
        if num_thresholds <= 0:
            raise ValueError("Argument `num_thresholds` must be an integer > 0. Received: num_thresholds=%r"
                             % (num_thresholds,))
        thresholds = [0.5] if num_thresholds == 1 else [i / (num_thresholds - 1) for i in range(num_thresholds)]
        super().__init__(thresholds, class_id=class_id, name=name, dtype=dtype)
        self.value, self.num_thresholds = value, num_thresholds
        setattr(self, self.constrained, value)

    def _rate(self, name):
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        if name == "specificity":
            return divide_no_nan(tn, tn + fp)
        return divide_no_nan(tp, tp + (fp if name == "precision" else fn))

    def result(self):
        feasible = ew.ge(self._rate(self.constrained), self.value)
        return max_(ew.switch(feasible, self._rate(self.dependent), 0.0))

    def get_config(self):
        return {**Metric.get_config(self), "class_id": self.class_id, "num_thresholds": self.num_thresholds,
                self.constrained: self.value}


class SensitivityAtSpecificity(SensitivitySpecificityBase):
    """The best sensitivity (recall) where the specificity is at least `specificity`."""

    constrained, dependent = "specificity", "sensitivity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)


class SpecificityAtSensitivity(SensitivitySpecificityBase):
    """The best specificity where the sensitivity (recall) is at least `sensitivity`."""

    constrained, dependent = "sensitivity", "specificity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)


class PrecisionAtRecall(SensitivitySpecificityBase):
    """The best precision where the recall is at least `recall`."""

    constrained, dependent = "recall", "precision"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)


class RecallAtPrecision(SensitivitySpecificityBase):
    """The best recall where the precision is at least `precision`."""

    constrained, dependent = "precision", "recall"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)

"""F-scores, as Keras's FBetaScore and F1Score: the (weighted) counts of true positives, false
positives and false negatives per class, or over all classes with average="micro", made on the
first update (when the number of classes is known) and combined in result()."""
from mlcore import config
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.reduce import max_, mean, sum_
from mlcore.graph.ops.shape import dimshuffle
from mlcore.metrics.base import Metric

_AVERAGES = (None, "micro", "macro", "weighted")


def check_2d_inputs(metric, y_true_shape, y_pred_shape):
    """Keras's check of the (batch_size, output_dim) inputs of F-scores and R2Score, in its words."""
    expects = "%s expects 2D inputs with shape (batch_size, output_dim)" % type(metric).__name__
    shapes = "Received input shapes: y_pred.shape=%s and y_true.shape=%s." % (tuple(y_pred_shape), tuple(y_true_shape))
    if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
        raise ValueError("%s. %s" % (expects, shapes))
    if y_pred_shape[-1] is None or y_true_shape[-1] is None:
        raise ValueError("%s, with output_dim fully defined (not None). %s" % (expects, shapes))


class FBetaScore(Metric):
    """(1 + beta^2) precision recall / (beta^2 precision + recall), per class or averaged; a score
    at or above `threshold` (by default: the row's largest, if not 0) predicts the class."""

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in _AVERAGES:
            raise ValueError("Invalid `average` argument value. Expected one of: {None, 'micro', 'macro', "
                             "'weighted'}. Received: average=%s" % (average,))
        if not isinstance(beta, float):
            raise ValueError("Invalid `beta` argument value. It should be a Python float. Received: beta=%s of type "
                             "'%s'" % (beta, type(beta)))
        if beta <= 0.0:
            raise ValueError("Invalid `beta` argument value. It should be > 0. Received: beta=%s" % (beta,))
        if threshold is not None and not isinstance(threshold, float):
            raise ValueError("Invalid `threshold` argument value. It should be a Python float. Received: threshold=%s "
                             "of type '%s'" % (threshold, type(threshold)))
        if threshold is not None and not 0.0 < threshold <= 1.0:
            raise ValueError("Invalid `threshold` argument value. It should verify 0 < threshold <= 1. Received: "
                             "threshold=%s" % (threshold,))
        self.average, self.beta, self.threshold = average, beta, threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        check_2d_inputs(self, y_true_shape, y_pred_shape)
        shape = () if self.average == "micro" else (y_pred_shape[-1],)
        for name in ("true_positives", "false_positives", "false_negatives", "intermediate_weights"):
            setattr(self, name, self.add_variable(shape, "zeros", name=name))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ew.cast(as_tensor_variable(y_true), self.dtype)
        y_pred = ew.cast(as_tensor_variable(y_pred), self.dtype)
        if not self._built:
            self._build(y_true.type.shape, y_pred.type.shape)
        if self.threshold is None:      # the row's top score, but a row of zeros predicts nothing
            predicted = ew.and_(ew.ge(y_pred, max_(y_pred, axis=-1, keepdims=True)), ew.gt(ew.abs_(y_pred), 1e-9))
        else:
            predicted = ew.gt(y_pred, self.threshold)
        predicted = ew.cast(predicted, self.dtype)
        if sample_weight is not None:
            sample_weight = ew.cast(as_tensor_variable(sample_weight), self.dtype)
            if sample_weight.ndim == 1:
                sample_weight = dimshuffle(sample_weight, 0, "x")

        def weighted_sum(values):
            return sum_(values if sample_weight is None else values * sample_weight, axis=self.axis)
        for name, values in (("true_positives", predicted * y_true), ("false_positives", predicted * (1 - y_true)),
                             ("false_negatives", (1 - predicted) * y_true), ("intermediate_weights", y_true)):
            variable = getattr(self, name)
            variable.assign(variable + weighted_sum(values))

    def result(self):
        eps = config.epsilon()
        precision = self.true_positives / (self.true_positives + self.false_positives + eps)
        recall = self.true_positives / (self.true_positives + self.false_negatives + eps)
        f_score = (1 + self.beta ** 2) * (precision * recall / (self.beta ** 2 * precision + recall + eps))
        if self.average == "weighted":
            weights = self.intermediate_weights / (sum_(self.intermediate_weights) + eps)
            return sum_(f_score * weights)
        return f_score if self.average is None else mean(f_score)

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """The harmonic mean of precision and recall: FBetaScore with beta = 1."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config_ = super().get_config()
        del config_["beta"]
        return config_

"""Metrics, as keras.metrics: state in variables that update_state(y_true, y_pred,
sample_weight=None) assigns and result() reads (base.py), updated inside the compiled train and
test steps and reset between epochs; the mean-style metrics (mean_metrics.py), the confusion-matrix
ones (confusion_metrics.py, sensitivity_specificity.py, iou_metrics.py), the F-scores
(f_score_metrics.py), R2Score and the correlations (regression_metrics.py), and lookup by name,
class or config (here)."""
from mlcore import losses
from mlcore.metrics.base import Metric, MetricVariable  # noqa: F401
from mlcore.metrics.confusion_metrics import (AUC, FalseNegatives, FalsePositives, Precision, Recall,  # noqa: F401
                                              TrueNegatives, TruePositives)
from mlcore.metrics.mean_metrics import (Accuracy, BinaryAccuracy, BinaryCrossentropy,  # noqa: F401
                                         CategoricalAccuracy, CategoricalCrossentropy, CategoricalHinge,
                                         CosineSimilarity, Hinge, KLDivergence, LogCoshError, Mean,
                                         MeanAbsoluteError, MeanAbsolutePercentageError, MeanMetricWrapper,
                                         MeanSquaredError, MeanSquaredLogarithmicError, Poisson,
                                         RootMeanSquaredError, SparseCategoricalAccuracy,
                                         SparseCategoricalCrossentropy, SparseTopKCategoricalAccuracy,
                                         SquaredHinge, Sum, TopKCategoricalAccuracy, accuracy, binary_accuracy,
                                         binary_crossentropy, categorical_accuracy, categorical_crossentropy,
                                         categorical_hinge, cosine_similarity, hinge, huber, kl_divergence,
                                         log_cosh, mean_absolute_error, mean_absolute_percentage_error,
                                         mean_squared_error, mean_squared_logarithmic_error, poisson,
                                         reduce_to_samplewise_values, sparse_categorical_accuracy,
                                         sparse_categorical_crossentropy, sparse_top_k_categorical_accuracy,
                                         squared_hinge, top_k_categorical_accuracy)
from mlcore.metrics.f_score_metrics import F1Score, FBetaScore  # noqa: F401
from mlcore.metrics.iou_metrics import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU  # noqa: F401
from mlcore.metrics.regression_metrics import (ConcordanceCorrelation, PearsonCorrelation, R2Score,  # noqa: F401
                                               concordance_correlation, pearson_correlation)
from mlcore.metrics.sensitivity_specificity import (PrecisionAtRecall, RecallAtPrecision,  # noqa: F401
                                                    SensitivityAtSpecificity, SpecificityAtSensitivity)
from mlcore.losses import binary_focal_crossentropy, categorical_focal_crossentropy  # noqa: F401,E402
from mlcore.saving.object_registration import keras_serialized, known_custom_objects
from mlcore.utils.naming import to_snake_case


# --- lookup --------------------------------------------------------------------------------------
_CLASSES = (Metric, Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
            SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError,
            RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
            CosineSimilarity, LogCoshError, Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson,
            BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, TruePositives,
            FalsePositives, TrueNegatives, FalseNegatives, Precision, Recall, AUC, PrecisionAtRecall,
            RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity, R2Score, PearsonCorrelation,
            ConcordanceCorrelation, F1Score, FBetaScore, IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU)
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update({to_snake_case(cls.__name__): cls for cls in _CLASSES})
for _alias, _cls in (("bce", BinaryCrossentropy), ("mse", MeanSquaredError), ("mae", MeanAbsoluteError),
                     ("mape", MeanAbsolutePercentageError), ("msle", MeanSquaredLogarithmicError)):
    ALL_OBJECTS_DICT[_alias] = ALL_OBJECTS_DICT[_alias.upper()] = _cls


def serialize(metric):
    if isinstance(metric, Metric):
        return keras_serialized(metric, metric.get_config(), "keras.metrics")
    return losses.serialize(metric)


def deserialize(config, custom_objects=None):
    if isinstance(config, dict) and config.get("class_name") == "function":
        return _metric_function(config["config"], custom_objects)
    table = {**ALL_OBJECTS_DICT, **known_custom_objects(custom_objects)}
    name, params = (config, {}) if isinstance(config, str) else (config["class_name"], config.get("config") or {})
    if name not in table:
        raise ValueError("Unknown metric: %r. Valid names are: %s" % (name, ", ".join(sorted(table))))
    return table[name].from_config(params)


def _metric_function(name, custom_objects):
    """A function saved by name (Keras's {"class_name": "function", "config": name}, a MeanMetricWrapper's
    fn): a registered or custom one, else one of these metric and loss functions."""
    found = known_custom_objects(custom_objects).get(name) or globals().get(name)
    if not callable(found) or isinstance(found, type):
        raise ValueError("Unknown metric function: %r. Pass it in custom_objects or register it with "
                         "register_keras_serializable" % (name,))
    return found


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
        to_snake_case(getattr(metric, "__name__", type(metric).__name__))
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

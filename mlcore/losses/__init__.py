"""Losses, as keras.losses: the per-sample functions (functions.py), the Loss classes that weight
and reduce them (classes.py), and the lookup by name that compile() and saved configs use."""
import inspect

from mlcore.losses.classes import (REDUCTIONS, BinaryCrossentropy, BinaryFocalCrossentropy,  # noqa: F401
                                   CategoricalCrossentropy, CategoricalFocalCrossentropy,
                                   CategoricalGeneralizedCrossEntropy, CategoricalHinge, CosineSimilarity, Dice,
                                   Hinge, Huber, KLDivergence, LogCosh, Loss, LossFunctionWrapper,
                                   MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
                                   MeanSquaredLogarithmicError, Poisson, SparseCategoricalCrossentropy,
                                   SquaredHinge, Tversky, apply_mask, reduce_weighted_values)
from mlcore.losses.functions import (accepts_arrays, binary_crossentropy, binary_focal_crossentropy,  # noqa: F401
                                     cast_to_pred_dtype, categorical_crossentropy, crossentropy,
                                     is_binary_or_sparse_categorical, categorical_focal_crossentropy,
                                     categorical_generalized_cross_entropy, categorical_hinge, cosine_similarity,
                                     dice, divide_no_nan, hinge, huber, kl_divergence, l2_normalize, log_cosh,
                                     mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
                                     mean_squared_logarithmic_error, one_hot, poisson,
                                     sparse_categorical_crossentropy, squared_hinge,
                                     squeeze_or_expand_to_same_rank, tversky)
from mlcore.losses.ctc import CTC, ctc  # noqa: F401
from mlcore.losses.circle import Circle, circle  # noqa: F401
from mlcore.saving.object_registration import keras_serialized, keras_serialized_function, known_custom_objects

mse, mae, mape, msle, kld, logcosh = (mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
                                      mean_squared_logarithmic_error, kl_divergence, log_cosh)  # Keras 2 names
ALL_OBJECTS_DICT = {obj.__name__: obj for obj in (
    binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy, kl_divergence, poisson,
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
    cosine_similarity, huber, log_cosh, hinge, squared_hinge, categorical_hinge, Loss, LossFunctionWrapper,
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
    CosineSimilarity, Huber, LogCosh, Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson,
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    binary_focal_crossentropy, categorical_focal_crossentropy, dice, tversky, BinaryFocalCrossentropy,
    CategoricalFocalCrossentropy, Dice, Tversky,
    categorical_generalized_cross_entropy, CategoricalGeneralizedCrossEntropy)}  # Keras saves the last by path
for _alias, _fn in (("bce", binary_crossentropy), ("kld", kld), ("mae", mae), ("mse", mse), ("mape", mape),
                    ("msle", msle)):
    ALL_OBJECTS_DICT[_alias] = ALL_OBJECTS_DICT[_alias.upper()] = _fn
ALL_OBJECTS_DICT.update({"kullback_leibler_divergence": kl_divergence, "logcosh": log_cosh,  # Keras 1/2
                         "cosine_proximity": cosine_similarity, "huber_loss": huber})
ALL_OBJECTS_DICT.update({"ctc": ctc, "CTC": CTC, "circle": circle, "Circle": Circle})
ALL_OBJECTS_DICT.update({"crossentropy": crossentropy, "ce": crossentropy})     # compile(loss="crossentropy")


def serialize(loss):
    """A Loss or a loss function as Keras's serialize_keras_object writes it (a name stays a name)."""
    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, Loss):
        return keras_serialized(loss, loss.get_config(), "keras.losses")
    return keras_serialized_function(loss)


def deserialize(name, custom_objects=None):
    """The inverse of serialize; also reads Keras's {"class_name": "function", "config": name}.
    (`name`, Keras's argument name, is a loss name or a serialized dict.)"""
    table = {**ALL_OBJECTS_DICT, **known_custom_objects(custom_objects)}
    key = name if isinstance(name, str) else name["config"] if name["class_name"] == "function" \
        else name["class_name"]
    if key not in table:
        raise ValueError("Unknown loss function: %r. Valid names are: %s" % (key, ", ".join(sorted(table))))
    obj = table[key]
    if not inspect.isclass(obj):
        return obj
    return obj.from_config(name.get("config") or {}) if isinstance(name, dict) else obj()


def get(identifier, y_true=None, y_pred=None):
    """A loss function or Loss from a name, a dict, a class, a callable or a Loss instance.

    A snake_case name gives the function, a CamelCase one an instance (as Keras).
    "crossentropy" / "ce" pick binary, sparse or categorical crossentropy from the
    static shapes of y_true and y_pred, as Keras's compile() does.
    """
    if isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce") and y_pred is not None:
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
        return binary_crossentropy if is_binary else (
            sparse_categorical_crossentropy if is_sparse else categorical_crossentropy)
    return resolve_identifier(identifier, deserialize, "loss")


def resolve_identifier(identifier, deserialize, kind):
    """Keras's get() rules for losses and metrics: a name or dict through `deserialize`, a class
    instantiated, any other callable as it is."""
    if identifier is None or isinstance(identifier, (str, dict)):
        return None if identifier is None else deserialize(identifier)
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError("Could not interpret %s identifier: %r" % (kind, identifier))



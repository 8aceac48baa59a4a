"""keras.distillation: knowledge distillation, a student model trained on a frozen teacher's outputs
(Distiller), through logits (LogitsDistillation) or intermediate features (FeatureDistillation)."""
from mlcore.distillation.distillation_loss import DistillationLoss
from mlcore.distillation.distiller import Distiller
from mlcore.distillation.feature_distillation import FeatureDistillation
from mlcore.distillation.logits_distillation import LogitsDistillation
from mlcore.saving.object_registration import keras_serialized, known_custom_objects

__all__ = ["DistillationLoss", "Distiller", "FeatureDistillation", "LogitsDistillation"]


def serialize(distillation_loss):
    """A distillation loss as Keras writes it: mlcore's under keras.distillation, a custom one by its
    registered name (serialization_lib's family for this module)."""
    return keras_serialized(distillation_loss, distillation_loss.get_config(), "keras.distillation")


def deserialize(config, custom_objects=None):
    table = {"FeatureDistillation": FeatureDistillation, "LogitsDistillation": LogitsDistillation,
             **known_custom_objects(custom_objects)}
    cls = table.get(config.get("registered_name"), table.get(config["class_name"]))
    if cls is None:
        raise ValueError("Unknown distillation loss %r: pass it in custom_objects or register it with "
                         "register_keras_serializable" % config["class_name"])
    return cls.from_config(config["config"])

"""Optimizers, as keras.optimizers, producing symbolic updates for the training step.

    optimizer = mlcore.optimizers.get("adam")        # or Adam(learning_rate=1e-3), SGD(lr=0.01, ...)
    optimizer.build(params)                           # creates the state (shared variables)
    updates = optimizer.get_updates(params, grads)    # [(shared, new value), ...] for mlcore.function
    optimizer.learning_rate = 1e-4                    # takes effect without recompiling
"""
from mlcore.optimizers import legacy  # noqa: F401
from mlcore.optimizers import schedules  # noqa: F401
from mlcore.optimizers.adadelta import Adadelta
from mlcore.optimizers.adafactor import Adafactor
from mlcore.optimizers.adagrad import Adagrad
from mlcore.optimizers.adam import Adam, AdamW
from mlcore.optimizers.adamax import Adamax
from mlcore.optimizers.base import Optimizer
from mlcore.optimizers.ftrl import Ftrl
from mlcore.optimizers.lamb import Lamb
from mlcore.optimizers.lion import Lion
from mlcore.optimizers.loss_scale_optimizer import LossScaleOptimizer
from mlcore.optimizers.multi_optimizer import MultiOptimizer, OptimizerMap
from mlcore.optimizers.muon import Muon
from mlcore.optimizers.nadam import Nadam
from mlcore.optimizers.rmsprop import RMSprop
from mlcore.optimizers.schedule_free_adamw import ScheduleFreeAdamW
from mlcore.optimizers.sgd import SGD
from mlcore.saving.object_registration import keras_serialized, known_custom_objects

ALL_OBJECTS_DICT = {cls.__name__.lower(): cls for cls in (
    Optimizer, SGD, Adam, AdamW, Adamax, Nadam, RMSprop, Adagrad, Adadelta, Ftrl, Lion, Lamb, Adafactor)}
ALL_OBJECTS_DICT.update({cls.__name__.lower(): cls for cls in (
    Muon, ScheduleFreeAdamW, LossScaleOptimizer, MultiOptimizer, OptimizerMap)})


def serialize(optimizer):
    return keras_serialized(optimizer, optimizer.get_config(), "keras.optimizers")


def deserialize(config, custom_objects=None):
    """An optimizer from serialize()'s dict; built-in class names are case-insensitive (as Keras)."""
    name = config["class_name"]
    custom_objects = known_custom_objects(custom_objects)
    if name in custom_objects:
        return custom_objects[name].from_config(config.get("config") or {})
    if name.lower() not in ALL_OBJECTS_DICT or name.lower() == "optimizer":
        valid = sorted(cls.__name__ for key, cls in ALL_OBJECTS_DICT.items() if key != "optimizer")
        raise ValueError("Could not interpret optimizer identifier: %r. Valid names are: %s"
                         % (name, ", ".join(valid)))
    return ALL_OBJECTS_DICT[name.lower()].from_config(config.get("config") or {}, custom_objects)


def get(identifier):
    """An optimizer from a name ("adam", "SGD", ...), a serialized dict or an instance."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    if isinstance(identifier, Optimizer):
        return identifier
    raise ValueError("Could not interpret optimizer identifier: %r" % (identifier,))

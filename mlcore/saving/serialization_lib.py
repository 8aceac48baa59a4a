"""keras.saving.serialize_keras_object / deserialize_keras_object (also in keras.utils): any mlcore
object as the dict Keras 3 writes for it, and back, so that configs pass between mlcore and Keras.

Each family keeps its own rules: layers and models go through the .keras config translation
(keras3_config), initializers, regularizers, constraints, losses, metrics, optimizers and
learning-rate schedules through their module's serialize/deserialize; this module only picks the
family and writes Keras's wrapping ({"module", "class_name", "config", "registered_name"})."""
import inspect
import warnings

import numpy as np

from mlcore import (activations, constraints, distillation, dtype_policies, initializers, losses, metrics, optimizers,
                    quantizers, regularizers)
from mlcore.layers.base import Layer
from mlcore.models.serialization import layer_from_config
from mlcore.optimizers import schedules
from mlcore.saving import lambdas
from mlcore.saving.keras3_config import keras_model_spec, mlcore_compile_arguments, mlcore_spec
from mlcore.saving.object_registration import keras_serialized, keras_serialized_function, known_custom_objects

PLAIN_TYPES = (str, int, float, bool)
# module (after "keras." or "mlcore.") -> the family that (de)serializes its objects
FAMILIES = {"initializers": (initializers.Initializer, initializers),
            "regularizers": (regularizers.Regularizer, regularizers),
            "constraints": (constraints.Constraint, constraints),
            "losses": (losses.Loss, losses),
            "metrics": (metrics.Metric, metrics),
            "optimizers": (optimizers.Optimizer, optimizers),
            "optimizers.schedules": (schedules.LearningRateSchedule, schedules),
            "quantizers": ((quantizers.Quantizer, quantizers.QuantizationConfig), quantizers),
            "dtype_policies": (dtype_policies.DTypePolicy, dtype_policies),
            "distillation": (distillation.DistillationLoss, distillation)}
LAYER_MODULES = ("keras", "keras.layers", "keras.models", "keras.src.models.functional")


def serialize_keras_object(obj):
    """obj as Keras's dict: plain values and containers as they are (their items serialized),
    numpy arrays as "__numpy__", slices, Ellipsis and bytes as Keras marks them, functions
    (activations, losses) by name."""
    if obj is None or isinstance(obj, PLAIN_TYPES):
        return obj
    if isinstance(obj, (list, tuple)):
        items = [serialize_keras_object(x) for x in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    if isinstance(obj, dict):
        return {key: serialize_keras_object(value) for key, value in obj.items()}
    if isinstance(obj, slice):          # a key of x[...] between a functional model's layers
        return {"class_name": "__slice__", "config": {"start": serialize_keras_object(obj.start),
                                                      "stop": serialize_keras_object(obj.stop),
                                                      "step": serialize_keras_object(obj.step)}}
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, (np.ndarray, np.generic)):
        if obj.ndim:
            return {"class_name": "__numpy__", "config": {"value": obj.tolist(), "dtype": obj.dtype.name}}
        return obj.item()
    if isinstance(obj, Layer):
        return keras_model_spec(obj)
    for base, family in FAMILIES.values():
        if isinstance(obj, base):
            return family.serialize(obj)
    if inspect.isfunction(obj) and obj.__name__ == "<lambda>":
        warnings.warn("The object being serialized includes a `lambda`. This is unsafe. In order to reload the "
                      "object, you will have to pass `safe_mode=False` to the loading function. Please avoid using "
                      "`lambda` in the future, and use named Python functions instead.", stacklevel=2)
        return {"class_name": "__lambda__", "config": {"value": list(lambdas.dump(obj))}}
    if inspect.isfunction(obj):
        return keras_serialized_function(obj)
    if callable(getattr(obj, "get_config", None)):      # any other object (a SeedGenerator, FlaxLayer's flax module)
        return keras_serialized(obj, obj.get_config(), getattr(type(obj), "keras_module", None))
    raise TypeError("serialize_keras_object: cannot serialize %r (of type %s): give a layer, model, "
                    "initializer, regularizer, constraint, loss, metric, optimizer, named function or plain "
                    "data" % (obj, type(obj).__name__))


def serialize_nested_objects(config):
    """A layer's config with the Keras objects in it (layers, initializers, regularizers...) serialized
    and everything else as it is: a custom layer's get_config() may hold them as they are, and Keras
    serializes them when it saves the layer."""
    if isinstance(config, dict):
        return {key: serialize_nested_objects(value) for key, value in config.items()}
    if isinstance(config, (list, tuple)):
        items = [serialize_nested_objects(x) for x in config]
        return tuple(items) if isinstance(config, tuple) else items
    if isinstance(config, Layer) or any(isinstance(config, base) for base, _ in FAMILIES.values()):
        return serialize_keras_object(config)
    return config


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """The object serialize_keras_object (mlcore's or Keras's) described; custom classes and
    functions are found in custom_objects, custom_object_scope or the registered objects."""
    from mlcore import config as settings
    safe_mode = settings.effective_safe_mode(safe_mode)
    if config is None or isinstance(config, PLAIN_TYPES):
        return config
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(x, custom_objects, safe_mode) for x in config]   # a tuple too, as Keras
    if not isinstance(config, dict):
        raise TypeError("deserialize_keras_object: cannot read %r (of type %s)" % (config, type(config).__name__))
    if "class_name" not in config or "config" not in config:
        return {key: deserialize_keras_object(value, custom_objects, safe_mode) for key, value in config.items()}
    class_name, module = config["class_name"], config.get("module") or ""
    if class_name == "__numpy__":
        return np.array(config["config"]["value"], dtype=config["config"]["dtype"])
    if class_name == "__slice__":
        return slice(*(deserialize_keras_object(config["config"][key]) for key in ("start", "stop", "step")))
    if class_name == "__ellipsis__":
        return Ellipsis
    if class_name == "__bytes__":
        return config["config"]["value"].encode("utf-8")
    if class_name == "__lambda__":
        if safe_mode:
            raise ValueError(lambdas.SAFE_MODE_REFUSAL)
        return lambdas.load(*config["config"]["value"])
    if class_name == "function":
        if not isinstance(config["config"], str):
            raise TypeError("Expected 'config' to be a non-null str for a function classname,\ninstead got %s\n"
                            "Full config: %s" % (type(config["config"]), config))
        return _function(config, custom_objects)
    if not isinstance(config["config"], dict):
        raise TypeError("Expected 'config' to be a dict for %s,\ninstead got %s\nFull config: %s"
                        % (class_name, type(config["config"]), config))
    if module.startswith("keras"):
        _check_builtin_registered_name(config, class_name, custom_objects)
    if module == "keras" and class_name in dtype_policies.POLICY_CLASSES:
        return dtype_policies.deserialize(config, custom_objects)
    if module == "keras.random" and class_name == "SeedGenerator":
        from mlcore.random import SeedGenerator
        return SeedGenerator.from_config(config["config"])
    family = module.split(".", 1)[-1] if module.startswith(("keras.", "mlcore.")) else None
    if family in FAMILIES:
        return FAMILIES[family][1].deserialize(config, custom_objects)
    custom = known_custom_objects(custom_objects)
    cls = custom.get(config.get("registered_name"), custom.get(class_name))
    if module in LAYER_MODULES or (inspect.isclass(cls) and issubclass(cls, Layer)):
        return _layer(config, custom_objects, safe_mode)
    if cls is None:
        raise ValueError("deserialize_keras_object: unknown object %r (module %r): pass it in custom_objects or "
                         "register it with register_keras_serializable" % (class_name, module))
    if not hasattr(cls, "from_config"):
        raise TypeError("Unable to reconstruct an instance of '%s' because the class is missing a `from_config()` "
                        "method. Full object config: %s" % (class_name, config))
    return cls.from_config(config["config"])


def _check_builtin_registered_name(config, name, custom_objects):
    """Keras's guard: a config naming a built-in class or function (module keras...) gives no other
    registered name, which would otherwise pick a custom object (or anything importable) instead."""
    registered = config.get("registered_name")
    if registered and registered not in (name, config["class_name"]) and \
            registered not in known_custom_objects(custom_objects):
        raise ValueError("`registered_name=%r` was provided in the config, but '%s' resolved to a Keras built-in "
                         "and does not use registered names. Remove the `registered_name` field from the config. "
                         "Full object config: %s" % (registered, name, config))


def _function(config, custom_objects):
    """A function saved by name: a custom one, else an activation or a loss of that name."""
    name = config["config"]
    found = known_custom_objects(custom_objects)
    found = found.get(config.get("registered_name"), found.get(name))
    if found is None:
        if (config.get("module") or "").startswith("keras"):
            _check_builtin_registered_name(config, name, custom_objects)
        found = activations.ALL_OBJECTS_DICT.get(name, losses.ALL_OBJECTS_DICT.get(name))
    if found is None or inspect.isclass(found):
        raise ValueError("deserialize_keras_object: could not locate function %r; pass it in custom_objects or "
                         "register it with register_keras_serializable" % (name,))
    return found


def _layer(config, custom_objects, safe_mode):
    """A layer or model, built for the input shape it was saved with, compiled as it was."""
    layer = layer_from_config(mlcore_spec(config, custom_objects, safe_mode), custom_objects, safe_mode)
    input_shape = (config.get("build_config") or {}).get("input_shape")
    if input_shape is not None and not layer.built:
        layer.build(tuple(input_shape))
        layer.built = True
    if config.get("compile_config"):
        layer.compile(**mlcore_compile_arguments(config["compile_config"], custom_objects))
    return layer

"""Keras 2's serialize_keras_object / deserialize_keras_object, which Keras 3 keeps as
keras.legacy.saving and keras.utils.legacy for Keras 2 configs (h5 model files, older libraries).

Keras 2's format is {"class_name", "config"}: the object's get_config() as it is, with the objects
in it serialized the same way and flagged "__passive_serialization__", and functions by name.  Unlike
keras.saving's format there is no "module": a reader finds classes by name, in module_objects,
custom_objects and the registered custom objects.  (Keras 2's shared-object ids, written only inside
its private saving scopes, are not supported.)"""
import inspect

from mlcore.saving.object_registration import (CustomObjectScope, get_registered_name, get_registered_object,
                                               known_custom_objects)

PASSIVE = "__passive_serialization__"


def serialize_keras_object(instance):
    """An object with get_config() as {"class_name", "config"}; a function or class as its
    registered name; None as None."""
    instance = inspect.unwrap(instance)
    if instance is None:
        return None
    if hasattr(instance, "get_config"):
        config = {key: _serialized_item(item) for key, item in instance.get_config().items()}
        return {"class_name": get_registered_name(type(instance)), "config": config}
    if hasattr(instance, "__name__"):
        return get_registered_name(instance)
    raise ValueError(f"Cannot serialize {instance!r} because it doesn't implement `get_config()`.")


def _serialized_item(item):
    """A config entry: strings and plain data as they are, objects serialized and flagged."""
    if isinstance(item, str):
        return item
    try:
        serialized = serialize_keras_object(item)
    except ValueError:          # plain data: numbers, tuples, dicts
        return item
    if isinstance(serialized, dict) and not isinstance(item, dict):
        serialized[PASSIVE] = True
    return serialized


def deserialize_keras_object(identifier, module_objects=None, custom_objects=None, printable_module_name="object"):
    """The object a Keras 2 config describes: a {"class_name", "config"} dict is built with the class's
    from_config (or the class itself, given the config as arguments); a name is looked up and a class
    of that name instantiated without arguments; a function is returned as it is.
    printable_module_name names the kind of object in errors ("layer", "loss"...)."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return _from_config(identifier, module_objects, custom_objects, printable_module_name)
    if isinstance(identifier, str):
        obj = _lookup(identifier, module_objects, custom_objects, printable_module_name)
        return obj() if inspect.isclass(obj) else obj
    if inspect.isfunction(identifier):
        return identifier
    raise ValueError(f"Could not interpret serialized {printable_module_name}: {identifier}")


def _lookup(name, module_objects, custom_objects, printable_module_name):
    found = get_registered_object(name, custom_objects, module_objects)
    if found is None:
        raise ValueError(f"Unknown {printable_module_name}: '{name}'. Please ensure you are using a "
                         "`keras.utils.custom_object_scope` and that this object is included in the scope, "
                         "or pass it in module_objects or custom_objects.")
    return found


def _from_config(config, module_objects, custom_objects, printable_module_name):
    if "class_name" not in config or "config" not in config:
        raise ValueError(f"Improper config format for {config}. "
                         "Expecting python dict contains `class_name` and `config` as keys")
    cls = _lookup(config["class_name"], module_objects, custom_objects, printable_module_name)
    arguments = config["config"]
    if isinstance(arguments, dict):     # a list is a Keras 2.0 Sequential's layers: kept as it is
        arguments = {key: _deserialized_item(key, item, module_objects, custom_objects)
                     for key, item in arguments.items()}
    if not hasattr(cls, "from_config"):
        with CustomObjectScope(custom_objects):
            return cls(**arguments)
    if "custom_objects" in inspect.getfullargspec(cls.from_config).args:
        return cls.from_config(arguments, custom_objects=known_custom_objects(custom_objects))
    with CustomObjectScope(custom_objects):
        return cls.from_config(arguments)


def _deserialized_item(key, item, module_objects, custom_objects):
    """A config entry: flagged objects rebuilt, a string naming a known function turned into it (never
    the "name" entry, which may equal a function's name by chance)."""
    if key == "name":
        return item
    if isinstance(item, dict) and PASSIVE in item:
        return deserialize_keras_object(item, module_objects, custom_objects, "config_item")
    if isinstance(item, str):
        found = get_registered_object(item, custom_objects, module_objects)
        if inspect.isfunction(found):
            return found
    return item

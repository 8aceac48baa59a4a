"""serialize / deserialize / get for one family of Keras objects (initializers,
regularizers, constraints): the same rules for each, as Keras applies them."""
import inspect

from mlcore.saving.object_registration import keras_serialized, known_custom_objects


class ObjectRegistry:
    def __init__(self, kind, module, base, table):
        self.kind = kind            # "initializer", ... (for messages)
        self.module = module        # Keras's public module of the family: "keras.initializers"...
        self.base = base
        self.table = table

    def serialize(self, obj):
        if obj is None:
            return None
        if not isinstance(obj, self.base):
            raise ValueError("Cannot serialize %r: not a %s" % (obj, self.base.__name__))
        return keras_serialized(obj, obj.get_config(), self.module)

    def deserialize(self, config, custom_objects=None):
        """An object from serialize()'s dict (Keras's, or mlcore's older one without registered_name);
        a custom class is found by its registered name or class name."""
        table = {**self.table, **known_custom_objects(custom_objects)}
        name = config.get("registered_name") if config.get("registered_name") in table else config["class_name"]
        if name not in table:
            raise ValueError("Unknown %s: %r. Valid names are: %s" % (self.kind, name, ", ".join(sorted(table))))
        return table[name].from_config(config.get("config") or {})

    def get(self, identifier):
        """From None, a serialized dict, a name, a class or a callable."""
        if identifier is None:
            return None
        if isinstance(identifier, dict):
            return self.deserialize(identifier)
        if isinstance(identifier, str):
            return self.deserialize({"class_name": identifier, "config": {}})
        if inspect.isclass(identifier):
            return identifier()
        if callable(identifier):
            return identifier
        raise ValueError("Could not interpret %s identifier: %r" % (self.kind, identifier))

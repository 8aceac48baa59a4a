"""Keras's registry of custom objects: register_keras_serializable puts a class or function under
"package>name" for every loader (layers, losses, metrics, optimizers in h5, .keras and JSON
configs), custom_object_scope lends some for a `with` block, and custom_objects= passed to one
load call wins over both."""
import inspect

_REGISTERED = {}            # "package>name" (or a plain name put there with get_custom_objects()) -> object
_NAMES = {}                 # object -> "package>name"
_SCOPES = []


def register_keras_serializable(package="Custom", name=None):
    """Decorator: the class or function, findable by loaders as "package>name" (and as name)."""
    def register(obj):
        registered = "%s>%s" % (package, name or obj.__name__)
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        # a name registered again now names the new object, as in Keras (a class redefined in a notebook)
        _REGISTERED[registered], _NAMES[obj] = obj, registered
        return obj
    return register


def get_custom_objects():
    """The global registry itself; entries added to it are found by every loader, as in Keras."""
    return _REGISTERED


def get_registered_name(obj):
    return _NAMES.get(obj, obj.__name__)


def keras_serialized(obj, config, keras_module):
    """obj as Keras's serialize_keras_object writes it: mlcore's own classes under Keras's public module
    (keras_module: "keras.initializers"...), a custom class under its Python module and registered name."""
    cls = obj if inspect.isclass(obj) else type(obj)
    if cls.__module__.startswith("mlcore."):
        return {"module": keras_module, "class_name": cls.__name__, "config": config, "registered_name": None}
    module = None if cls.__module__ == "__main__" else cls.__module__
    return {"module": module, "class_name": cls.__name__, "config": config,
            "registered_name": get_registered_name(cls)}


def keras_serialized_function(fn):
    """A named function as Keras writes one, built-in or custom alike: by its registered name."""
    return {"module": "builtins", "class_name": "function", "config": get_registered_name(fn),
            "registered_name": "function"}


def get_registered_object(name, custom_objects=None, module_objects=None):
    return known_custom_objects(custom_objects).get(name, (module_objects or {}).get(name))


class CustomObjectScope:
    """`with custom_object_scope({"MyLayer": MyLayer}):` loads inside may name these objects."""

    def __init__(self, custom_objects):
        self.custom_objects = dict(custom_objects or {})

    def __enter__(self):
        _SCOPES.append(self.custom_objects)
        return self

    def __exit__(self, *exc_info):
        _SCOPES.remove(self.custom_objects)


custom_object_scope = CustomObjectScope


def known_custom_objects(custom_objects=None):
    """Every custom object a name in a saved config may refer to: the registered ones (by
    "package>name" and by plain name), those of enclosing scopes, then custom_objects."""
    found = {}
    for registered, obj in _REGISTERED.items():
        found[registered] = obj
        found.setdefault(registered.split(">")[-1], obj)
    for scope in _SCOPES:
        found.update(scope)
    found.update(custom_objects or {})
    return found

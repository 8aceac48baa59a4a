"""Where Keras 3's native layout (``*.weights.h5`` files, the weights of ``.keras`` archives) keeps each layer.

Keras's saving_lib walks the model as a tree of objects.  An object's own variables go to ``<path>/vars`` (the
model's to the root ``vars``); then it visits the attributes that hold layers, sorted by name with private ones
(``_x``) last, each at ``<path>/<attribute>``.  A list, tuple or dict there is a group whose layers are keyed
by snake_case class name, made unique within it (``dense``, ``dense_1``), and whose nested lists are
``container``, ``container_1``.  A Sequential or functional model's layers come first, under ``layers``; a
subclassed model's ``layers`` property is one attribute among the others.  Each object is stored once, at the
first path met (a layer an attribute holds is not stored again under ``layers``).

mlcore's own layers say where Keras keeps the layers they hold (``sublayer_attributes``: an RNN's ``cell``,
MultiHeadAttention's ``query_dense``...).  A user's class is walked by its attributes, as Keras walks it,
leaving out those a bare mlcore Layer has, as Keras leaves out those a bare Keras Layer has.

mlcore wrote a user's layer flat before it followed that walk: the weights of the layers it holds in its own
vars group, a subclassed model's layers under ``layers``.  ``keras_walk=False`` gives those paths, so that such
files still load (weights.py).
"""
import functools
import re

from mlcore.utils.naming import to_snake_case

# Where mlcore's models keep their layers besides `layers` (Keras's Layer keeps them in _layers, which its
# walk skips, and its Functional in _operations, its Sequential in _functional).
_MODEL_INTERNALS = frozenset({"_layers", "_operations", "_input_layer", "_stack", "_functional"})


def native_layer_paths(model, objects_to_skip=(), keras_walk=True):
    """Yields (h5 group path, layer, stores_nothing) for the model (path "") and every layer it holds, in
    Keras's order; stores_nothing: its vars group stays empty (mlcore's own holders, a model or an RNN, keep
    their weights in the layers they hold).  The objects_to_skip and the layers they hold are left out:
    Keras counts them as already visited, so their keys still count."""
    visited = {id(obj) for obj in objects_to_skip}
    yield from _object_paths(model, "", visited, keras_walk)


def keeps_sublayers_apart(layer):
    """Whether the layers this one holds have vars groups of their own (so its group keeps only its own
    weights): always for a user's class, as Keras; for mlcore's layers, those that say where they are."""
    return is_users_class(layer) or bool(_structure(layer))


def is_users_class(layer):
    """A layer of a class defined outside mlcore (a custom layer, a subclassed model): Keras walks its
    attributes.  (An object that only stands in for a layer is taken as one of mlcore's.)"""
    from mlcore.layers.base import Layer
    return isinstance(layer, Layer) and bool(_users_classes(type(layer)))


def _users_classes(cls):
    """The classes of cls's MRO that come before mlcore's own (the user's subclasses)."""
    found = []
    for base in cls.__mro__:
        if base.__module__.split(".")[0] == "mlcore":
            return found
        found.append(base)
    return found


def _object_paths(layer, path, visited, keras_walk):
    """The layer's path, then those of what it holds: Keras's _save_state, which stores each object once."""
    if id(layer) in visited:
        return
    visited.add(id(layer))
    walked = keras_walk and is_users_class(layer)
    children = _attribute_walk(layer) if walked else _structure(layer)
    yield path, layer, not walked and bool(_structure(layer)) and not _saves_own_state(layer)
    for attribute, value in children:
        yield from _held_paths(value, child_path(path, attribute), visited, keras_walk, set())


def _held_paths(value, path, visited, keras_walk, containers):
    """A held value's paths: a layer's own, or a container's, each layer in it keyed by its class name."""
    if not isinstance(value, (list, tuple, dict)):
        yield from _object_paths(value, path, visited, keras_walk)
        return
    if id(value) in containers:
        return
    containers.add(id(value))
    used = {}
    for item in value.values() if isinstance(value, dict) else value:
        if isinstance(item, (list, tuple, dict)):
            key = _unique("container", used)
        elif _is_layer(item):
            key = _unique(_snake_case(_native_class_name(item)), used)
        else:
            continue
        yield from _held_paths(item, child_path(path, key), visited, keras_walk, containers)


def _structure(layer):
    """[(attribute, value)] of the layers one of mlcore's own layers holds: a model's layers (under
    ``layers``), and those its ``sublayer_attributes`` name (an RNN's cell, a wrapper's layers) that it has
    (an attention layer makes its sublayers when built; Keras passes over those not there yet)."""
    held = [("layers", layer.layers)] if getattr(layer, "layers", None) is not None else []
    named = [(name, getattr(layer, name, None)) for name in getattr(layer, "sublayer_attributes", ())]
    return held + [(name, value) for name, value in named if value is not None]


def _attribute_walk(layer):
    """[(attribute, value)] as Keras's _walk_saveable gives them for a user's class: a Sequential or
    functional model's layers first, then the attributes sorted, private ones last, those of a bare Layer
    left out.  Only layers and containers matter: nothing else has variables in a weights file."""
    graph_model = hasattr(layer, "layers") and not getattr(layer, "_subclassed", True)
    names = {name for name in vars(layer) if name not in _framework_attributes()}
    names.update(name for cls in _users_classes(type(layer)) for name in vars(cls)
                 if not name.startswith("__") and name not in _framework_attributes())
    names.update(getattr(layer, "sublayer_attributes", ()))
    if hasattr(layer, "layers"):
        names.add("layers")
    walk = [("layers", layer.layers)] if graph_model else []
    for name in sorted(names, key=_private_last):
        try:
            value = getattr(layer, name)
        except Exception:   # a property that cannot be read now: Keras passes over it too
            continue
        if _is_layer(value) or isinstance(value, (list, tuple, dict)):
            walk.append((name, value))
    return walk


@functools.lru_cache(maxsize=None)
def _framework_attributes():
    """The attributes Keras's walk leaves out (saving_lib.get_attr_skipset: what a bare Layer has), in
    mlcore's terms: those of a bare mlcore Layer, and where mlcore's models keep their layers."""
    from mlcore.layers.base import Layer
    return frozenset(dir(Layer(name="keras_walk_reference"))) | _MODEL_INTERNALS


def _private_last(name):
    """Keras's sort key: private attributes are visited last."""
    return "~" + name if name.startswith("_") else name


def _is_layer(value):
    """A layer, or an object standing in for one (it has weights); Keras stores only such objects."""
    return hasattr(value, "weights")


def _unique(key, used):
    """Keras's _get_unique_name: key, then key_1, key_2... within one container."""
    count = used.get(key, -1) + 1
    used[key] = count
    return f"{key}_{count}" if count else key


def child_path(path, key):
    """The path of key inside the object at path (the root's path is "")."""
    return f"{path}/{key}" if path else key


def vars_path(path):
    """The h5 group of the variables of the object at path (the root's is ``vars``)."""
    return child_path(path, "vars")


def _saves_own_state(layer):
    """Whether the layer's class stores state of its own (SpectralNormalization's kernel and vector_u), which
    Keras keeps in its vars group beside the groups of the layers it holds."""
    from mlcore.layers.layer_state import LayerState
    return getattr(type(layer), "save_own_variables", LayerState.save_own_variables) is not \
        LayerState.save_own_variables


def _native_class_name(layer):
    """Keras builds functional models as class Functional; mlcore's functional model may be called Model."""
    name = type(layer).__name__
    return "Functional" if name == "Model" and hasattr(layer, "layers") else name


def _snake_case(name):
    return to_snake_case(re.sub(r"\W+", "", name))

"""What Keras keeps track of for a layer without being told: the layers held in its attributes
(so that a custom layer's or a subclassed model's weights, losses and layers include theirs),
and the training flag of the call being traced (so that a Dropout called inside a custom call()
follows fit's training=True without it being passed down)."""
from contextlib import contextmanager

_training_flags = []


def held_layers(owner, layer_class):
    """The layers (or other objects of layer_class: SeedGenerators) owner's attributes hold, directly
    or in lists, tuples and dicts, nested too, in the order the attributes were first set (Keras's
    order of sublayers)."""
    found, seen = [], {id(owner)}
    for value in vars(owner).values():
        for item in _contents(value):
            if isinstance(item, layer_class) and id(item) not in seen:
                seen.add(id(item))
                found.append(item)
    return found


def _contents(value):
    """value, or what a list, tuple or dict holds, depth first (a list of lists of layers too)."""
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, (list, tuple)):
        yield value
        return
    for item in value:
        yield from _contents(item)


def inherited_training(explicit):
    """The training flag a call runs with: its own if given, else the enclosing call's."""
    if explicit is not None:
        return explicit
    return _training_flags[-1] if _training_flags else None


@contextmanager
def training_scope(training):
    """Calls made inside inherit this training flag (None: the layers' own defaults)."""
    _training_flags.append(training)
    try:
        yield
    finally:
        _training_flags.pop()


def tracing():
    """Whether a layer's call is being traced into a graph (every traced call runs inside a
    training_scope): keras.random's draws there are graph variables, even from a shape alone."""
    return bool(_training_flags)

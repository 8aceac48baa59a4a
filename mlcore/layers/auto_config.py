"""Keras 3's automatic config of a custom layer.

A user's layer that writes no get_config() is saved by Keras with the arguments it was made with, where
they are all plain values (str, int, float, bool, None, and lists, tuples and dicts of them), so that
from_config(get_config()) makes it again.  Layer.__new__ records them (made_with); Layer.get_config adds
them (with_arguments).  mlcore's own layers write their configs and record nothing.
"""
import inspect

from mlcore.layers.structure import flatten

PLAIN_TYPES = (str, int, float, bool, type(None))


def made_with(cls, args, kwargs):
    """The arguments the layer class was called with, by name (only those given, as Keras records them),
    or None where one is not a plain value or the class is mlcore's own."""
    if cls.__module__.split(".")[0] == "mlcore":
        return None
    names = inspect.getfullargspec(cls.__init__).args[1:]
    if len(args) > len(names):
        return None
    arguments = {**dict(zip(names, args)), **kwargs}
    if not all(isinstance(value, PLAIN_TYPES) for value in flatten(list(arguments.values()))):
        return None
    return arguments


def with_arguments(layer, config):
    """config with the layer's recorded arguments; `name` is dropped, as Keras drops it, where __init__
    takes neither `name` nor **kwargs."""
    arguments = getattr(layer, "_auto_config", None)
    if arguments is None:
        return config
    spec = inspect.getfullargspec(type(layer).__init__)
    config = {**config, **arguments}
    if spec.varkw != "kwargs" and "name" not in spec.args[1:] + spec.kwonlyargs:
        config.pop("name", None)
    return config

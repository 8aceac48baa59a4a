"""Keras 3 layer arguments that mlcore's layers lack: a config that names one loads only where it has the
value that leaves the option off, so that no saved behaviour is silently dropped."""
import inspect

# Keras 3 layer arguments that some or all mlcore layers lack, with the value that leaves each one off. A layer
# class that takes one gets it as saved.
KERAS_ONLY_ARGUMENTS = {"autocast": True, "activity_regularizer": None, "quantization_config": None,
                        "ragged": False}


def without_keras_only_arguments(cls, config):
    """config less the Keras arguments cls does not take, each of which must be at its off value."""
    lacking = {k: v for k, v in config.items() if k in KERAS_ONLY_ARGUMENTS and not _takes(cls, k)}
    on = {k: v for k, v in lacking.items() if v != KERAS_ONLY_ARGUMENTS[k]}
    if on:
        raise ValueError("Layer %r (%s) uses Keras options mlcore does not implement: %s"
                         % (config.get("name"), cls.__name__, on))
    return {k: v for k, v in config.items() if k not in lacking}


def _takes(cls, argument):
    """Whether some __init__ along the class's MRO names the argument."""
    return any(argument in inspect.signature(klass.__init__).parameters
               for klass in cls.__mro__ if "__init__" in vars(klass))

"""Every named parameter of Keras 3.15's public callables is accepted by mlcore's callable of the same name,
with the same default: by name, or through a **kwargs that hands it to a callable that names it (FORWARDED).
The differences that stay are listed, each with its reason."""
import importlib
import inspect

import pytest

import mlcore

MODULES = ["", "layers", "models", "ops", "ops.nn", "ops.numpy", "ops.image", "ops.linalg", "ops.core",
           "ops.math", "activations", "losses", "metrics", "optimizers", "optimizers.schedules", "callbacks",
           "initializers", "regularizers", "constraints", "utils", "backend", "random", "applications", "saving",
           "preprocessing", "preprocessing.image", "preprocessing.sequence", "datasets", "mixed_precision",
           "dtype_policies", "tree", "config", "distribution", "export", "quantizers", "wrappers",
           "visualization", "legacy.saving"]

# mlcore callables whose **kwargs carry Keras's named parameters to another callable, which must name them
FORWARDED = {
    "Variable": lambda: mlcore.keras_variable.keras_variable,   # Theano's graph Variable and Keras's variable
    "layers.Convolution2D": lambda: mlcore.layers.Conv2D,       # also Keras 1's Convolution2D(nb_filter, ...)
    **{"optimizers." + name: lambda: mlcore.optimizers.Optimizer.__init__     # the common arguments
       for name in ("Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "Ftrl", "Lamb", "Lion",
                    "Nadam", "RMSprop", "SGD", "ScheduleFreeAdamW")},
}

# defaults mlcore gives to arguments Keras requires: Keras 1 and 2 code calls them without
DEFAULTS_ADDED = {
    ("layers.Dense", "units"): "Keras 1's Dense(output_dim=...) names its size otherwise",
    ("layers.Dropout", "rate"): "Keras 1's Dropout(p=...) names its rate otherwise",
    **{("layers." + name, "pool_size"): "Keras 1 and 2 pooling layers default to a pool of 2"
       for name in ("AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "AvgPool1D", "AvgPool2D",
                    "AvgPool3D")},
}


def _parameters(function):
    try:
        return inspect.signature(function).parameters
    except (TypeError, ValueError):     # builtins without a signature
        return None


def _named(parameters):
    return {name: p for name, p in parameters.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def _differences(keras):
    """(where, parameter, what is wrong) for each Keras parameter mlcore's same-named callable misses."""
    found, seen = [], set()
    for module_name in MODULES:
        try:
            theirs = importlib.import_module("keras" + ("." + module_name if module_name else ""))
            ours = importlib.import_module("mlcore" + ("." + module_name if module_name else ""))
        except ImportError:
            continue
        for name in dir(theirs):
            where = (module_name + "." if module_name else "") + name
            keras_callable, our_callable = getattr(theirs, name), getattr(ours, name, None)
            if name.startswith("_") or our_callable is None or not callable(keras_callable) or \
                    inspect.ismodule(keras_callable) or where in seen:
                continue
            seen.add(where)
            keras_parameters, our_parameters = _parameters(keras_callable), _parameters(our_callable)
            if keras_parameters is None or our_parameters is None:
                continue
            forwarded = _parameters(FORWARDED[where]()) if where in FORWARDED else {}
            for parameter in _named(keras_parameters).values():
                mine = our_parameters.get(parameter.name) or forwarded.get(parameter.name)
                if mine is None:
                    found.append((where, parameter.name, "missing"))
                elif parameter.default is inspect.Parameter.empty:
                    if mine.default is not inspect.Parameter.empty and (where, parameter.name) not in DEFAULTS_ADDED:
                        found.append((where, parameter.name, "default %r added" % (mine.default,)))
                elif not (mine.default is parameter.default or _same(mine.default, parameter.default)):
                    found.append((where, parameter.name, "default %r, Keras's %r" % (mine.default, parameter.default)))
    return found


def _same(a, b):
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:       # arrays and other values without a plain ==
        return False


def test_keras_parameters_are_accepted_with_their_defaults(keras):
    assert _differences(keras) == []


def test_allowlists_are_still_needed(keras):
    """An allowlisted difference that no longer exists is a stale entry to remove."""
    for where, parameter in DEFAULTS_ADDED:
        module, _, name = where.rpartition(".")
        keras_default = _parameters(getattr(importlib.import_module("keras." + module), name))[parameter].default
        assert keras_default is inspect.Parameter.empty, (where, parameter)
    for where in FORWARDED:
        module, _, name = where.rpartition(".")
        ours = getattr(importlib.import_module("mlcore" + ("." + module if module else "")), name)
        assert any(p.kind == p.VAR_KEYWORD for p in _parameters(ours).values()), where


@pytest.mark.parametrize("where, keyword", [("Input", "optional"), ("layers.BatchNormalization", "renorm"),
                                            ("saving.save_weights", "max_shard_size")])
def test_walk_finds_a_missing_parameter(keras, monkeypatch, where, keyword):
    """The walk itself: a parameter taken away from mlcore's callable is reported."""
    module, _, name = where.rpartition(".")
    owner = importlib.import_module("mlcore" + ("." + module if module else ""))
    original = getattr(owner, name)
    keep = [p for p in _parameters(original).values() if p.name != keyword and p.kind != p.VAR_KEYWORD]

    def narrowed(*args, **kwargs):
        return original(*args, **kwargs)
    narrowed.__signature__ = inspect.Signature(keep)
    monkeypatch.setattr(owner, name, narrowed)
    assert (where, keyword, "missing") in _differences(keras)

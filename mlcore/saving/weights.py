"""Model.load_weights / save_weights: Keras's file formats and matching rules, applied all-or-nothing.

A load reads the whole file, matches it to the model, converts Theano orderings and checks every shape
before it sets a single weight, so a load that fails leaves the model exactly as it was.

Matching, as Keras does it:
- legacy files, by order (default): the layers that have weights, in model.layers order, pair with the file's
  layers that have weights, in layer_names order; a nested model is one layer holding all its sublayers'
  weights (trainable ones first, as Keras writes them).
- Keras 3 native files, by structure: each layer's group is found from its position in the model (see
  object_paths.native_layer_paths); a layer whose group is missing is looked up by its stored name.  A file
  in the flat layout mlcore wrote before it followed Keras's walk (a custom layer's sublayers' weights in its
  own group) is recognized by its paths and weight counts, and loads too.
- by_name=True: file layers pair with model layers of the same name; others are ignored. In native files the
  name is the ``name`` attribute Keras 3 stores on each ``vars`` group.
"""
import dataclasses
import importlib
import os
import warnings

import numpy as np

from .h5_layouts import (NATIVE, legacy_weights, native_layer_paths, read_h5, stored_weights, write_legacy_h5,
                         write_weights_h5)
from .overwrite import may_write
from .sharded_weights import write_sharded_weights
from .theano_conversion import CONVERSIONS, detect_conversion

LOADABLE_SUFFIXES = (".weights.h5", ".h5", ".hdf5", ".keras", ".weights.json")
SKIPPABLE_SUFFIXES = (".weights.h5", ".weights.json")


def save_weights(model, filepath, overwrite=True, max_shard_size=None, objects_to_skip=None):
    """Saves every weight of ``model``, atomically: Keras 3's layout for ``*.weights.h5``, the legacy layout
    (which Keras 1, 2 and 3 all load) for ``*.h5`` / ``*.hdf5``; with max_shard_size (GiB), Keras 3's sharded
    files and their ``*.weights.json`` index (sharded_weights).  overwrite=False asks before replacing a file.
    objects_to_skip: layers (and what they hold) left out of Keras 3's layouts, as keras.saving.save_weights."""
    path = os.fspath(filepath)
    native = max_shard_size is not None or path.endswith(".weights.h5")
    if objects_to_skip is not None and not native:
        raise _skipping_error(path, "saving")
    if not may_write(path, overwrite):
        return
    if max_shard_size is not None:
        write_sharded_weights(path, model, max_shard_size, objects_to_skip or ())
    elif path.endswith(".weights.h5"):
        write_weights_h5(path, model, objects_to_skip or ())
    elif path.endswith((".h5", ".hdf5")):
        write_legacy_h5(path, model)
    else:
        raise ValueError(
            f"Cannot choose a weights format for {path!r}: the name must end in '.weights.h5' "
            "(Keras 3 layout) or '.h5' / '.hdf5' (legacy Keras layout)"
        )


def load_weights(model, filepath, by_name=False, skip_mismatch=False, conversion="auto", **kwargs):
    """Loads weights saved by mlcore or any Keras version into ``model``.

    conversion: "auto", "none" or "theano"; see mlcore.saving.theano_conversion for what each converts.
    skip_mismatch: layers whose weight count or shapes differ are skipped with a warning (Keras 3 allows it
    in every format, with or without by_name).
    objects_to_skip (keyword, as Keras 3's): layers (and what they hold) left as they are; the file's groups
    for them, if any, are ignored.  Only Keras 3's ``.weights.h5`` / ``.weights.json`` files take it.
    """
    importlib.import_module("mlcore.models")    # before orbax_checkpoints, whose imports need it whole
    from .orbax_checkpoints import is_orbax_checkpoint, load_orbax_weights
    objects_to_skip = kwargs.pop("objects_to_skip", None)
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {kwargs}")
    path = os.fspath(filepath)
    if objects_to_skip is not None and not path.endswith(SKIPPABLE_SUFFIXES):
        raise _skipping_error(path)
    if is_orbax_checkpoint(path):       # keras.callbacks.OrbaxCheckpoint's folder, or one step of it
        return load_orbax_weights(model, path)
    if not path.endswith(LOADABLE_SUFFIXES):
        raise ValueError(
            f"File format not supported: filepath={path}. Weights load from files whose name ends in one of "
            f"{LOADABLE_SUFFIXES}, and from Orbax checkpoints"
        )
    if conversion not in CONVERSIONS:
        raise ValueError(f"conversion must be one of {CONVERSIONS}, got {conversion!r}")
    description = read_h5(path)
    if objects_to_skip is not None:
        description = _without_skipped(description, model, objects_to_skip)
    skip = objects_to_skip or ()
    custom = []
    if by_name:
        matched = _match_by_name(description, model, skip_mismatch, skip)
    elif description.layout == NATIVE:
        matched, custom = _match_native(description, model, skip_mismatch, skip)
    else:
        matched = _match_in_order(description, model, skip_mismatch)
    values = {id(w): a for _, pairs in matched for w, a in pairs}
    values = detect_conversion(description, model, conversion).apply(model, values)
    ready = _checked(path, matched, values, skip_mismatch)
    for layer, store in custom:
        layer.load_own_variables(store)
    for weight, array in ready:
        weight.set_value(array)


def _skipping_error(path, action="loading"):
    """Keras's error for objects_to_skip where there is no Keras 3 layout to skip objects in."""
    return ValueError(f"`objects_to_skip` only supports {action} '.weights.h5' files. Received: {path}")


def _without_skipped(description, model, objects_to_skip):
    """The file less the groups of the skipped layers and of those they hold (a file saved without
    objects_to_skip has them); objects_to_skip needs Keras 3's layout, where groups are found by path."""
    if description.layout != NATIVE:
        raise _skipping_error(description.filename)
    kept = {path for path, _, _ in native_layer_paths(model, objects_to_skip=objects_to_skip)}
    skipped = {path for path, _, _ in native_layer_paths(model)} - kept
    return dataclasses.replace(description, layers=[e for e in description.layers if e.path not in skipped])


def _pairs(layer, weights, entry):
    """[(weight, file array)] for one matched layer, or a ValueError naming both counts."""
    arrays = [array for _, array in entry.weights]
    if len(arrays) != len(weights):
        raise ValueError(
            f"Layer '{layer.name}' has {len(weights)} weights but its match in the file, "
            f"'{entry.path or entry.name}', has {len(arrays)}"
        )
    return list(zip(weights, arrays))


def _matches(pairs_of_layers_and_entries, skip_mismatch, weights_of=legacy_weights):
    """[(layer name, [(weight, file array)])] for matched (layer, entry) pairs, each layer's weights_of
    (what its entry holds); with skip_mismatch a layer whose weight count differs from its entry's is left
    out with a warning."""
    matched = []
    for layer, entry in pairs_of_layers_and_entries:
        try:
            matched.append((layer.name, _pairs(layer, weights_of(layer), entry)))
        except ValueError as err:
            if not skip_mismatch:
                raise
            warnings.warn(f"{err}; skipping it", stacklevel=4)
    return matched


def _count_error(model_count, entries):
    names = ", ".join(entry.name for entry in entries)
    return ValueError(
        f"Layer count mismatch: the model has {model_count} layers with weights, "
        f"the file has {len(entries)} ({names})"
    )


def _match_in_order(description, model, skip_mismatch):
    entries = [entry for entry in description.layers if entry.weights]
    layers = [layer for layer in model.layers if legacy_weights(layer)]
    if len(layers) != len(entries):
        raise _count_error(len(layers), entries)
    return _matches(zip(layers, entries), skip_mismatch)


def _match_native(description, model, skip_mismatch, objects_to_skip=()):
    """(matched weights, [(layer, store)] of the layers that load their state themselves): a layer
    overriding load_own_variables gets its vars group as a dict, as Keras's saving_lib gives it."""
    by_path = {entry.path: entry for entry in description.layers}
    by_name = {entry.name: entry for entry in description.layers}

    def entry_of(path, layer):
        return by_path.get(path) or by_name.get(layer.name)
    keras_walk = _follows_keras_walk(description, model, objects_to_skip)
    weights_of = _held_in_vars(keras_walk)
    targets = _native_targets(model, objects_to_skip, keras_walk)
    unsaved = [layer for path, layer in targets if _loads_own_state(layer) and entry_of(path, layer) is None]
    if len(targets) - len(unsaved) != len(description.layers):
        raise _count_error(len(targets) - len(unsaved), description.layers)
    entries, custom = [], []
    for path, layer in targets:
        entry = entry_of(path, layer)
        if _loads_own_state(layer):
            custom.append((layer, dict(entry.weights) if entry is not None else {}))
        elif entry is None:
            raise ValueError(
                f"Layer '{layer.name}' has no weights in {description.filename!r}: "
                f"no group '{path}/vars' and no group named '{layer.name}'"
            )
        else:
            entries.append((layer, entry))
    return _matches(entries, skip_mismatch, weights_of), custom


def _native_targets(model, objects_to_skip, keras_walk):
    """[(path, layer)] of the layers whose vars groups hold something: weights, or a custom layer's state."""
    weights_of = _held_in_vars(keras_walk)
    return [(path, layer) for path, layer, stores_nothing in native_layer_paths(model, objects_to_skip, keras_walk)
            if not stores_nothing and (weights_of(layer) or _loads_own_state(layer))]


def _held_in_vars(keras_walk):
    """What a layer's vars group holds: its own weights by Keras's walk; in mlcore's earlier flat layout,
    those of the layers it holds too."""
    return stored_weights if keras_walk else legacy_weights


def _follows_keras_walk(description, model, objects_to_skip):
    """Whether to read the file by Keras's walk (object_paths): yes, unless the flat layout mlcore wrote
    before fits it (every path, and the weight count of every layer) and Keras's does not."""
    return _fits(description, model, objects_to_skip, True) or not _fits(description, model, objects_to_skip, False)


def _fits(description, model, objects_to_skip, keras_walk):
    """Whether the file's groups are where the walk puts the model's layers, with as many weights each."""
    counts = {entry.path: len(entry.weights) for entry in description.layers}
    weights_of = _held_in_vars(keras_walk)
    targets = _native_targets(model, objects_to_skip, keras_walk)
    return set(counts) <= {path for path, _ in targets} and all(
        _loads_own_state(layer) or counts.get(path) == len(weights_of(layer)) for path, layer in targets)


def _loads_own_state(layer):
    """Whether the layer's class overrides load_own_variables (a custom layer with state of its own), or the
    layer is quantized (its variables are stored in Keras's order for its mode: mlcore/layers/quantization.py)
    or has LoRA on (its factors are merged into its kernel: mlcore/layers/lora.py, whose load_own_variables is
    LayerState's otherwise)."""
    from mlcore.layers.layer_state import LayerState
    from mlcore.layers.lora import LoraLayer
    generic = (LayerState.load_own_variables, LoraLayer.load_own_variables)
    return getattr(type(layer), "load_own_variables", LayerState.load_own_variables) not in generic or \
        getattr(layer, "_is_quantized", False) or getattr(layer, "lora_enabled", False)


def _match_by_name(description, model, skip_mismatch, objects_to_skip=()):
    """Native files hold one group per leaf layer, legacy files one per top-level layer: index accordingly."""
    weights_of = legacy_weights
    if description.layout == NATIVE:
        keras_walk = _follows_keras_walk(description, model, objects_to_skip)
        weights_of = _held_in_vars(keras_walk)
        layers = [layer for _, layer in _native_targets(model, objects_to_skip, keras_walk)]
    else:
        layers = list(model.layers)
    index = {}
    for layer in layers:
        index.setdefault(layer.name, []).append(layer)
    return _matches(((layer, entry) for entry in description.layers for layer in index.get(entry.name, [])),
                    skip_mismatch, weights_of)


def _checked(path, matched, values, skip_mismatch):
    """[(weight, array cast to its dtype)] once every shape agrees; else one ValueError listing them all."""
    ready, errors = [], []
    for layer_name, pairs in matched:
        problems = [
            f"Layer '{layer_name}' weight '{w.name}': file has shape {values[id(w)].shape}, "
            f"model expects {tuple(w.shape)}"
            for w, _ in pairs
            if tuple(values[id(w)].shape) != tuple(w.shape)
        ]
        if problems and skip_mismatch:
            warnings.warn("; ".join(problems) + f"; skipping layer '{layer_name}'", stacklevel=3)
        elif problems:
            errors.extend(problems)
        else:
            # np.array, not np.ascontiguousarray, which makes a scalar (Normalization's count) 1-d
            ready.extend((w, np.array(values[id(w)], dtype=np.dtype(w.dtype), order="C")) for w, _ in pairs)
    if errors:
        raise ValueError(f"Cannot load weights from {path!r}:\n" + "\n".join(errors))
    return ready

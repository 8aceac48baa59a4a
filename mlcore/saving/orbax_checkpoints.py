"""Orbax checkpoints in Keras 3's layout, which keras.callbacks.OrbaxCheckpoint writes and
keras.saving.load_model / model.load_weights read (orbax-checkpoint is the optional 'orbax' extra).

A checkpoint directory holds one folder per step (``<directory>/<step>/``), each with Orbax
"checkpointables":

- ``pytree``: ``model.get_state_tree()`` (trainable, non-trainable, optimizer and metrics variables
  keyed by path), or only the trainable and non-trainable ones for ``save_weights_only``;
- ``model_config``: ``{"config": <config.json of a .keras archive>}``, unless ``save_weights_only``;
- ``assets``: the files of layers with ``save_assets`` (a lookup layer's vocabulary) as a nested dict
  of uint8 arrays mirroring the .keras archive's ``assets/`` folder, if there are any.

Variables are matched by path, so mlcore and Keras read each other's checkpoints.
"""
import json
import os
import tempfile

import numpy as np

from .keras3_config import keras_model_spec, mlcore_compile_arguments, mlcore_spec
from .keras_archive import graph_rebuilt, hand_assets, write_assets

VARIABLE_GROUPS = ("trainable_variables", "non_trainable_variables", "optimizer_variables", "metrics_variables")
WEIGHT_GROUPS = VARIABLE_GROUPS[:2]
# Keras's markers, and the metadata file of one step's folder (which Keras 3.15 means to load but misses)
ORBAX_MARKERS = ("orbax.checkpoint", "pytree.orbax-checkpoint", "checkpoint_metadata", "_CHECKPOINT_METADATA")


def orbax_api():
    """orbax.checkpoint's v1 API, which Keras 3.15 writes with, or Keras's ImportError without it."""
    try:
        import orbax.checkpoint
    except ImportError:
        raise ImportError("OrbaxCheckpoint requires the 'orbax-checkpoint' package. You can install it via "
                          "pip install orbax-checkpoint (mlcore's 'orbax' extra)") from None
    return orbax.checkpoint.v1


def orbax_multihost():
    """orbax.checkpoint's multi-host helpers, which its v1 API leaves out."""
    orbax_api()
    from orbax.checkpoint import multihost
    return multihost


def is_orbax_checkpoint(path):
    """Whether path is an Orbax checkpoint directory (a root of numbered steps, or one step), told from
    its entries as Keras tells it, without opening anything."""
    try:
        entries = os.listdir(path)
    except OSError:
        return False
    return any(name in ORBAX_MARKERS or ".orbax-checkpoint-tmp" in name
               or name.isdigit() and os.path.isdir(os.path.join(path, name)) for name in entries)


def latest_step_path(directory):
    """<directory>/<latest step>, or a ValueError naming the directory when it has no finished step."""
    with orbax_api().training.Checkpointer(directory=directory) as checkpointer:
        return os.path.join(directory, str(_latest_step(checkpointer, directory)))


def _latest_step(checkpointer, directory):
    latest = checkpointer.latest
    if latest is None:
        raise ValueError("No valid checkpoints found in %s" % directory)
    return latest.step


def checkpoint_payload(model, save_weights_only=False):
    """The checkpointables of one step: copies of the variables, so training may go on while Orbax writes
    them in the background."""
    state = model.get_state_tree(value_format="numpy_array")
    if save_weights_only:
        return {"pytree": {group: state[group] for group in WEIGHT_GROUPS}}
    payload = {"pytree": state, "model_config": {"config": json.dumps(keras_model_spec(model))}}
    assets = _assets_tree(model)
    if assets:
        payload["assets"] = assets
    return payload


def load_orbax_weights(model, path):
    """model.load_weights(path) of a checkpoint root (its latest step) or of one step: every variable
    group the step holds, the optimizer's state included, as Keras loads it."""
    path = os.fspath(path)
    step = latest_step_path(path) if _has_steps(path) else path
    _restore_state(model, orbax_api().load_checkpointables(step, {"pytree": None})["pytree"])


def load_orbax_model(directory, custom_objects=None, compile=True, safe_mode=True):
    """load_model(directory): the model of the latest step rebuilt from its model_config, its variables set,
    and compiled with its optimizer's state restored when it was compiled and compile=True."""
    from mlcore.models.serialization import layer_from_config
    directory = os.fspath(directory)
    with orbax_api().training.Checkpointer(directory=directory) as checkpointer:
        step = _latest_step(checkpointer, directory)
        saved = set(checkpointer.checkpointables_metadata(step).metadata)
        if "model_config" not in saved:
            raise ValueError("Checkpoint does not contain model configuration. This checkpoint may have been "
                             "saved with save_weights_only=True. (checkpoint: %s)" % os.path.join(directory, str(step)))
        loaded = checkpointer.load_checkpointables(
            step, {name: None for name in ("model_config", "pytree", "assets") if name in saved})
    config = json.loads(loaded["model_config"]["config"])
    model = layer_from_config(mlcore_spec(config, custom_objects, safe_mode), custom_objects, safe_mode)
    state = loaded["pytree"]
    _restore_state(model, {group: state[group] for group in WEIGHT_GROUPS if group in state})
    if loaded.get("assets") and _hand_tree(model, loaded["assets"]):
        model = graph_rebuilt(model)
    if compile and config.get("compile_config"):
        model.compile_from_config(mlcore_compile_arguments(config["compile_config"], custom_objects))
        if model.compiled:
            _restore_state(model, {group: state[group] for group in VARIABLE_GROUPS[2:] if group in state})
    return model


def _has_steps(path):
    return any(name.isdigit() and os.path.isdir(os.path.join(path, name)) for name in os.listdir(path))


def _restore_state(model, state):
    """set_state_tree of the groups Keras restores, after building the optimizer's slots for the model's
    weights (mlcore builds them at the first step, so a fresh model would pass over them)."""
    optimizer = getattr(model, "optimizer", None)
    if state.get("optimizer_variables") and optimizer is not None:
        optimizer.build(model.trainable_weights)
    model.set_state_tree({group: values for group, values in state.items() if group in VARIABLE_GROUPS})


def _assets_tree(model):
    """The files write_assets gives the model's layers, as {folder: {...: {file name: uint8 array}}}."""
    with tempfile.TemporaryDirectory(prefix=".orbax-assets-") as scratch:
        write_assets(scratch, model)
        tree = {}
        for folder, _, names in os.walk(scratch):
            node = tree
            for part in os.path.relpath(folder, scratch).split(os.sep):
                if part != ".":
                    node = node.setdefault(part, {})
            for name in names:
                with open(os.path.join(folder, name), "rb") as f:
                    node[name] = np.frombuffer(f.read(), dtype=np.uint8)
        return tree


def _hand_tree(model, tree):
    """hand_assets of an assets tree written back into files; whether any layer took them."""
    with tempfile.TemporaryDirectory(prefix=".orbax-assets-") as scratch:
        _write_tree(scratch, tree)
        return hand_assets(model, scratch)


def _write_tree(folder, tree):
    for name, value in tree.items():
        if "/" in name or os.sep in name or name in ("", ".", ".."):     # the checkpoint's names stay inside
            raise ValueError("Invalid asset name %r in the Orbax checkpoint" % name)
        target = os.path.join(folder, name)
        if isinstance(value, dict):
            os.makedirs(target, exist_ok=True)
            _write_tree(target, value)
        else:
            with open(target, "wb") as f:
                f.write(np.asarray(value, dtype=np.uint8).tobytes())

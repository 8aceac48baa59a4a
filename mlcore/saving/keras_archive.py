"""Keras 3's ``.keras`` model files: a zip archive that Keras 3 and mlcore both read and write.

Members, as keras.saving writes them (stored, not compressed):

- ``metadata.json``: ``{"keras_version", "date_saved"}``;
- ``config.json``: the model's architecture and compile() arguments (see keras3_config);
- ``model.weights.h5``: the native weights layout of ``*.weights.h5`` files (h5_layouts), plus the
  optimizer's variables, in optimizer.variables order, as datasets ``optimizer/vars/0``, ``1``...

Saving is atomic. Loading rebuilds the model from config.json, loads the weights, then compiles it and
restores the optimizer's state when asked to (compile=True).
"""
import datetime
import io
import json
import os
import tempfile
import warnings
import zipfile

import h5py
import numpy as np

from .h5_layouts import WRITER_KERAS_VERSION, child_group, natural_key, read_dataset, write_weights_h5
from .keras3_config import keras_model_spec, mlcore_compile_arguments, mlcore_spec

METADATA, CONFIG, WEIGHTS = "metadata.json", "config.json", "model.weights.h5"
OPTIMIZER_VARS = "optimizer/vars"


def save_archive(model, filepath, include_optimizer=True):
    """Writes ``model`` to a ``.keras`` archive; include_optimizer=False leaves out the optimizer's state.
    Atomic: the archive is built in a scratch folder beside the target (removed whatever happens), synced,
    then renamed over it, so a failed save leaves any old file as it was."""
    target = os.path.abspath(os.fspath(filepath))
    config = json.dumps(keras_model_spec(model))
    metadata = json.dumps({"keras_version": WRITER_KERAS_VERSION,
                           "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")})
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(target), prefix=".keras-save-") as scratch:
        weights = os.path.join(scratch, WEIGHTS)
        write_weights_h5(weights, model)
        optimizer = getattr(model, "optimizer", None)
        if include_optimizer and optimizer is not None:
            write_optimizer_state(weights, optimizer)
        archive_path = os.path.join(scratch, os.path.basename(target))
        with open(archive_path, "xb") as handle:
            with zipfile.ZipFile(handle, "w") as archive:
                archive.writestr(METADATA, metadata)
                archive.writestr(CONFIG, config)
                archive.write(weights, WEIGHTS)
            os.fsync(handle.fileno())
        os.replace(archive_path, target)


def write_optimizer_state(weights_path, optimizer):
    """The optimizer's variables into a weights file, under optimizer/vars as Keras stores them."""
    with h5py.File(weights_path, "a") as f:
        group = f.create_group(OPTIMIZER_VARS)
        group.attrs["name"] = optimizer.name
        for k, variable in enumerate(optimizer.variables):
            group.create_dataset(str(k), data=np.asarray(variable.get_value()))


def load_archive(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Rebuilds a model from a ``.keras`` archive written by mlcore or Keras 3."""
    from mlcore.models.serialization import layer_from_config
    path = os.fspath(filepath)
    config, weights = _read_members(path, CONFIG, WEIGHTS)
    try:
        config = json.loads(config)
    except ValueError as err:
        raise ValueError(f"{path!r} is not a Keras .keras archive: its {CONFIG} is not JSON ({err})") from None
    model = layer_from_config(mlcore_spec(config, custom_objects, safe_mode), custom_objects, safe_mode)
    model.load_weights(path)
    compile_config = config.get("compile_config")
    if compile and compile_config:
        model.compile(**mlcore_compile_arguments(compile_config, custom_objects))
        restore_optimizer_state(model, io.BytesIO(weights), path)
    return model


def _read_members(path, *names):
    """The members' bytes, or a ValueError that names the file and says what is wrong with it."""
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path!r} is not a Keras .keras archive: it is not a zip file")
    with zipfile.ZipFile(path) as archive:
        missing = [name for name in names if name not in archive.namelist()]
        if missing:
            raise ValueError(f"{path!r} is not a Keras .keras archive: it has no {', '.join(missing)} "
                             f"(it holds {sorted(archive.namelist())})")
        return [archive.read(name) for name in names]


def restore_optimizer_state(model, weights, path):
    """Sets the optimizer's variables from a weights file (a path, or a file object such as an archive
    member's bytes), if it stores as many as the optimizer has once built for the model's weights
    (otherwise warns and keeps them, as Keras does); path names the file in the warning."""
    with h5py.File(weights, "r") as f:
        if OPTIMIZER_VARS not in f:
            return
        group = child_group(f, OPTIMIZER_VARS, h5py.Group)
        values = [read_dataset(group, key) for key in sorted(group, key=natural_key)]
    optimizer = model.optimizer
    optimizer.build(model.trainable_weights)
    variables = optimizer.variables
    shapes = [tuple(np.shape(v)) for v in values]
    if shapes != [tuple(np.shape(var.get_value())) for var in variables]:
        warnings.warn(f"Skipping the optimizer state in {path!r}: it has {len(values)} variables of shapes "
                      f"{shapes}, optimizer '{optimizer.name}' has {len(variables)} for this model",
                      stacklevel=4)     # the caller of load_model
        return
    for variable, value in zip(variables, values):
        variable.set_value(np.asarray(value, dtype=np.asarray(variable.get_value()).dtype))

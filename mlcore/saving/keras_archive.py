"""Keras 3's ``.keras`` model files: a zip archive that Keras 3 and mlcore both read and write.

Members, as keras.saving writes them (stored, not compressed):

- ``metadata.json``: ``{"keras_version", "date_saved"}``;
- ``config.json``: the model's architecture and compile() arguments (see keras3_config);
- ``model.weights.h5``: the native weights layout of ``*.weights.h5`` files (h5_layouts), plus the
  optimizer's variables, in optimizer.variables order, as datasets ``optimizer/vars/0``, ``1``...;
- ``assets/<layer path>/...``: files of the layers that have ``save_assets(dir)`` / ``load_assets(dir)``
  (Keras's lookup layers keep an adapted vocabulary there), under the layer's path in the weights file.

model.save(path, zipped=False) writes the same members into the folder ``path`` (Keras 3's unzipped archive),
which load_model reads as it reads the zip.

Saving an archive is atomic. Loading rebuilds the model from config.json, loads the weights, then compiles it and
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

from .h5_layouts import (WRITER_KERAS_VERSION, child_group, native_layer_paths, natural_key, read_dataset,
                         write_dataset, write_weights_h5)
from .keras3_config import keras_model_spec, mlcore_compile_arguments, mlcore_spec

METADATA, CONFIG, WEIGHTS, ASSETS = "metadata.json", "config.json", "model.weights.h5", "assets"
OPTIMIZER_VARS = "optimizer/vars"


def save_archive(model, filepath, include_optimizer=True, zipped=True):
    """Writes ``model`` to a ``.keras`` archive; include_optimizer=False leaves out the optimizer's state;
    zipped=False writes the members into the folder filepath instead (Keras 3's unzipped format, whose name
    must not end in ".keras").  Atomic for an archive: it is built in a scratch folder beside the target
    (removed whatever happens), synced, then renamed over it, so a failed save leaves any old file as it was."""
    target = os.path.abspath(os.fspath(filepath))
    if not zipped and target.endswith(".keras"):
        raise ValueError("When using `zipped=False`, the `filepath` argument should not end in `.keras`. "
                         "Received: filepath=%s" % os.fspath(filepath))
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
        write_assets(os.path.join(scratch, ASSETS), model)
        files = [WEIGHTS] + [os.path.relpath(os.path.join(folder, name), scratch)
                             for folder, _, names in os.walk(os.path.join(scratch, ASSETS)) for name in sorted(names)]
        if not zipped:
            _write_folder(target, scratch, {METADATA: metadata, CONFIG: config}, files)
            return
        archive_path = os.path.join(scratch, os.path.basename(target))
        with open(archive_path, "xb") as handle:
            with zipfile.ZipFile(handle, "w") as archive:
                archive.writestr(METADATA, metadata)
                archive.writestr(CONFIG, config)
                for name in files:
                    archive.write(os.path.join(scratch, name), name.replace(os.sep, "/"))
            os.fsync(handle.fileno())
        os.replace(archive_path, target)


def _write_folder(target, scratch, texts, files):
    """An unzipped archive: the texts written, the files moved from scratch, into the folder target."""
    os.makedirs(target, exist_ok=True)
    for name, text in texts.items():
        with open(os.path.join(target, name), "w") as f:
            f.write(text)
    for name in files:
        os.makedirs(os.path.dirname(os.path.join(target, name)), exist_ok=True)
        os.replace(os.path.join(scratch, name), os.path.join(target, name))


def is_archive_folder(path):
    """Whether path is an unzipped .keras archive (a folder with its config.json), as Keras's load_model tells."""
    return os.path.isdir(path) and os.path.exists(os.path.join(path, CONFIG))


def write_assets(folder, model):
    """Each layer's save_assets(dir), in folder/<its path in the weights file>, as Keras's saving_lib calls it."""
    for path, layer, _ in native_layer_paths(model):
        if hasattr(layer, "save_assets"):
            os.makedirs(os.path.join(folder, path), exist_ok=True)
            layer.save_assets(os.path.join(folder, path))


def load_assets(model, archive_path):
    """Hands each layer that has load_assets(dir) its assets/<path> folder of the archive (or unzipped
    archive), once its weights are loaded (Keras's order: a lookup layer's vocabulary goes with its loaded idf
    weights); whether any did."""
    if is_archive_folder(archive_path):
        return hand_assets(model, os.path.join(archive_path, ASSETS))
    with zipfile.ZipFile(archive_path) as archive:
        members = [name for name in archive.namelist() if name.startswith(ASSETS + "/")]
        if not members:
            return False
        with tempfile.TemporaryDirectory(prefix=".keras-assets-") as scratch:
            archive.extractall(scratch, members)     # zipfile drops absolute paths and "..": stays inside
            return hand_assets(model, os.path.join(scratch, ASSETS))


def hand_assets(model, assets):
    """Each layer with load_assets(dir) gets its folder assets/<layer path>; whether any did."""
    loaded = False
    for path, layer, _ in native_layer_paths(model):
        folder = os.path.join(assets, path)
        if hasattr(layer, "load_assets") and os.path.isdir(folder):
            layer.load_assets(folder)
            loaded = True
    return loaded


def graph_rebuilt(model):
    """The model's graph built again from the same layers: it was built from config.json, before the assets
    came, and a layer may have put what they hold into it (IntegerLookup's vocabulary is a constant of its
    graph).  A subclassed model builds its graph when called, after loading, so stays as it is."""
    from mlcore.models.cloning import clone_model
    if getattr(model, "_subclassed", False):
        return model
    rebuilt = clone_model(model, clone_function=lambda layer: layer, recursive=True)
    rebuilt.name = model.name
    return rebuilt


def write_optimizer_state(weights_path, optimizer):
    """The optimizer's variables into a weights file, under optimizer/vars as Keras stores them."""
    with h5py.File(weights_path, "a") as f:
        group = f.create_group(OPTIMIZER_VARS)
        group.attrs["name"] = optimizer.name
        for k, variable in enumerate(optimizer.variables):
            write_dataset(group, str(k), variable.get_value())


def load_archive(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Rebuilds a model from a ``.keras`` archive written by mlcore or Keras 3."""
    from mlcore.models.serialization import layer_from_config
    path = os.fspath(filepath)
    folder = is_archive_folder(path)
    config, weights = read_folder_members(path, CONFIG, WEIGHTS) if folder else read_members(path, CONFIG, WEIGHTS)
    try:
        config = json.loads(config)
    except ValueError as err:
        raise ValueError(f"{path!r} is not a Keras .keras archive: its {CONFIG} is not JSON ({err})") from None
    model = layer_from_config(mlcore_spec(config, custom_objects, safe_mode), custom_objects, safe_mode)
    model.load_weights(os.path.join(path, WEIGHTS) if folder else path)
    if load_assets(model, path):
        model = graph_rebuilt(model)
    compile_config = config.get("compile_config")
    if compile and compile_config:
        model.compile_from_config(mlcore_compile_arguments(compile_config, custom_objects))
        if model.compiled:      # not where the model's class has a compile() of its own (Keras's rule)
            restore_optimizer_state(model, io.BytesIO(weights), path)
    return model


def read_members(path, *names):
    """The members' bytes, or a ValueError that names the file and says what is wrong with it."""
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path!r} is not a Keras .keras archive: it is not a zip file")
    with zipfile.ZipFile(path) as archive:
        missing = [name for name in names if name not in archive.namelist()]
        if missing:
            raise ValueError(f"{path!r} is not a Keras .keras archive: it has no {', '.join(missing)} "
                             f"(it holds {sorted(archive.namelist())})")
        return [archive.read(name) for name in names]


def read_folder_members(path, *names):
    """The members' bytes from an unzipped archive, or a ValueError that names what is missing."""
    missing = [name for name in names if not os.path.isfile(os.path.join(path, name))]
    if missing:
        raise ValueError(f"{path!r} is not an unzipped Keras .keras archive: it has no {', '.join(missing)}")
    contents = []
    for name in names:
        with open(os.path.join(path, name), "rb") as f:
            contents.append(f.read())
    return contents


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

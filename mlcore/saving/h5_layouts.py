"""Keras h5 weight files: read every historical layout into one description; write the two Keras 3 reads.

The layouts, by the Keras that wrote them:

- Keras 0.x / early 1.x: root attr ``nb_layers``; groups ``layer_0``, ``layer_1``... each with
  attr ``nb_params`` and datasets ``param_0``, ``param_1``...
- "Legacy" (Keras 1, 2 and Keras 3's ``.h5``): attr ``layer_names`` on the root, or on the
  ``model_weights`` group of a full-model file; one group per layer with attr ``weight_names`` naming
  datasets relative to that group: ``conv1_W_1:0`` (Keras 1, TensorFlow), ``conv1_W`` (Keras 1, Theano),
  ``conv1/kernel:0`` (Keras 2), ``seq/conv1/kernel`` (Keras 3). Long lists are split over ``layer_names0``,
  ``layer_names1``... because an h5 object header holds at most 64 KiB of attributes. Keras 2+ add attrs
  ``backend`` and ``keras_version``. Some Keras 1 files lack ``weight_names``: their datasets are
  ``param_0``, ``param_1``...
- Keras 3 native ``*.weights.h5``: ``layers/<snake_case class name>[_<n>]/vars/0, 1...``, nested models
  under ``layers/<key>/layers/...``, the layers a layer holds under its attribute names
  (``layers/lstm/cell/vars``, ``layers/my_block/ffn/layers/dense/vars``), a subclassed model's at the root
  (``encoder/vars``), the model's own ``vars`` at the root, optimizer state under ``optimizer/vars``
  (object_paths.py has Keras's rules).  Recent Keras 3 versions put the layer name in attr ``name`` of each
  ``vars`` group.  The layer order is not stored (h5 lists groups alphabetically): a loader recovers it from
  the model with ``native_layer_paths``, as Keras does.

Reading never executes anything from the file and refuses soft, external and virtual links, which could make
a weights file read other files on disk.
"""
import contextlib
import io
import os
import re
import uuid
import zipfile
from dataclasses import dataclass, field

import h5py

import numpy as np

from .object_paths import child_path, native_layer_paths, vars_path

LEGACY, PARAMS, NATIVE = "legacy", "params", "native"
HDF5_OBJECT_HEADER_LIMIT = 64512
# The backend tag mlcore writes: mlcore's kernels are always cross-correlation kernels, so it must not say
# "theano" (which tells readers, mlcore's and Keras 2's alike, to flip kernels). Keras 2 ignores unknown tags.
WRITER_BACKEND = "mlcore"
# The Keras release whose legacy layout write_legacy_h5 reproduces. Loaders only test it against "1".
WRITER_KERAS_VERSION = "3.0.0"
_KERAS_ARCHIVE_WEIGHTS = "model.weights.h5"
OPTIMIZER = "optimizer"     # the root group of the optimizer's variables in the native layout
BFLOAT16 = "bfloat16"


@dataclass
class LayerEntry:
    """One layer's weights as the file stores them; ``path`` is its h5 group (the name, in legacy files)."""

    name: str
    weights: list = field(default_factory=list)  # [(weight name in the file, np.ndarray)]
    path: str = ""


@dataclass
class WeightsFile:
    """A weights file, normalized: layers in file order (alphabetical by path for the native layout)."""

    filename: str
    layout: str  # LEGACY, PARAMS or NATIVE
    layers: list
    backend: str | None = None
    keras_version: str | None = None


class UnreadableWeightsFile(ValueError, OSError):
    """A weights file h5py cannot open (truncated, not HDF5): the OSError Keras gives (BackupAndRestore
    falls back to its previous backup on one), and mlcore's ValueError for it."""


def read_h5(filepath):
    """Reads a Keras weights file (any layout above; also the weights inside a ``.keras`` zip archive)."""
    filename = os.fspath(filepath)
    if not os.path.exists(filename):
        raise FileNotFoundError(f"No such weights file: {filename!r}")
    try:
        h5file = _open(filename)
    except (OSError, zipfile.BadZipFile, KeyError) as err:
        raise UnreadableWeightsFile(f"{filename!r} is not an HDF5 weights file ({err})") from None
    with h5file:
        return _describe(h5file, filename)


def _open(filename):
    if filename.endswith(".weights.json"):
        from .sharded_weights import merged_shards
        return merged_shards(filename)
    if not zipfile.is_zipfile(filename):
        return h5py.File(filename, "r")
    with zipfile.ZipFile(filename) as archive:
        return h5py.File(io.BytesIO(archive.read(_KERAS_ARCHIVE_WEIGHTS)), "r")


def _describe(root, filename):
    if "nb_layers" in root.attrs:
        count = int(root.attrs["nb_layers"])
        layers = [_legacy_entry(root, f"layer_{k}") for k in range(count)]
        return WeightsFile(filename, PARAMS, layers)
    group = root
    if not _has_list_attr(root, "layer_names") and "model_weights" in root:
        group = child_group(root, "model_weights", h5py.Group)
    if _has_list_attr(group, "layer_names"):
        layers = [_legacy_entry(group, name) for name in _attr_list(group, "layer_names")]
        meta = {key: _attr_str(group, key) or _attr_str(root, key) for key in ("backend", "keras_version")}
        return WeightsFile(filename, LEGACY, layers, **meta)
    if "layers" in root or "vars" in root:       # a subclassed model's file may have no "layers"
        layers = []
        _collect_native(root, "", layers)
        return WeightsFile(filename, NATIVE, layers)
    raise ValueError(
        f"{filename!r} is an HDF5 file but not a Keras weights file: "
        "it has no 'layer_names' attribute, 'model_weights' group, 'layers' or 'vars' group"
    )


def _legacy_entry(parent, name):
    group = child_group(parent, name, h5py.Group)
    names = _attr_list(group, "weight_names") or _param_names(group)
    return LayerEntry(name, [(n, read_dataset(group, n)) for n in names], name)


def _param_names(group):
    """Datasets ``param_<k>`` in numeric order, for Keras 1 files without ``weight_names``."""
    if "nb_params" in group.attrs:
        return [f"param_{k}" for k in range(int(group.attrs["nb_params"]))]
    numbered = [key for key in group if re.fullmatch(r"param_\d+", key)]
    return sorted(numbered, key=lambda key: int(key[6:]))


def _collect_native(group, path, out):
    """Every non-empty vars group below group, as the entry of the object at its path; the optimizer's
    (at the root) is not a layer's."""
    for key in sorted(group, key=natural_key):
        child = child_group(group, key)
        if not isinstance(child, h5py.Group) or (key == OPTIMIZER and not path):
            continue
        if key == "vars":
            if len(child):
                name = _attr_str(child, "name") or path.rsplit("/", 1)[-1]
                keys = sorted(child, key=natural_key)
                out.append(LayerEntry(name, [(k, read_dataset(child, k)) for k in keys], path))
        else:
            _collect_native(child, child_path(path, key), out)


def natural_key(text):
    """Sorts ``dense_2`` before ``dense_10`` and ``2`` before ``10``."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text)]


def child_group(group, path, kind=None):
    """``group[path]``, following hard links only."""
    node = group
    for part in path.split("/"):
        if not part or part not in node:
            raise ValueError(f"Invalid weights file: no {path!r} in group {group.name!r}")
        link = node.get(part, getclass=True, getlink=True)
        if link is not h5py.HardLink:
            raise ValueError(f"Refusing {link.__name__} {path!r} in group {group.name!r}")
        node = node[part]
    if kind is not None and not isinstance(node, kind):
        raise ValueError(f"Invalid weights file: {path!r} in {group.name!r} is not an h5 {kind.__name__}")
    return node


def read_dataset(group, path):
    """The dataset's array; one Keras marked as bfloat16 (h5 has no such type, h5py stores its bytes as
    opaque) comes back as bfloat16."""
    dataset = child_group(group, path, h5py.Dataset)
    if dataset.external or dataset.is_virtual:
        kind = "virtual" if dataset.is_virtual else "external"
        raise ValueError(f"Refusing {kind} dataset {path!r} in group {group.name!r}: its data lives in other files")
    array = np.asarray(dataset[()])
    if _attr_str(dataset, "dtype") == BFLOAT16:
        import ml_dtypes
        return array.view(ml_dtypes.bfloat16)
    return array


def write_dataset(group, key, value):
    """group[key] = value as Keras's H5IOStore writes it: a bfloat16 array marked with attr dtype="bfloat16"
    (read_dataset and Keras read it back as bfloat16), text arrays as h5 strings."""
    array = np.asarray(value)
    text = h5py.string_dtype() if array.dtype.kind == "O" else None
    dataset = group.create_dataset(key, data=array, dtype=text)
    if array.dtype.name == BFLOAT16:
        dataset.attrs["dtype"] = BFLOAT16


def _has_list_attr(group, name):
    return name in group.attrs or f"{name}0" in group.attrs


def _attr_list(group, name):
    """A list of strings stored whole or in chunks ``name0``, ``name1``..., as bytes or str."""
    if name in group.attrs:
        chunks = [group.attrs[name]]
    else:
        chunks, k = [], 0
        while f"{name}{k}" in group.attrs:
            chunks.append(group.attrs[f"{name}{k}"])
            k += 1
    return [_text(item) for chunk in chunks for item in np.asarray(chunk).reshape(-1)]


def _attr_str(group, name):
    value = group.attrs.get(name)
    return None if value is None else _text(value)


def _text(value):
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def legacy_weights(layer):
    """A layer's weights in legacy-h5 order: trainable ones first, as Keras writes them (this matters for
    nested models, whose weights would otherwise go sublayer by sublayer)."""
    trainable = getattr(layer, "trainable_weights", None)
    frozen = getattr(layer, "non_trainable_weights", None)
    if trainable is not None and frozen is not None:
        return list(trainable) + list(frozen)
    weights = list(layer.weights)
    return [w for w in weights if getattr(w, "trainable", True)] + [
        w for w in weights if not getattr(w, "trainable", True)
    ]


def stored_weights(layer):
    """The weights a layer's own vars group holds in Keras 3's layout: not those of the layers it holds where
    they have groups of their own (LayerState._own_variables); a stand-in without Layer's methods, all."""
    own = getattr(layer, "_own_variables", None)
    return own() if own is not None else legacy_weights(layer)


def write_legacy_h5(filepath, model):
    """Writes the legacy layout as Keras 3's save_weights_to_hdf5_group does (Keras 1, 2 and 3 load it)."""
    with atomic_h5(filepath) as f:
        write_legacy_group(f, model)


def write_legacy_group(f, model):
    """The legacy layout into an open h5 group (the file root, or a full-model file's model_weights)."""
    layers = list(model.layers)
    names = [layer.name for layer in layers]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"Legacy h5 files key layers by name; these names repeat: {duplicates}")
    _write_attr_list(f, "layer_names", names)
    f.attrs["backend"] = np.bytes_(WRITER_BACKEND.encode("utf8"))
    f.attrs["keras_version"] = np.bytes_(WRITER_KERAS_VERSION.encode("utf8"))
    # Keras creates the groups sorted by name, so that no group name is created after one it prefixes.
    for layer in sorted(layers, key=lambda layer: layer.name):
        group = f.create_group(layer.name)
        weights = legacy_weights(layer)
        weight_names = [getattr(w, "path", None) or f"{layer.name}/{w.name}" for w in weights]
        _write_attr_list(group, "weight_names", weight_names)
        for name, weight in zip(weight_names, weights):
            write_dataset(group, name, weight.get_value())
    _write_attr_list(f.create_group("top_level_model_weights"), "weight_names", [])


def write_weights_h5(filepath, model, objects_to_skip=()):
    """Writes Keras 3's native ``.weights.h5`` layout, which ``keras.Model.load_weights`` reads; the layers in
    objects_to_skip, and those they hold, get no group (Keras's saving_api.save_weights(objects_to_skip=))."""
    with atomic_h5(filepath) as f:
        for path, layer, stores_nothing in native_layer_paths(model, objects_to_skip=objects_to_skip):
            layer_vars = f.require_group(vars_path(path))
            if getattr(layer, "name", None):
                layer_vars.attrs["name"] = layer.name
            if not stores_nothing:
                for key, value in own_variables(layer).items():
                    write_dataset(layer_vars, key, value)


def own_variables(layer):
    """What the layer's save_own_variables stores (its weights as "0", "1"..., or a custom layer's own
    state), as arrays; text as UTF-8 bytes, which h5 stores.  An object with weights but not Layer's
    methods (a stand-in for a layer) stores its weights."""
    store = {}
    if hasattr(layer, "save_own_variables"):
        layer.save_own_variables(store)
    else:
        store = {str(k): weight for k, weight in enumerate(legacy_weights(layer))}
    arrays = {key: np.asarray(value.get_value() if hasattr(value, "get_value") else value)
              for key, value in store.items()}
    return {key: np.char.encode(a, "utf8") if a.dtype.kind == "U" else a for key, a in arrays.items()}


def _write_attr_list(group, name, strings):
    """Stores strings as fixed-length bytes (every Keras version's reader decodes those), split into
    ``name0``, ``name1``... when one attribute would pass the object-header limit. Empty lists are stored
    as Keras stores them: an empty float array."""
    too_long = [s for s in strings if len(s.encode("utf8")) > HDF5_OBJECT_HEADER_LIMIT]
    if too_long:
        raise ValueError(f"Names too long for an h5 attribute: {too_long}")
    data = np.array([s.encode("utf8") for s in strings]) if strings else np.asarray([])
    chunks = 1
    while any(chunk.nbytes > HDF5_OBJECT_HEADER_LIMIT for chunk in np.array_split(data, chunks)):
        chunks += 1
    if chunks == 1:
        group.attrs[name] = data
    else:
        for k, chunk in enumerate(np.array_split(data, chunks)):
            group.attrs[f"{name}{k}"] = chunk


@contextlib.contextmanager
def atomic_h5(filepath):
    """Yields a new h5 file that replaces ``filepath`` only once completely written and synced to disk;
    on any error the partial file is removed and ``filepath`` is left as it was."""
    target = os.path.abspath(os.fspath(filepath))
    directory = os.path.dirname(target)
    os.makedirs(directory, exist_ok=True)
    temp = os.path.join(directory, f".{os.path.basename(target)}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with h5py.File(temp, "w-") as f:
            yield f
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    """Makes the rename itself durable (POSIX); not possible everywhere, and not needed for correctness."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

"""Sharded ``.weights.json`` files (model.save_weights(path, max_shard_size=...)), as Keras 3 writes them.

The json index is ``{"metadata": {"total_size": bytes}, "weight_map": {"/<layer path>/vars": [shard, ...]}}``
and the shards ``<base>_00000.weights.h5``, ``<base>_00001.weights.h5``... beside it, each in the native
``.weights.h5`` layout holding some of the variables.  Variables go into the current shard, in the order a
native file lists them, until adding one would pass max_shard_size (in GiB, as Keras counts it); then a new
shard starts.  A reader merges the shards the index names back into one native file (in memory)."""
import contextlib
import io
import json
import os
import uuid
import warnings

import h5py

from .h5_layouts import atomic_h5, child_group, native_layer_paths, own_variables, read_dataset, write_dataset
from .object_paths import vars_path

SHARDED_SUFFIX = ".weights.json"


def sharded_path(filepath):
    """The index's path: Keras's rule (a ``.weights.h5`` name is renamed to ``.json``, with its warning)."""
    path = os.fspath(filepath)
    if path.endswith(SHARDED_SUFFIX):
        return path
    if not path.endswith(".weights.h5"):
        raise ValueError("The filename must end in `.weights.json` when `max_shard_size` is specified. "
                         "Received: filepath=%s" % path)
    renamed = path[:-len(".h5")] + ".json"
    warnings.warn("Saving sharded weights requires `*.json` as the extension. The original path: %s will be "
                  "renamed to %s." % (path, renamed), stacklevel=3)
    return renamed


def write_sharded_weights(filepath, model, max_shard_size, objects_to_skip=()):
    """model's weights into shards of at most max_shard_size GiB each, and their json index at filepath;
    none of objects_to_skip (h5_layouts.write_weights_h5).  Atomic as every save: the shards are written to
    temporary files, which replace the old ones only once all are complete (an error removes them and leaves
    the old files as they were); the index comes last."""
    index_path = sharded_path(filepath)
    limit = float(max_shard_size) * 1024 ** 3
    folder, base = os.path.split(index_path)
    base = base[:-len(SHARDED_SUFFIX)]
    weight_map, shards, size, total = {}, [], 0, 0
    with contextlib.ExitStack() as pending:
        def new_shard():
            name = "%s_%05d.weights.h5" % (base, len(shards))
            shards.append(pending.enter_context(atomic_h5(os.path.join(folder, name))))
            return name

        current = new_shard()
        if getattr(model, "name", None):
            shards[-1].create_group("vars").attrs["name"] = model.name
        for path, layer, stores_nothing in native_layer_paths(model, objects_to_skip=objects_to_skip):
            if stores_nothing:
                continue
            for key, value in own_variables(layer).items():
                if value.nbytes > limit:
                    raise ValueError("The size of %s/vars/%s is %d bytes, which exceeds the maximum shard size "
                                     "(%d bytes): increase `max_shard_size`" % (path, key, value.nbytes, limit))
                size += value.nbytes
                if size > limit:
                    current, size = new_shard(), value.nbytes
                group = shards[-1].require_group(vars_path(path))
                group.attrs["name"] = layer.name
                write_dataset(group, key, value)
                total += value.nbytes
                files = weight_map.setdefault("/" + vars_path(path), [])
                if current not in files:
                    files.append(current)
    temp = "%s.%s.tmp" % (index_path, uuid.uuid4().hex[:12])
    with open(temp, "w") as f:
        json.dump({"metadata": {"total_size": float(total)}, "weight_map": weight_map}, f, indent=4)
    os.replace(temp, index_path)


def merged_shards(index_path):
    """The shards an index names, merged into one in-memory native h5 file (read-only use)."""
    try:
        with open(index_path) as f:
            weight_map = json.load(f)["weight_map"]
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError("%r is not a sharded weights index: %s" % (index_path, err)) from None
    names = []
    for files in weight_map.values():
        names += [name for name in ([files] if isinstance(files, str) else files) if name not in names]
    merged = h5py.File(io.BytesIO(), "w")
    for name in names:
        with h5py.File(os.path.join(os.path.dirname(index_path), name), "r") as shard:
            _copy_into(shard, merged)
    return merged


def _copy_into(source, target):
    """Every group (with its attributes) and dataset (its bfloat16 mark too) of source into target: a layer's
    group may be split over several shards.  Links other than hard ones are refused, as in any weights file."""
    target.attrs.update(source.attrs)
    for key in source:
        item = child_group(source, key)
        if isinstance(item, h5py.Group):
            _copy_into(item, target.require_group(key))
        else:
            write_dataset(target, key, read_dataset(source, key))

"""A Keras 3 weights file as a tree of dicts, the view KerasFileEditor edits: ``{"layers": {"dense":
{"0": kernel, "1": bias}}, "optimizer": {"0": ..., ...}}``.

An object's ``vars`` datasets are the leaves of the object's own dict, beside the dicts of the objects
it holds (a nested model's ``layers``, an RNN's ``cell``); objects without weights are left out.  The
same tree is built from a live model (to compare a file with it) and written back as a ``.weights.h5``
file that Keras 3 and mlcore load.
"""
import h5py
import numpy as np

from .h5_layouts import atomic_h5, child_group, native_layer_paths, own_variables, read_dataset, write_dataset

MAX_DATASET_BYTES = 1 << 32     # Keras's editor refuses datasets over 4 GiB: a file cannot make it allocate more


def read_weight_tree(group, path=""):
    """(tree, metadata) of an open h5 group: metadata maps each object's path ("/layers/dense") to the
    attributes of its vars group (Keras 3 stores the layer's name there).  Keys come in h5's own
    (alphabetical) order, as Keras lists them; links other than hard ones are refused (child_group)."""
    tree, metadata = {}, {}
    for key in group:
        node = child_group(group, key)
        if isinstance(node, h5py.Dataset):
            tree[key] = _bounded_read(group, key)
        elif key == "vars":
            own, _ = read_weight_tree(node, path)
            tree.update(own)
            if own and node.attrs:
                metadata[path] = dict(node.attrs)
        else:
            subtree, sub_metadata = read_weight_tree(node, f"{path}/{key}")
            metadata.update(sub_metadata)
            if subtree:
                tree[key] = subtree
    return tree, metadata


def _bounded_read(group, key):
    dataset = group[key]
    size = int(np.prod(dataset.shape, dtype=object)) * dataset.dtype.itemsize
    if size > MAX_DATASET_BYTES:
        raise ValueError(f"Refusing dataset {key!r} in group {group.name!r}: {size} bytes is over the "
                         f"{MAX_DATASET_BYTES}-byte limit for one weight")
    return read_dataset(group, key)


def model_weight_tree(model):
    """The tree a weights file of ``model`` holds: each layer's stored variables under its path (as
    h5_layouts.native_layer_paths keys them), and the optimizer's variables under "optimizer"."""
    tree = {}
    for path, layer, stores_nothing in native_layer_paths(model):
        if not stores_nothing:
            for key, value in sorted(own_variables(layer).items()):
                _insert(tree, path.split("/") if path else [], key, value)
    optimizer = getattr(model, "optimizer", None)
    for k, variable in enumerate(getattr(optimizer, "variables", None) or []):
        _insert(tree, ["optimizer"], str(k), np.asarray(variable.get_value()))
    return tree


def _insert(tree, path, key, value):
    for part in path:
        tree = tree.setdefault(part, {})
    tree[key] = value


def write_weight_tree(filepath, tree):
    """Writes the tree as a ``.weights.h5`` file, atomically: each dict's leaves into ``<its path>/vars``
    (the root's into ``vars``), dicts without leaves anywhere below them not at all."""
    with atomic_h5(filepath) as f:
        _write(f, tree, "")


def _write(f, tree, path):
    for key, value in tree.items():
        if isinstance(value, dict):
            _write(f, value, f"{path}/{key}" if path else key)
        else:
            write_dataset(f.require_group(f"{path}/vars" if path else "vars"), key, value)

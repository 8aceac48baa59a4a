"""keras.saving.KerasFileEditor: open a ``.keras`` archive or a ``.weights.h5`` file, see its weights as a
tree (weight_tree), compare it with a model, rename, delete or add objects and weights, and save the
result as a ``.weights.h5`` file, so that old weights can follow a model whose architecture changed.

Edits change the tree in memory only, and check everything before they change anything: an edit that
fails leaves the tree as it was.  save() is atomic (h5_layouts.atomic_h5).  The printed text is Keras
3.15's, without its colours.  Where Keras 3.15's editor goes wrong, this one does not: a nested
model's weights are part of the tree (Keras leaves them out, and loses them when it saves), and a bare
name is ambiguous only when it really occurs twice.
"""
import io
import json
import os

import h5py
import numpy as np

from mlcore import models  # noqa: F401  (first: mlcore.models imports keras_archive, which imports it)

from .keras_archive import CONFIG, METADATA, WEIGHTS, read_members
from .weight_tree import model_weight_tree, read_weight_tree, write_weight_tree


class KerasFileEditor:
    """Inspects, edits and resaves a Keras weights file.

    ```python
    editor = KerasFileEditor("my_model.keras")
    editor.summary()                                     # the weights, as a tree
    editor.delete_object("layers/dense_2")
    editor.add_object("layers/einsum_dense", weights={"0": kernel, "1": bias})
    editor.compare(new_model)                            # {"status": "success", ...}
    editor.save("edited.weights.h5")                     # new_model.load_weights("edited.weights.h5")
    ```
    """

    def __init__(self, filepath):
        self.filepath = filepath
        self.metadata = self.config = None
        path = os.fspath(filepath)
        if not path.endswith((".keras", ".weights.h5")):
            raise ValueError("Invalid filename: expected a `.keras` `.weights.h5` extension. "
                             f"Received: filepath={filepath}")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"KerasFileEditor: no such file: {path!r}")
        source = path
        if path.endswith(".keras"):
            config, metadata, weights = read_members(path, CONFIG, METADATA, WEIGHTS)
            self.config, self.metadata = _json(path, CONFIG, config), _json(path, METADATA, metadata)
            source = io.BytesIO(weights)
        try:
            h5file = h5py.File(source, "r")
        except OSError as err:
            raise ValueError(f"{path!r} has no readable HDF5 weights ({err})") from None
        with h5file:
            self.weights_dict, self.object_metadata = read_weight_tree(h5file)
        print(f"Keras model file '{self.filepath}'")
        if self.metadata is not None:
            print(f"Saved with Keras {self.metadata.get('keras_version')} - date: {self.metadata.get('date_saved')}")

    def summary(self):
        """Prints the file's weights as a tree: objects, and each weight's shape and dtype."""
        print("Weights structure")
        for line in _tree_lines(self.weights_dict, prefix="  ", first=True):
            print(line)

    def compare(self, reference_model):
        """Lists every difference between the file and ``reference_model``'s weights (a missing
        object or weight, a shape mismatch) and returns {"status": "success" or "error", "error_count",
        "match_count"}."""
        print("Running comparison")
        reference, checked = model_weight_tree(reference_model), set()
        errors, matches = _compare(self.weights_dict, reference, "", ("saved file", "reference model"), checked)
        reverse_errors, _ = _compare(reference, self.weights_dict, "", ("reference model", "saved file"), checked)
        errors += reverse_errors
        print("─────────────────────")
        if errors:
            print(f"Found {errors} error{_plural(errors)}: saved file is not compatible with the reference model")
        else:
            print("Comparison successful: saved file is compatible with the reference model")
            print(f"    Found {matches} matching weight{_plural(matches)}")
        return {"status": "error" if errors else "success", "error_count": errors, "match_count": matches}

    def rename_object(self, object_name, new_name):
        """Renames an object (a layer): object_name is its name ("dense_2") or path ("layers/dense_2"),
        new_name a leaf name."""
        if "/" in new_name:
            raise ValueError("Argument `target_name` should be a leaf name, not a full path name. "
                             f"Received: target_name='{new_name}'")
        parent, key = self._locate(object_name)
        parent[new_name] = parent.pop(key)

    def delete_object(self, object_name):
        """Removes an object (a layer), by name or path."""
        parent, key = self._locate(object_name)
        del parent[key]

    def add_object(self, object_path, weights):
        """Adds an object at object_path ("layers/dense_2"), whose parent must exist, with weights
        {"0": kernel, "1": bias, ...}."""
        arrays = _weight_arrays(weights)
        *parents, leaf = object_path.split("/")
        parent = self.weights_dict
        for part in parents:
            parent = parent.get(part)
            if not isinstance(parent, dict):
                raise ValueError(f"Path '{'/'.join(parents)}' not found in model.")
        parent[leaf] = arrays

    def delete_weight(self, object_name, weight_name):
        """Removes one weight ("0") from an object, by the object's name or path."""
        weights = self._object(object_name)
        if weight_name not in weights:
            raise ValueError(f"Weight {weight_name} not found in object {object_name}. "
                             f"Weights found: {list(weights.keys())}")
        del weights[weight_name]

    def add_weights(self, object_name, weights):
        """Adds weights {"1": bias, ...} to an existing object, by the object's name or path."""
        arrays = _weight_arrays(weights)
        self._object(object_name).update(arrays)

    def save(self, filepath):
        """Writes the edited weights to a ``.weights.h5`` file, atomically, as Keras 3 lays them out."""
        path = os.fspath(filepath)
        if not path.endswith(".weights.h5"):
            raise ValueError("Invalid `filepath` argument: expected a `.weights.h5` extension. "
                             f"Received: filepath={filepath}")
        write_weight_tree(path, self.weights_dict)

    def resave_weights(self, filepath):
        """The same as save(filepath)."""
        self.save(filepath)

    def _object(self, object_name):
        parent, key = self._locate(object_name)
        if not isinstance(parent[key], dict):
            raise ValueError(f"'{object_name}' is a weight, not an object: give the object that holds it")
        return parent[key]

    def _locate(self, name):
        """(the dict holding the named entry, its key): a path is followed from the root, a bare name
        must occur exactly once anywhere in the tree."""
        if "/" in name:
            *parents, leaf = name.split("/")
            parent = self.weights_dict
            for part in parents:
                parent = parent.get(part) if isinstance(parent, dict) else None
            if not isinstance(parent, dict) or leaf not in parent:
                raise ValueError(f"Path '{name}' not found in model.")
            return parent, leaf
        holders = list(_holders(self.weights_dict, name))
        if len(holders) > 1:
            raise ValueError(f"Name '{name}' occurs more than once in the model; try passing a complete path")
        if not holders:
            raise ValueError(f"Source name '{name}' does not appear in the model. "
                             "Use `editor.summary()` to list all objects.")
        return holders[0], name


def _json(path, member, data):
    try:
        return json.loads(data)
    except ValueError as err:
        raise ValueError(f"{path!r} is not a Keras .keras archive: its {member} is not JSON ({err})") from None


def _holders(tree, name):
    """Every dict in the tree that has the key ``name``."""
    if name in tree:
        yield tree
    for value in tree.values():
        if isinstance(value, dict):
            yield from _holders(value, name)


def _weight_arrays(weights):
    """{weight name: numpy array}, or a ValueError saying which entry is not one."""
    if not isinstance(weights, dict):
        raise ValueError("Argument `weights` should be a dict where keys are weight names (usually '0', '1', "
                         f"etc.) and values are NumPy arrays. Received: type(weights)={type(weights)}")
    arrays = {}
    for key, value in weights.items():
        array = np.asarray(value)
        if not isinstance(key, str) or "/" in key or array.dtype.kind not in "biufcS":
            raise ValueError(f"Argument `weights`: entry {key!r} should map a weight name (a string without "
                             f"'/') to a numeric NumPy array; received a value of type {type(value).__name__}")
        arrays[key] = array
    return arrays


def _compare(target, reference, path, names, checked, errors=0, matches=0):
    """(errors, matches) after looking up every entry of ``reference`` in ``target``, printing each error;
    names = (target's name, reference's name).  A path reported once (``checked``) is not reported again
    by the reverse comparison.  The totals are counted as Keras 3.15 counts them, so that both libraries
    report the same numbers: a sub-object's totals start from the running ones and are added to them."""
    target_name, reference_name = names
    for key, value in reference.items():
        inner = f"{path}/{key}"
        if inner in checked:
            continue
        if key not in target or isinstance(target[key], dict) != isinstance(value, dict):
            errors += 1
            checked.add(inner)
            kind = "Object" if isinstance(value, dict) else "Weight"
            print(f"...{kind} {inner} present in {reference_name}, missing from {target_name}")
            if isinstance(value, dict):
                print(f"    In {reference_name}, {inner} contains the following keys: {list(value.keys())}")
        elif isinstance(value, dict):
            sub_errors, sub_matches = _compare(target[key], value, inner, names, checked, errors, matches)
            errors, matches = errors + sub_errors, matches + sub_matches
        elif np.shape(target[key]) != np.shape(value):
            errors += 1
            checked.add(inner)
            print(f"...Weight shape mismatch for {inner}\n    In {reference_name}: shape={np.shape(value)}\n"
                  f"    In {target_name}: shape={np.shape(target[key])}")
        else:
            matches += 1
    return errors, matches


def _tree_lines(tree, prefix, first):
    """The summary's lines: "> " before the very first entry, then box-drawing branches."""
    items = list(tree.items())
    for k, (key, value) in enumerate(items):
        last = k == len(items) - 1
        connector = "> " if first else "└─ " if last else "├─ "
        first = False
        if isinstance(value, dict):
            yield f"{prefix}{connector}{key}"
            yield from _tree_lines(value, prefix + ("    " if last else "│   "), first=False)
        else:
            yield f"{prefix}{connector}{key}: shape={np.shape(value)}, dtype={np.asarray(value).dtype}"


def _plural(count):
    return "" if count == 1 else "s"

"""theano.misc.pkl_utils: pickle an object into a zip file whose arrays are separate .npy files.

    with open("model.zip", "wb") as f:
        dump((w, b, np.array(2)), f)              # w, b shared variables named "w" and "b"
    np.load("model.zip")["w"]                     # the arrays read without mlcore, as numpy's npz
    with open("model.zip", "rb") as f:
        w, b, two = load(f)

The pickle itself is the zip's "pkl" entry; each numpy array in the object is written once, under
the name of the shared variable that holds it (numbered on repeats: w, w_2) or as array_0, array_1.
"""
import io
import pickle
import zipfile
from collections import defaultdict

import numpy as np

from mlcore.graph.basic import SharedVariable


class StripPickler(pickle.Pickler):
    """A Pickler that drops the tags Theano's drops (trace, test_value, and extra_tag_to_remove)
    from the variables it pickles, for small pickled graphs."""

    def __init__(self, file, protocol=0, extra_tag_to_remove=None):
        super().__init__(file, protocol)
        self.tag_to_remove = ["trace", "test_value", *(extra_tag_to_remove or ())]

    def persistent_id(self, obj):
        tag = getattr(obj, "tag", None)
        if isinstance(tag, dict):
            for name in self.tag_to_remove:
                tag.pop(name, None)
        return None


class PersistentNdarrayID:
    """Writes each numpy array to the zip as its own .npy file and pickles a reference to it."""

    def __init__(self, zip_file):
        self.zip_file, self.count, self.seen = zip_file, 0, {}

    def _resolve_name(self, array):
        name = "array_%d" % self.count
        self.count += 1
        return name

    def __call__(self, obj):
        if type(obj) is not np.ndarray:
            return None
        if id(obj) not in self.seen:
            name = self._resolve_name(obj)
            with self.zip_file.open(name, "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, obj)
            self.seen[id(obj)] = (obj, "ndarray." + name)       # the array kept alive: its id stays its own
        return self.seen[id(obj)][1]


class PersistentSharedVariableID(PersistentNdarrayID):
    """Names a shared variable's array after the variable.  A shared variable pickles its value as
    the first array of its state, so the first array after a named variable takes its name.
    allow_unnamed=False refuses unnamed shared variables, allow_duplicates=False two of one name."""

    def __init__(self, zip_file, allow_unnamed=True, allow_duplicates=True):
        super().__init__(zip_file)
        self.allow_unnamed, self.allow_duplicates = allow_unnamed, allow_duplicates
        self.name_counts, self.variables_seen, self.pending_name = defaultdict(int), set(), None

    def _resolve_name(self, array):
        name, self.pending_name = self.pending_name, None
        if name is None:
            return super()._resolve_name(array)
        self.name_counts[name] += 1
        if self.name_counts[name] > 1:
            if not self.allow_duplicates:
                raise ValueError("multiple shared variables with the name `%s` found" % name)
            name = "%s_%d" % (name, self.name_counts[name])
        return name

    def __call__(self, obj):
        if isinstance(obj, SharedVariable) and id(obj) not in self.variables_seen:
            self.variables_seen.add(id(obj))
            if obj.name == "pkl":
                raise ValueError("can't pickle a shared variable named `pkl`: the zip's pickle has that name")
            if not obj.name and not self.allow_unnamed:
                raise ValueError("unnamed shared variable, %s" % (obj,))
            self.pending_name = obj.name or None
        return super().__call__(obj)


class PersistentNdarrayLoad:
    """Reads the arrays a PersistentNdarrayID wrote (each once, however often it is referred to)."""

    def __init__(self, zip_file):
        self.zip_file, self.cache = zip_file, {}

    def __call__(self, persistent_id):
        kind, name = persistent_id.split(".", 1)
        if kind != "ndarray":
            raise pickle.UnpicklingError("unknown persistent id %r in the zip" % persistent_id)
        if name not in self.cache:
            with self.zip_file.open(name) as entry:
                self.cache[name] = np.lib.format.read_array(entry)
        return self.cache[name]


def dump(obj, file_handler, protocol=pickle.DEFAULT_PROTOCOL, persistent_id=PersistentSharedVariableID):
    """Pickle obj into the zip file file_handler (opened "wb"), its arrays as .npy entries."""
    with zipfile.ZipFile(file_handler, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zip_file:
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, protocol=protocol)
        pickler.persistent_id = persistent_id(zip_file)
        pickler.dump(obj)
        zip_file.writestr("pkl", buffer.getvalue())


def load(f, persistent_load=PersistentNdarrayLoad):
    """The object dump wrote to f (a zip file opened "rb")."""
    with zipfile.ZipFile(f, "r") as zip_file:
        unpickler = pickle.Unpickler(io.BytesIO(zip_file.read("pkl")))
        unpickler.persistent_load = persistent_load(zip_file)
        return unpickler.load()

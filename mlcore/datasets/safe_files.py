"""Reading downloaded data files without running code from them.

Pickles can call any importable function while they load, so a tampered CIFAR batch or
IMDB `.npz` could run code. These readers let through only what the original files use:
plain containers (built by pickle's own opcodes) and numpy arrays; anything else stops the
load with an error naming the file.
"""

import io
import pickle
import zipfile

import numpy as np

# What rebuilding numpy arrays and scalars needs (numpy < 2 writes numpy.core, numpy 2
# numpy._core), plus _codecs.encode, which Python 3 writes for bytes at protocol 2.
_ALLOWED = frozenset({
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("_codecs", "encode"),
})


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler that refuses every global outside `_ALLOWED`, naming `fname`."""

    def __init__(self, file, fname, **kwargs):
        super().__init__(file, **kwargs)
        self.fname = fname

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"Refusing to load `{module}.{name}` from {self.fname}: a data set file holds only "
            "containers and numpy arrays, so this one is corrupted or malicious.")


def load_pickle(path, encoding="bytes"):
    """The object pickled in `path` (Python 2's str read as bytes, as CIFAR's batches need)."""
    with open(path, "rb") as f:
        return RestrictedUnpickler(f, path, encoding=encoding).load()


def load_npz(path):
    """`{name: array}` for every array in the `.npz` at `path`. Numeric arrays are read with
    pickling off; object arrays (ragged sequences) through RestrictedUnpickler."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.endswith(".npy"):
                fp = io.BytesIO(archive.read(member))
                arrays[member[:-len(".npy")]] = _read_npy(fp, f"{path} ({member})")
    return arrays


def _read_npy(fp, fname):
    version = np.lib.format.read_magic(fp)
    # format 3.0 differs from 2.0 only in the header's text encoding
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
        np.lib.format.read_array_header_2_0
    _, _, dtype = read_header(fp)
    if dtype.hasobject:
        return RestrictedUnpickler(fp, fname).load()
    fp.seek(0)
    return np.lib.format.read_array(fp, allow_pickle=False)

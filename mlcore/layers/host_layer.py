"""Preprocessing layers that run on the host, in numpy: Hashing, StringLookup and TextVectorization.

Keras 3 runs these with TensorFlow, eagerly, whatever the backend: on jax they cannot sit inside a compiled model
and are applied to the data before it (in a tf.data pipeline, or on arrays).  mlcore's graphs have no string
dtype either, so here they take numpy arrays or lists (of str, bytes or ints) and return numpy arrays; called on
a symbolic tensor they say so.  Their encodings are Keras's (its TensorFlow bincount path), computed per sample
with one bincount, which never builds the (tokens, vocabulary) one-hot matrix a graph would.
"""
import numpy as np

from mlcore.graph.basic import Variable
from mlcore.layers.base import Layer
from mlcore.layers.structure import flatten


class HostLayer(Layer):
    """A layer whose call() takes and returns numpy data, outside any graph."""

    supports_jit = False      # Keras's flag: it cannot run inside a compiled program

    def __call__(self, inputs, *args, **kwargs):
        if any(isinstance(t, Variable) for t in flatten(inputs)):
            raise ValueError("%s '%s' runs on the host, on numpy arrays or lists (as Keras runs it with TensorFlow, "
                             "outside a compiled model), so it cannot be called on the symbolic tensor %s: apply it "
                             "to the data before the model, e.g. in the dataset's pipeline."
                             % (type(self).__name__, self.name, inputs))
        kwargs.pop("training", None)
        self.built = True
        return self.call(inputs, *args, **kwargs)


def as_strings(data, encoding="utf-8"):
    """Text data (str, bytes, a nested list or an array of them) as a numpy str array, bytes decoded."""
    array = np.asarray(data)
    if array.dtype.kind == "U":
        return array
    if array.size == 0:
        return array.astype(str)
    if array.dtype.kind == "S":
        return np.char.decode(array, encoding)
    if array.dtype.kind == "O":
        decoded = [v.decode(encoding) if isinstance(v, bytes) else v for v in array.reshape(-1)]
        if all(isinstance(v, str) for v in decoded):
            return np.array(decoded, dtype=str).reshape(array.shape)
    raise ValueError("Expected strings (str or bytes); received an array of dtype %s and shape %s"
                     % (array.dtype, array.shape))


def count_per_row(values, rows, num_rows, depth, binary=False):
    """(num_rows, depth) int64: how often each of 0..depth-1 occurs among the values of each row (rows[k] is the
    row of values[k]); binary: 1 where it occurs at all.  Values outside [0, depth) count nowhere: that is how
    a mask token's entries are dropped."""
    values, rows = np.asarray(values, np.int64).reshape(-1), np.asarray(rows, np.int64).reshape(-1)
    keep = (values >= 0) & (values < depth)
    counts = np.bincount(rows[keep] * depth + values[keep], minlength=num_rows * depth).reshape(num_rows, depth)
    return np.minimum(counts, 1) if binary else counts


def encode_values(indices, output_mode, depth, dtype, layer_name):
    """Indices as Keras encodes them: "int" as they are; "one_hot" a vector per index (a trailing axis of 1
    replaced, a scalar taken as one index); "multi_hot" / "count" a vector per sample: the last axis of a matrix,
    or all of a vector or scalar."""
    indices = np.asarray(indices, np.int64)
    if output_mode == "int":
        return indices.astype(dtype)
    if indices.ndim == 0:
        indices = indices.reshape(1)
    if output_mode == "one_hot":
        if indices.shape[-1] == 1:
            indices = indices[..., 0]
        flat = indices.reshape(-1)
        hot = count_per_row(flat, np.arange(flat.size), flat.size, depth, binary=True)
        return hot.reshape(indices.shape + (depth,)).astype(dtype)
    if indices.ndim > 2:
        raise ValueError("%s: when output_mode is not 'int', the inputs must have rank 1 or 2 (Keras supports "
                         "outputs up to rank 2). Received output_mode=%s and inputs of shape %s"
                         % (layer_name, output_mode, indices.shape))
    samples = indices.reshape(1, -1) if indices.ndim == 1 else indices
    rows = np.repeat(np.arange(len(samples)), samples.shape[1])
    counts = count_per_row(samples, rows, len(samples), depth, binary=output_mode == "multi_hot")
    return (counts[0] if indices.ndim == 1 else counts).astype(dtype)

"""keras.layers.HashedCrossing: the cross of two or more categorical features, hashed into num_bins bins, on
the host (see host_layer).

The bins are tf.sparse.cross_hashed's, which Keras calls: starting from the default hash key, each feature's
fingerprint (FarmHash Fingerprint64 of a string's bytes; an integer's own 64 bits) is chained in with
FingerprintCat64, in the order of the inputs, and the result taken modulo num_bins.
"""
import numpy as np

from mlcore import config
from mlcore.layers.host_layer import HostLayer
from mlcore.layers.preprocessing_encoding import refuse_sparse
from mlcore.utils.string_hashing import CROSS_HASH_KEY, fingerprint64, fingerprint_cat64

OUTPUT_MODES = ("int", "one_hot")


def _fingerprints(values):
    """The uint64 each of a flat array's features is crossed as: strings fingerprinted, integers as they are
    (two's complement), as TensorFlow's HashCrosser reads them."""
    if values.dtype.kind in "iu":
        return values.astype(np.int64).view(np.uint64)
    return fingerprint64(values.tolist())


def _is_text(values):
    return values.dtype.kind in "US" or (values.dtype.kind == "O" and all(isinstance(v, (str, bytes))
                                                                          for v in values.reshape(-1)))


class HashedCrossing(HostLayer):
    """The bin of each sample's tuple of features, hash((f1, f2, ...)) % num_bins: inputs a list or tuple of at
    least two arrays of integers or strings, all of shape (), (batch,) or (batch, 1).  output_mode "int" gives
    the bins (int64 by default) in the inputs' shape; "one_hot" a num_bins vector for each (floatx)."""

    def __init__(self, num_bins, output_mode="int", sparse=False, name=None, dtype=None, **kwargs):
        if output_mode == "int" and dtype is None:
            dtype = "int64"
        super().__init__(name=name, dtype=dtype or config.floatx(), **kwargs)
        refuse_sparse("HashedCrossing", sparse)
        if output_mode not in OUTPUT_MODES:
            raise ValueError("Invalid value for argument `output_mode`. Expected one of %s. Received: "
                             "output_mode=%s" % (OUTPUT_MODES, output_mode))
        if not isinstance(num_bins, (int, np.integer)) or num_bins <= 0:
            raise ValueError("HashedCrossing: `num_bins` must be a positive integer. Received: num_bins=%r"
                             % (num_bins,))
        self.num_bins, self.output_mode, self.sparse = int(num_bins), output_mode, sparse

    def _checked(self, inputs):
        """The inputs as numpy arrays, after Keras's checks on their number, shapes and dtypes."""
        if not isinstance(inputs, (list, tuple)):
            raise ValueError("`HashedCrossing` should be called on a list or tuple of inputs. Received: inputs=%s"
                             % (inputs,))
        if len(inputs) < 2:
            raise ValueError("`HashedCrossing` should be called on at least two inputs. Received: inputs=%s"
                             % (inputs,))
        arrays = [np.asarray(x) for x in inputs]
        shape = arrays[0].shape
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1):
            raise ValueError("All `HashedCrossing` inputs should have shape `()`, `(batch_size)` or "
                             "`(batch_size, 1)`. Received: inputs=%s" % (inputs,))
        if any(a.shape != shape for a in arrays[1:]):
            raise ValueError("All `HashedCrossing` inputs should have equal shape. Received shapes: %s"
                             % ([a.shape for a in arrays],))
        if not all(a.dtype.kind in "iu" or _is_text(a) for a in arrays):
            raise ValueError("All `HashedCrossing` inputs should have an integer or string dtype. Received "
                             "dtypes: %s" % ([str(a.dtype) for a in arrays],))
        return arrays

    def call(self, inputs):
        arrays = self._checked(inputs)
        crossed = np.full(arrays[0].size, CROSS_HASH_KEY, dtype=np.uint64)
        for values in arrays:
            crossed = fingerprint_cat64(crossed, _fingerprints(values.reshape(-1)))
        bins = (crossed % np.uint64(self.num_bins)).astype(np.int64).reshape(arrays[0].shape)
        if self.output_mode == "int":
            return bins.astype(self.dtype)
        if bins.ndim > 1:
            bins = bins[..., 0]
        return (bins[..., None] == np.arange(self.num_bins)).astype(self.dtype)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2 or not all(isinstance(s, tuple) for s in input_shape):
            raise ValueError("Expected as input a list/tuple of 2 tensors. Received input_shape=%s" % (input_shape,))
        first = tuple(input_shape[0])
        if first[-1:] != tuple(input_shape[1])[-1:]:
            raise ValueError("Expected the two input tensors to have identical shapes. Received input_shape=%s"
                             % (input_shape,))
        if self.output_mode == "int":
            return first
        return (first[:-1] if len(first) > 1 and first[-1] == 1 else first) + (self.num_bins,)

    def get_config(self):
        return {**super().get_config(), "num_bins": self.num_bins, "output_mode": self.output_mode,
                "sparse": self.sparse}

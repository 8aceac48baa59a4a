"""keras.layers.Hashing: strings or integers to bins by a stable hash, on the host (see host_layer).

As TensorFlow hashes them: FarmHash Fingerprint64 of the UTF-8 bytes modulo num_bins, or with a salt SipHash-2-4
keyed by (salt[0], salt[1]); integers hash as their decimal strings, floats as the integers they truncate to.
With a mask_value, bin 0 holds the mask and the others share num_bins - 1 bins.
"""
import numpy as np

from mlcore import config
from mlcore.layers.host_layer import HostLayer, encode_values
from mlcore.layers.index_lookup import checked_salt
from mlcore.layers.preprocessing_encoding import refuse_sparse
from mlcore.utils.string_hashing import hash_buckets

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")


def as_hash_strings(values):
    """The strings TensorFlow hashes for each value (tf.strings.as_string of numbers), flat."""
    kind = values.dtype.kind
    flat = values.reshape(-1)
    if kind == "f":
        flat = flat.astype(np.int64)
    if kind == "b":
        return ["true" if v else "false" for v in flat.tolist()]
    if kind in "iuf":
        return [str(v) for v in flat.tolist()]
    return flat.tolist()


class Hashing(HostLayer):
    """Bins of a stable hash of each value; output_mode "one_hot" / "multi_hot" / "count" encodes them over
    num_bins (float32 by default, int64 for "int").  Called on arrays or lists, returns numpy."""

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False, **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else config.floatx()
        super().__init__(**kwargs)
        if num_bins is None or num_bins <= 0:
            raise ValueError("The `num_bins` for `Hashing` cannot be `None` or non-positive values. Received: "
                             "num_bins=%s." % (num_bins,))
        if output_mode == "int" and self.dtype_policy.name not in ("int32", "int64"):
            raise ValueError("When `output_mode=\"int\"`, `dtype` should be an integer type, 'int32' or 'in64'. "
                             "Received: dtype=%s" % (kwargs["dtype"],))
        if output_mode not in OUTPUT_MODES:
            raise ValueError("Invalid value for argument `output_mode`. Expected one of %s. Received: "
                             "output_mode=%s" % (OUTPUT_MODES, output_mode))
        if sparse and output_mode == "int":
            raise ValueError("`sparse` may only be true if `output_mode` is `\"one_hot\"`, `\"multi_hot\"`, or "
                             "`\"count\"`. Received: sparse=%s and output_mode=%s" % (sparse, output_mode))
        refuse_sparse("Hashing", sparse)
        self.num_bins, self.mask_value, self.output_mode, self.sparse = num_bins, mask_value, output_mode, sparse
        self.salt = checked_salt(salt, "Hashing", expected="a tuple of size 2 integers")

    def call(self, inputs):
        values = np.asarray(inputs)
        if self.output_mode == "one_hot" and values.ndim and values.shape[-1] == 1:
            values = values[..., 0]
        return encode_values(self._bins(values), self.output_mode, self.num_bins, self.dtype, "Hashing")

    def _bins(self, values):
        """Each value's bin, int64, shaped as values."""
        hash_bins, masked = self.num_bins, None
        if self.mask_value is not None and hash_bins > 1:
            hash_bins -= 1
            masked = np.broadcast_to(values == self.mask_value, values.shape)
        bins = hash_buckets(as_hash_strings(values), hash_bins, self.salt).reshape(values.shape)
        if masked is not None:
            bins = np.where(masked, 0, bins + 1)
        return bins

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        if len(input_shape) == 0:
            return (self.num_bins,)
        return tuple(input_shape[:-1]) + (self.num_bins,)

    def get_config(self):
        return {**super().get_config(), "num_bins": self.num_bins, "salt": self.salt, "mask_value": self.mask_value,
                "output_mode": self.output_mode, "sparse": self.sparse}

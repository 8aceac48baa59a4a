"""Normalization, Keras's preprocessing layer: (x - mean) / sqrt(variance), with a mean and a variance for each
index of `axis`, either given at construction or learned from data by adapt() before training."""
import math

import numpy as np

from mlcore import config, ops
from mlcore.layers.base import Layer


class Normalization(Layer):
    """axis: an int, a tuple of ints, or None (one scalar mean and variance); the axes kept, the others (the
    batch's among them) reduced.  mean and variance, given together, broadcast to the kept axes' shape, aligned
    from the right; otherwise adapt() learns them into the non-trainable weights mean, variance and count
    (count stays 0, as in Keras 3, which keeps it for files of older Keras).  invert=True maps normalized values
    back.  Both divide or multiply by max(sqrt(variance), epsilon), as Keras, so a constant feature stays
    finite.  Each sample's output depends on it alone, and on no training."""
    supports_masking = True
    rowwise = True

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = () if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
        self.input_mean = mean
        self.input_variance = variance
        self.invert = invert
        if (mean is None) != (variance is None):
            raise ValueError("Normalization '%s': when setting values directly, both `mean` and `variance` must "
                             "be set. Received: mean=%r and variance=%r" % (self.name, mean, variance))
        if mean is not None and np.shape(mean) != np.shape(variance):
            raise ValueError("Normalization '%s': when setting values directly, `mean` and `variance` must have "
                             "the same shape. Received: mean shape %s and variance shape %s"
                             % (self.name, np.shape(mean), np.shape(variance)))
        if mean is not None and np.ndim(mean) > len(self.axis):
            raise ValueError("Normalization '%s': the rank of `mean` must be less than or equal to the number of "
                             "axes (%d). Received: mean shape %s for axis %s"
                             % (self.name, len(self.axis), np.shape(mean), self.axis))

    def build(self, input_shape):
        ndim = len(input_shape)
        if any(not -ndim <= a < ndim for a in self.axis):
            raise ValueError("Normalization '%s': All `axis` values must be in the range [-ndim, ndim). Received "
                             "inputs of shape %s (ndim=%d), while axis=%s" % (self.name, input_shape, ndim, self.axis))
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        unknown = [d for d in self._keep_axis if input_shape[d] is None]
        if unknown:
            raise ValueError("Normalization '%s': All `axis` values to be kept must have a known shape. Received "
                             "axis=%s, inputs.shape=%s, with unknown axis at index %d"
                             % (self.name, self.axis, input_shape, unknown[0]))
        self._build_input_shape = tuple(input_shape)
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = [input_shape[d] if d in self._keep_axis else 1 for d in range(ndim)]
        if self.input_mean is None:
            shape = tuple(input_shape[d] for d in self._keep_axis)
            self.adapt_mean = self.add_weight(shape, "zeros", trainable=False, name="mean")
            self.adapt_variance = self.add_weight(shape, "ones", trainable=False, name="variance")
            self.count = self.add_weight((), "zeros", dtype="int32", trainable=False, name="count")
        else:
            self.mean, self.variance = self._broadcast(self.input_mean), self._broadcast(self.input_variance)
        self.built = True

    def _broadcast(self, value):
        """A given mean or variance, its dims aligned with the kept axes from the right, broadcast to them."""
        value = np.asarray(value, dtype=self.compute_dtype)
        aligned = [1] * len(self._broadcast_shape)
        for axis, size in zip(reversed(self._keep_axis), reversed(value.shape)):
            aligned[axis] = size
        try:
            return np.broadcast_to(value.reshape(aligned), self._broadcast_shape)
        except ValueError:
            raise ValueError("Normalization '%s': a mean or variance of shape %s does not broadcast to the kept "
                             "axes %s of inputs of shape %s" % (self.name, value.shape, self._keep_axis,
                                                                self._build_input_shape)) from None

    def call(self, inputs):
        if self.input_mean is None:
            mean = ops.reshape(self.adapt_mean, self._broadcast_shape)
            variance = ops.reshape(self.adapt_variance, self._broadcast_shape)
        else:
            mean, variance = self.mean, self.variance
        inputs = ops.cast(inputs, self.compute_dtype)
        std = ops.maximum(ops.sqrt(variance), config.epsilon())
        return mean + inputs * std if self.invert else (inputs - mean) / std

    def adapt(self, data):
        """Learns the mean and variance of `data`: a numpy array (or an array-like with a shape, such as a jax
        array), or an iterable of batches (a PyDataset, a generator, a list of arrays; a batch may be an
        (x, y) or (x, y, sample_weight) tuple, whose x counts).  Batches are combined as they come (the
        pooled mean and variance of all the data, as Keras's adapt), in float64, so data need not fit in
        memory.  The layer is built from the first batch's shape if it is not built yet."""
        if self.input_mean is not None:
            raise ValueError("Normalization '%s': adapt() learns the mean and variance, but this layer was given "
                             "them at construction (mean=%r, variance=%r)"
                             % (self.name, self.input_mean, self.input_variance))
        total_mean, total_variance, total_count = 0.0, 0.0, 0
        for batch in self._batches(data):
            count = math.prod(batch.shape[d] for d in self._reduce_axis)
            mean, variance = batch.mean(axis=self._reduce_axis), batch.var(axis=self._reduce_axis)
            total_count += count
            weight = count / total_count
            new_mean = total_mean * (1 - weight) + mean * weight
            # the pooled variance: each part's spread plus its mean's distance from the new mean
            total_variance = ((total_variance + (total_mean - new_mean) ** 2) * (1 - weight)
                              + (variance + (mean - new_mean) ** 2) * weight)
            total_mean = new_mean
        self.adapt_mean.set_value(np.asarray(total_mean, dtype=self.adapt_mean.dtype))
        self.adapt_variance.set_value(np.asarray(total_variance, dtype=self.adapt_variance.dtype))

    def _batches(self, data):
        """data as float64 arrays, one per batch, checked against (or building) the layer's input shape."""
        if ops.is_tensor(data):         # a tensor of values (ops.convert_to_tensor(x)), as Keras adapts one
            data = [ops.convert_to_numpy(data)]
        elif hasattr(data, "shape") and hasattr(data, "__array__"):
            data = [data]
        elif not hasattr(data, "__iter__"):
            raise TypeError("Normalization '%s': adapt() takes a numpy array or an iterable of batches (a "
                            "PyDataset, a generator, a list of arrays); received %s" % (self.name, type(data)))
        empty = True
        for batch in data:
            batch = batch[0] if isinstance(batch, tuple) else batch
            if not hasattr(batch, "shape"):
                raise TypeError("Normalization '%s': adapt() expects batches that are arrays with a `.shape`; "
                                "received an element of type %s" % (self.name, type(batch).__name__))
            if not self.built:
                self.build(tuple(batch.shape))
            self._check_batch_shape(tuple(batch.shape))
            empty = False
            yield np.asarray(batch, dtype="float64")
        if empty:
            raise ValueError("Normalization '%s': adapt() received no data (an empty iterable of batches); pass an "
                             "array or a non-empty iterable of arrays" % self.name)

    def _check_batch_shape(self, shape):
        built = self._build_input_shape
        if len(shape) != len(built) or any(shape[d] != built[d] for d in self._keep_axis):
            raise ValueError("Normalization '%s': the layer was built with input_shape=%s, but adapt() is being "
                             "called with data with an incompatible shape, data.shape=%s" % (self.name, built, shape))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": np.array(self.input_mean).tolist(), "variance": np.array(self.input_variance).tolist()}

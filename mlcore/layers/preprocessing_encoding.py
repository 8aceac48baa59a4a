"""Keras's preprocessing layers for integer and binned features: CategoryEncoding and Discretization.

Both end in encode_categorical, as Keras's do, so a Discretization's bins come out in any of
CategoryEncoding's modes.  Inputs must lie in [0, num_tokens): the graph cannot check data, and an index
out of range encodes as zeros (as Keras on jax).
"""
import itertools

import numpy as np

from mlcore import ops
from mlcore.graph.ops.along_axis import searchsorted
from mlcore.layers.base import Layer
from mlcore.layers.quantile_summary import bin_boundaries
from mlcore.ops.core import convert_to_tensor as as_graph_tensor
from mlcore.layers.structure import flatten

OUTPUT_MODES = ("one_hot", "multi_hot", "count")


def encode_categorical(indices, output_mode, depth, dtype, count_weights=None):
    """Integer indices as Keras encodes them: "one_hot" a vector per index (a trailing axis of 1 replaced),
    "multi_hot" / "count" one vector per sample (the last axis, or the whole input if 1-d), with a 1 for
    each index present / the number of times (or the summed count_weights) each appears."""
    if output_mode == "int":
        return ops.cast(indices, dtype)
    if indices.ndim == 0:
        indices = ops.expand_dims(indices, -1)
    if output_mode == "one_hot":
        if indices.ndim > 1 and indices.type.shape[-1] == 1:
            indices = ops.squeeze(indices, -1)
        return ops.one_hot(indices, depth, dtype=dtype)
    hot = ops.one_hot(indices, depth, dtype=dtype)
    axis = 1 if indices.ndim > 1 else 0
    if output_mode == "multi_hot":
        return ops.max(hot, axis=axis)
    if count_weights is not None:
        hot = hot * ops.expand_dims(ops.cast(count_weights, dtype), -1)
    return ops.sum(hot, axis=axis)


def check_output_mode(layer_name, output_mode, allowed):
    """Keras's validate_string_arg, in its words."""
    if not isinstance(output_mode, str) or output_mode not in allowed:
        raise ValueError("Unknown value for `output_mode` argument of %s. Allowed values are: %s. Received: "
                         "output_mode=%s" % (layer_name, allowed, output_mode))


def refuse_sparse(layer_name, sparse):
    if sparse:
        raise ValueError("%s: mlcore tensors are dense; sparse=True is not supported" % layer_name)


class ListsAsTensors(Layer):
    """A data layer that reads a (nested) list of numbers as one tensor, layer([3, 2, 0, 1]), as Keras's
    data layers do (other layers take a list as several inputs)."""

    def __call__(self, inputs, *args, **kwargs):
        if isinstance(inputs, (list, tuple)) and all(isinstance(x, (bool, int, float)) for x in flatten(inputs)):
            inputs = np.asarray(inputs)
        return super().__call__(inputs, *args, **kwargs)


class CategoryEncoding(ListsAsTensors):
    """Integer features (0 <= value < num_tokens) as one-hot, multi-hot or count vectors; count mode sums
    count_weights (same shape as the inputs) instead of ones.  output_mode="binary" is Keras 2's
    "multi_hot"."""

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        output_mode = "multi_hot" if output_mode == "binary" else output_mode
        if output_mode not in OUTPUT_MODES:
            raise ValueError("CategoryEncoding: Unknown arg for output_mode: %s" % (output_mode,))
        refuse_sparse("CategoryEncoding", sparse)
        if num_tokens is None:
            raise ValueError("CategoryEncoding: num_tokens must be set to use this layer. If the number of tokens "
                             "is not known beforehand, use the IntegerLookup layer instead.")
        if num_tokens < 1:
            raise ValueError("CategoryEncoding: `num_tokens` must be >= 1. Received: num_tokens=%r." % (num_tokens,))
        self.num_tokens = num_tokens
        self.output_mode = output_mode
        self.sparse = sparse

    def call(self, inputs, count_weights=None):
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError("CategoryEncoding: `count_weights` is not used when `output_mode` is not "
                                 "'count'. Received output_mode=%r" % self.output_mode)
            count_weights = as_graph_tensor(count_weights)
            shapes = count_weights.type.shape, inputs.type.shape
            if len(shapes[0]) != len(shapes[1]) or any(None not in (a, b) and a != b for a, b in zip(*shapes)):
                raise ValueError("CategoryEncoding: `count_weights` must have the inputs' shape %s; received "
                                 "shape %s" % (inputs.type.shape, count_weights.type.shape))
        return encode_categorical(inputs, self.output_mode, self.num_tokens, self.dtype, count_weights)

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens, "output_mode": self.output_mode}


class Discretization(ListsAsTensors):
    """Values bucketed by bin_boundaries (bin i holds boundaries[i-1] <= x < boundaries[i], as
    numpy's digitize), the bin index encoded as output_mode says ("int": int32 indices).  With num_bins
    instead, adapt(data) sets the boundaries to the data's quantiles 1/num_bins, ..., (num_bins-1)/num_bins,
    approximated as Keras does (quantile_summary.py): the same batches give the same boundaries."""

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int", sparse=False,
                 dtype=None, name=None):
        super().__init__(dtype=dtype, name=name)
        check_output_mode("Discretization", output_mode, ("int",) + OUTPUT_MODES)
        refuse_sparse("Discretization", sparse)
        if num_bins is not None and num_bins < 0:
            raise ValueError("Discretization: `num_bins` must be greater than or equal to 0. Received: "
                             "`num_bins=%r`" % (num_bins,))
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError("Discretization: Both `num_bins` and `bin_boundaries` should not be set. Received: "
                             "`num_bins=%r` and `bin_boundaries=%r`" % (num_bins, bin_boundaries))
        if num_bins is None and bin_boundaries is None:
            raise ValueError("Discretization: you need to set either `num_bins` or `bin_boundaries`.")
        self.bin_boundaries = None if bin_boundaries is None else list(bin_boundaries)
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = sparse

    def adapt(self, data, steps=None):
        """Boundaries at the quantiles of `data`: an array, or an iterable of batches (the first `steps`)."""
        if self.num_bins is None:
            raise ValueError("Discretization: cannot adapt a Discretization layer that has been initialized "
                             "with `bin_boundaries`, use `num_bins` instead.")
        if hasattr(data, "shape"):
            batches = [data]
        else:       # only the first `steps` batches are read: the iterable may be endless
            batches = list(itertools.islice(data, steps))
        if not sum(np.size(batch) for batch in batches):
            raise ValueError("Discretization: adapt() received no data")
        self.bin_boundaries = bin_boundaries(batches, self.num_bins, self.epsilon)

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError("Discretization '%s': You need to either pass the `bin_boundaries` argument at "
                             "construction time or call `adapt(dataset)` before you can start using the "
                             "`Discretization` layer." % self.name)
        boundaries = np.asarray(self.bin_boundaries, dtype=inputs.dtype if inputs.dtype.startswith("float")
                                else self.dtype)
        bins = searchsorted(boundaries, ops.cast(inputs, boundaries.dtype), side="right")
        return encode_categorical(bins, self.output_mode, len(self.bin_boundaries) + 1, self.output_dtype)

    @property
    def output_dtype(self):
        return "int32" if self.output_mode == "int" else self.compute_dtype

    def compute_output_shape(self, input_shape):
        """As Keras's, also before adapt() (num_bins bins): "int" keeps the shape, "one_hot" adds the bins'
        axis (in place of a last axis of 1), the other modes count over axis 1 (of a rank-1 input: all)."""
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        depth = self.num_bins if self.bin_boundaries is None else len(self.bin_boundaries) + 1
        if self.output_mode == "one_hot":
            replaced = len(input_shape) > 1 and input_shape[-1] == 1
            return (input_shape[:-1] if replaced else input_shape) + (depth,)
        return input_shape[:1] + input_shape[2:] + (depth,) if len(input_shape) > 1 else (depth,)

    def get_config(self):
        return {"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins, "epsilon": self.epsilon,
                "output_mode": self.output_mode, "sparse": self.sparse, "name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        """An adapted layer's config holds both bin_boundaries and num_bins, which __init__ refuses together."""
        config = dict(config)
        boundaries = config.pop("bin_boundaries") if config.get("num_bins") is not None else None
        layer = cls(**config)
        if boundaries is not None:
            layer.bin_boundaries = list(boundaries)
        return layer

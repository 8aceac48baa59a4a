"""Grouped asymmetric quantization (Keras 3's default int4, block_size=128): the rows of a 2-D weight
are cut into groups of block_size along axis 0, and each group of each column gets a scale and a zero
point, so that weights not centred on zero keep their range.  Written with keras.ops, so it runs at once
on arrays and builds graph nodes on symbolic tensors."""
import math

import numpy as np

from mlcore import config, ops


def abs_max_quantize_grouped_with_zero_point(inputs, block_size, value_range=(-8, 7), dtype="int8",
                                             epsilon=config.epsilon(), to_numpy=False):
    """(quantized inputs in dtype, scale (n_groups, columns), zero point (n_groups, columns) in int8)
    for a (rows, columns) input, n_groups = ceil(rows / block_size); q = round(x / scale) + zero, clipped
    to value_range.  A group whose values are all equal gets the range [v - 1, v + 1] unless to_numpy
    (Keras's two implementations differ there, and mlcore follows each)."""
    if to_numpy:
        inputs = ops.convert_to_numpy(inputs)
    inputs = ops.convert_to_tensor(inputs)
    if len(ops.shape(inputs)) != 2:
        raise ValueError("abs_max_quantize_grouped_with_zero_point expects a 2-D (input_dim, output_dim) tensor; "
                         "got shape %s" % (ops.shape(inputs),))
    rows, columns = ops.shape(inputs)
    n_groups = math.ceil(rows / block_size)
    qmin, qmax = value_range
    padded = ops.pad(inputs, [[0, n_groups * block_size - rows], [0, 0]])
    groups = ops.reshape(padded, (n_groups, block_size, columns))
    low, high = ops.min(groups, axis=1, keepdims=True), ops.max(groups, axis=1, keepdims=True)
    if not to_numpy:
        flat = ops.equal(low, high)
        low, high = ops.where(flat, low - 1, low), ops.where(flat, high + 1, high)
    scale = ops.divide(ops.add(ops.subtract(high, low), epsilon), qmax - qmin)
    if not to_numpy:
        scale = ops.where(ops.less_equal(scale, 0), ops.cast(1e-8, ops.dtype(scale)), scale)
    zero = ops.clip(ops.add(ops.round(ops.divide(ops.negative(low), scale)), qmin), qmin, qmax)
    outputs = ops.clip(ops.add(ops.round(ops.divide(groups, scale)), zero), qmin, qmax)
    outputs = ops.cast(ops.reshape(outputs, (n_groups * block_size, columns))[:rows], dtype)
    return outputs, ops.squeeze(scale, axis=1), ops.cast(ops.squeeze(zero, axis=1), "int8")


def dequantize_with_sz_map(weights_matrix, scale, zero, g_idx, group_axis=-1):
    """(weights - zero) * scale, each position along the grouped axis taking its group's scale and zero
    (g_idx: the group of each position; scale and zero hold the groups along group_axis)."""
    groups = ops.cast(g_idx, "int32")
    scale = ops.take(scale, groups, axis=group_axis)
    zero = ops.cast(ops.take(zero, groups, axis=group_axis), ops.dtype(scale))
    return ops.multiply(ops.subtract(weights_matrix, zero), scale)


def group_indices(length, block_size):
    """g_idx: the group of each of length positions, as float32 (Keras stores it so)."""
    return np.floor_divide(np.arange(length, dtype="float32"), np.float32(block_size))

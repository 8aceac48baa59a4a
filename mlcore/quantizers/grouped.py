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


# --- GPTQ's and AWQ's unsigned zero-point quantization: weights laid out (out_features, in_features) -------
def compute_quantization_parameters(x, *, bits, symmetric=False, per_channel=False, group_size=-1,
                                    compute_dtype="float32", epsilon=0.0, signed=False):
    """(scale, zero point, maxq) of an (out_features, in_features) x: per output row and group of group_size
    inputs ((out, n_groups)), per row ((out, 1)) or for the whole tensor (tiled to (out, 1)).  The range is
    [min, max] of each group (symmetric: centred on zero), widened by 1 each way where it is empty;
    q = round(x / scale) + zero lies in [0, 2**bits - 1] (signed: shifted to [-2**(bits-1), 2**(bits-1) - 1])."""
    if x is None:
        raise ValueError("Input tensor %s cannot be None." % (x,))
    if len(ops.shape(x)) < 2:
        raise ValueError("Input weight tensor must have a rank of at least 2, but got rank %d."
                         % len(ops.shape(x)))
    if ops.size(x) == 0:
        raise ValueError("Input tensor 'x' cannot be empty.")
    out_features, in_features = ops.shape(x)[:2]
    n_groups = math.ceil(in_features / group_size) if per_channel and group_size > 0 else 1
    if n_groups > 1:
        x = ops.pad(x, [[0, 0], [0, n_groups * group_size - in_features]])
        rows = ops.reshape(x, (out_features, n_groups, group_size))
        low, high = ops.min(rows, axis=2), ops.max(rows, axis=2)
    else:
        rows = ops.reshape(x, (out_features, -1) if per_channel else (1, -1))
        low, high = ops.min(rows, axis=1), ops.max(rows, axis=1)
    if symmetric:
        high = ops.maximum(ops.abs(low), high)
        low = ops.where(ops.less(low, 0), ops.negative(high), low)
    empty = ops.equal(low, high)
    low, high = ops.where(empty, low - 1, low), ops.where(empty, high + 1, high)
    maxq = ops.cast(2 ** bits - 1, compute_dtype)
    span = ops.subtract(high, low)
    if epsilon > 0:
        span = ops.add(span, epsilon)
    scale = ops.divide(span, maxq)
    scale = ops.where(ops.less_equal(scale, 0), ops.cast(1e-8, ops.dtype(scale)), scale)
    if symmetric:
        zero = ops.full_like(scale, (2 ** bits) / 2)
    else:
        zero = ops.round(ops.divide(ops.negative(low), scale))
    if signed:
        qmin = -(2 ** (bits - 1))
        zero = ops.clip(ops.add(zero, qmin), qmin, 2 ** (bits - 1) - 1)
    else:       # saturated to uint8, as Keras's cast on jax does (a group of positive weights: zero 0)
        zero = ops.clip(zero, 0, 255)
    if n_groups == 1:
        scale, zero = (ops.reshape(t, (-1, 1)) if per_channel else ops.tile(ops.reshape(t, (1, 1)), (out_features, 1))
                       for t in (scale, zero))
    return scale, ops.cast(zero, "int8" if signed else "uint8"), maxq


def quantize_with_zero_point(input_tensor, scale, zero, maxq):
    """round(x / scale + zero) clipped to [0, maxq], in scale's float dtype (a zero scale read as 1e-8)."""
    safe_scale = ops.where(ops.equal(scale, 0), ops.cast(1e-8, ops.dtype(scale)), scale)
    q = ops.round(ops.add(ops.divide(input_tensor, safe_scale), ops.cast(zero, ops.dtype(scale))))
    return ops.clip(q, 0, maxq)


def dequantize_with_zero_point(input_tensor, scale, zero):
    """scale * (q - zero)."""
    return ops.multiply(scale, ops.subtract(input_tensor, ops.cast(zero, ops.dtype(scale))))


def quantize_with_sz_map(weights_matrix, scale, zero, g_idx, maxq, group_axis=-1):
    """quantize_with_zero_point with each position along the grouped axis taking its group's scale and zero
    (dequantize_with_sz_map's inverse)."""
    groups = ops.cast(g_idx, "int32")
    return quantize_with_zero_point(weights_matrix, ops.take(scale, groups, axis=group_axis),
                                    ops.take(zero, groups, axis=group_axis), maxq)

"""The int4 kernel of Dense and EinsumDense, as Keras 3 keeps it: the kernel seen as a (rows, columns)
matrix (rows: the dims the input sums over), quantized over its rows and packed two values a byte along
its columns.  Per channel (block_size None or -1) each column has a scale; per group (Keras's default,
block_size=128) each block_size rows of a column have a scale and an int8 zero point, and g_idx (float32,
as Keras stores it) gives each row's group."""
import math

from mlcore.layers.quantization import quantize_int4_weight

# mlcore.ops and mlcore.quantizers are imported where used: they import the layers package


def block_size_of(layer, config):
    """The block size the layer quantizes or loads with (None: per channel)."""
    from mlcore.quantizers.quantization_config import int4_block_size
    return int4_block_size(layer, config)


def build_int4_kernel(layer, rows, columns, config):
    """The packed kernel, its scales and, per group, zero points and g_idx, as zeros and ones."""
    block_size = block_size_of(layer, config)
    layer._int4_block_size = None if block_size == -1 else block_size
    layer._int4_columns = columns
    layer.kernel = layer.add_weight((rows, (columns + 1) // 2), "zeros", dtype="int8", trainable=False,
                                    name="kernel")
    grouped = layer._int4_block_size is not None
    scale_shape = (math.ceil(rows / block_size), columns) if grouped else (columns,)
    layer.kernel_scale = layer.add_weight(scale_shape, "ones", trainable=False, name="kernel_scale")
    if grouped:
        from mlcore.quantizers.grouped import group_indices
        layer.kernel_zero = layer.add_weight(scale_shape, "zeros", dtype="int8", trainable=False, name="kernel_zero")
        layer.g_idx = layer.add_weight((rows,), "zeros", dtype="float32", trainable=False, name="g_idx")
        layer.g_idx.assign(group_indices(rows, block_size))


def int4_kernel_values(layer, config, kernel, weight_config=None):
    """(packed values, scales, zero points or None) of a (rows, columns) float kernel, quantized with
    weight_config's weight quantizer (None: the default one)."""
    from mlcore.quantizers import pack_int4
    values, scale, zero = quantize_int4_weight(weight_config, kernel, 0, block_size_of(layer, config))
    return pack_int4(values, axis=-1)[0], scale, zero


def assign_int4_kernel(layer, packed, scale, zero):
    layer._kernel.assign(packed)
    layer.kernel_scale.assign(scale)
    if zero is not None:
        layer.kernel_zero.assign(zero)


def unpacked_kernel(layer):
    """The (rows, columns) int4 values, as int8."""
    from mlcore.quantizers import unpack_int4
    return unpack_int4(layer._kernel, layer._int4_columns, axis=-1)


def dequantized_kernel(layer):
    """The (rows, columns) float kernel in the compute dtype: values / scale per channel, (values - zero) * scale
    per group."""
    from mlcore import ops
    from mlcore.quantizers import dequantize_with_sz_map
    values = unpacked_kernel(layer)
    if layer._int4_block_size is None:
        return ops.divide(ops.cast(values, layer.compute_dtype), layer.kernel_scale)
    return ops.cast(dequantize_with_sz_map(values, layer.kernel_scale, layer.kernel_zero, layer.g_idx, group_axis=0),
                    layer.compute_dtype)

"""The kernel of a Dense or EinsumDense quantized by GPTQ or AWQ, as Keras 3 keeps it.

The kernel is seen as a (rows, columns) matrix: a 2-D kernel as it is, a 3-D EinsumDense kernel by its
largest dim, (in, heads, head_dim) -> (in, heads * head_dim) when that dim comes first (an attention
projection), else (heads, head_dim, out) -> (heads * head_dim, out).  The quantized values are stored
transposed, (columns, rows) in uint8, packed two a byte along the columns at 4 bits ("kernel"); each column
has a scale and a uint8 zero point per group of group_size rows ((columns, n_groups)), g_idx gives each
row's group, and AWQ adds awq_scales, one per row, divided out of the dequantized kernel.

layer.quantize("gptq"/"awq", config) builds these variables and keeps the float kernel, which the layer
keeps computing with until calibration (mlcore/quantizers/calibration.py) stores the quantized values and
drops it; a layer built under a GPTQ or AWQ policy (a loaded model) is calibrated from the start."""
import math

import numpy as np

# mlcore.ops, mlcore.quantizers and mlcore.dtype_policies' classes are imported where used: they import the
# layers package

CALIBRATED_MODES = ("gptq", "awq")


def matrix_shape(layer, kernel_shape):
    """(rows, columns) of the kernel as GPTQ and AWQ quantize it."""
    if len(kernel_shape) == 2:
        return tuple(kernel_shape)
    if len(kernel_shape) == 3:
        first, second, third = kernel_shape
        if list(kernel_shape).index(max(kernel_shape)) == 0:
            return first, second * third
        return first * second, third
    raise ValueError("%s '%s': GPTQ and AWQ quantize 2-D and 3-D kernels; its kernel has shape %s"
                     % (type(layer).__name__, layer.name, tuple(kernel_shape)))


def bits_and_group_size(layer, mode, config):
    """(weight_bits, group_size) the layer quantizes or loads with: its config's, else its policy's."""
    from mlcore.dtype_policies import CalibratedDTypePolicy
    from mlcore.quantizers.calibration_config import CalibrationConfig
    if isinstance(config, CalibrationConfig):
        return config.weight_bits, config.group_size
    policy = layer._own_policy
    if isinstance(policy, CalibratedDTypePolicy):
        return policy.weight_bits, policy.group_size
    name = mode.upper()
    raise ValueError("%s '%s': for %s quantization, weight_bits and group_size must come from a %sConfig or a "
                     "%sDTypePolicy; got config=%r and dtype_policy=%r"
                     % (type(layer).__name__, layer.name, name, name, name, config, policy))


def build_calibrated_kernel(layer, kernel_shape, mode, config, zero_name="kernel_zero"):
    """The mode's variables as zeros and ones (g_idx as Keras builds it, zeros), the layer calibrated, as a
    loaded layer is; zero_name: the zero points' weight name (EinsumDense's is "zero_point")."""
    weight_bits, group_size = bits_and_group_size(layer, mode, config)
    rows, columns = matrix_shape(layer, kernel_shape)
    layer._calibrated_shape = (tuple(kernel_shape), rows, columns, weight_bits)
    n_groups = 1 if group_size == -1 else math.ceil(rows / group_size)
    packed = (columns + 1) // 2 if weight_bits == 4 else columns
    layer.quantized_kernel = layer.add_weight((packed, rows), "zeros", dtype="uint8", trainable=False, name="kernel")
    layer.kernel_scale = layer.add_weight((columns, n_groups), "ones", trainable=False, name="kernel_scale")
    layer.kernel_zero = layer.add_weight((columns, n_groups), "zeros", dtype="uint8", trainable=False, name=zero_name)
    if mode == "awq":
        layer.awq_scales = layer.add_weight((rows,), "ones", trainable=False, name="awq_scales")
    layer.g_idx = layer.add_weight((rows,), "zeros", dtype="float32", trainable=False, name="g_idx")
    layer.kernel = layer.quantized_kernel
    _set_calibrated(layer, mode, True)


def is_calibrated(layer):
    return getattr(layer, "is_%s_calibrated" % layer.quantization_mode, False)


def _set_calibrated(layer, mode, calibrated):
    setattr(layer, "is_%s_calibrated" % mode, calibrated)


def keep_float_kernel(layer, float_kernel):
    """After quantize() built the variables: the float kernel stays, and is used, until calibration."""
    layer.kernel = float_kernel
    _set_calibrated(layer, layer.quantization_config.mode, False)


def float_matrix(layer):
    """The float kernel as a (rows, columns) numpy matrix, before calibration."""
    if is_calibrated(layer):
        raise ValueError("%s '%s' is already calibrated: its float kernel is gone"
                         % (type(layer).__name__, layer.name))
    _, rows, columns, _ = layer._calibrated_shape
    return np.asarray(layer._kernel.get_value(), "float32").reshape(rows, columns)


def store_calibrated(layer, quantized, scale, zero, g_idx, awq_scales=None):
    """Calibration's results, (columns, rows) quantized values, (columns, n_groups) scales and zeros, g_idx
    and AWQ's scales, into the layer's variables (packed at 4 bits); the float kernel is dropped."""
    from mlcore.quantizers import pack_int4
    weight_bits = layer._calibrated_shape[3]
    quantized = np.asarray(quantized).astype("uint8")
    if weight_bits == 4:
        quantized = pack_int4(quantized, axis=0, dtype="uint8")[0]
    layer.drop_weight(layer._kernel)
    layer.kernel = layer.quantized_kernel
    layer.quantized_kernel.assign(quantized)
    layer.kernel_scale.assign(scale)
    layer.kernel_zero.assign(zero)
    layer.g_idx.assign(g_idx)
    if awq_scales is not None:
        layer.awq_scales.assign(awq_scales)
    _set_calibrated(layer, layer.quantization_mode, True)


def unpacked_values(layer):
    """The (columns, rows) quantized values, unpacked at 4 bits (uint8)."""
    from mlcore.quantizers import unpack_int4
    _, _, columns, weight_bits = layer._calibrated_shape
    if weight_bits == 4:
        return unpack_int4(layer.quantized_kernel, columns, axis=0, dtype="uint8")
    return layer.quantized_kernel


def dequantized_kernel(layer):
    """The float kernel in its own shape, from the quantized values: (q - zero) * scale per group,
    transposed to (rows, columns), AWQ's scales divided out."""
    from mlcore import ops
    from mlcore.quantizers import dequantize_with_sz_map
    kernel_shape = layer._calibrated_shape[0]
    kernel = ops.transpose(dequantize_with_sz_map(unpacked_values(layer), layer.kernel_scale, layer.kernel_zero,
                                                  layer.g_idx))
    if layer.quantization_mode == "awq":
        kernel = ops.divide(kernel, ops.expand_dims(layer.awq_scales, -1))
    return ops.reshape(kernel, kernel_shape)


def calibrated_or_float_kernel(layer):
    """The kernel a GPTQ or AWQ layer computes with: the dequantized one once calibrated, else the float one."""
    return dequantized_kernel(layer) if is_calibrated(layer) else layer._kernel

"""AWQ for one layer (Keras 3's keras/src/quantizers/awq.py): activation-aware weight quantization
(Lin et al. 2023, arXiv:2306.00978).  The inputs with large activations matter most, so before 4-bit
quantization each input channel's weights are multiplied by s = x_max ** ratio (x_max: the channel's
largest |activation| over the calibration data; s normalised by sqrt(max(s) * min(s))), which gives them
finer quantization steps, and the layer divides s back out of the dequantized kernel.  ratio is the one of
0, 1/n, ..., 1 (n = num_grid_points) whose reconstruction error, weighted by x_max**2, is least.

As in gptq.py, the kernel is an (in = rows, out = columns) matrix worked on as its (out, in) transpose."""
import numpy as np

from mlcore.layers import calibrated_kernel
from mlcore.quantizers.grouped import (compute_quantization_parameters, dequantize_with_sz_map,
                                       quantize_with_sz_map)


def _quantize(weights, group_size):
    """(quantized, scale, zero, g_idx) of (out, in) weights in 4 bits, asymmetric, per output channel and
    group of group_size inputs (-1: one group); g_idx as float32."""
    in_features = weights.shape[1]
    scale, zero, maxq = compute_quantization_parameters(weights, bits=4, per_channel=True, group_size=group_size)
    g_idx = (np.zeros(in_features, "int32") if group_size == -1 else
             np.arange(in_features, dtype="int32") // group_size)
    return quantize_with_sz_map(weights, scale, zero, g_idx, maxq), scale, zero, g_idx.astype("float32")


def awq_search_optimal_scales(weights, activation_magnitudes, *, num_grid_points=20, group_size=-1):
    """The per-input scales (in,) of the grid's best ratio for (out, in) weights."""
    weights = np.asarray(weights, "float32")
    x_max = np.asarray(activation_magnitudes, "float32")
    x_max = np.where(x_max < 1e-8, np.float32(1), x_max)
    best_loss, best_scales = None, None
    for i in range(num_grid_points + 1):
        ratio = i / num_grid_points
        scales = np.maximum(np.ones_like(x_max) if ratio == 0 else np.power(x_max, np.float32(ratio)),
                            np.float32(1e-4))
        scales = scales / np.maximum(np.sqrt(scales.max() * scales.min()), np.float32(1e-8))
        quantized, scale, zero, g_idx = _quantize(weights * scales, group_size)
        reconstructed = np.asarray(dequantize_with_sz_map(quantized, scale, zero, g_idx)) / scales
        loss = np.mean(np.square(weights - reconstructed) * np.square(x_max), dtype="float32")
        if best_loss is None or loss < best_loss:
            best_loss, best_scales = loss, scales
    return best_scales


def awq_quantize_matrix(weights_transpose, activation_magnitudes, *, num_grid_points=20, group_size=-1):
    """(quantized (out, in), scale (out, n_groups), zero (out, n_groups) uint8, awq_scales (in,), g_idx (in,)
    float32) of (out, in) weights."""
    weights = np.asarray(weights_transpose, "float32")
    awq_scales = awq_search_optimal_scales(weights, activation_magnitudes, num_grid_points=num_grid_points,
                                           group_size=group_size)
    quantized, scale, zero, g_idx = _quantize(weights * awq_scales, group_size)
    return quantized, scale, zero, awq_scales, g_idx


class AWQ:
    """The calibration state of one Dense or EinsumDense: feed it the layer's inputs
    (update_activation_magnitudes), then quantize_layer() writes the quantized kernel and the AWQ scales into
    the layer's AWQ variables (those layer.quantize("awq", config=config) built)."""

    def __init__(self, layer, config=None):
        from mlcore.quantizers.calibration_config import AWQConfig
        self.rows, self.columns = calibrated_kernel.matrix_shape(layer, layer.kernel.shape)
        self.layer = layer
        self.config = config or AWQConfig(dataset=None, tokenizer=None)
        self.num_samples = 0
        self.activation_magnitudes = np.zeros((self.rows,), "float32")

    def update_activation_magnitudes(self, input_batch):
        """The running per-input maximum of |x| over the input rows seen so far."""
        if input_batch is None:
            raise ValueError("Input tensor cannot be None.")
        x = np.asarray(input_batch)
        if x.size == 0:
            raise ValueError("Input tensor cannot be empty.")
        x = x.reshape(-1, x.shape[-1]).astype("float32")
        if x.shape[1] != self.rows:
            raise ValueError("AWQ for layer '%s' expects inputs with %d features, got %d."
                             % (self.layer.name, self.rows, x.shape[1]))
        self.activation_magnitudes = np.maximum(self.activation_magnitudes, np.abs(x).max(axis=0))
        self.num_samples += x.shape[0]

    def quantize_layer(self):
        """Quantize the layer's kernel from the activation maxima gathered so far and store it in the layer."""
        kernel = calibrated_kernel.float_matrix(self.layer)
        quantized, scale, zero, awq_scales, g_idx = awq_quantize_matrix(
            kernel.T, self.activation_magnitudes, num_grid_points=self.config.num_grid_points,
            group_size=self.config.group_size)
        calibrated_kernel.store_calibrated(self.layer, quantized, scale, zero, g_idx, awq_scales)

    def free(self):
        """Drop the statistics and the layer once the layer is quantized."""
        del self.activation_magnitudes
        del self.layer

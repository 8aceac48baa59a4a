"""GPTQ for one layer (Keras 3's keras/src/quantizers/gptq.py): the Hessian of the layer's reconstruction
error, 2/N * sum(x x^T) over its calibration inputs x, and the quantization of its kernel one input row
at a time, each row's rounding error spread over the rows not yet quantized through the inverse Hessian
(Frantar et al. 2022, arXiv:2210.17323).

The kernel is seen as Keras sees it, a (rows = inputs, columns = outputs) matrix
(mlcore/layers/calibrated_kernel.py); the algorithm works on its transpose, (out_features, in_features),
so that an "input row" is a column.  The loop is sequential and runs on the host in float32, as Keras's
eager ops do."""
import functools

import numpy as np

from mlcore.layers import calibrated_kernel
from mlcore.quantizers.grouped import (compute_quantization_parameters, dequantize_with_zero_point,
                                       quantize_with_zero_point)


def _stable_permutation(metric):
    """The indices sorting metric in descending order, ties kept in index order."""
    metric = np.asarray(metric, "float32")
    n = metric.shape[0]
    jitter = np.arange(n, dtype="float32") / np.float32(n) * np.float32(1e-12)
    return np.argsort(-(metric + jitter), kind="stable")


def gptq_quantize_matrix(weights_transpose, inv_hessian, *, blocksize=128, group_size=-1, activation_order=False,
                         order_metric=None, compute_scale_zero=None):
    """(quantized (out, in) int32, scale (out, n_groups), zero (out, n_groups), g_idx (in,) float32) of an
    (out_features, in_features) weight matrix, given the inverse Hessian of its inputs.

    Columns go in blocks of blocksize: within a block each column's error updates the block's later columns
    at once, and the block's errors update the columns after it when the block ends.  A group's scale and
    zero (compute_scale_zero(columns) -> (scale, zero, maxq)) are computed when its first column is reached,
    from the weights as the last finished block left them (Keras's order).  activation_order: the columns
    go in descending order_metric (default 1 / diag(inv_hessian)), and g_idx maps each original column to
    its group in that order."""
    weights = np.array(weights_transpose, dtype="float32")
    inv_hessian = np.asarray(inv_hessian, dtype="float32")
    if compute_scale_zero is None:
        compute_scale_zero = functools.partial(compute_quantization_parameters, bits=4, per_channel=True)
    in_features = weights.shape[1]
    perm = None
    if activation_order:
        metric = (1.0 / (np.diagonal(inv_hessian) + np.float32(1e-12)) if order_metric is None else
                  np.asarray(order_metric, "float32"))
        perm = _stable_permutation(np.where(np.isfinite(metric), metric, np.float32(0)))
        weights, inv_hessian = weights[:, perm], inv_hessian[perm][:, perm]
    group = in_features if group_size == -1 else group_size
    quantized = np.zeros(weights.shape, "int32")
    scales, zeros, params = [], [], None
    for start in range(0, in_features, blocksize):
        end = min(start + blocksize, in_features)
        block, block_inv = weights[:, start:end].copy(), inv_hessian[start:end, start:end]
        errors = np.zeros_like(block)
        for j in range(end - start):
            column = start + j
            if column % group == 0:
                params = compute_scale_zero(weights[:, column:column + group])
                scales.append(params[0])
                zeros.append(params[1])
            scale, zero, maxq = params
            q = np.asarray(quantize_with_zero_point(block[:, j:j + 1], scale, zero, maxq))
            quantized[:, column] = q[:, 0]
            errors[:, j] = (block[:, j] - np.asarray(dequantize_with_zero_point(q, scale, zero))[:, 0]) / block_inv[j, j]
            block[:, j + 1:] -= np.outer(errors[:, j], block_inv[j, j + 1:])
        weights[:, end:] -= errors @ inv_hessian[start:end, end:]
    g_idx = (np.arange(in_features, dtype="float32") / np.float32(group)).astype("float32")
    if activation_order:
        inverse = np.argsort(perm)
        g_idx, quantized = g_idx[inverse], quantized[:, inverse]
    return quantized, np.concatenate(scales, axis=1), np.concatenate(zeros, axis=1), g_idx


def damped_hessian(hessian, damping):
    """The Hessian made invertible: a dead input (zero diagonal) gets 1 there, and every diagonal entry
    grows by damping times the diagonal's mean."""
    hessian = np.array(hessian, dtype="float32")
    diagonal = np.diagonal(hessian).copy()
    diagonal[diagonal == 0] = 1
    np.fill_diagonal(hessian, diagonal + np.float32(damping) * diagonal.mean(dtype="float32"))
    return hessian


class GPTQ:
    """The calibration state of one Dense or EinsumDense: feed it the layer's inputs
    (update_hessian_with_batch), then quantize_and_correct_layer() writes the quantized kernel into the
    layer's GPTQ variables (those layer.quantize("gptq", config=config) built)."""

    def __init__(self, layer, config=None):
        from mlcore.quantizers.calibration_config import GPTQConfig
        self.rows, self.columns = calibrated_kernel.matrix_shape(layer, layer.kernel.shape)
        self.layer = layer
        self.config = config or GPTQConfig(dataset=None, tokenizer=None)
        self.num_samples = 0
        self.hessian = np.zeros((self.rows, self.rows), "float32")

    def update_hessian_with_batch(self, input_batch):
        """The running Hessian, 2/N * X^T X over all N input rows so far, with this batch's rows added."""
        if input_batch is None:
            raise ValueError("Input tensor cannot be None.")
        x = np.asarray(input_batch)
        if x.ndim < 2:
            raise ValueError("Input tensor must have rank >= 2 (got rank %d)." % x.ndim)
        if x.size == 0:
            raise ValueError("Input tensor cannot be empty.")
        x = x.reshape(-1, x.shape[-1]).astype("float32")
        if x.shape[1] != self.rows:
            raise ValueError("Hessian dimensions (%d) do not match input features (%d)." % (self.rows, x.shape[1]))
        gram = x.T @ x
        gram = (gram + gram.T) / np.float32(2)
        total = self.num_samples + x.shape[0]
        self.hessian = self.hessian * np.float32(self.num_samples / total) + np.float32(2.0 / total) * gram
        self.num_samples = total

    def quantize_and_correct_layer(self, blocksize=128):
        """Quantize the layer's kernel from the Hessian gathered so far and store it in the layer."""
        hessian = damped_hessian(self.hessian, self.config.hessian_damping)
        quantizer = functools.partial(compute_quantization_parameters, bits=self.config.weight_bits,
                                      symmetric=self.config.symmetric, per_channel=self.config.per_channel,
                                      group_size=self.config.group_size, compute_dtype=self.layer.variable_dtype)
        kernel = calibrated_kernel.float_matrix(self.layer)
        quantized, scale, zero, g_idx = gptq_quantize_matrix(
            kernel.T, np.linalg.inv(hessian), blocksize=blocksize, group_size=self.config.group_size,
            activation_order=self.config.activation_order, order_metric=np.diagonal(hessian),
            compute_scale_zero=quantizer)
        calibrated_kernel.store_calibrated(self.layer, quantized, scale, zero, g_idx)

    def free(self):
        """Drop the Hessian and the layer once the layer is quantized."""
        del self.hessian
        del self.layer

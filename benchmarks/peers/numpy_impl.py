"""Hand-written NumPy: forward and backward written out by hand, the paper's "NumPy" program.

Convolutions are im2col + one BLAS product and their gradients the transposed
products + col2im. On a GPU the same code runs on CuPy, NumPy's API on CUDA.
"""
from __future__ import annotations

import numpy as np

from ..systems import Unavailable
from . import blocks


def array_module(device):
    """(xp, synchronize) for a device: NumPy on the CPU, CuPy on a GPU."""
    if device == "cpu":
        return np, lambda: None
    try:
        import cupy
        cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # no CuPy, no driver or no device: all mean "no GPU here"
        raise Unavailable(f"NumPy on a GPU needs CuPy and a CUDA device ({exc})") from exc
    return cupy, cupy.cuda.Device().synchronize


def _im2col(xp, x, kernel):
    """Patches of a valid kernel x kernel cross-correlation of NHWC `x`: one row per output pixel.

    Columns are in (di, dj, c) order, the memory order of a (k, k, c, out)
    kernel, so the convolution is one matrix product; the strided window view
    makes the gather a single copy.
    """
    windows = xp.lib.stride_tricks.sliding_window_view(x, (kernel, kernel), axis=(1, 2))
    return windows.transpose(0, 1, 2, 4, 5, 3).reshape((-1, kernel * kernel * x.shape[3]))


def _pool_grad(a, pooled, grad, shape, pool):
    """Route each pooled gradient to the position of its maximum."""
    h, w, c = shape
    windows = a.reshape((-1, h // pool, pool, w // pool, pool, c))
    spread = (slice(None), slice(None), None, slice(None), None, slice(None))
    return ((windows == pooled[spread]) * grad[spread]).reshape((-1, h, w, c))


def _col2im(xp, cols, shape, kernel):
    """The adjoint of _im2col: sum each patch gradient back onto its pixels."""
    h, w, c = shape
    out_h, out_w = h - kernel + 1, w - kernel + 1
    cols = cols.reshape((-1, out_h, out_w, kernel, kernel, c))
    x = xp.zeros((cols.shape[0], h, w, c), cols.dtype)
    for i in range(kernel):
        for j in range(kernel):
            x[:, i:i + out_h, j:j + out_w, :] += cols[:, :, :, i, j, :]
    return x


def loss_and_grads(xp, net, p, x, y):
    """The loss of blocks.loss and its gradient for every parameter, by hand."""
    layers, saved, h = net.conv_layers(), [], x
    for i, (conv, in_shape, out_shape) in enumerate(layers):
        cols = _im2col(xp, h, conv.kernel)
        a = xp.tanh(cols @ p[f"conv{i}_w"].reshape((cols.shape[1], -1)) + p[f"conv{i}_b"])
        a = a.reshape((-1, *out_shape))
        h = blocks.max_pool(a, out_shape, conv.pool)
        saved.append((cols, a, h))
    flat = h.reshape((len(x), -1))
    hidden = xp.tanh(flat @ p["dense0_w"] + p["dense0_b"])
    logp = blocks.log_softmax(xp, hidden @ p["dense1_w"] + p["dense1_b"])
    rows = xp.arange(len(y))
    loss = -logp[rows, y].mean()

    dz = xp.exp(logp)  # d loss / d logits = (softmax - onehot) / n
    dz[rows, y] -= 1
    dz /= len(y)
    g = {"dense1_w": hidden.T @ dz, "dense1_b": dz.sum(0)}
    dhidden = (dz @ p["dense1_w"].T) * (1 - hidden ** 2)
    g["dense0_w"], g["dense0_b"] = flat.T @ dhidden, dhidden.sum(0)
    dh = (dhidden @ p["dense0_w"].T).reshape(h.shape)
    for i in reversed(range(len(layers))):
        (conv, in_shape, out_shape), (cols, a, pooled) = layers[i], saved[i]
        da = _pool_grad(a, pooled, dh, out_shape, conv.pool)
        dpre = (da * (1 - a ** 2)).reshape((-1, conv.filters))
        w = p[f"conv{i}_w"]
        g[f"conv{i}_w"], g[f"conv{i}_b"] = (cols.T @ dpre).reshape(w.shape), dpre.sum(0)
        if i:  # the input image needs no gradient
            dh = _col2im(xp, dpre @ w.reshape((cols.shape[1], -1)).T, in_shape, conv.kernel)
    return loss, g


def train(case, device):
    xp, _ = array_module(device)
    params = {name: xp.array(value) for name, value in case.params.items()}
    x, y = xp.asarray(case.x), xp.asarray(case.y)

    def step():
        loss, grads = loss_and_grads(xp, case.net, params, x, y)
        for name, grad in grads.items():
            params[name] -= case.lr * grad
        return float(loss)
    return step


def elementwise(case, device):
    """Plain NumPy, one temporary per operation: the baseline of the speed-ups."""
    xp, synchronize = array_module(device)
    a, b = xp.asarray(case.a), xp.asarray(case.b)

    def step():
        out = case.fn(a, b)
        synchronize()
        return out
    return step

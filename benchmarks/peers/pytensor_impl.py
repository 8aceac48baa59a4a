"""Hand-written PyTensor: the program a Theano user writes, the paper's "Theano" column.

Weights are shared variables updated inside the compiled function, gradients
come from pytensor.grad, and the CVM linker runs C code. PyTensor 3 has no
conv2d, so the convnets build their convolution from PyTensor primitives:
slices, stack, reshape and one BLAS dot.
"""
from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.compile.mode import Mode

from . import blocks

MODE = Mode(linker="cvm")


def _compile(inputs, output, updates=()):
    fn = pytensor.function(inputs, output, updates=list(updates), mode=MODE,
                           on_unused_input="ignore")  # a + 1 does not read b
    fn.trust_input = True  # inputs are prepared once with the right types
    return fn


def _conv(x, w, shape, conv):
    """Valid cross-correlation of NHWC `x` (image `shape`) with a (k, k, c, filters) `w`: im2col + one dot.

    Caffe's layout: the im2col matrix has a row per (di, dj, c), the memory
    order of `w`, and a column per output pixel. Built channels-first, each
    shifted window is a block of whole rows, so the gather copies contiguous
    memory; BLAS takes the transposed matrix as it is.
    """
    h, w_, c = shape
    k = conv.kernel
    out_h, out_w = h - k + 1, w_ - k + 1
    x = x.transpose(3, 0, 1, 2)  # (c, n, h, w)
    patches = [x[:, :, i:i + out_h, j:j + out_w] for i in range(k) for j in range(k)]
    cols = pt.stack(patches).reshape((k * k * c, -1))
    return (cols.T @ w.reshape((k * k * c, conv.filters))).reshape((-1, out_h, out_w, conv.filters))


def train(case, device):
    params = {name: pytensor.shared(value, name=name) for name, value in case.params.items()}
    x = pt.tensor("x", dtype=case.dtype, shape=(None, *case.net.input_shape))
    y = pt.ivector("y")
    loss = blocks.loss(pt, case.net, params, x, y, _conv)
    lr = np.asarray(case.lr, case.dtype)  # a Python float would upcast float32 to floatX
    updates = [(p, p - lr * g) for p, g in zip(params.values(), pytensor.grad(loss, list(params.values())))]
    fn = _compile([x, y], loss, updates)
    return lambda: float(fn(case.x, case.y))


def elementwise(case, device):
    """PyTensor fuses the expression into one C loop (its Composite Elemwise)."""
    a, b = pt.vector("a", dtype=case.dtype), pt.vector("b", dtype=case.dtype)
    fn = _compile([a, b], case.fn(a, b))
    return lambda: fn(case.a, case.b)

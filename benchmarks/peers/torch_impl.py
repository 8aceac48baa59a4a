"""PyTorch eager mode with autograd and torch.optim.SGD, measured where torch is installed.

Torch convolves NCHW data with (out, in, h, w) kernels, so the shared NHWC
weights are transposed once at build time (and the first dense layer's rows
permuted to NCHW flattening order): the same function, in torch's layout.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..systems import Unavailable


def _device(name: str):
    if name == "cpu":
        return torch.device("cpu"), lambda: None
    if not torch.cuda.is_available():
        raise Unavailable("torch sees no CUDA device")
    torch.backends.cuda.matmul.allow_tf32 = False   # float32 products in float32, as every system here
    torch.backends.cudnn.allow_tf32 = False         # (cuDNN's convolutions default to TensorFloat-32)
    return torch.device("cuda"), torch.cuda.synchronize


def _torch_layout(net, name, value):
    if name.startswith("conv") and name.endswith("_w"):
        return value.transpose(3, 2, 0, 1)  # (h, w, in, out) -> (out, in, h, w)
    if name == "dense0_w" and net.convs:  # rows in (h, w, c) order -> (c, h, w)
        return value.reshape(*net.flat_shape, -1).transpose(2, 0, 1, 3).reshape(net.flat_size, -1)
    return value


def _loss(net, p, x, y):
    h = x
    for i, conv in enumerate(net.convs):
        h = F.max_pool2d(torch.tanh(F.conv2d(h, p[f"conv{i}_w"], p[f"conv{i}_b"])), conv.pool)
    h = torch.tanh(h.flatten(1) @ p["dense0_w"] + p["dense0_b"])
    return F.cross_entropy(h @ p["dense1_w"] + p["dense1_b"], y)


def train(case, device):
    dev, _ = _device(device)
    params = {name: torch.tensor(np.ascontiguousarray(_torch_layout(case.net, name, value)),
                                 device=dev, requires_grad=True)
              for name, value in case.params.items()}
    x = torch.tensor(case.x, device=dev)
    if case.net.convs:
        x = x.permute(0, 3, 1, 2).contiguous()
    y = torch.tensor(case.y, dtype=torch.int64, device=dev)
    optimizer = torch.optim.SGD(params.values(), lr=case.lr)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = _loss(case.net, params, x, y)
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


def elementwise(case, device):
    """Eager torch: one kernel (and one temporary) per operation, like NumPy."""
    dev, synchronize = _device(device)
    a, b = torch.tensor(case.a, device=dev), torch.tensor(case.b, device=dev)

    def step():
        out = case.fn(a, b)
        synchronize()
        return out
    return step

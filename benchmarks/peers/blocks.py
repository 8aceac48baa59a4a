"""The training math once, for any array module with NumPy's API (numpy, cupy, jax.numpy, pytensor.tensor).

Sharing these few functions is what makes the systems compute the same thing;
each engine still runs them its own way (eagerly, traced by jax.jit, or as a
PyTensor graph compiled to C) and brings its own convolution.
"""
from __future__ import annotations


def max_pool(x, shape, pool):
    """Non-overlapping pool x pool max-pool of NHWC `x` whose image is `shape` (pool divides it)."""
    h, w, c = shape
    return x.reshape((-1, h // pool, pool, w // pool, pool, c)).max(axis=(2, 4))


def log_softmax(xp, z):
    z = z - z.max(axis=1, keepdims=True)
    return z - xp.log(xp.exp(z).sum(axis=1, keepdims=True))


def nll(xp, z, y):
    """Mean negative log-likelihood of integer labels `y` under softmax(z)."""
    return -log_softmax(xp, z)[xp.arange(y.shape[0]), y].mean()


def loss(xp, net, params, x, y, conv):
    """The training loss of `net` (benchmarks.training.Net); `conv(x, w, shape, conv_spec)` convolves."""
    h = x
    for i, (spec, in_shape, out_shape) in enumerate(net.conv_layers()):
        a = xp.tanh(conv(h, params[f"conv{i}_w"], in_shape, spec) + params[f"conv{i}_b"])
        h = max_pool(a, out_shape, spec.pool)
    h = h.reshape((-1, net.flat_size))
    h = xp.tanh(h @ params["dense0_w"] + params["dense0_b"])
    return nll(xp, h @ params["dense1_w"] + params["dense1_b"], y)

"""Hand-written jax.jit: one compiled SGD step with donated weight buffers, the jax ceiling.

Convolutions are XLA's own (lax.conv_general_dilated), the rest is blocks.loss
traced with jax.numpy and differentiated by jax.value_and_grad.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from ..systems import Unavailable
from . import blocks


def device_for(name: str):
    """jax's first device of a kind ('cpu' or 'gpu'), or Unavailable."""
    try:
        return jax.devices(name)[0]
    except RuntimeError as exc:
        raise Unavailable(f"jax has no {name} device") from exc


def float32_products():
    """Dots and convolutions in float32, as mlcore's jax backend computes them: on a recent GPU
    jax's default would round their inputs to TensorFloat-32, another (faster, coarser) math."""
    return jax.default_matmul_precision("highest")


def _conv(x, w, shape, conv):
    return lax.conv_general_dilated(x, w, (1, 1), "VALID",
                                    dimension_numbers=("NHWC", "HWIO", "NHWC"))


def train(case, device):
    dev = device_for(device)

    def update(params, x, y):
        with float32_products():
            loss, grads = jax.value_and_grad(
                lambda p: blocks.loss(jnp, case.net, p, x, y, _conv))(params)
        return jax.tree.map(lambda p, g: p - case.lr * g, params, grads), loss

    update = jax.jit(update, donate_argnums=0)
    state = {"params": jax.device_put(case.params, dev)}
    x, y = jax.device_put((case.x, case.y), dev)

    def step():
        state["params"], loss = update(state["params"], x, y)
        return float(loss)
    return step


def elementwise(case, device):
    """XLA fuses the expression into one loop."""
    fn = jax.jit(case.fn)
    a, b = jax.device_put((case.a, case.b), device_for(device))
    return lambda: fn(a, b).block_until_ready()

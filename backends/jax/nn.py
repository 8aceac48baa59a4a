"""Convolution and pooling kernels on jax.lax, with the signatures of backends/numpy/nn.py.

All parameters other than the arrays are static Python ints and tuples, so every function traces under
jax.jit. XLA has its own fused convolution and windowed reductions; the pooling gradient is jax's own vjp.
"""
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from backends.array_api import FORWARD_LAYOUTS
from backends.numpy.nn import check_pool_mode

# float32 products in float32: on recent NVIDIA GPUs jax's default precision rounds the inputs of
# dots and convolutions to TensorFloat-32 (10 mantissa bits, errors near 1e-3). mlcore computes the
# arithmetic its graph states, as Theano did, and every backend agrees to float32's tolerance.
FLOAT32_PRODUCTS = lax.Precision.HIGHEST


def conv2d(x, w, strides=(1, 1), padding=((0, 0), (0, 0)), lhs_dilation=(1, 1), rhs_dilation=(1, 1),
           layouts=FORWARD_LAYOUTS):
    """Cross-correlate NHWC `x` with HWIO `w`; negative padding crops, lhs_dilation spreads the input.
    Other layouts (backends/array_api.py) are XLA's dimension numbers: no transposes in the program."""
    return lax.conv_general_dilated(
        x,
        w,
        window_strides=tuple(strides),
        padding=tuple(tuple(p) for p in padding),
        lhs_dilation=tuple(lhs_dilation),
        rhs_dilation=tuple(rhs_dilation),
        dimension_numbers=layouts,
        precision=FLOAT32_PRODUCTS,
    )


def _window_reduce(x, init, op, ws, strides, padding):
    """Reduce every (wh, ww) window of NHWC x with op, padding the borders with init.

    init is a concrete numpy scalar so that lax sees a max/add monoid, whose reduction jax can differentiate.
    """
    return lax.reduce_window(
        x,
        np.array(init, dtype=x.dtype),
        op,
        window_dimensions=(1, *ws, 1),
        window_strides=(1, *strides, 1),
        padding=((0, 0), *(tuple(p) for p in padding), (0, 0)),
    )


def pool2d(x, ws, strides, padding, mode, count_include_pad=True):
    """Pool NHWC x over (wh, ww) windows: mode "max", "sum" or "average" (pads never count as maxima)."""
    check_pool_mode(mode)
    if mode == "max":
        return _window_reduce(x, -np.inf, lax.max, ws, strides, padding)
    y = _window_reduce(x, 0, lax.add, ws, strides, padding)
    if mode == "sum":
        return y
    if count_include_pad:
        return y / (ws[0] * ws[1])
    real_pixels = jnp.ones((1, *x.shape[1:3], 1), dtype=x.dtype)
    return y / _window_reduce(real_pixels, 0, lax.add, ws, strides, padding)


def pool2d_grad(x, y, gy, ws, strides, padding, mode, count_include_pad=True):
    """Gradient of pool2d with respect to x (y is accepted for the common signature and not needed)."""
    _, pullback = jax.vjp(lambda v: pool2d(v, ws, strides, padding, mode, count_include_pad), x)
    return pullback(gy)[0]

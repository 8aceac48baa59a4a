"""Convolution and pooling kernels on jax.lax, with the signatures of backends/numpy/nn.py.

All parameters other than the arrays are static Python ints and tuples, so every function traces under
jax.jit. XLA has its own fused convolution and windowed reductions; the pooling gradient and a grouped
convolution's filter gradient are jax's own vjp.  Depthwise convolutions on the CPU are sums over taps
(lax.platform_dependent picks them when XLA compiles for the CPU; elsewhere, XLA's grouped convolution,
cuDNN's on a GPU).
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from backends.array_api import FORWARD_LAYOUTS, permutation
from backends.numpy.nn import check_pool_mode, conv_output_size

# float32 products in float32: on recent NVIDIA GPUs jax's default precision rounds the inputs of
# dots and convolutions to TensorFloat-32 (10 mantissa bits, errors near 1e-3). mlcore computes the
# arithmetic its graph states, as Theano did, and every backend agrees to float32's tolerance.
FLOAT32_PRODUCTS = lax.Precision.HIGHEST


def conv2d(x, w, strides=(1, 1), padding=((0, 0), (0, 0)), lhs_dilation=(1, 1), rhs_dilation=(1, 1),
           layouts=FORWARD_LAYOUTS, groups=1):
    """Cross-correlate NHWC `x` with HWIO `w` (in // groups input channels); negative padding crops,
    lhs_dilation spreads the input.  Other layouts (backends/array_api.py) are XLA's dimension
    numbers: no transposes in the program.  A depthwise convolution (one input channel per group)
    on the CPU is a sum over taps instead (channelwise_by_taps)."""
    window = conv_window(strides, padding, lhs_dilation, rhs_dilation)
    data, kernel, out = layouts
    if groups == 1 or (data, out) != ("NHWC", "NHWC") or w.shape[kernel.index("I")] != 1:
        return lax_conv(x, w, layouts, groups, **window)
    hwio = w.transpose(permutation(kernel, "HWIO"))
    return lax.platform_dependent(x, hwio, cpu=functools.partial(channelwise_by_taps, **window),
                                  default=functools.partial(lax_conv, layouts=FORWARD_LAYOUTS, groups=groups, **window))


def conv_window(strides, padding, lhs_dilation, rhs_dilation):
    """A convolution's window parameters as lax's keyword arguments, static tuples."""
    return dict(window_strides=tuple(strides), padding=tuple(tuple(p) for p in padding),
                lhs_dilation=tuple(lhs_dilation), rhs_dilation=tuple(rhs_dilation))


def lax_conv(x, w, layouts, groups, **window):
    """XLA's convolution, its float32 products in float32; operands of two float widths are
    computed in the wider, as Conv2D's type says (lax takes one dtype)."""
    dtype = jnp.promote_types(x.dtype, w.dtype)
    x, w = x.astype(dtype), w.astype(dtype)
    return lax.conv_general_dilated(x, w, **window, dimension_numbers=layouts, feature_group_count=groups,
                                    precision=FLOAT32_PRODUCTS)


def grouped_conv2d_grad_filter(x, w_shape, g, strides, padding, lhs_dilation, rhs_dilation, groups):
    """d conv2d / d w of a grouped convolution: jax's own transpose of lax's grouped convolution, a
    convolution of x with g whose batch groups are x's channel groups, on every platform.  (On the
    CPU, the transpose of channelwise_by_taps would be a sum over pixels per tap, but XLA fuses the
    computation of g into each of those sums: with a 7x7 kernel on (8, 56, 56, 128), 430 ms against
    100 for the convolution.)"""
    window = conv_window(strides, padding, lhs_dilation, rhs_dilation)
    conv = functools.partial(lax_conv, x, layouts=FORWARD_LAYOUTS, groups=groups, **window)
    return jax.vjp(conv, jnp.zeros(w_shape, x.dtype))[1](g)[0]


def channelwise_by_taps(x, w, window_strides, padding, lhs_dilation, rhs_dilation):
    """A depthwise convolution, HWIO w of one input channel per group, as the sum over the kernel's
    taps of a strided slice of x (dilated and padded) times the tap's weights per channel:
    elementwise work that XLA fuses into one loop.  XLA's CPU convolution with feature groups is a
    slow generic loop: DepthwiseConv2D(3) on (8, 56, 56, 128) float32 took 59 ms, against 1.9 ms
    by taps (7x7 on (1, 7, 7, 768): 2.5 against 0.2 ms)."""
    kh, kw, _, filters = w.shape
    n, height, width, channels = x.shape
    spread = lax.pad(x, jnp.zeros((), x.dtype), ((0, 0, 0), *((lo, hi, d - 1) for (lo, hi), d in
                                                              zip(padding, lhs_dilation)), (0, 0, 0)))
    ho, wo = (conv_output_size(size, k, s, pads, ld, rd) for size, k, s, pads, ld, rd in
              zip((height, width), (kh, kw), window_strides, padding, lhs_dilation, rhs_dilation))
    (sh, sw), (dh, dw) = window_strides, rhs_dilation
    per_channel = w.reshape(kh, kw, channels, filters // channels)
    y = 0
    for i in range(kh):
        for j in range(kw):
            tap = lax.slice(spread, (0, i * dh, j * dw, 0),
                            (n, i * dh + (ho - 1) * sh + 1, j * dw + (wo - 1) * sw + 1, channels), (1, sh, sw, 1))
            y = y + tap[..., None] * per_channel[i, j]
    return y.reshape(n, ho, wo, filters)


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

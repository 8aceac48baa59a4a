"""theano.tensor.nnet.abstract_conv's bilinear upsampling of the last two dims of (N, C, H, W).

Upsampling by an integer r is a transposed convolution: each pixel, spread r apart (the Conv2D's
lhs_dilation), is smeared by the triangle kernel (1, 2, .., r, .., 2, 1) / r over its
neighbours.  As in Theano, the first and last row and column are repeated before, so the edges
interpolate towards themselves, and the result is cut to r times the input (for an even r the
last row and column come out repeated once more than the first).  A fractional ratio p / q is
the upsampling by p read every q-th pixel, which is what Theano's frac_bilinear_upsampling
computes with its input as the filter."""
import math

from mlcore import config
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.elemwise import cast
from mlcore.graph.ops.nn import Conv2D
from mlcore.graph.ops.shape import arange, concatenate, dimshuffle, reshape
from mlcore.tensor.basic import NotScalarConstantError, get_scalar_constant_value


def bilinear_kernel_1D(ratio, normalize=True, dtype=None):
    """The 1-d kernel that upsamples by ratio: (1, 2, .., ratio, .., 2, 1), divided by ratio; in
    floatX, as Theano's, unless dtype says otherwise (the upsampling uses its input's)."""
    dtype = dtype or config.floatx()
    half = arange(1, ratio + 1, dtype=dtype)
    kern = concatenate([half, half[-2::-1]])
    return kern / cast(ratio, dtype) if normalize else kern


def bilinear_kernel_2D(ratio, normalize=True, dtype=None):
    """The 2-d kernel, the outer product of the 1-d ones; ratio an int or (rows, cols)."""
    rows, cols = ratio if isinstance(ratio, tuple) else (ratio, ratio)
    return (dimshuffle(bilinear_kernel_1D(rows, normalize, dtype), 0, "x")
            * dimshuffle(bilinear_kernel_1D(cols, normalize, dtype), "x", 0))


def _bordered(input):
    """input (N, C, H, W) as (N * C, H + 2, W + 2, 1), its first and last rows and columns repeated;
    in floatX unless it is a float already."""
    input = as_tensor_variable(input)
    images = reshape(input, [-1, input.shape[2], input.shape[3]])
    if not input.dtype.startswith("float"):
        images = cast(images, config.floatx())
    images = concatenate([images[:, :1], images, images[:, -1:]], axis=1)
    images = concatenate([images[:, :, :1], images, images[:, :, -1:]], axis=2)
    return dimshuffle(images, 0, 1, 2, "x")


def _spread(images, kernel, ratios):
    """images (B, H, W, 1) upsampled on each axis whose ratio is not None (that axis then loses the
    repeated border row): the transposed convolution with kernel (2-d), cut as Theano cuts it."""
    kh, kw = kernel.shape
    pads = [(0, 0) if r is None else (k - 1, k - 1) for r, k in zip(ratios, (kh, kw))]
    kernel = dimshuffle(kernel, 0, 1, "x", "x")
    out = Conv2D((1, 1), pads, [r or 1 for r in ratios])(images, kernel)
    cut = [slice(None) if r is None else slice(2 * r - (r - 1) // 2 - 1, -(r + (r - 1) // 2)) for r in ratios]
    return out[(slice(None), cut[0], cut[1])]


def _int_ratio(ratio):
    try:
        return int(get_scalar_constant_value(ratio))
    except NotScalarConstantError:
        raise NotImplementedError("bilinear_upsampling: the ratio must be known when the graph is built (an int or "
                                  "a constant), as it sets the kernel's size; got %s" % (ratio,)) from None


def _as_images(upsampled, input):
    return reshape(upsampled, [input.shape[0], input.shape[1], upsampled.shape[1], upsampled.shape[2]])


def frac_bilinear_upsampling(input, frac_ratio):
    """Upsampling by a fraction: frac_ratio (numerator, denominator), or one such pair for the
    rows and one for the columns; the output has ceil(size * numerator / denominator) pixels."""
    if not isinstance(frac_ratio, tuple):
        raise ValueError("frac_ratio must be a tuple")
    pairs = frac_ratio if isinstance(frac_ratio[0], tuple) else (frac_ratio, frac_ratio)
    pairs = [(p // math.gcd(p, q), q // math.gcd(p, q)) for p, q in pairs]
    ups = tuple(p for p, _ in pairs)
    images = _bordered(input)
    upsampled = _spread(images, bilinear_kernel_2D(ups, dtype=images.dtype), ups)
    return _as_images(upsampled[:, ::pairs[0][1], ::pairs[1][1]], input)


def bilinear_upsampling(input, ratio=None, frac_ratio=None, batch_size=None, num_input_channels=None,
                        use_1D_kernel=True):
    """input (N, C, H, W) upsampled by bilinear interpolation to (N, C, H * ratio, W * ratio), or
    by frac_ratio (which needs use_1D_kernel=False, as in Theano); use_1D_kernel upsamples rows
    and columns one after the other, which gives the same numbers.  batch_size and
    num_input_channels are Theano's shape hints, not needed here."""
    if ratio is not None and frac_ratio is not None:
        raise ValueError("can't use ratio and frac_ratio together")
    if ratio is None and frac_ratio is None:
        raise ValueError("No ratio (or frac_ratio) provided")
    if frac_ratio is not None:
        if use_1D_kernel:
            raise ValueError("For fractional ratios 1D kernel method not implemented. You may want to pass "
                             "use_1D_kernel as False")
        return frac_bilinear_upsampling(input, frac_ratio)
    ratio = _int_ratio(ratio)
    images = _bordered(input)
    if use_1D_kernel:
        kern = bilinear_kernel_1D(ratio, dtype=images.dtype)
        rows = _spread(images, dimshuffle(kern, 0, "x"), (ratio, None))
        upsampled = _spread(rows, dimshuffle(kern, "x", 0), (None, ratio))
    else:
        upsampled = _spread(images, bilinear_kernel_2D(ratio, dtype=images.dtype), (ratio, ratio))
    return _as_images(upsampled, input)

"""keras.ops' neural-network functions: activations, one-hot, crossentropies, moments and batch,
layer, RMS and Lp normalization, and the convolutions and pooling the layers use (cross-correlation,
channels_last or channels_first, strides, dilation, "valid" or "same" padding; convolution and
pooling of 1-d, 2-d and 3-d inputs, depthwise, separable and transposed convolutions of 1-d and 2-d
ones), depth_to_space / space_to_depth and psnr.

The activations and crossentropies are those of mlcore.activations and mlcore.losses, so they
share their care: the crossentropies compute from logits when the output is a final sigmoid or
softmax, and stay finite where log(softmax(x)) would not."""
import functools
import warnings

import numpy as np

from mlcore import activations, config, losses
from mlcore.dtype_promotion import result_type
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops import reduce as red
from mlcore.graph.ops.common import is_float_dtype, normalize_axis
from mlcore.graph.ops.nn import Conv2D, conv2d as graph_conv2d, pool2d, pool3d
from mlcore.graph.ops.shape import dimshuffle
from mlcore.ops.arrays import reshape, transpose
from mlcore.ops.core import as_float, as_tensor, of_one_tensor
from mlcore.ops.elementwise import log10, rsqrt, square
from mlcore.ops.linalg import norm
from mlcore.ops.reductions import mean


# --- activations ---------------------------------------------------------------------------------
def _activation(name):
    return of_one_tensor(getattr(activations, name), name, "keras.activations.%s of x." % name)


relu, relu6, selu, sigmoid, hard_sigmoid, log_sigmoid, silu, hard_silu, hard_tanh, softplus, softsign = map(
    _activation, ("relu", "relu6", "selu", "sigmoid", "hard_sigmoid", "log_sigmoid", "silu", "hard_silu",
                  "hard_tanh", "softplus", "softsign"))
swish = silu
hard_swish = hard_silu
tanh_shrink, sparse_plus, sparse_sigmoid = map(_activation, ("tanh_shrink", "sparse_plus", "sparse_sigmoid"))


def _activation_with_arguments(name):
    """keras.activations.<name> as a keras.ops function: x any value, the other arguments as given."""
    fn = getattr(activations, name)

    @functools.wraps(fn)
    def op(x, *args, **kwargs):
        return fn(as_tensor(x), *args, **kwargs)
    return op


celu, glu, hard_shrink, soft_shrink, threshold, squareplus, sparsemax = map(
    _activation_with_arguments, ("celu", "glu", "hard_shrink", "soft_shrink", "threshold", "squareplus", "sparsemax"))


def leaky_relu(x, negative_slope=0.2):
    return activations.leaky_relu(as_tensor(x), negative_slope)


def elu(x, alpha=1.0):
    return activations.elu(as_tensor(x), alpha)


def gelu(x, approximate=True):
    """Keras's ops.gelu defaults to the tanh approximation (keras.activations.gelu does not)."""
    return activations.gelu(as_tensor(x), approximate)


def softmax(x, axis=-1):
    return activations.softmax(as_tensor(x), axis)


def log_softmax(x, axis=-1):
    return activations.log_softmax(as_tensor(x), axis)


# --- labels and losses ---------------------------------------------------------------------------
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Integer labels x as one-hot vectors along a new axis; labels outside [0, num_classes) give zeros."""
    if sparse:
        raise ValueError("mlcore tensors are dense: one_hot(sparse=True) is not supported")
    return losses.one_hot(as_tensor(x), num_classes, axis, dtype)


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """Each sample's labels (a row of inputs; a 1-d inputs is one sample) as one vector with a 1
    at every label."""
    num_classes = kwargs.pop("num_tokens", num_classes)    # Keras's deprecated name
    if kwargs:
        raise TypeError("multi_hot got unexpected keyword argument(s) %s" % sorted(kwargs))
    hot = one_hot(ew.cast(as_tensor(inputs), "int64"), num_classes, axis, dtype, sparse)
    return red.max_(hot, axis=1 if hot.ndim > 2 else 0)


def _same_shapes(target, output):
    target, output = as_tensor(target), as_tensor(output)
    if target.type.shape != output.type.shape:
        raise ValueError("Arguments `target` and `output` must have the same shape. Received: target.shape=%s, "
                         "output.shape=%s" % (target.type.shape, output.type.shape))
    return target, output


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise: keras.losses.binary_crossentropy before its mean over the last axis."""
    target, output = _same_shapes(target, output)
    return losses.binary_crossentropy(target, output, from_logits, axis=())    # averaged over no axis


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """-sum(target * log(probabilities)) over axis, one value per sample."""
    target, output = _same_shapes(target, output)
    return losses.categorical_crossentropy(target, output, from_logits, axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """categorical_crossentropy with integer class labels as the target."""
    output = as_tensor(output)
    normalize_axis(axis, output.ndim, "sparse_categorical_crossentropy")
    return losses.sparse_categorical_crossentropy(as_tensor(target), output, from_logits, axis=axis)


# --- normalization -------------------------------------------------------------------------------
def moments(x, axes, keepdims=False, synchronized=False):
    """(mean, variance) of x over axes.  As Keras, float16 and bfloat16 statistics are computed in
    float32 (float16's range is too small for a sum of squares) and clipped to float16's range."""
    x = as_tensor(x)
    if x.dtype not in ("float16", "bfloat16"):
        return red.mean(x, axes, keepdims), red.var(x, axes, keepdims)
    wide, limit = ew.cast(x, "float32"), float(np.finfo(np.float16).max)
    return tuple(ew.cast(ew.clip(stat, -limit, limit), x.dtype)
                 for stat in (red.mean(wide, axes, keepdims), red.var(wide, axes, keepdims)))


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """(x - mean) / sqrt(variance + epsilon) * scale + offset, the statistics (1-d, one entry per
    index of x's `axis`) broadcast along the other axes."""
    x = as_tensor(x)
    axis %= x.ndim

    def along_axis(v, name):
        v = as_tensor(v)
        if v.ndim != 1:
            return v
        if None not in (v.type.shape[0], x.type.shape[axis]) and v.type.shape[0] != x.type.shape[axis]:
            raise ValueError("batch_normalization: Arguments `%s` must be a vector of length `x.shape[axis]` = %d "
                             "(x of shape %s, axis %d); received shape %s"
                             % (name, x.type.shape[axis], x.type.shape, axis, v.type.shape))
        return dimshuffle(v, [0 if d == axis else "x" for d in range(x.ndim)])

    inv = 1.0 / ew.sqrt(along_axis(variance, "variance") + epsilon)
    if scale is not None:
        inv = inv * along_axis(scale, "scale")
    out = (x - along_axis(mean, "mean")) * inv
    return out if offset is None else out + along_axis(offset, "offset")


def _epsilon(epsilon):
    return config.epsilon() if epsilon is None else epsilon


def normalize(x, axis=-1, order=2, epsilon=None):
    """x divided by its Lp norm (p = order) along axis, the norm kept at least epsilon."""
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ValueError("Argument `order` must be an int >= 1. Received: order=%r" % (order,))
    x = as_float(x)
    x = reshape(x, (1,)) if x.ndim == 0 else x
    normalize_axis(axis, x.ndim, "normalize")
    if order == 2:          # as Keras: x * rsqrt(sum of squares), so a zero vector stays zero
        return x * ew.minimum(rsqrt(red.sum_(square(x), axis, keepdims=True)), 1.0 / _epsilon(epsilon))
    return x / ew.maximum(norm(x, ord=order, axis=axis, keepdims=True), _epsilon(epsilon))


def _in_float32_at_least(x):
    """x in at least float32, as Keras normalizes half-precision inputs, and the float dtype to give back."""
    x = as_tensor(x)
    dtype = x.dtype if is_float_dtype(x.dtype) else config.floatx()
    return ew.cast(x, result_type(dtype, "float32")), dtype


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """x divided by its root mean square along axis (plus epsilon under the root), times scale;
    computed in at least float32, given in x's float dtype."""
    x, dtype = _in_float32_at_least(x)
    x = reshape(x, (1,)) if x.ndim == 0 else x
    out = x * rsqrt(mean(square(x), axis, keepdims=True) + _epsilon(epsilon))
    return ew.cast(out if scale is None else out * ew.cast(as_tensor(scale), x.dtype), dtype)


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """(x - mean) / sqrt(variance + epsilon) * gamma + beta, the statistics over axis (an int or
    a list) for each sample; gamma and beta of the size of those axes.  rms_scaling=True is Keras's
    deprecated variant: x / sqrt(variance + epsilon) * gamma.  Computed in at least float32, given
    in x's float dtype."""
    rms_scaling = kwargs.pop("rms_scaling", False)
    if kwargs:
        raise TypeError("layer_normalization got unexpected keyword argument(s) %s" % sorted(kwargs))
    if rms_scaling:
        warnings.warn("You passed `rms_scaling=True`, which is deprecated. This argument incorrectly scales the "
                      "input by the variance, not the root mean square. To correctly use RMS Normalization, "
                      "please use `keras.ops.rms_normalization` / `keras.ops.nn.rms_normalization` instead.",
                      stacklevel=2)
    x, dtype = _in_float32_at_least(x)
    axes = sorted(a % x.ndim for a in ([axis] if isinstance(axis, int) else axis))
    shape = [x.type.shape[d] if d in axes else 1 for d in range(x.ndim)]

    def broadcast(v):
        v = ew.cast(as_tensor(v), x.dtype)
        return v if v.ndim == x.ndim else reshape(v, shape)

    mean_, variance = moments(x, axes, keepdims=True)
    inv = rsqrt(variance + _epsilon(epsilon))
    if gamma is not None:
        inv = inv * broadcast(gamma)
    if rms_scaling:
        return ew.cast(x * inv, dtype)
    shift = -mean_ * inv
    return ew.cast(x * inv + (shift if beta is None else shift + broadcast(beta)), dtype)


def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio in decibels: 20 log10(max_val) - 10 log10(mean squared error)."""
    x1, x2 = as_float(x1), as_float(x2)
    if x1.type.shape != x2.type.shape:
        raise ValueError("psnr: Input shapes %s and %s must match for PSNR calculation." % (x1.type.shape,
                                                                                              x2.type.shape))
    return 20 * log10(ew.cast(as_tensor(max_val), x2.dtype)) - 10 * log10(mean(square(x1 - x2)))


# --- convolution and pooling ---------------------------------------------------------------------
def _padding(padding):
    padding = padding.lower() if isinstance(padding, str) else padding
    if padding not in ("valid", "same") and isinstance(padding, str):
        raise ValueError("padding must be 'valid' or 'same', got %r" % (padding,))
    return padding


def _image(name, inputs, data_format, ranks=(1, 2)):
    """inputs, of 1 (a sequence), 2 (an image) or 3 (a volume) spatial dims among ranks, as an NHWC
    image (NDHWC volume), with its number of spatial dims and data format."""
    from mlcore.layers.conv_base import to_image      # (here: mlcore.layers imports mlcore.ops)
    inputs = as_tensor(inputs)
    if inputs.ndim - 2 not in ranks:
        raise ValueError("%s takes %s-d inputs (batch, *spatial, channels), got shape %s"
                         % (name, "-d or ".join(str(r + 2) for r in ranks), inputs.type.shape))
    data_format = data_format or config.image_data_format()
    return to_image(inputs, inputs.ndim - 2, data_format), inputs.ndim - 2, data_format


def _window(value, rank, fill=1):
    """An int or a per-spatial-dim tuple as the 2-d convolution's pair (fill: the row's entry of a 1-d one)."""
    from mlcore.layers.conv_base import image_tuple
    return image_tuple(tuple(value) if isinstance(value, (list, tuple)) else (int(value),) * rank, rank, fill)


def _check_kernel(name, image, rank, kernel, kernel_in=-2, groups=False):
    """kernel, (*kernel_size, in, out) for rank spatial dims, checked against the channels-last image:
    its in channels (kernel.shape[kernel_in]) those of the image, or with groups a divisor of them.
    Returns the number of groups: the image's channels // in, 1 where either is unknown."""
    kernel = as_tensor(kernel)
    if kernel.ndim != rank + 2:
        raise ValueError("%s: the kernel of %d-d inputs must be %d-d (*kernel_size, in, out), got shape %s"
                         % (name, rank + 2, rank + 2, kernel.type.shape))
    channels, kernel_channels = image.type.shape[-1], kernel.type.shape[kernel_in]
    if channels is None or kernel_channels is None:
        return 1
    if groups and channels % kernel_channels:      # Keras's eager conv's words (its symbolic one has no groups)
        raise ValueError("The number of input channels must be evenly divisible by kernel's in_channels. "
                         "Received input channels %d and kernel in_channels %d. " % (channels, kernel_channels))
    if not groups and channels != kernel_channels:
        raise ValueError("%s: the number of input channels must match the kernel's input channels. Received: "
                         "input channels=%d, kernel input channels=%d (kernel of shape %s)"
                         % (name, channels, kernel_channels, kernel.type.shape))
    return channels // kernel_channels


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Cross-correlation of inputs with 1, 2 or 3 spatial dims, (N, *spatial, C) (or (N, C, *spatial)
    for channels_first), with a (*kernel_size, C // groups, out) kernel: groups as Keras infers them."""
    from mlcore.layers.conv_base import from_image, image_kernel
    from mlcore.layers.convolutional_3d import conv3d
    image, rank, data_format = _image("conv", inputs, data_format, ranks=(1, 2, 3))
    groups = _check_kernel("conv", image, rank, kernel, groups=True)
    kernel, strides, dilation = as_tensor(kernel), _window(strides, rank), _window(dilation_rate, rank)
    if rank == 3:
        out = conv3d(image, kernel, strides, _padding(padding), dilation, groups)
    else:
        out = Conv2D(strides, _padding(padding), (1, 1), dilation, groups)(image, image_kernel(kernel, rank))
    return from_image(out, rank, data_format)


conv2d = conv


def _pool(mode, inputs, pool_size, strides, padding, data_format):
    """Max or average pooling over 1, 2 or 3 spatial dims; Keras averages over the real pixels of
    a window only when padding is "same"."""
    from mlcore.layers.conv_base import from_image
    image, rank, data_format = _image(mode + "_pool", inputs, data_format, ranks=(1, 2, 3))
    pool_size = _window(pool_size, rank)
    strides = pool_size if strides is None else _window(strides, rank)
    pool = pool3d if rank == 3 else pool2d
    out = pool(image, pool_size, strides, _padding(padding), mode, count_include_pad=False)
    return from_image(out, rank, data_format)


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    return _pool("max", inputs, pool_size, strides, padding, data_format)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    return _pool("average", inputs, pool_size, strides, padding, data_format)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Each input channel cross-correlated with its own filters of the (*kernel_size, in,
    depth_multiplier) kernel: in * depth_multiplier output channels."""
    from mlcore.layers.conv_base import from_image, image_kernel
    from mlcore.layers.depthwise import depthwise_conv2d
    image, rank, data_format = _image("depthwise_conv", inputs, data_format)
    _check_kernel("depthwise_conv", image, rank, kernel)
    out = depthwise_conv2d(image, image_kernel(as_tensor(kernel), rank), _window(strides, rank), _padding(padding),
                           _window(dilation_rate, rank))
    return from_image(out, rank, data_format)


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """depthwise_conv, then a 1x1 convolution with the (*1s, in * depth_multiplier, out) pointwise kernel."""
    from mlcore.layers.conv_base import from_image, image_kernel
    from mlcore.layers.depthwise import depthwise_conv2d
    image, rank, data_format = _image("separable_conv", inputs, data_format)
    _check_kernel("separable_conv", image, rank, depthwise_kernel)
    depthwise = depthwise_conv2d(image, image_kernel(as_tensor(depthwise_kernel), rank), _window(strides, rank),
                                 _padding(padding), _window(dilation_rate, rank))
    return from_image(graph_conv2d(depthwise, image_kernel(as_tensor(pointwise_kernel), rank)), rank, data_format)


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None,
                   dilation_rate=1):
    """The transpose (gradient) of conv, with a (*kernel_size, out, in) kernel; output sizes as Keras's."""
    from mlcore.layers.conv_base import from_image, image_kernel
    from mlcore.layers.convolutional_transpose import transpose_paddings, transposed_conv2d
    image, rank, data_format = _image("conv_transpose", inputs, data_format)
    _check_kernel("conv_transpose", image, rank, kernel, kernel_in=-1)
    kernel = image_kernel(as_tensor(kernel), rank)
    strides, dilation = _window(strides, rank), _window(dilation_rate, rank)
    extras = None if output_padding is None else _window(output_padding, rank, fill=0)
    paddings = transpose_paddings(kernel.type.shape[:2], strides, dilation, _padding(padding), extras)
    return from_image(transposed_conv2d(image, kernel, strides, paddings, dilation), rank, data_format)


def _blocks(name, x, block_size, data_format):
    """x as a 4-d image with known spatial and channel sizes: (data format, height, width, channels)."""
    x = as_tensor(x)
    if block_size < 2:
        raise ValueError("%s: `block_size` must be at least 2. Received: block_size=%r (a block_size must be at "
                         "least 2 for blocks of more than one pixel)" % (name, block_size))
    if x.ndim != 4 or None in x.type.shape[1:]:
        raise ValueError("%s needs a 4-d x with known height, width and channels, got shape %s"
                         % (name, x.type.shape))
    if data_format == "channels_first":
        return x, x.type.shape[2], x.type.shape[3], x.type.shape[1]
    return x, x.type.shape[1], x.type.shape[2], x.type.shape[3]


def depth_to_space(x, block_size, data_format="channels_last"):
    """Pixel shuffle: (N, H, W, C * b**2) to (N, H * b, W * b, C), each pixel's channels becoming a
    b x b block."""
    x, h, w, c = _blocks("depth_to_space", x, block_size, data_format)
    b, new_c = block_size, c // block_size ** 2
    if c % b ** 2:
        raise ValueError("depth_to_space: the channels of x (shape %s) must be a multiple of block_size**2 = %d"
                         % (x.type.shape, b ** 2))
    if data_format == "channels_first":
        blocks = transpose(reshape(x, (-1, new_c, b, b, h, w)), (0, 1, 4, 2, 5, 3))
        return reshape(blocks, (-1, new_c, h * b, w * b))
    return reshape(transpose(reshape(x, (-1, h, w, b, b, new_c)), (0, 1, 3, 2, 4, 5)), (-1, h * b, w * b, new_c))


def space_to_depth(x, block_size, data_format="channels_last"):
    """The inverse of depth_to_space: each b x b block of pixels as the channels of one pixel."""
    x, h, w, c = _blocks("space_to_depth", x, block_size, data_format)
    b = block_size
    if h % b or w % b:
        raise ValueError("space_to_depth: the height and width of x (shape %s) must be multiples of block_size=%d"
                         % (x.type.shape, b))
    if data_format == "channels_first":
        blocks = transpose(reshape(x, (-1, c, h // b, b, w // b, b)), (0, 1, 3, 5, 2, 4))
        return reshape(blocks, (-1, c * b * b, h // b, w // b))
    blocks = transpose(reshape(x, (-1, h // b, b, w // b, b, c)), (0, 1, 3, 2, 4, 5))
    return reshape(blocks, (-1, h // b, w // b, c * b * b))


max_pool2d = max_pool
avg_pool2d = average_pool

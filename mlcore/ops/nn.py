"""keras.ops' neural-network functions: activations, one-hot, crossentropies, moments and batch
normalization, and the convolution and pooling the layers use (cross-correlation,
channels_last or channels_first, strides, dilation, "valid" or "same" padding).

The activations and crossentropies are those of mlcore.activations and mlcore.losses, so they
share their care: the crossentropies compute from logits when the output is a final sigmoid or
softmax, and stay finite where log(softmax(x)) would not."""
import functools

from mlcore import activations, config, losses
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops import reduce as red
from mlcore.graph.ops.nn import Conv2D, Pool2D
from mlcore.graph.ops.shape import dimshuffle
from mlcore.ops.core import as_tensor, of_one_tensor


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
    return losses.sparse_categorical_crossentropy(as_tensor(target), as_tensor(output), from_logits, axis=axis)


# --- normalization -------------------------------------------------------------------------------
def moments(x, axes, keepdims=False, synchronized=False):
    """(mean, variance) of x over axes."""
    x = as_tensor(x)
    return red.mean(x, axes, keepdims), red.var(x, axes, keepdims)


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """(x - mean) / sqrt(variance + epsilon) * scale + offset, the statistics (1-d, one entry per
    index of x's `axis`) broadcast along the other axes."""
    x = as_tensor(x)
    axis %= x.ndim

    def along_axis(v):
        v = as_tensor(v)
        return dimshuffle(v, [0 if d == axis else "x" for d in range(x.ndim)]) if v.ndim == 1 else v

    inv = 1.0 / ew.sqrt(along_axis(variance) + epsilon)
    if scale is not None:
        inv = inv * along_axis(scale)
    out = (x - along_axis(mean)) * inv
    return out if offset is None else out + along_axis(offset)


# --- convolution and pooling ---------------------------------------------------------------------
def _pair(value):
    return tuple(value) if isinstance(value, (list, tuple)) else (int(value), int(value))


def _to_nhwc(x, data_format):
    return dimshuffle(x, 0, 2, 3, 1) if data_format == "channels_first" else x


def _from_nhwc(x, data_format):
    return dimshuffle(x, 0, 3, 1, 2) if data_format == "channels_first" else x


def _padding(padding):
    padding = padding.lower() if isinstance(padding, str) else padding
    if padding not in ("valid", "same") and isinstance(padding, str):
        raise ValueError("padding must be 'valid' or 'same', got %r" % (padding,))
    return padding


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Cross-correlation of (N, H, W, C) inputs (or (N, C, H, W) for channels_first)
    with a (kh, kw, in, out) kernel."""
    data_format = data_format or config.image_data_format()
    out = Conv2D(_pair(strides), _padding(padding), (1, 1), _pair(dilation_rate))(
        _to_nhwc(as_tensor(inputs), data_format), as_tensor(kernel))
    return _from_nhwc(out, data_format)


conv2d = conv


def _pool(mode, inputs, pool_size, strides, padding, data_format):
    data_format = data_format or config.image_data_format()
    pool_size = _pair(pool_size)
    strides = pool_size if strides is None else _pair(strides)
    # Keras averages over the real pixels only when padding is "same"
    out = Pool2D(pool_size, strides, _padding(padding), mode, count_include_pad=False)(
        _to_nhwc(as_tensor(inputs), data_format))
    return _from_nhwc(out, data_format)


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    return _pool("max", inputs, pool_size, strides, padding, data_format)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    return _pool("average", inputs, pool_size, strides, padding, data_format)


max_pool2d = max_pool
avg_pool2d = average_pool

"""Keras-style ops on symbolic tensors (keras.ops names), including the convolution
and pooling the layers use: cross-correlation, channels_last or channels_first,
strides, dilation, "valid" or "same" padding."""
from mlcore import config
from mlcore.graph.ops import *  # noqa: F401,F403
from mlcore.graph.ops.nn import Conv2D, Pool2D
from mlcore.graph.ops.shape import dimshuffle


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


def conv2d(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Cross-correlation of (N, H, W, C) inputs (or (N, C, H, W) for channels_first)
    with a (kh, kw, in, out) kernel."""
    data_format = data_format or config.image_data_format()
    out = Conv2D(_pair(strides), _padding(padding), (1, 1), _pair(dilation_rate))(_to_nhwc(inputs, data_format),
                                                                                  kernel)
    return _from_nhwc(out, data_format)


conv = conv2d


def _pool(mode, inputs, pool_size, strides, padding, data_format):
    data_format = data_format or config.image_data_format()
    pool_size = _pair(pool_size)
    strides = pool_size if strides is None else _pair(strides)
    # Keras averages over the real pixels only when padding is "same"
    out = Pool2D(pool_size, strides, _padding(padding), mode, count_include_pad=False)(_to_nhwc(inputs, data_format))
    return _from_nhwc(out, data_format)


def max_pool2d(inputs, pool_size, strides=None, padding="valid", data_format=None):
    return _pool("max", inputs, pool_size, strides, padding, data_format)


def avg_pool2d(inputs, pool_size, strides=None, padding="valid", data_format=None):
    return _pool("average", inputs, pool_size, strides, padding, data_format)


max_pool = max_pool2d
average_pool = avg_pool2d

"""T.nnet: Theano's neural-network functions, with Theano's semantics."""
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.nn import Conv2D, log_softmax, softmax as _softmax
from mlcore.graph.ops.reduce import sum_
from mlcore.graph.ops.indexing import subtensor
from mlcore.graph.ops.shape import arange, dimshuffle, shape

sigmoid = ew.sigmoid
softplus = ew.softplus
logsoftmax = log_softmax


def softmax(c, axis=-1):
    return _softmax(c, axis)


def relu(x, alpha=0):
    """max(x, 0), or a leaky relu with slope alpha below zero."""
    x = as_tensor_variable(x)
    return ew.relu(x) if alpha == 0 else ew.switch(ew.gt(x, 0), x, alpha * x)


def categorical_crossentropy(coding_dist, true_dist):
    """-sum(true * log(coding)) per row; true_dist may also be int class indices."""
    coding_dist, true_dist = as_tensor_variable(coding_dist), as_tensor_variable(true_dist)
    if true_dist.ndim == coding_dist.ndim:
        return -sum_(true_dist * ew.log(coding_dist), axis=-1)
    if true_dist.ndim == coding_dist.ndim - 1 and true_dist.dtype.startswith(("int", "uint")):
        rows = arange(shape(coding_dist)[0])
        return -ew.log(subtensor(coding_dist, (rows, true_dist)))
    raise TypeError("categorical_crossentropy: true_dist %s must match coding_dist %s or be int labels"
                    % (true_dist.type, coding_dist.type))


crossentropy_categorical_1hot = categorical_crossentropy


def hard_sigmoid(x):
    """Theano's piecewise-linear sigmoid: clip(0.2 * x + 0.5, 0, 1)."""
    return ew.clip(0.2 * as_tensor_variable(x) + 0.5, 0, 1)


def elu(x, alpha=1):
    """x above zero, alpha * (exp(x) - 1) below."""
    x = as_tensor_variable(x)
    return ew.switch(ew.gt(x, 0), x, alpha * ew.expm1(x))


def softsign(x):
    return x / (1 + ew.abs_(x))


def binary_crossentropy(output, target):
    """-(target * log(output) + (1 - target) * log(1 - output)), elementwise."""
    return -(target * ew.log(output) + (1 - target) * ew.log(1 - output))


def sigmoid_binary_crossentropy(output, target):
    return binary_crossentropy(ew.sigmoid(output), target)


def _theano_padding(border_mode, kh, kw, dilation):
    if border_mode == "valid":
        return ((0, 0), (0, 0))
    if border_mode in ("full", "half"):
        if kh is None or kw is None:
            raise ValueError("T.nnet.conv2d(border_mode=%r): the filters' spatial size must be known; "
                             "pass filter_shape=" % (border_mode,))
        dkh, dkw = (kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1
    if border_mode == "full":
        return ((dkh - 1, dkh - 1), (dkw - 1, dkw - 1))
    if border_mode == "half":
        return ((dkh // 2, dkh // 2), (dkw // 2, dkw // 2))
    if isinstance(border_mode, int):
        border_mode = (border_mode, border_mode)
    if isinstance(border_mode, tuple) and len(border_mode) == 2:
        return tuple((int(p), int(p)) for p in border_mode)
    raise ValueError("conv2d: border_mode must be 'valid', 'full', 'half', an int or a pair, got %r"
                     % (border_mode,))


def conv2d(input, filters, input_shape=None, filter_shape=None, border_mode="valid", subsample=(1, 1),
           filter_flip=True, image_shape=None, filter_dilation=(1, 1), **kwargs):
    """Theano's conv2d: input (N, C, H, W), filters (out, in, h, w); a true convolution
    (kernels flipped) unless filter_flip=False."""
    input, filters = as_tensor_variable(input), as_tensor_variable(filters)
    if input.ndim != 4 or filters.ndim != 4:
        raise ValueError("T.nnet.conv2d needs 4-d input (N, C, H, W) and filters (out, in, h, w); got %s and %s"
                         % (input.type, filters.type))
    kh, kw = filters.type.shape[2:]
    if (kh is None or kw is None) and filter_shape is not None:
        kh, kw = filter_shape[2:]
    kernel = dimshuffle(filters, 2, 3, 1, 0)
    if filter_flip:
        kernel = subtensor(kernel, (slice(None, None, -1), slice(None, None, -1)))
    pads = _theano_padding(border_mode, kh, kw, filter_dilation)
    out = Conv2D(subsample, pads, (1, 1), filter_dilation)(dimshuffle(input, 0, 2, 3, 1), kernel)
    return dimshuffle(out, 0, 3, 1, 2)


from mlcore.tensor.nnet import abstract_conv, conv  # noqa: E402,F401  (they import conv2d from here)

"""theano.tensor.signal.conv: Theano's conv2d for signal processing, a true 2-d convolution (as
scipy.signal.convolve2d) of one image or a stack of them with one filter or a stack of them,
with no channels; T.nnet.conv2d over a batch of one-channel images does it."""
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.shape import dimshuffle
from mlcore.tensor.nnet.abstract_conv import conv2d as nnet_conv2d


def _four_d(x, name):
    """x, (H, W) or (count, H, W), as (count, 1, H, W)."""
    if x.ndim not in (2, 3):
        raise ValueError("T.signal.conv.conv2d: %s must be 2-d or 3-d, got %s" % (name, x.type))
    return dimshuffle(x, "x", "x", 0, 1) if x.ndim == 2 else dimshuffle(x, 0, "x", 1, 2)


def conv2d(input, filters, image_shape=None, filter_shape=None, border_mode="valid", subsample=(1, 1), **kargs):
    """input ([images,] H, W) convolved with filters ([filters,] h, w): (images, filters, H', W'),
    without the dims of a 2-d input or 2-d filters (a 2-d result when both are 2-d, as Theano 1.0
    gives).  image_shape and filter_shape: ([count,] height, width), None where unknown; the
    other keyword arguments of Theano's older interface are accepted and ignored."""
    input, filters = as_tensor_variable(input), as_tensor_variable(filters)
    window = None if filter_shape is None else (None, None) + tuple(filter_shape[-2:])
    out = nnet_conv2d(_four_d(input, "input"), _four_d(filters, "filters"), filter_shape=window,
                      border_mode=border_mode, subsample=subsample)
    keep = [d for d, x in ((0, input), (1, filters)) if x.ndim == 3]
    return dimshuffle(out, *keep, 2, 3)

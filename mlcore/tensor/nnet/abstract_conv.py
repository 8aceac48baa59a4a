"""theano.tensor.nnet.abstract_conv: Theano's convolutions, NCHW (NCDHW) data and (out, in, *window)
filters, a true convolution (filters flipped) unless filter_flip=False, and the two gradients of conv2d.

All are built on the graph's one convolution, Conv2D (cross-correlation, NHWC, (h, w, in, out)
kernels), so their own gradients come from it: the input gradient is Conv2D over the output
gradient spread `subsample` apart (lhs_dilation), the filter gradient Conv2D over the input with
the output gradient as kernel; conv3d folds its depth window into the channels, as the Conv3D
layer does.
"""
import numbers

from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.indexing import subtensor
from mlcore.graph.ops.nn import Conv2D, dilated
from mlcore.graph.ops.shape import arange, concatenate, dimshuffle, pad, reshape

FLIP = slice(None, None, -1)


def border_padding(border_mode, window, dilation, name="conv2d"):
    """Theano's border_mode ('valid', 'full', 'half', an int or one int per spatial dim) as
    (before, after) padding per spatial dim; window holds the filter sizes (None where unknown)."""
    rank = len(window)
    if border_mode == "valid":
        return ((0, 0),) * rank
    if border_mode in ("full", "half"):
        if None in window:
            raise ValueError("T.nnet.%s(border_mode=%r): the filters' spatial size must be known; pass "
                             "filter_shape=" % (name, border_mode))
        spans = [dilated(k, d) for k, d in zip(window, dilation)]
        return tuple((s - 1, s - 1) if border_mode == "full" else (s // 2, s // 2) for s in spans)
    if isinstance(border_mode, int):
        border_mode = (border_mode,) * rank
    if isinstance(border_mode, tuple) and len(border_mode) == rank:
        return tuple((int(p), int(p)) for p in border_mode)
    raise ValueError("%s: border_mode must be 'valid', 'full', 'half', an int or %d ints, got %r"
                     % (name, rank, border_mode))


def filter_window(filters, filter_shape):
    """The filters' spatial sizes: from their static shape, else from filter_shape, else None."""
    window = filters.type.shape[2:]
    return tuple(filter_shape[2:]) if None in window and filter_shape is not None else window


def check_ranks(name, ndim, **tensors):
    for role, tensor in tensors.items():
        if tensor.ndim != ndim:
            raise ValueError("T.nnet.%s needs %d-d %s, got %s" % (name, ndim, role, tensor.type))


def conv2d(input, filters, input_shape=None, filter_shape=None, border_mode="valid", subsample=(1, 1),
           filter_flip=True, image_shape=None, filter_dilation=(1, 1), num_groups=1, unshared=False, **kwargs):
    """Theano's conv2d: input (N, C, H, W), filters (out, in / num_groups, h, w); a true convolution
    (kernels flipped) unless filter_flip=False.  num_groups splits the channels into groups that
    separate filters read (the input's and the output's channels both divide by it)."""
    if unshared:
        raise NotImplementedError("T.nnet.conv2d(unshared=True), a filter per output position, is not offered; "
                                  "the layers' LocallyConnected-style weights are not part of mlcore")
    input, filters = as_tensor_variable(input), as_tensor_variable(filters)
    check_ranks("conv2d", 4, input=input, filters=filters)
    pads = border_padding(border_mode, filter_window(filters, filter_shape), filter_dilation)
    kernel = dimshuffle(filters, 2, 3, 1, 0)
    if filter_flip:
        kernel = subtensor(kernel, (FLIP, FLIP))
    out = Conv2D(subsample, pads, (1, 1), filter_dilation, num_groups)(dimshuffle(input, 0, 2, 3, 1), kernel)
    return dimshuffle(out, 0, 3, 1, 2)


def conv3d(input, filters, input_shape=None, filter_shape=None, border_mode="valid", subsample=(1, 1, 1),
           filter_flip=True, filter_dilation=(1, 1, 1)):
    """Theano's conv3d: input (N, C, D, H, W), filters (out, in, d, h, w).  For each output depth
    the kd input slices it reads are stacked along the channels, and one Conv2D over all
    (sample, depth) images sums over the whole window."""
    input, filters = as_tensor_variable(input), as_tensor_variable(filters)
    check_ranks("conv3d", 5, input=input, filters=filters)
    channels, expected = input.type.shape[1], filters.type.shape[1]
    if None not in (channels, expected) and channels != expected:
        raise ValueError("T.nnet.conv3d: input %s has %d channels but filters %s expect %d"
                         % (input.type, channels, filters.type, expected))
    window = filter_window(filters, filter_shape)
    depth_pads, *plane_pads = border_padding(border_mode, window, filter_dilation, "conv3d")
    if filter_flip:
        filters = subtensor(filters, (slice(None), slice(None), FLIP, FLIP, FLIP))
    volume = dimshuffle(input, 0, 2, 3, 4, 1)
    if depth_pads != (0, 0):
        volume = pad(volume, [(0, 0), depth_pads, (0, 0), (0, 0), (0, 0)])
    kd, kh, kw = (size if size is not None else symbolic for size, symbolic in zip(window, filters.shape[2:]))
    stacked = depth_taps(volume, kd, subsample[0], filter_dilation[0])    # (N, out depth, H, W, kd * C)
    n, depth, height, width, folded = stacked.shape
    kernel = reshape(dimshuffle(filters, 3, 4, 2, 1, 0), [kh, kw, folded, filters.shape[0]])
    conv = Conv2D(subsample[1:], tuple(plane_pads), (1, 1), filter_dilation[1:])
    out = conv(reshape(stacked, [-1, height, width, folded]), kernel)
    out = reshape(out, [n, depth, out.shape[1], out.shape[2], out.shape[3]])
    return dimshuffle(out, 0, 4, 1, 2, 3)


def depth_taps(volume, kd, stride, dilation):
    """For each output depth, the kd slices of the NDHWC volume it reads, stacked along the
    channels: (N, out depth, H, W, kd * C).  Slices when kd is known; one gather when it is only
    known at run time (filters of unknown shape, a shared variable's)."""
    depth = (volume.shape[1] - (kd - 1) * dilation - 1) // stride + 1
    if isinstance(kd, numbers.Integral):
        stop = (depth - 1) * stride + 1
        return concatenate([volume[:, i * dilation:i * dilation + stop:stride] for i in range(kd)], axis=4)
    index = dimshuffle(arange(depth) * stride, 0, "x") + dimshuffle(arange(kd) * dilation, "x", 0)
    n, _, height, width, channels = volume.shape
    return reshape(dimshuffle(volume[:, index], 0, 1, 3, 4, 2, 5), [n, depth, height, width, kd * channels])


def stride_remainder(name, size, pads, span, stride):
    """How many trailing rows (or columns) of the padded image a strided conv2d never reads: what
    its gradients must add back at the end, for which they need the image size."""
    if stride == 1:
        return 0
    if not isinstance(size, numbers.Integral):
        raise ValueError("T.nnet.abstract_conv.%s: with subsample > 1 the image size must be known "
                         "(input_shape=), got %r" % (name, size))
    return (size + pads[0] + pads[1] - span) % stride


def conv2d_grad_wrt_inputs(output_grad, filters, input_shape, filter_shape=None, border_mode="valid",
                           subsample=(1, 1), filter_flip=True, filter_dilation=(1, 1)):
    """The gradient of conv2d with respect to its input: output_grad (N, out, h, w) spread
    `subsample` apart, padded, and convolved with the filters, their in and out swapped."""
    output_grad, filters = as_tensor_variable(output_grad), as_tensor_variable(filters)
    check_ranks("abstract_conv.conv2d_grad_wrt_inputs", 4, output_grad=output_grad, filters=filters)
    window = filter_window(filters, filter_shape)
    if None in window:
        raise ValueError("T.nnet.abstract_conv.conv2d_grad_wrt_inputs: the filters' spatial size must be "
                         "known; got %s, pass filter_shape=" % (filters.type,))
    pads = border_padding(border_mode, window, filter_dilation, "conv2d_grad_wrt_inputs")
    padding = []
    for size, k, (before, after), stride, d in zip(input_shape[2:], window, pads, subsample, filter_dilation):
        span = dilated(k, d)
        extra = stride_remainder("conv2d_grad_wrt_inputs", size, (before, after), span, stride)
        padding.append((span - 1 - before, span - 1 - after + extra))
    kernel = dimshuffle(filters, 2, 3, 0, 1)
    if not filter_flip:
        kernel = subtensor(kernel, (FLIP, FLIP))
    out = Conv2D((1, 1), tuple(padding), subsample, filter_dilation)(dimshuffle(output_grad, 0, 2, 3, 1), kernel)
    return dimshuffle(out, 0, 3, 1, 2)


def conv2d_grad_wrt_weights(input, output_grad, filter_shape, input_shape=None, border_mode="valid",
                            subsample=(1, 1), filter_flip=True, filter_dilation=(1, 1)):
    """The gradient of conv2d with respect to its filters: the input, its batch as channels,
    cross-correlated with output_grad as the kernel (subsample as its dilation, filter_dilation
    as the stride), less padding after the image by the rows a strided conv2d never reads, so
    that the result has the filters' size."""
    input, output_grad = as_tensor_variable(input), as_tensor_variable(output_grad)
    check_ranks("abstract_conv.conv2d_grad_wrt_weights", 4, input=input, output_grad=output_grad)
    window = tuple(filter_shape[2:])
    pads = border_padding(border_mode, window, filter_dilation, "conv2d_grad_wrt_weights")
    image = tuple(input_shape[2:]) if input_shape is not None else input.type.shape[2:]
    padding = []
    for size, k, (before, after), stride, d in zip(image, window, pads, subsample, filter_dilation):
        extra = stride_remainder("conv2d_grad_wrt_weights", size, (before, after), dilated(k, d), stride)
        padding.append((before, after - extra))
    out = Conv2D(filter_dilation, tuple(padding), (1, 1), subsample)(dimshuffle(input, 1, 2, 3, 0),
                                                                     dimshuffle(output_grad, 2, 3, 0, 1))
    grad = dimshuffle(out, 3, 0, 1, 2)                                   # (out, in, h, w)
    return subtensor(grad, (slice(None), slice(None), FLIP, FLIP)) if filter_flip else grad


def get_conv_output_shape(image_shape, kernel_shape, border_mode, subsample, filter_dilation=None):
    """The (N, out channels, *spatial) that conv2d or conv3d gives for these shapes (None where unknown)."""
    rank = len(image_shape) - 2
    dilation = tuple(filter_dilation or (1,) * rank)
    pads = border_padding(border_mode, tuple(kernel_shape[2:]), dilation, "get_conv_output_shape")
    spatial = []
    for size, k, (before, after), stride, d in zip(image_shape[2:], kernel_shape[2:], pads, subsample, dilation):
        spatial.append(None if size is None or k is None else (size + before + after - dilated(k, d)) // stride + 1)
    return (image_shape[0], kernel_shape[0]) + tuple(spatial)

"""theano.tensor.nnet.abstract_conv: Theano's convolutions, NCHW (NCDHW) data and (out, in, *window)
filters, a true convolution (filters flipped) unless filter_flip=False, and the two gradients of conv2d.

All are built on the graph's one convolution, Conv2D (cross-correlation, NHWC, (h, w, in, out)
kernels), so their own gradients come from it: the input gradient is Conv2D over the output
gradient spread `subsample` apart (lhs_dilation), the filter gradient Conv2D over the input with
the output gradient as kernel; conv3d folds its depth window into the channels, as the Conv3D
layer does.  Unshared (locally connected) conv2d gathers windows instead (unshared_conv); the
gradients of grouped and unshared convolutions are pulled back through conv2d itself (Lop), which
is what they are.  causal_conv1d and separable_conv2d are conv2d with their own padding and
groups; bilinear upsampling is in upsampling.
"""
import numbers

from mlcore.graph.gradient import Lop
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.indexing import subtensor
from mlcore.graph.ops.nn import Conv2D, dilated
from mlcore.graph.ops.shape import arange, concatenate, dimshuffle, pad, reshape, zeros
from mlcore import config
from mlcore.tensor.nnet.checks import declared, static_ints
from mlcore.tensor.nnet.conv_args import (FLIP, border_padding, check_ranks, filter_window,  # noqa: F401
                                          is_static, zero_pad)
from mlcore.tensor.nnet.conv_shapes import (assert_conv_shape, assert_shape, check_conv_gradinputs_shape,  # noqa: F401
                                            get_conv_gradinputs_shape, get_conv_gradinputs_shape_1axis,
                                            get_conv_gradweights_shape, get_conv_gradweights_shape_1axis,
                                            get_conv_output_shape, get_conv_shape_1axis)
from mlcore.tensor.nnet.unshared_conv import unshared_conv2d
from mlcore.tensor.nnet.upsampling import (bilinear_kernel_1D, bilinear_kernel_2D, bilinear_upsampling,  # noqa: F401
                                           frac_bilinear_upsampling)


def conv2d(input, filters, input_shape=None, filter_shape=None, border_mode="valid", subsample=(1, 1),
           filter_flip=True, image_shape=None, filter_dilation=(1, 1), num_groups=1, unshared=False, **kwargs):
    """Theano's conv2d: input (N, C, H, W), filters (out, in / num_groups, h, w); a true convolution
    (kernels flipped) unless filter_flip=False.  num_groups splits the channels into groups that
    separate filters read (the input's and the output's channels both divide by it).  unshared:
    filters (out, out rows, out cols, in / num_groups, h, w), one set per output position."""
    input, filters = as_tensor_variable(input), as_tensor_variable(filters)
    check_ranks("conv2d", 4, input=input)
    check_ranks("conv2d(unshared=True)" if unshared else "conv2d", 6 if unshared else 4, filters=filters)
    if "imshp_logical" in kwargs or "kshp_logical" in kwargs:
        raise ValueError("T.nnet.conv2d: imshp_logical and kshp_logical are not supported (nor were they in Theano 1.0)")
    if image_shape is not None:
        if input_shape is not None:
            raise ValueError("T.nnet.conv2d: input_shape and image_shape (its old name) cannot both be given")
        input_shape = image_shape
    input, filters = declared_shapes("conv2d", input, input_shape, filters, filter_shape)
    window = [filters.shape[d] if k is None else k for d, k in zip((-2, -1), filter_window(filters, filter_shape))]
    pads = border_padding(border_mode, window, filter_dilation)
    if unshared:
        return unshared_conv2d(input, filters, pads, subsample, filter_flip, filter_dilation, num_groups)
    kernel = dimshuffle(filters, 2, 3, 1, 0)
    if filter_flip:
        kernel = subtensor(kernel, (FLIP, FLIP))
    if not is_static(pads):      # 'full' or 'half' for filters whose size is known only at run time
        input, pads = zero_pad(input, pads), ((0, 0), (0, 0))
    out = Conv2D(subsample, pads, (1, 1), filter_dilation, num_groups)(dimshuffle(input, 0, 2, 3, 1), kernel)
    return dimshuffle(out, 0, 3, 1, 2)


def conv3d(input, filters, input_shape=None, filter_shape=None, border_mode="valid", subsample=(1, 1, 1),
           filter_flip=True, filter_dilation=(1, 1, 1)):
    """Theano's conv3d: input (N, C, D, H, W), filters (out, in, d, h, w).  For each output depth
    the kd input slices it reads are stacked along the channels, and one Conv2D over all
    (sample, depth) images sums over the whole window."""
    input, filters = as_tensor_variable(input), as_tensor_variable(filters)
    check_ranks("conv3d", 5, input=input, filters=filters)
    input, filters = declared_shapes("conv3d", input, input_shape, filters, filter_shape)
    channels, expected = input.type.shape[1], filters.type.shape[1]
    if None not in (channels, expected) and channels != expected:
        raise ValueError("T.nnet.conv3d: input %s has %d channels but filters %s expect %d"
                         % (input.type, channels, filters.type, expected))
    window = [filters.shape[d] if k is None else k
              for d, k in zip((-3, -2, -1), filter_window(filters, filter_shape, 3))]
    pads = border_padding(border_mode, window, filter_dilation, "conv3d")
    if not is_static(pads):      # 'full' or 'half' for filters whose size is known only at run time
        input, pads = zero_pad(input, pads), ((0, 0),) * 3
    depth_pads, *plane_pads = pads
    if filter_flip:
        filters = subtensor(filters, (slice(None), slice(None), FLIP, FLIP, FLIP))
    volume = dimshuffle(input, 0, 2, 3, 4, 1)
    if depth_pads != (0, 0):
        volume = pad(volume, [(0, 0), depth_pads, (0, 0), (0, 0), (0, 0)])
    kd, kh, kw = window
    stacked = depth_taps(volume, kd, subsample[0], filter_dilation[0])    # (N, out depth, H, W, kd * C)
    n, depth, height, width, folded = stacked.shape
    kernel = reshape(dimshuffle(filters, 3, 4, 2, 1, 0), [kh, kw, folded, filters.shape[0]])
    conv = Conv2D(subsample[1:], tuple(plane_pads), (1, 1), filter_dilation[1:])
    out = conv(reshape(stacked, [-1, height, width, folded]), kernel)
    out = reshape(out, [n, depth, out.shape[1], out.shape[2], out.shape[3]])
    return dimshuffle(out, 0, 4, 1, 2, 3)


def declared_shapes(name, input, input_shape, filters, filter_shape):
    """input and filters, checked when run against the shapes the caller declared, where Theano's
    config.conv.assert_shape is on (off by default, as in Theano: the shapes are only hints)."""
    if not config.conv.assert_shape:
        return input, filters
    where = "T.nnet.abstract_conv.%s" % name
    return declared(input, input_shape, where + " input_shape"), declared(filters, filter_shape, where + " filter_shape")


def fitting_output_grad(name, output_grad, filters, input_shape, filter_shape, border_mode, subsample, dilation):
    """output_grad, checked when run to have the size that a convolution of an input of
    input_shape gives: an output_grad of any other size has no gradient wrt such an input
    (Theano's ValueError).  Unchecked where a size is unknown."""
    rank = len(subsample)
    image = static_ints(input_shape)
    window = filter_window(filters, filter_shape, rank)
    if any(not isinstance(d, numbers.Integral) for d in list(image[2:]) + list(window)):
        return output_grad
    expected = get_conv_output_shape((None, None) + tuple(image[2:]), (None,) + tuple(window), border_mode,
                                     subsample, dilation)
    return declared(output_grad, expected, "T.nnet.abstract_conv.%s: output_grad for input_shape %s"
                    % (name, tuple(input_shape)))


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


def pulled_back(output_grad, placeholder, output):
    """output_grad pulled back through a convolution to its argument `placeholder` (zeros of that
    argument's shape: a convolution is linear in each argument, so the value is never read)."""
    return Lop(output, placeholder, output_grad)


def conv2d_grad_wrt_inputs(output_grad, filters, input_shape, filter_shape=None, border_mode="valid",
                           subsample=(1, 1), filter_flip=True, filter_dilation=(1, 1), num_groups=1, unshared=False):
    """The gradient of conv2d with respect to its input (N, C, H, W), whose size input_shape gives
    (N and C may be None): output_grad (N, out, h, w) spread `subsample` apart, padded, and
    convolved with the filters, their in and out swapped; grouped and unshared ones are pulled back
    through conv2d."""
    output_grad, filters = as_tensor_variable(output_grad), as_tensor_variable(filters)
    check_ranks("abstract_conv.conv2d_grad_wrt_inputs", 4, output_grad=output_grad)
    check_ranks("abstract_conv.conv2d_grad_wrt_inputs", 6 if unshared else 4, filters=filters)
    output_grad = fitting_output_grad("conv2d_grad_wrt_inputs", output_grad, filters, input_shape, filter_shape,
                                      border_mode, subsample, filter_dilation)
    if unshared or num_groups != 1:
        channels = filters.shape[3 if unshared else 1] * num_groups
        image = zeros([output_grad.shape[0] if input_shape[0] is None else input_shape[0],
                       channels if input_shape[1] is None else input_shape[1]] + list(input_shape[2:]),
                      output_grad.dtype)
        return pulled_back(output_grad, image, conv2d(image, filters, filter_shape=filter_shape,
                                                      border_mode=border_mode, subsample=subsample,
                                                      filter_flip=filter_flip, filter_dilation=filter_dilation,
                                                      num_groups=num_groups, unshared=unshared))
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
                            subsample=(1, 1), filter_flip=True, filter_dilation=(1, 1), num_groups=1, unshared=False):
    """The gradient of conv2d with respect to its filters, of size filter_shape (all but the window
    may be None): the input, its batch as channels, cross-correlated with output_grad as the kernel
    (subsample as its dilation, filter_dilation as the stride), less padding after the image by
    the rows a strided conv2d never reads, so that the result has the filters' size; grouped and
    unshared ones are pulled back through conv2d."""
    input, output_grad = as_tensor_variable(input), as_tensor_variable(output_grad)
    check_ranks("abstract_conv.conv2d_grad_wrt_weights", 4, input=input, output_grad=output_grad)
    if len(filter_shape) != (6 if unshared else 4):
        raise ValueError("T.nnet.abstract_conv.conv2d_grad_wrt_weights: filter_shape must have %d entries, got %r"
                         % (6 if unshared else 4, filter_shape))
    if unshared or num_groups != 1:
        positions = [output_grad.shape[2], output_grad.shape[3]] if unshared else []
        known = [output_grad.shape[1]] + positions + [input.shape[1] // num_groups]
        weights = zeros([k if s is None else s for s, k in zip(filter_shape, known)] + list(filter_shape[-2:]),
                        output_grad.dtype)
        return pulled_back(output_grad, weights, conv2d(input, weights, input_shape, border_mode=border_mode,
                                                        subsample=subsample, filter_flip=filter_flip,
                                                        filter_dilation=filter_dilation, num_groups=num_groups,
                                                        unshared=unshared))
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


def causal_conv1d(input, filters, filter_shape, input_shape=None, subsample=1, filter_flip=True, filter_dilation=1,
                  num_groups=1, unshared=False):
    """Theano's causal (WaveNet) convolution of input (N, C, length) with filters (out, C /
    num_groups, filter length): the input is padded on the left only, by the dilated filter's
    span less one, so output t reads inputs t and before.  unshared: filters (out, out length,
    C / num_groups, filter length).  A conv2d over a width of one."""
    input, filters = as_tensor_variable(input), as_tensor_variable(filters)
    check_ranks("abstract_conv.causal_conv1d", 3, input=input)
    check_ranks("abstract_conv.causal_conv1d", 4 if unshared else 3, filters=filters)
    length = filter_window(filters, filter_shape, 1)[0]
    if length is None:
        raise ValueError("T.nnet.abstract_conv.causal_conv1d: the filters' length must be known for the left "
                         "padding; pass filter_shape=")
    kernels = dimshuffle(filters, 0, 1, "x", 2, 3, "x") if unshared else dimshuffle(filters, 0, 1, 2, "x")
    out = conv2d(dimshuffle(input, 0, 1, 2, "x"), kernels, border_mode=((filter_dilation * (length - 1), 0), 0),
                 subsample=(subsample, 1), filter_flip=filter_flip, filter_dilation=(filter_dilation, 1),
                 num_groups=num_groups, unshared=unshared)
    return out[:, :, :, 0]


def separable_conv2d(input, depthwise_filters, pointwise_filters, num_channels, input_shape=None,
                     depthwise_filter_shape=None, pointwise_filter_shape=None, border_mode="valid", subsample=(1, 1),
                     filter_flip=True, filter_dilation=(1, 1)):
    """A depthwise conv2d, each of the num_channels input channels convolved with its own
    depthwise_filters (channels * depth multiplier, 1, h, w), then a pointwise one (out,
    channels * depth multiplier, 1, 1) that mixes them; border_mode, subsample and
    filter_dilation are the depthwise convolution's."""
    depthwise = conv2d(input, depthwise_filters, input_shape, depthwise_filter_shape, border_mode, subsample,
                       filter_flip, filter_dilation=filter_dilation, num_groups=num_channels)
    return conv2d(depthwise, pointwise_filters, filter_shape=pointwise_filter_shape, filter_flip=filter_flip)


def _known_or(size, fallback):
    return fallback if size is None else size


def conv3d_grad_wrt_inputs(output_grad, filters, input_shape, filter_shape=None, border_mode="valid",
                           subsample=(1, 1, 1), filter_flip=True, filter_dilation=(1, 1, 1)):
    """The gradient of conv3d with respect to its input (N, C, D, H, W), of size input_shape (N
    and C may be None): output_grad pulled back through conv3d."""
    output_grad, filters = as_tensor_variable(output_grad), as_tensor_variable(filters)
    check_ranks("abstract_conv.conv3d_grad_wrt_inputs", 5, output_grad=output_grad, filters=filters)
    output_grad = fitting_output_grad("conv3d_grad_wrt_inputs", output_grad, filters, input_shape, filter_shape,
                                      border_mode, subsample, filter_dilation)
    image = zeros([_known_or(input_shape[0], output_grad.shape[0]), _known_or(input_shape[1], filters.shape[1])]
                  + list(input_shape[2:]), output_grad.dtype)
    return pulled_back(output_grad, image, conv3d(image, filters, filter_shape=filter_shape, border_mode=border_mode,
                                                  subsample=subsample, filter_flip=filter_flip,
                                                  filter_dilation=filter_dilation))


def conv3d_grad_wrt_weights(input, output_grad, filter_shape, input_shape=None, border_mode="valid",
                            subsample=(1, 1, 1), filter_flip=True, filter_dilation=(1, 1, 1)):
    """The gradient of conv3d with respect to its filters, of size filter_shape (out and in
    channels may be None, the window must be known): output_grad pulled back through conv3d."""
    input, output_grad = as_tensor_variable(input), as_tensor_variable(output_grad)
    check_ranks("abstract_conv.conv3d_grad_wrt_weights", 5, input=input, output_grad=output_grad)
    if len(filter_shape) != 5 or None in tuple(filter_shape[2:]):
        raise ValueError("T.nnet.abstract_conv.conv3d_grad_wrt_weights: filter_shape must have 5 entries, the "
                         "last three known, got %r" % (filter_shape,))
    weights = zeros([_known_or(filter_shape[0], output_grad.shape[1]), _known_or(filter_shape[1], input.shape[1])]
                    + list(filter_shape[2:]), output_grad.dtype)
    return pulled_back(output_grad, weights, conv3d(input, weights, input_shape, border_mode=border_mode,
                                                    subsample=subsample, filter_flip=filter_flip,
                                                    filter_dilation=filter_dilation))


def constant_shape(name, shape):
    """Theano's imshp / kshp: None, or a list or tuple of ints, None and constants; a symbolic
    shape is refused, as Theano's ops refused it."""
    if shape is None:
        return None
    if not isinstance(shape, (tuple, list)):
        raise ValueError("%s: the shape must be None or a tuple of ints, got %r" % (name, shape))
    values = tuple(static_ints(shape))
    if any(v is not None and not isinstance(v, numbers.Integral) for v in values):
        raise ValueError("%s: the shape must be None or a tuple of ints (or None), got %r" % (name, shape))
    return values


class AbstractConv:
    """Theano's AbstractConv ops, for code that makes them: made with the convolution's parameters,
    called on its arguments, one builds conv2d's (conv3d's) graph or that of one of its gradients,
    the last argument then being the spatial size of the result."""
    rank = 2

    def __init__(self, imshp=None, kshp=None, border_mode="valid", subsample=None, filter_flip=True,
                 filter_dilation=None, num_groups=1, unshared=False):
        self.imshp = constant_shape(type(self).__name__, imshp)
        self.kshp = constant_shape(type(self).__name__, kshp)
        self.border_mode = border_mode
        self.subsample = tuple(subsample or (1,) * self.rank)
        self.filter_flip = filter_flip
        self.filter_dilation = tuple(filter_dilation or (1,) * self.rank)
        self.num_groups = num_groups
        self.unshared = unshared

    def __eq__(self, other):
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self):
        return hash((type(self),) + tuple(vars(self).values()))

    def options(self):
        """The keyword arguments all of this op's functions take."""
        options = dict(border_mode=self.border_mode, subsample=self.subsample, filter_flip=self.filter_flip,
                       filter_dilation=self.filter_dilation)
        if self.rank == 2:
            options.update(num_groups=self.num_groups, unshared=self.unshared)
        return options

    def full_shape(self, declared_shape, spatial, leading=2):
        """declared_shape's `leading` entries (None if not declared), then the given spatial size."""
        lead = declared_shape[:leading] if declared_shape is not None else (None,) * leading
        return tuple(lead) + tuple(spatial[d] for d in range(self.rank))


class AbstractConv2d(AbstractConv):
    def __call__(self, img, kern):
        return conv2d(img, kern, self.imshp, self.kshp, **self.options())


class AbstractConv2d_gradInputs(AbstractConv):
    def __call__(self, kern, topgrad, shape):
        return conv2d_grad_wrt_inputs(topgrad, kern, self.full_shape(self.imshp, shape), self.kshp, **self.options())


class AbstractConv2d_gradWeights(AbstractConv):
    def __call__(self, img, topgrad, shape):
        kernel_shape = self.full_shape(self.kshp, shape, 4 if self.unshared else 2)
        return conv2d_grad_wrt_weights(img, topgrad, kernel_shape, self.imshp, **self.options())


class AbstractConv3d(AbstractConv):
    rank = 3

    def __call__(self, img, kern):
        return conv3d(img, kern, self.imshp, self.kshp, **self.options())


class AbstractConv3d_gradInputs(AbstractConv3d):
    def __call__(self, kern, topgrad, shape):
        return conv3d_grad_wrt_inputs(topgrad, kern, self.full_shape(self.imshp, shape), self.kshp, **self.options())


class AbstractConv3d_gradWeights(AbstractConv3d):
    def __call__(self, img, topgrad, shape):
        return conv3d_grad_wrt_weights(img, topgrad, self.full_shape(self.kshp, shape), self.imshp, **self.options())

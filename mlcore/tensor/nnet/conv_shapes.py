"""Theano's convolution shape arithmetic (theano.tensor.nnet.abstract_conv's get_conv_*_shape and
checks): the output size of a convolution, and the input or filter size its gradients give back.
Sizes are ints, or None where unknown; the functions of whole shapes take (N, C, *spatial) shapes."""
import numbers

from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.nn import dilated
from mlcore.tensor.nnet.checks import Assert, static_ints
from mlcore.tensor.nnet.conv_args import border_padding


def _axis_pads(border_mode, span):
    """(before, after) padding of one axis: border_mode 'valid', 'half', 'full', an int or a pair."""
    if border_mode == "half":
        return span // 2, span // 2
    if border_mode == "full":
        return span - 1, span - 1
    if border_mode == "valid":
        return 0, 0
    if isinstance(border_mode, tuple):
        return tuple(int(p) for p in border_mode)
    return int(border_mode), int(border_mode)


def _per_axis(border_mode, rank):
    """border_mode of a whole convolution as one entry per spatial axis."""
    return border_mode if isinstance(border_mode, (tuple, list)) else (border_mode,) * rank


def get_conv_shape_1axis(image_shape, kernel_shape, border_mode, subsample, dilation=1):
    """The output size along one axis, or None when a size is unknown."""
    if None in (image_shape, kernel_shape, border_mode, subsample, dilation):
        return None
    span = dilated(kernel_shape, dilation)
    before, after = _axis_pads(border_mode, span)
    return (image_shape + before + after - span) // subsample + 1


def get_conv_output_shape(image_shape, kernel_shape, border_mode, subsample, filter_dilation=None):
    """The (N, out channels, *spatial) that conv2d or conv3d gives for these shapes (None where
    unknown); kernel_shape may be an unshared conv2d's, whose window is its last entries."""
    rank = len(image_shape) - 2
    dilation = tuple(filter_dilation or (1,) * rank)
    window = tuple(kernel_shape[-rank:])
    border_padding(border_mode, window, dilation, "get_conv_output_shape")     # refuses a bad border_mode
    spatial = tuple(get_conv_shape_1axis(i, k, b, s, d) for i, k, b, s, d in
                    zip(image_shape[2:], window, _per_axis(border_mode, rank), subsample, dilation))
    return (image_shape[0], kernel_shape[0]) + spatial


def get_conv_gradweights_shape_1axis(image_shape, top_shape, border_mode, subsample, dilation):
    """The filter size along one axis that maps image_shape to top_shape; None when unknown or
    ambiguous (a stride above 1, or 'half', whose padding depends on the filter)."""
    if None in (image_shape, top_shape, border_mode, subsample, dilation) or subsample != 1 or border_mode == "half":
        return None
    if border_mode == "full":
        span = top_shape - image_shape + 1
    else:
        before, after = _axis_pads(border_mode, 0)
        span = image_shape + before + after - top_shape + 1
    return (span - 1) // dilation + 1


def get_conv_gradweights_shape(image_shape, top_shape, border_mode, subsample, filter_dilation=None):
    """The (out channels, in channels, *window) shape of the filters that map image_shape to
    top_shape (the gradient wrt the filters has it), None where not known."""
    rank = len(image_shape) - 2
    dilation = tuple(filter_dilation or (1,) * rank)
    window = tuple(get_conv_gradweights_shape_1axis(i, t, b, s, d) for i, t, b, s, d in
                   zip(image_shape[2:], top_shape[2:], _per_axis(border_mode, rank), subsample, dilation))
    return (top_shape[1], image_shape[1]) + window


def get_conv_gradinputs_shape_1axis(kernel_shape, top_shape, border_mode, subsample, dilation):
    """The image size along one axis that the filter maps to top_shape; None when unknown or
    ambiguous (with a stride above 1 several image sizes give the same output)."""
    if None in (kernel_shape, top_shape, border_mode, subsample, dilation) or subsample != 1:
        return None
    span = dilated(kernel_shape, dilation)
    before, after = _axis_pads(border_mode, span)
    return top_shape + span - 1 - before - after


def get_conv_gradinputs_shape(kernel_shape, top_shape, border_mode, subsample, filter_dilation=None):
    """The (N, in channels, *spatial) image shape that the filters map to top_shape (the gradient
    wrt the input has it), None where not known."""
    rank = len(kernel_shape) - 2
    dilation = tuple(filter_dilation or (1,) * rank)
    spatial = tuple(get_conv_gradinputs_shape_1axis(k, t, b, s, d) for k, t, b, s, d in
                    zip(kernel_shape[-rank:], top_shape[2:], _per_axis(border_mode, rank), subsample, dilation))
    return (top_shape[0], kernel_shape[-rank - 1]) + spatial


def check_conv_gradinputs_shape(image_shape, kernel_shape, output_shape, border_mode, subsample,
                                filter_dilation=None):
    """Whether a convolution of image_shape by kernel_shape can give output_shape (a None, in
    either, matches any size)."""
    computed = get_conv_output_shape(image_shape, kernel_shape, border_mode, subsample, filter_dilation)
    given = static_ints(output_shape)
    return all(g is None or c is None or not isinstance(g, numbers.Integral) or g == c
               for g, c in zip(given, computed))


def assert_conv_shape(shape):
    """shape, each entry checked to be a possible convolution size: at least 0 for the batch and
    channels, at least 1 for the spatial sizes.  A known size is checked now (ValueError), a
    symbolic one when the graph runs (AssertionError)."""
    checked = []
    for axis, size in enumerate(static_ints(shape)):
        least = 0 if axis < 2 else 1
        if isinstance(size, numbers.Integral):
            if size < least:
                raise ValueError("assert_conv_shape: the convolution would give a shape of size %d (< %d) at dim %d"
                                 % (size, least, axis))
            checked.append(size)
        else:
            message = "assert_conv_shape: the convolution would give a size below %d at dim %d" % (least, axis)
            checked.append(Assert(message)(size, ew.ge(size, least)))
    return checked


def assert_shape(x, expected_shape, msg="Unexpected shape."):
    """x, checked when the graph runs to have expected_shape (ints or symbolic sizes; None: any)."""
    x = as_tensor_variable(x)
    if expected_shape is None:
        return x
    tests = [ew.eq(x.shape[axis], size) for axis, size in enumerate(expected_shape) if size is not None]
    return Assert(msg)(x, *tests) if tests else x

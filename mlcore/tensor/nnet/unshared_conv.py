"""Theano's unshared ("locally connected") conv2d: each output position has filters of its own,
(out channels, out rows, out cols, in channels / groups, filter rows, filter cols).

A convolution op slides one kernel over the image, so it cannot serve here.  Instead each output
position's input window is gathered (one advanced index per spatial axis, which also gives the
stride and the dilation) and contracted with that position's filters by one batched matmul; the
gradients are those two ops' pullbacks (the gather's scatter-add, the matmul's two products)."""
from mlcore.graph.ops.linalg import matmul
from mlcore.graph.ops.nn import dilated
from mlcore.graph.ops.shape import arange, dimshuffle, reshape
from mlcore.tensor.nnet.conv_args import FLIP, zero_pad


def window_taps(outputs, window, stride, dilation):
    """(outputs, window): the input position each tap of each output position reads, on one axis."""
    return dimshuffle(arange(outputs) * stride, 0, "x") + dimshuffle(arange(window) * dilation, "x", 0)


def check_output_size(image, pads, filters, subsample, dilation):
    """Where the sizes are known, the filters must have one set per output position."""
    for axis, (size, (before, after), stride, d) in enumerate(zip(image, pads, subsample, dilation)):
        window, positions = filters.type.shape[4 + axis], filters.type.shape[1 + axis]
        if None in (size, window, positions):
            continue
        expected = (size + before + after - dilated(window, d)) // stride + 1
        if positions != expected:
            raise ValueError("T.nnet.conv2d(unshared=True): filters %s have %d output %s, but the input %s gives %d"
                             % (filters.type, positions, ("rows", "columns")[axis], image, expected))


def unshared_conv2d(input, filters, pads, subsample, filter_flip, filter_dilation, num_groups):
    """input (N, C, H, W), filters (O, out rows, out cols, C / num_groups, kh, kw), pads the
    (before, after) padding of each spatial dim; returns (N, O, out rows, out cols)."""
    channels, group_channels = input.type.shape[1], filters.type.shape[3]
    if None not in (channels, group_channels) and channels != group_channels * num_groups:
        raise ValueError("T.nnet.conv2d(unshared=True): input %s has %d channels but filters %s read %d x %d groups"
                         % (input.type, channels, filters.type, group_channels, num_groups))
    check_output_size(input.type.shape[2:], pads, filters, subsample, filter_dilation)
    input = zero_pad(input, pads)
    n = input.shape[0]
    rows, cols, kh, kw = (filters.shape[d] for d in (1, 2, 4, 5))
    patches = input[:, :, window_taps(rows, kh, subsample[0], filter_dilation[0])]              # N C rows kh W
    patches = patches[:, :, :, :, window_taps(cols, kw, subsample[1], filter_dilation[1])]    # N C rows kh cols kw
    patches = reshape(dimshuffle(patches, 2, 4, 0, 1, 3, 5), [rows, cols, n, num_groups, -1])
    if filter_flip:
        filters = filters[:, :, :, :, FLIP, FLIP]
    out_channels = filters.shape[0]
    per_group = out_channels // num_groups
    per_position = reshape(dimshuffle(filters, 1, 2, 3, 4, 5, 0), [rows, cols, -1, num_groups, per_group])
    out = matmul(dimshuffle(patches, 0, 1, 3, 2, 4), dimshuffle(per_position, 0, 1, 3, 2, 4))  # rows cols G N O/G
    return reshape(dimshuffle(out, 3, 2, 4, 0, 1), [n, out_channels, rows, cols])

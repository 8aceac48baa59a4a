"""Conv3D (Convolution3D): cross-correlation over volumes (N, depth, rows, cols, C), or
(N, C, depth, rows, cols) with channels_first, with a (kd, kh, kw, in // groups, filters) kernel.

The graph's convolution is 2-d, so the depth window is folded into the channels: for each output
depth, the kd input slices it reads are stacked along the channels, and one Conv2D over all
(sample, depth) images with the (kh, kw, kd * in, filters) kernel sums over the whole 3-d window.
That copies the input kd times, but the multiply-adds are one GEMM, as in a 3-d im2col.  With
groups the slices are stacked group by group, each group's kd * in // groups channels together,
so that the 2-d convolution takes the same groups: a group's filters see its own channels at
every depth of the window and no other's (fold_depth).
"""
from mlcore.graph import ops
from mlcore.graph.basic import Variable
from mlcore.graph.ops.nn import dilated
from mlcore.layers.conv_base import GroupedConv


def non_negative(size):
    """max(size, 0) of an int or of a symbolic scalar."""
    return ops.maximum(size, 0) if isinstance(size, Variable) else max(size, 0)


class Conv3D(GroupedConv):
    """3-d cross-correlation, as keras.layers.Conv3D."""
    rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)

    def _convolve(self, volume):
        """volume: NDHWC."""
        return conv3d(volume, self.kernel, self.strides, self.padding, self.dilation_rate, self.groups)


def conv3d(volume, kernel, strides, padding, dilation_rate, groups=1):
    """The 3-d cross-correlation of an NDHWC volume with a (kd, kh, kw, in // groups, out) kernel."""
    (sd, sh, sw), (dd, dh, dw) = strides, dilation_rate
    return fold_depth(depth_taps(volume, kernel.type.shape[0], sd, padding, dd), kernel,
                      lambda images, kernel: ops.conv2d(images, kernel, (sh, sw), padding, (dh, dw), groups=groups),
                      groups)


def depth_taps(volume, kd, sd, padding, dd):
    """The kd slices of an NDHWC volume that the output depths read, tap by tap, each
    (N, out depth, H, W, C), for a depth window kd, stride sd and dilation dd.  For "same" the
    volume is padded by the most any depth needs and the slices start where the input's own
    padding would: ints where its depth is known, symbolic scalars where it is not."""
    span, depth = dilated(kd, dd), volume.shape[1]
    if padding == "valid":
        start, out_depth = 0, (depth - span) // sd + 1
    else:
        most = (span - 1) // 2
        volume = ops.pad(volume, [(0, 0), (most, span - 1 - most), (0, 0), (0, 0), (0, 0)])
        out_depth = (depth + sd - 1) // sd
        start = most - non_negative((out_depth - 1) * sd + span - depth) // 2
    stop = start + (out_depth - 1) * sd + 1
    return [volume[:, start + i * dd:stop + i * dd:sd] for i in range(kd)]


def fold_depth(taps, kernel, conv2d, groups=1):
    """The 3-d cross-correlation of kd depth taps (each (N, out depth, H, W, in)) with a
    (kd, kh, kw, in // groups, out) kernel: the taps stacked along the channels, group by group
    ((group, tap, channel of the group) order), and one 2-d convolution conv2d(images, kernel), in
    the same groups, over all (sample, depth) images with the (kh, kw, kd * in // groups, out) kernel."""
    n, depth, height, width, channels = taps[0].shape
    by_group = [ops.reshape(tap, [-1, height, width, groups, 1, channels // groups]) for tap in taps]
    images = ops.reshape(ops.concatenate(by_group, axis=4), [-1, height, width, len(taps) * channels])
    _, kh, kw, group_channels, filters = kernel.type.shape
    out = conv2d(images, ops.reshape(ops.dimshuffle(kernel, 1, 2, 0, 3, 4),
                                     (kh, kw, len(taps) * group_channels, filters)))
    return ops.reshape(out, [n, depth, out.shape[1], out.shape[2], filters])


Convolution3D = Conv3D

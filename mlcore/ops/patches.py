"""keras.ops.nn on windows of an image that ordinary pooling does not give: adaptive pooling (each
output cell pools the cells [floor(i L / n), ceil((i + 1) L / n)) of an axis of length L, so any
input size pools to n, as PyTorch's) and unfold/fold (an NCHW image as the columns of its sliding
blocks, and back, summing where blocks overlap: im2col and col2im).  Sizes must be known when the
graph is built; every result is built of graph ops and differentiates as they do."""
import numpy as np

from mlcore import config
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops import reduce as red
from mlcore.graph.ops import shape as sh
from mlcore.graph.ops.extra_ops import dims
from mlcore.graph.ops.indexing import _inc_or_set
from mlcore.ops.arrays import moveaxis, reshape
from mlcore.ops.core import as_float


def _windows(length, size):
    """A (size, length) bool matrix: which cells of an axis of `length` each adaptive window covers."""
    cells = np.arange(length)
    starts = np.arange(size) * length // size
    ends = -(-(np.arange(1, size + 1) * length) // size)
    return (cells >= starts[:, None]) & (cells < ends[:, None])


def _adaptive(name, inputs, output_size, data_format, pool_axis):
    """inputs pooled by pool_axis(x, covered) along each spatial axis in turn (both pools take
    rectangles, so they pool one axis at a time): x has the axis last, covered is _windows's matrix."""
    x = as_float(inputs)
    spatial = x.ndim - 2
    if spatial not in (1, 2, 3):
        raise ValueError("%s: inputs must be 3-D, 4-D or 5-D (batch, spatial axes, channels); received %s"
                         % (name, x.type))
    data_format = data_format or config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("%s: data_format must be 'channels_last' or 'channels_first'; received %r"
                         % (name, data_format))
    sizes = (output_size,) * spatial if isinstance(output_size, int) else tuple(output_size)
    if len(sizes) != spatial:
        raise ValueError("%s: output_size needs %d entries for %s; received %r" % (name, spatial, x.type, output_size))
    first = 1 if data_format == "channels_last" else 2
    for axis, size in zip(range(first, first + spatial), sizes):
        length = x.type.shape[axis]
        if length is None:
            raise ValueError("%s: the spatial sizes must be known; received %s" % (name, x.type))
        x = moveaxis(pool_axis(moveaxis(x, axis, -1), _windows(length, size)), -1, axis)
    return x


def _average_axis(x, covered):
    weights = (covered / covered.sum(1, keepdims=True)).T.astype(x.dtype)
    return red.sum_(sh.dimshuffle(x, list(range(x.ndim)) + ["x"]) * weights, -2)


def _max_axis(x, covered):
    spread = sh.dimshuffle(x, list(range(x.ndim - 1)) + ["x", x.ndim - 1])
    return red.max_(ew.switch(covered, spread, -np.inf), -1)


def adaptive_average_pool(inputs, output_size, data_format=None):
    """The mean of each adaptive window: any spatial size pooled to output_size."""
    return _adaptive("adaptive_average_pool", inputs, output_size, data_format, _average_axis)


def adaptive_max_pool(inputs, output_size, data_format=None):
    """The largest entry of each adaptive window: any spatial size pooled to output_size."""
    return _adaptive("adaptive_max_pool", inputs, output_size, data_format, _max_axis)


def _pair(value):
    return (int(value), int(value)) if isinstance(value, (int, np.integer)) else tuple(int(v) for v in value)


def _block_grid(size, kernel_size, dilation, padding, stride):
    """Per axis (the padded length, the number of block positions) and the 2-d slice that reads
    the tap (i, j) of every block, for images of spatial `size`."""
    k, d, p, s = (_pair(v) for v in (kernel_size, dilation, padding, stride))
    padded = [n + 2 * q for n, q in zip(size, p)]
    counts = [(n - dd * (kk - 1) - 1) // ss + 1 for n, kk, dd, ss in zip(padded, k, d, s)]
    if min(counts) < 1:
        raise ValueError("the %s kernel (dilation %s) does not fit the padded image of %s" % (k, d, padded))

    def tap(i, j):
        return (slice(i * d[0], i * d[0] + s[0] * (counts[0] - 1) + 1, s[0]),
                slice(j * d[1], j * d[1] + s[1] * (counts[1] - 1) + 1, s[1]))
    return k, p, padded, counts, tap


def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """The sliding blocks of the NCHW image x as columns: (N, C * kH * kW, L) for L block positions,
    each column the block's channels, then rows, then columns."""
    x = as_float(x)
    if x.ndim != 4 or None in x.type.shape[1:]:
        raise ValueError("unfold: x must be (N, C, H, W) with C, H and W known; received %s" % (x.type,))
    channels = x.type.shape[1]
    k, p, _, counts, tap = _block_grid(x.type.shape[2:], kernel_size, dilation, padding, stride)
    x = sh.pad(x, [(0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])])
    taps = [x[(slice(None), slice(None)) + tap(i, j)] for i in range(k[0]) for j in range(k[1])]
    return reshape(sh.stack(taps, 2), (dims(x)[0], channels * k[0] * k[1], counts[0] * counts[1]))


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """unfold's blocks (N, C * kH * kW, L) put back in an (N, C, oH, oW) image, overlaps summed."""
    x = as_float(x)
    size = _pair(output_size)
    k, p, padded, counts, tap = _block_grid(size, kernel_size, dilation, padding, stride)
    if x.ndim != 3 or x.type.shape[1] is None or x.type.shape[1] % (k[0] * k[1]):
        raise ValueError("fold: x must be a 3D (N, C * %d * %d, L) tensor with its second size known; received %s"
                         % (k[0], k[1], x.type))
    if x.type.shape[2] not in (None, counts[0] * counts[1]):
        raise ValueError("fold: %s has %s blocks, but an output of %s holds %d" % (x.type, x.type.shape[2], size,
                                                                                 counts[0] * counts[1]))
    channels = x.type.shape[1] // (k[0] * k[1])
    batch = dims(x)[0]
    blocks = reshape(x, (batch, channels, k[0] * k[1], counts[0], counts[1]))
    image = sh.zeros([batch, channels] + padded, x.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            # not inc_subtensor(image[...]): a small constant image (values in) would fold image[...]
            image = _inc_or_set(image, (slice(None), slice(None)) + tap(i, j), blocks[:, :, i * k[1] + j], False)
    return image[:, :, p[0]:p[0] + size[0], p[1]:p[1] + size[1]]

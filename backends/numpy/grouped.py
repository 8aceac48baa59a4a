"""How a block of patches meets the kernel in the numpy backend's im2col convolution, per groups.

conv2d (backends/numpy/nn.py) unfolds its input block by block into patches, (pixels, KH*KW*C) in
the plain case; a layout here copies one block in the order its products want and multiplies it
by the (KH, KW, C // groups, O) kernel (as its kernel_matrix, made once per call), or by the
output gradient for the filter gradient:
- OneGroup (groups == 1): the block as one matrix, one GEMM against the (KH*KW*C, O) kernel matrix;
- ByGroups: the block copied group-major, (groups, pixels, KH*KW*C // groups), and one batched
  GEMM (matmul over the group axis) with each group's own filters, so a grouped convolution does
  its own multiply-adds, not those of a block-diagonal kernel groups times larger;
- Channelwise (one input channel per group, few filters each: a depthwise convolution): the block
  copied as it lies, (pixels, taps, channels), and each filter a sum over the taps with the channels
  innermost (einsum).  Group-major, its copy would step through memory one number at a time and
  each GEMM would be a matrix-vector product with 9 columns: DepthwiseConv2D(3) on (8, 56, 56, 128)
  float32 took 44 ms by groups, 8 ms channelwise; with 2 filters per channel 51 and 30 ms, with 4
  as long either way, so ByGroups takes over above _MAX_CHANNELWISE_FILTERS.
Every layout's block has pixels * KH*KW*C numbers, so the forward can lend it whole to the filter
gradient (nn.PatchMemo).
"""
import numpy as np

_MAX_CHANNELWISE_FILTERS = 4


def layout(w_shape, groups):
    """The layout for a (KH, KW, C // groups, O) kernel in `groups` groups."""
    _, _, group_channels, filters = w_shape
    if groups == 1:
        return OneGroup(w_shape)
    if group_channels == 1 and filters // groups <= _MAX_CHANNELWISE_FILTERS:
        return Channelwise(w_shape, groups)
    return ByGroups(w_shape, groups)


class OneGroup:
    """A plain convolution: patches (pixels, KH*KW*C) times the (KH*KW*C, O) kernel matrix."""

    def __init__(self, w_shape):
        self.size = np.prod(w_shape[:3])

    def unfold(self, patches, images, rows):
        return patches[images, rows].reshape(-1, self.size)

    def kernel_matrix(self, w):
        return w.reshape(self.size, -1)

    def multiply(self, block, kernel, out):
        np.matmul(block, kernel, out=out.reshape(len(block), -1))

    def filter_grad(self, block, dy):
        """P^T @ dy, (KH*KW*C, O)."""
        return block.T @ dy


class ByGroups:
    """Patches group-major, (groups, pixels, KH*KW*C // groups), times each group's filters."""

    def __init__(self, w_shape, groups):
        self.groups, self.size, self.group_filters = groups, np.prod(w_shape[:3]), w_shape[3] // groups

    def unfold(self, patches, images, rows):
        by_group = patches.reshape(patches.shape[:5] + (self.groups, -1)).transpose(5, 0, 1, 2, 3, 4, 6)
        return by_group[:, images, rows].reshape(self.groups, -1, self.size)

    def per_group(self, array):
        """A (pixels, O) array as (groups, pixels, O // groups): a view."""
        return array.reshape(-1, self.groups, self.group_filters).transpose(1, 0, 2)

    def kernel_matrix(self, w):
        return self.per_group(w.reshape(self.size, -1))

    def multiply(self, block, kernel, out):
        np.matmul(block, kernel, out=self.per_group(out))

    def filter_grad(self, block, dy):
        """Each group's P^T @ dy, as (KH*KW*C // groups, O) with O's groups in order."""
        return np.matmul(block.transpose(0, 2, 1), self.per_group(dy)).transpose(1, 0, 2)


class Channelwise:
    """Patches as they lie, (pixels, taps, channels); filter m of every channel is a sum over taps."""

    def __init__(self, w_shape, groups):
        self.taps, self.channels, self.multiplier = w_shape[0] * w_shape[1], groups, w_shape[3] // groups

    def unfold(self, patches, images, rows):
        return patches[images, rows].reshape(-1, self.taps, self.channels)

    def per_filter(self, array, rows):
        """An (rows, O) array as (rows, channels, filters per channel): a view."""
        return array.reshape(rows, self.channels, self.multiplier)

    def kernel_matrix(self, w):
        return self.per_filter(w, self.taps)

    def multiply(self, block, kernel, out):
        out = self.per_filter(out, len(block))
        for m in range(self.multiplier):
            np.einsum("ptc,tc->pc", block, kernel[:, :, m], out=out[:, :, m])

    def filter_grad(self, block, dy):
        """sum over pixels of patch * dy, as (taps, channels, filters per channel)."""
        dy = self.per_filter(dy, len(block))
        return np.stack([np.einsum("ptc,pc->tc", block, dy[:, :, m]) for m in range(self.multiplier)], axis=2)

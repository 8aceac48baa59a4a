"""Convolution and pooling kernels in plain numpy (NHWC data, HWIO kernels).

These are the reference kernels: the numpy backend runs them directly and the theano backend wraps them in
PyTensor Ops. Convolution follows ``jax.lax.conv_general_dilated`` exactly (cross-correlation, strides,
negative padding, input and kernel dilation), because mlcore's symbolic gradients of a convolution are
themselves convolutions with those parameters. Dtypes are preserved (float32 stays float32).
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from backends.array_api import transposing
from backends.numpy import grouped

# im2col works in blocks of output pixels: about this many bytes of patches, so that the buffer stays in
# cache and memory stays bounded (a whole VGG16 batch unfolded at once would take gigabytes), but at least
# this many pixels, so that each GEMM stays big enough to run at full speed when patches are huge.
_PATCH_BLOCK_BYTES = 4 << 20
_MIN_BLOCK_PIXELS = 256
# A patch matrix up to this size is kept for its filter gradient (PatchMemo). Larger ones are not: held
# from the forward to the backward pass, a batch-60 convnet's 4.7 MB of patches made glibc's malloc hand
# memory back to the kernel and fault it in again every step (19 ms -> 27 ms), more than the reuse saves.
_LENT_PATCH_BYTES = 1 << 20
# Inputs of this many channels or fewer are unfolded tap by tap (_conv2d_tap_major), whole if their
# patch matrix is at most this large, if the kernel has at most this many taps (a copy each: a
# filter gradient computed as a convolution has a kernel the size of the image, 62,500 taps for
# ConvLarge's first layer), and if each tap's copy moves at least this many numbers (below that the
# copies' own cost, a few microseconds each, outweighs the gather's: LeNet's first layer at batch 1,
# 784 numbers a tap, took 103 us tap by tap and 73 us gathered; at batch 2, 109 and 152 us).
_FEW_CHANNELS = 2
_TAP_MAJOR_BYTES = 16 << 20
_MAX_TAPS = 64
_MIN_TAP_NUMBERS = 1024
# Input gradients by taps whose taps hold at most this many numbers are added back separably.
_SEPARABLE_NUMBERS = 8192


def conv_output_size(size, kernel, stride=1, padding=(0, 0), lhs_dilation=1, rhs_dilation=1):
    """Length of one spatial output axis; works on ints and on symbolic (PyTensor) sizes alike."""
    dilated_size = (size - 1) * lhs_dilation + 1 + padding[0] + padding[1]
    dilated_kernel = (kernel - 1) * rhs_dilation + 1
    return (dilated_size - dilated_kernel) // stride + 1


def _dilate_and_pad(x, dilation, padding, fill=0):
    """Spread x's pixels `dilation` apart on a `fill` canvas with (lo, hi) borders; negative borders crop.

    Done in one allocation, as lax does it: dilation first, then padding of the dilated image. The result
    is always C-contiguous, so that windows over it are gathered from nearby memory.
    """
    if dilation == (1, 1) and all(p == 0 for pads in padding for p in pads):
        return np.ascontiguousarray(x)
    shape, source, target = list(x.shape), [slice(None)] * 4, [slice(None)] * 4
    for axis, d, (lo, hi) in zip((1, 2), dilation, padding):
        n = x.shape[axis]
        shape[axis] = size = max(0, (n - 1) * d + 1 + lo + hi)
        first = max(0, -(lo // d))  # first pixel whose position i*d+lo is on the canvas
        last = min(n - 1, (size - 1 - lo) // d)  # last such pixel
        source[axis] = slice(first, max(first, last + 1))
        target[axis] = slice(first * d + lo, max(first * d + lo, last * d + lo + 1), d)
    canvas = np.full(shape, fill, dtype=x.dtype)
    canvas[tuple(target)] = x[tuple(source)]
    return canvas


def _row_blocks(images, rows, rows_per_block):
    """Cover an (images, rows) output grid with (image slice, row slice) blocks of about rows_per_block rows.

    Small images are grouped several per block; large ones are cut into bands of rows. Either way each
    block is one contiguous region of the NHWC output.
    """
    if rows <= rows_per_block:
        step = rows_per_block // rows
        for i in range(0, images, step):
            yield slice(i, i + step), slice(None)
    else:
        for i in range(images):
            for r in range(0, rows, rows_per_block):
                yield slice(i, i + 1), slice(r, r + rows_per_block)


class PatchMemo:
    """One convolution's patch matrix P, lent by its forward kernel to its filter gradient, which is
    P^T @ dy: the hand-written program's `cols`, instead of a second unfolding of the same input.
    The gradient takes P only if it was made from the very array it is given, and takes it once."""

    def __init__(self):
        self.source = self.patches = None

    def keep(self, x, patches):
        self.source, self.patches = x, patches

    def take(self, x):
        patches = self.patches if self.source is x else None
        self.source = self.patches = None
        return patches


def patch_view(x, window, strides, padding, lhs_dilation, rhs_dilation):
    """Every (KH, KW, C) patch a convolution of NHWC x reads, (N, HO, WO, KH, KW, C): a strided view
    of x dilated and padded, nothing copied."""
    kh, kw = window
    xp = _dilate_and_pad(x, tuple(lhs_dilation), padding)
    n, hp, wp, c = xp.shape
    ho = max(0, conv_output_size(hp, kh, strides[0], rhs_dilation=rhs_dilation[0]))
    wo = max(0, conv_output_size(wp, kw, strides[1], rhs_dilation=rhs_dilation[1]))
    sn, sh, sw, sc = xp.strides
    return as_strided(
        xp,
        shape=(n, ho, wo, kh, kw, c),
        strides=(sn, sh * strides[0], sw * strides[1], sh * rhs_dilation[0], sw * rhs_dilation[1], sc),
        writeable=False,
    )


def patch_blocks(patches, whole=False):
    """The (image slice, row slice) blocks of output pixels whose patches are copied at a time:
    about _PATCH_BLOCK_BYTES of them, all of them if `whole`."""
    n, ho, wo = patches.shape[:3]
    pixel_bytes = patches.size // (n * ho * wo) * patches.itemsize
    pixels_per_block = n * ho * wo if whole else max(_MIN_BLOCK_PIXELS, _PATCH_BLOCK_BYTES // pixel_bytes)
    return _row_blocks(n, ho, max(1, pixels_per_block // wo))


def conv2d(x, w, strides=(1, 1), padding=((0, 0), (0, 0)), lhs_dilation=(1, 1), rhs_dilation=(1, 1), groups=1,
           memo=None):
    """Cross-correlate NHWC `x` with HWIO `w`, as lax.conv_general_dilated(..., ("NHWC", "HWIO", "NHWC"),
    feature_group_count=groups): w is (KH, KW, C // groups, O).

    im2col + GEMM: a strided view exposes every (KH, KW, C) patch without copying; blocks of it are copied
    into a cache-sized matrix and multiplied by the kernel straight into the output (backends/numpy/grouped.py:
    one GEMM, or the products of each group).  With a memo (a PatchMemo) a matrix of up to
    _LENT_PATCH_BYTES is made whole and lent to the memo.
    """
    kh, kw, c, o = w.shape
    patches = patch_view(x, (kh, kw), strides, padding, lhs_dilation, rhs_dilation)
    n, ho, wo = patches.shape[:3]
    y = np.empty((n, ho, wo, o), dtype=np.result_type(x, w))
    if y.size == 0:
        return y
    if w.size == 0:     # no input channels (Theano's tests convolve such shapes): every sum is empty
        y.fill(0)
        return y
    pixels, k = n * ho * wo, kh * kw * c
    if (groups == 1 and c <= _FEW_CHANNELS and kh * kw <= _MAX_TAPS and pixels * c >= _MIN_TAP_NUMBERS
            and pixels * k * patches.itemsize <= _TAP_MAJOR_BYTES):
        return _conv2d_tap_major(patches, w.reshape(k, o), y, memo, x)
    layout = grouped.layout(w.shape, groups)
    kernel = layout.kernel_matrix(w)
    lend = memo is not None and patches.nbytes <= _LENT_PATCH_BYTES
    for images, rows in patch_blocks(patches, whole=lend):
        block = layout.unfold(patches, images, rows)
        layout.multiply(block, kernel, y[images, rows])
    if memo is not None:
        memo.keep(x, block if block.size == patches.size else None)
    return y


# The gradients' convolutions read their arrays in other layouts (backends/array_api.py): transposed views.
conv2d_in_layouts = transposing(conv2d)


def _conv2d_tap_major(patches, kernel, y, memo, x):
    """conv2d for an input of one or two channels: its patch matrix made tap by tap, (kh*kw*c, pixels),
    each tap one copy of a shifted image.  Gathered patch by patch instead, the copy would step
    through runs of c numbers (LeNet's first layer, 1 channel: 2.8 -> 1.0 ms at batch 60; at batch 1
    the copies cost more than they save, see _MIN_TAP_NUMBERS).  The transposed matrix is P, lent to
    the filter gradient as conv2d lends it."""
    n, ho, wo, kh, kw, c = patches.shape
    cols = np.empty((kh, kw, c, n, ho, wo), patches.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[i, j] = patches[:, :, :, i, j, :].transpose(3, 0, 1, 2)
    P = cols.reshape(kh * kw * c, -1).T
    np.matmul(P, kernel, out=y.reshape(-1, kernel.shape[1]))
    if memo is not None:
        memo.keep(x, P if P.nbytes <= _LENT_PATCH_BYTES else None)
    return y


def conv2d_grad_input_by_taps(w, g, x_shape, strides, padding, rhs_dilation):
    """d conv2d / d x as the hand-written col2im does it: dy @ W^T is each patch's gradient, and
    each of the kh * kw taps adds its slice of them back onto the padded input.  It moves
    n*ho*wo*kh*kw*c_in numbers where the transposed convolution unfolds n*h*w*kh*kw*c_out, so it
    is the cheaper way when c_in <= c_out (see taps_pay).  Padding must not be negative."""
    kh, kw, c, o = w.shape
    n, ho, wo, _ = g.shape
    # tap by tap (one batched product), so that each tap's gradients are one contiguous block: added
    # from the (n, ho, wo, kh, kw, c) patch layout, each add would step through runs of c numbers
    taps = np.matmul(g.reshape(1, -1, o), w.reshape(kh * kw, c, o).transpose(0, 2, 1)).reshape(kh, kw, n, ho, wo, c)
    (top, bottom), (left, right) = padding
    dx = np.zeros((n, x_shape[1] + top + bottom, x_shape[2] + left + right, c), taps.dtype)
    (sh, sw), (dh, dw) = strides, rhs_dilation
    rows = [slice(i * dh, i * dh + sh * (ho - 1) + 1, sh) for i in range(kh)]
    cols = [slice(j * dw, j * dw + sw * (wo - 1) + 1, sw) for j in range(kw)]
    if taps[0, 0].size <= _SEPARABLE_NUMBERS:
        # kw + kh adds instead of kh * kw: each column of taps onto a band of full-width rows (all
        # kernel rows at once), then each band onto its rows.  The band costs memory traffic, so
        # only where each add is small enough for its call to dominate (LeNet's second layer at
        # batch 1: 600 numbers a tap, 128 -> 63 us; batch 10: 494 -> 469 us; batch 60: 2.5 -> 2.7 ms)
        band = np.zeros((kh, n, ho, dx.shape[2], c), taps.dtype)
        for j in range(kw):
            band[:, :, :, cols[j]] += taps[:, j]
        for i in range(kh):
            dx[:, rows[i]] += band[i]
    else:
        for i in range(kh):
            for j in range(kw):
                dx[:, rows[i], cols[j]] += taps[i, j]
    return np.ascontiguousarray(dx[:, top:top + x_shape[1], left:left + x_shape[2]])


def taps_pay(x_shape, w, g, padding, lhs_dilation):
    """Whether conv2d_grad_input_by_taps is the cheaper input gradient: fewer input than output
    channels, no input dilation or negative padding, and patch gradients that fit in a block
    (they are made whole)."""
    kh, kw, c, o = w.shape
    return (c <= o and tuple(lhs_dilation) == (1, 1) and min(p for pads in padding for p in pads) >= 0
            and g.size // o * kh * kw * c * g.itemsize <= _PATCH_BLOCK_BYTES)


def conv2d_grad_filter_from_patches(patches, w_shape, g, groups=1):
    """d conv2d / d w from the forward's patch matrix: P^T @ dy (each group's), shaped as the kernel."""
    return grouped.layout(w_shape, groups).filter_grad(patches, g.reshape(-1, w_shape[3])).reshape(w_shape)


def grouped_conv2d_grad_filter(x, w_shape, g, strides, padding, lhs_dilation, rhs_dilation, groups):
    """d conv2d / d w as P^T @ dy summed over blocks of patches, unfolded again from x: a grouped
    convolution's way, where lax's filter gradient is a convolution with batch groups, which
    numpy's conv2d does not have (and which unfolds an image-sized kernel: 35 ms against 8 for a
    depthwise 3x3 on (8, 56, 56, 128))."""
    patches = patch_view(x, w_shape[:2], strides, padding, lhs_dilation, rhs_dilation)
    layout = grouped.layout(w_shape, groups)
    dw = np.zeros(w_shape, np.result_type(x, g))
    for images, rows in patch_blocks(patches):
        dy = g[images, rows].reshape(-1, w_shape[3])
        dw += layout.filter_grad(layout.unfold(patches, images, rows), dy).reshape(w_shape)
    return dw


POOL_MODES = ("max", "sum", "average")


def check_pool_mode(mode):
    """Reject unknown pooling modes early, with the list of the known ones."""
    if mode not in POOL_MODES:
        raise ValueError(f"pool mode must be one of {POOL_MODES}, not {mode!r}")


def pool_output_size(size, window, stride, padding):
    """Length of one pooled axis: floor((size + lo + hi - window) / stride) + 1."""
    return (size + padding[0] + padding[1] - window) // stride + 1


def _window_taps(x, ws, strides, padding):
    """For each offset in the window (row-major), the slice of the padded x it reads for every output.

    Pooling is then wh*ww whole-array operations instead of a loop over pixels.
    """
    ho, wo = (pool_output_size(x.shape[a], ws[a - 1], strides[a - 1], padding[a - 1]) for a in (1, 2))
    (sh, sw) = strides
    return [
        (slice(None), slice(i, i + sh * (ho - 1) + 1, sh), slice(j, j + sw * (wo - 1) + 1, sw))
        for i in range(ws[0])
        for j in range(ws[1])
    ]


def _window_sizes(x, ws, padding, count_include_pad, taps):
    """What "average" divides each window's sum by: the window's size, or its count of real (non-pad)
    pixels, shaped (1, Ho, Wo, 1) to broadcast."""
    if count_include_pad:
        return ws[0] * ws[1]
    real = _dilate_and_pad(np.ones((1, *x.shape[1:3], 1), dtype=x.dtype), (1, 1), padding)
    return sum(real[tap] for tap in taps)


def pool2d(x, ws, strides, padding, mode, count_include_pad=True):
    """Pool NHWC x over (wh, ww) windows: mode "max", "sum" or "average" (pads never count as maxima)."""
    check_pool_mode(mode)
    taps = _window_taps(x, ws, strides, padding)
    fill = -np.inf if mode == "max" else 0
    xp = _dilate_and_pad(x, (1, 1), padding, fill)
    combine = np.maximum if mode == "max" else np.add
    y = xp[taps[0]].copy()
    for tap in taps[1:]:
        combine(y, xp[tap], out=y)
    if mode == "average":
        y /= _window_sizes(x, ws, padding, count_include_pad, taps)
    return y


def pool2d_grad(x, y, gy, ws, strides, padding, mode, count_include_pad=True):
    """Gradient of pool2d with respect to x, given its output y and the output gradient gy.

    Overlapping windows accumulate. For "max" each window sends its gradient to the first position
    (row-major within the window) that equals its maximum, as Theano's MaxPoolGrad does on ties.
    """
    check_pool_mode(mode)
    taps = _window_taps(x, ws, strides, padding)
    (pt, pb), (pl, pr) = padding
    gxp = np.zeros((x.shape[0], x.shape[1] + pt + pb, x.shape[2] + pl + pr, x.shape[3]), dtype=gy.dtype)
    if mode == "max":
        xp = _dilate_and_pad(x, (1, 1), padding, -np.inf)
        pending = np.ones(y.shape, dtype=bool)  # windows whose maximum is not found yet
        hit, routed = np.empty(y.shape, dtype=bool), np.empty_like(gy)  # buffers reused for every tap
        for tap in taps:
            np.equal(xp[tap], y, out=hit)
            hit &= pending
            gxp[tap] += np.multiply(gy, hit, out=routed)
            pending &= ~hit
    else:
        g = gy / _window_sizes(x, ws, padding, count_include_pad, taps) if mode == "average" else gy
        for tap in taps:
            gxp[tap] += g
    return gxp[:, pt:pt + x.shape[1], pl:pl + x.shape[2]]

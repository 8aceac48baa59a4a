"""theano.tensor.nnet.neighbours: images2neibs cuts the last two dims of a 4-d tensor into
(possibly overlapping) windows, one row each; neibs2images puts disjoint windows back.

Both are slices, stacks and reshapes of the graph, so their gradients are those of the slices
(for every mode and step, where Theano's op had gradients for some only)."""
import numbers

from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.shape import concatenate, dimshuffle, pad, reshape, stack, zeros

MODES = ("valid", "ignore_borders", "half", "full", "wrap_centered")


def _ints(name, values, what):
    values = tuple(int(v) for v in values)
    if len(values) != 2 or min(values) <= 0:
        raise ValueError("T.nnet.%s: %s must be two positive ints, got %r" % (name, what, values))
    return values


def _wrapped(ten4, axis, border):
    """ten4 with `border` rows (axis 2) or columns (axis 3) of the far side copied before it, and
    of the near side after it: the image seen as a torus."""
    if border == 0:
        return ten4
    before = (slice(None),) * axis + (slice(-border, None),)
    after = (slice(None),) * axis + (slice(None, border),)
    return concatenate([ten4[before], ten4, ten4[after]], axis=axis)


def _windows(size, k, step, mode, axis):
    """How many windows fit along one axis of the image as _bordered leaves it; checks Theano's
    conditions where the size is known."""
    known = isinstance(size, numbers.Integral)
    if known and size < k:
        raise ValueError("T.nnet.images2neibs(mode=%r): neib_shape[%d]=%d is larger than ten4.shape[%d]=%d"
                         % (mode, axis - 2, k, axis, size))
    if mode == "wrap_centered":
        return -(-size // step)
    padded = size + {"valid": 0, "ignore_borders": 0, "half": 2 * (k // 2), "full": 2 * (k - 1)}[mode]
    if known and mode != "ignore_borders" and (padded - k) % step:
        raise ValueError("T.nnet.images2neibs(mode=%r): neib_shape[%d]=%d, neib_step[%d]=%d and ten4.shape[%d]=%d "
                         "are not consistent (use mode='ignore_borders' to drop the rest)"
                         % (mode, axis - 2, k, axis - 2, step, axis, size))
    return (padded - k) // step + 1


def _bordered(ten4, neib_shape, mode):
    """The image the windows are cut from: zero-padded for 'half' and 'full', wrapped around
    for 'wrap_centered' (whose windows are centred on the pixels they start from)."""
    if mode == "wrap_centered":
        return _wrapped(_wrapped(ten4, 2, neib_shape[0] // 2), 3, neib_shape[1] // 2)
    if mode in ("half", "full"):
        border = [k // 2 if mode == "half" else k - 1 for k in neib_shape]
        return pad(ten4, [(0, 0), (0, 0), (border[0], border[0]), (border[1], border[1])])
    return ten4


def images2neibs(ten4, neib_shape, neib_step=None, mode="valid"):
    """Each (neib_shape[0], neib_shape[1]) window of ten4 (N, C, H, W), taken every neib_step
    (default: neib_shape, disjoint windows), flattened into a row: a (N * C * windows, rows * cols)
    matrix, windows in row-major order.  mode: 'valid' (the windows must tile the image exactly),
    'ignore_borders' (what does not fit is dropped), 'half' and 'full' (zero padding of
    neib_shape // 2 and neib_shape - 1), 'wrap_centered' (odd windows centred on every step-th
    pixel, the image wrapped around)."""
    ten4 = as_tensor_variable(ten4)
    if ten4.ndim != 4:
        raise ValueError("T.nnet.images2neibs needs a 4-d ten4 (N, C, H, W), got %s" % (ten4.type,))
    if mode not in MODES:
        raise ValueError("T.nnet.images2neibs: mode must be one of %s, got %r" % (", ".join(MODES), mode))
    neib_shape = _ints("images2neibs", neib_shape, "neib_shape")
    steps = neib_shape if neib_step is None else _ints("images2neibs", neib_step, "neib_step")
    if mode == "wrap_centered" and min(k % 2 for k in neib_shape) == 0:
        raise ValueError("T.nnet.images2neibs(mode='wrap_centered') needs odd neib_shape, got %s" % (neib_shape,))
    grid = [_windows(ten4.shape[axis], k, s, mode, axis) for axis, k, s in zip((2, 3), neib_shape, steps)]
    image = _bordered(ten4, neib_shape, mode)
    spans = [(g - 1) * s + 1 for g, s in zip(grid, steps)]
    taps = [image[:, :, i:i + spans[0]:steps[0], j:j + spans[1]:steps[1]]
            for i in range(neib_shape[0]) for j in range(neib_shape[1])]
    return reshape(stack(taps, axis=4), [-1, neib_shape[0] * neib_shape[1]])


def neibs2images(neibs, neib_shape, original_shape, mode="valid"):
    """The inverse of images2neibs for disjoint windows (neib_step=None): the (N, C, H, W) tensor
    of original_shape back from its windows; with 'ignore_borders', zeros where windows did not reach."""
    neibs = as_tensor_variable(neibs)
    if neibs.ndim != 2:
        raise ValueError("T.nnet.neibs2images needs a 2-d neibs (windows, rows * cols), got %s" % (neibs.type,))
    if mode not in ("valid", "ignore_borders"):
        raise NotImplementedError("T.nnet.neibs2images does not support mode=%r ('valid' and 'ignore_borders' "
                                  "only)" % (mode,))
    rows, cols = _ints("neibs2images", neib_shape, "neib_shape")
    n, channels, height, width = (original_shape[i] for i in range(4))
    for size, k, what in ((height, rows, "rows"), (width, cols, "cols")):
        if mode == "valid" and isinstance(size, numbers.Integral) and size % k:
            raise ValueError("T.nnet.neibs2images(mode='valid'): original_shape %s has %d %s, not a multiple of "
                             "neib_shape %s" % (tuple(original_shape), size, what, (rows, cols)))
    grid = [height // rows, width // cols]
    blocks = reshape(neibs, [n, channels, grid[0], grid[1], rows, cols])
    image = reshape(dimshuffle(blocks, 0, 1, 2, 4, 3, 5), [n, channels, grid[0] * rows, grid[1] * cols])
    if mode == "ignore_borders":      # zeros after the rows and columns no window covered
        for axis, size, covered in ((2, height, grid[0] * rows), (3, width, grid[1] * cols)):
            border = list(image.shape)
            border[axis] = size - covered
            image = concatenate([image, zeros(border, neibs.dtype)], axis=axis)
    return image

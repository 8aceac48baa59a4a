"""How keras.ops.image reads an image between its pixels, as Keras does on jax.

Resizing (jax.image.scale_and_translate): output pixel i of an axis has its centre at input position
(i + 0.5) / scale - translation / scale - 0.5 (half-pixel centres); a kernel of the distance to each input
pixel gives the weights, normalized to sum 1.  With antialias, when shrinking, the kernel is stretched by
1 / scale so that it averages every input pixel under the output one.  The weights depend on the sizes
only, so each axis is one product with a constant (size, new_size) matrix: gradients flow and every
backend agrees.

Sampling at arbitrary points (jax.scipy.ndimage.map_coordinates): order 0 takes the pixel nearest the
point (rounding half away from zero), order 1 blends the 2 per axis around it.  A point outside the
grid reads per fill_mode: "reflect" (d c b a | a b c d | d c b a), "mirror" (c d c b | a b c d | c b a b),
"wrap" (the grid tiled), "nearest" (the edge), "constant" (fill_value for each tap outside).
"""
import itertools

import numpy as np

from mlcore.ops.arrays import arange, expand_dims, moveaxis, reshape, take, zeros_like
from mlcore.ops.core import cast
from mlcore.ops.elementwise import absolute, clip, floor, greater_equal, less, logical_and, mod, sign, where
from mlcore.ops.reductions import tensordot

FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


# --- resizing ------------------------------------------------------------------------------------
def _triangle(x):
    return np.maximum(0.0, 1.0 - x)


def _keys_cubic(x):
    """Keys' cubic kernel with a = -0.5 (Pillow's, TensorFlow's and jax's "bicubic")."""
    near = ((1.5 * x - 2.5) * x) * x + 1.0
    far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return np.where(x >= 2.0, 0.0, np.where(x >= 1.0, far, near))


def _lanczos(radius):
    def kernel(x):
        with np.errstate(divide="ignore", invalid="ignore"):
            y = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius) / (np.pi ** 2 * x ** 2)
        return np.where(x > radius, 0.0, np.where(x > 1e-3, y, 1.0))
    return kernel


KERNELS = {"bilinear": _triangle, "bicubic": _keys_cubic, "lanczos3": _lanczos(3.0), "lanczos5": _lanczos(5.0)}
KERNELS.update(linear=_triangle, trilinear=_triangle, cubic=_keys_cubic, tricubic=_keys_cubic)
RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic", "area")


def resize_weights(size, new_size, interpolation="bilinear", antialias=False, scale=None, translation=0.0):
    """The (size, new_size) float64 matrix whose column i blends the input pixels into output pixel i.
    "area" weighs each input pixel by how much of it the output pixel covers."""
    scale = new_size / size if scale is None else float(scale)
    inverse = 1.0 / scale
    outputs, inputs = np.arange(new_size, dtype="float64"), np.arange(size, dtype="float64")
    centres = (outputs + 0.5) * inverse - translation * inverse - 0.5
    if interpolation == "area":
        left = outputs * inverse - translation * inverse
        weights = np.maximum(0.0, np.minimum(left + inverse, inputs[:, None] + 1.0)
                             - np.maximum(left, inputs[:, None]))
    else:
        stretch = max(inverse, 1.0) if antialias else 1.0
        weights = KERNELS[interpolation](np.abs(centres[None, :] - inputs[:, None]) / stretch)
    total = weights.sum(axis=0, keepdims=True)
    weights = np.where(np.abs(total) > 1000 * np.finfo("float32").eps, weights / np.where(total != 0, total, 1), 0.0)
    return np.where(((centres >= -0.5) & (centres <= size - 0.5))[None, :], weights, 0.0)


def nearest_indices(size, new_size):
    """The input pixel under each output pixel's centre (computed in float32, as jax does)."""
    return np.floor((np.arange(new_size, dtype="float32") + 0.5) * size / new_size).astype("int64")


def resize_axis(images, axis, new_size, interpolation, antialias=False):
    """Float images resized along one axis of known length."""
    size = images.type.shape[axis]
    if size == new_size:
        return images
    if interpolation == "nearest":
        return take(images, nearest_indices(size, new_size), axis=axis)
    weights = resize_weights(size, new_size, interpolation, antialias).astype(images.dtype)
    return moveaxis(tensordot(images, weights, axes=[[axis], [0]]), -1, axis)


def aspect_crop_box(size, target):
    """(top, left, rows, cols) of the centred window of `size` = (h, w) with the aspect ratio of target."""
    (height, width), (target_height, target_width) = size, target
    rows = max(min(height, int(float(width * target_height) / target_width)), 1)
    cols = max(min(width, int(float(height * target_width) / target_height)), 1)
    return int(float(height - rows) / 2), int(float(width - cols) / 2), rows, cols


def aspect_pad_band(size, target):
    """((top, bottom), (left, right)) padding that gives `size` = (h, w) the aspect ratio of target, as Keras:
    the same band on both sides."""
    (height, width), (target_height, target_width) = size, target
    rows = int(float(max(height, int(float(width * target_height) / target_width)) - height) / 2)
    cols = int(float(max(width, int(float(height * target_width) / target_height)) - width) / 2)
    return ((rows, rows), (0, 0)) if rows else ((0, 0), (cols, cols))


# --- sampling at points --------------------------------------------------------------------------
def fix_index(index, size, fill_mode):
    """Integer positions outside [0, size) mapped inside as fill_mode says ("constant" is masked apart)."""
    if fill_mode == "wrap":
        return mod(index, size)
    if fill_mode == "reflect":
        folded = mod(index, 2 * size)
        return where(less(folded, size), folded, 2 * size - 1 - folded)
    if fill_mode == "mirror":
        if size == 1:
            return zeros_like(index)
        return absolute(mod(index + (size - 1), 2 * (size - 1)) - (size - 1))
    return clip(index, 0, size - 1)     # nearest; constant reads any pixel, masked by inside()


def taps(position, order):
    """The integer positions a sample at `position` reads, with their weights."""
    if order == 0:      # round half away from zero, as jax.lax.round
        return [(cast(sign(position) * floor(absolute(position) + 0.5), "int64"), 1.0)]
    # the fraction as one op: PyTensor's algebra would turn 1 - (position - floor(position)) into
    # (1 - position) + floor(position), whose rounding leaves the two weights summing to 1 +- 1e-6
    weight = mod(position, 1.0)
    below = cast(floor(position), "int64")
    return [(below, 1.0 - weight), (below + 1, weight)]


def inside(index, size):
    return logical_and(greater_equal(index, 0), less(index, size))


def interpolate(table, coordinates, sizes, order, fill_mode, fill_value, first=0):
    """Values of a grid of shape `sizes` at float `coordinates` (one tensor per grid axis, broadcasting
    together).  The grid is stored flat in `table`: a vector, or a matrix with one row per grid point
    (the columns, channels, are read together); `first` is the row of the grid's point 0 (a tensor, for
    one grid per image of a batch)."""
    strides = [int(np.prod(sizes[k + 1:])) for k in range(len(sizes))]
    axes = [taps(position, order) for position in coordinates]
    fill = cast(fill_value, table.dtype)
    per_row = (lambda x: expand_dims(x, -1)) if table.ndim == 2 else (lambda x: x)
    output = None
    for combination in itertools.product(*axes):
        flat, weight, valid = first, 1.0, None
        for (index, index_weight), size, stride in zip(combination, sizes, strides):
            flat = flat + fix_index(index, size, fill_mode) * stride
            weight = weight * index_weight
            if fill_mode == "constant":
                valid = inside(index, size) if valid is None else logical_and(valid, inside(index, size))
        value = take(table, flat, axis=0)
        if valid is not None:
            value = where(per_row(valid), value, fill)
        if order:
            value = value * per_row(cast(weight, table.dtype))
        output = value if output is None else output + value
    return output


def affine_sample(images, transform, interpolation, fill_mode, fill_value):
    """NHWC images of known size resampled through transform = (a0, a1, a2, b0, b1, b2), each a tensor of
    shape (batch, 1, 1) (one map per image) or a number: output pixel (row y, col x) reads the input at
    col a0 x + a1 y + a2, row b0 x + b1 y + b2."""
    batch, height, width, channels = images.shape[0], images.type.shape[1], images.type.shape[2], images.shape[3]
    if None in (height, width):
        raise ValueError("affine_transform: the images' height and width must be known; received NHWC shape %s"
                         % (images.type.shape,))
    a0, a1, a2, b0, b1, b2 = transform
    rows, cols = np.mgrid[:height, :width].astype("float32")
    source_cols, source_rows = a0 * cols + a1 * rows + a2, b0 * cols + b1 * rows + b2
    first = reshape(arange(batch) * (height * width), (-1, 1, 1))
    return interpolate(reshape(images, (-1, channels)), [source_rows, source_cols], (height, width),
                       {"nearest": 0, "bilinear": 1}[interpolation], fill_mode, fill_value, first)

"""keras.ops.image for mlcore: resizing, cropping and padding, affine and perspective warps, sampling at
points, patches, colour conversions and filters, with Keras 3's names, arguments and defaults.

They build graph nodes from mlcore's ops (so they work inside layers, on every backend, with gradients),
and on values they run at once and give numpy arrays, like the rest of mlcore.ops.  The numbers are
those of Keras on its jax backend (jax.image.resize, jax.scipy.ndimage.map_coordinates): see
mlcore.ops.image_sampling.  Images are rank 3 (one image) or 4 (a batch), channels where data_format
(default: the configured image_data_format) puts them; height and width must be known.
"""
import itertools

import numpy as np

from mlcore import config, random
from mlcore.ops import elementwise
from mlcore.ops.arrays import (arange, concatenate, expand_dims, moveaxis, ones_like, pad, reshape, squeeze, stack,
                               zeros_like)
from mlcore.ops.core import as_float, as_tensor, cast, convert_to_numpy
from mlcore.ops.elementwise import absolute, clip, floor, sign
from mlcore.ops.image_filters import gaussian_blur, sobel_edges  # noqa: F401
from mlcore.ops.image_colors import hsv_to_rgb, rgb_to_grayscale, rgb_to_hsv  # noqa: F401
from mlcore.ops.image_similarity import ssim  # noqa: F401
from mlcore.ops.image_layout import as_batch, spatial_size, standardize_data_format
from mlcore.ops.linalg import solve
from mlcore.ops.reductions import tensordot
from mlcore.ops.image_sampling import (FILL_MODES, KERNELS, RESIZE_INTERPOLATIONS, affine_sample,
                                       aspect_crop_box, aspect_pad_band, interpolate, resize_axis,
                                       resize_weights)

__all__ = ["affine_transform", "crop_images", "elastic_transform", "extract_patches", "extract_patches_3d",
           "gaussian_blur", "hsv_to_rgb", "map_coordinates", "pad_images", "perspective_transform", "resize",
           "rgb_to_grayscale", "rgb_to_hsv", "scale_and_translate", "sobel_edges", "ssim"]
AFFINE_INTERPOLATIONS = {"nearest": 0, "bilinear": 1}


def _choice(argument, value, choices):
    if value not in choices:
        raise ValueError("Invalid value for argument `%s`. Expected one of %s. Received: %s=%r"
                         % (argument, tuple(choices), argument, value))


def _in_float(images, compute, rounding):
    """compute(images) on float values; integer images come back rounded in their own dtype, saturated."""
    if images.dtype.startswith("float"):
        return compute(images)
    out = rounding(compute(cast(images, config.floatx())))
    info = np.iinfo(images.dtype)
    return cast(clip(out, info.min, info.max), images.dtype)


def _round_half_away(x):
    return sign(x) * floor(absolute(x) + 0.5)


# --- sizes ---------------------------------------------------------------------------------------
def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, data_format=None):
    """Images resized to size = (height, width), as jax.image.resize: "bilinear", "bicubic" (Keys,
    a = -0.5), "lanczos3", "lanczos5" (with antialias, widened when shrinking), "area" (each input pixel
    weighed by its overlap) or "nearest".  crop_to_aspect_ratio first cuts the largest centred window of
    the target's aspect ratio; pad_to_aspect_ratio first pads (with fill_value) to it."""
    if len(size) != 2:
        raise ValueError("Expected `size` to be a tuple of 2 integers. Received: size=%s" % (size,))
    if size[0] <= 0 or size[1] <= 0:
        raise ValueError("`size` must have positive height and width. Received: size=%s" % (size,))
    _choice("interpolation", interpolation, RESIZE_INTERPOLATIONS)
    if fill_mode != "constant":
        raise ValueError("Invalid value for argument `fill_mode`. Only `'constant'` is supported. "
                         "Received: fill_mode=%s" % (fill_mode,))
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`.")
    batch, back = as_batch("resize", images, data_format)
    current = spatial_size("resize", batch)
    if crop_to_aspect_ratio:
        top, left, rows, cols = aspect_crop_box(current, size)
        batch = batch[:, top:top + rows, left:left + cols, :]
    elif pad_to_aspect_ratio:
        band = aspect_pad_band(current, size)
        batch = pad(batch, ((0, 0),) + band + ((0, 0),), constant_values=fill_value)

    def compute(batch):
        for axis, new_size in ((1, size[0]), (2, size[1])):
            batch = resize_axis(batch, axis, new_size, interpolation, antialias)
        return batch
    if interpolation == "nearest":
        return back(compute(batch))
    return back(_in_float(batch, compute, elementwise.round))


def _sides(kind, axis, first, last, target, size):
    """(first, last): the rows (axis "height") or columns ("width") that pad_images (kind "padding") adds
    or crop_images ("cropping") cuts before and after, from two of them and the target size, each >= 0.
    A crop of unknown size keeps last None where first and target suffice."""
    before, after = ("%s_%s" % (side, kind) for side in {"height": ("top", "bottom"), "width": ("left", "right")}[axis])
    if [first, last, target].count(None) != 1:
        raise ValueError("Must specify exactly two of %s, %s, target_%s. Received: %s=%s, %s=%s, target_%s=%s"
                         % (before, after, axis, before, first, after, last, axis, target))
    if size is not None and target is not None:
        extra = target - size if kind == "padding" else size - target
        first = extra - last if first is None else first
        last = extra - first if last is None else last
    elif size is None and first is None or (last is None and kind == "padding"):
        raise ValueError("When the images' %s is unknown, give `%s` and `%s`."
                         % (axis, before, after if kind == "padding" else "target_" + axis))
    for argument, value in ((before, first), (after, last), ("target_" + axis, target)):
        if value is not None and value < 0:
            raise ValueError("%s must be >= 0. Received: %s=%s" % (argument, argument, value))
    return first, last


def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None, right_padding=None,
               target_height=None, target_width=None, data_format=None):
    """Images padded with zeros: give two of top_padding, bottom_padding, target_height, and two of
    left_padding, right_padding, target_width."""
    batch, back = as_batch("pad_images", images, data_format)
    height, width = batch.type.shape[1:3]
    rows = _sides("padding", "height", top_padding, bottom_padding, target_height, height)
    cols = _sides("padding", "width", left_padding, right_padding, target_width, width)
    return back(pad(batch, ((0, 0), rows, cols, (0, 0))))


def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None, right_cropping=None,
                target_height=None, target_width=None, data_format=None):
    """Images cropped: give two of top_cropping, bottom_cropping, target_height, and two of
    left_cropping, right_cropping, target_width."""
    batch, back = as_batch("crop_images", images, data_format)
    height, width = batch.type.shape[1:3]
    top, bottom = _sides("cropping", "height", top_cropping, bottom_cropping, target_height, height)
    left, right = _sides("cropping", "width", left_cropping, right_cropping, target_width, width)
    rows = slice(top, top + target_height if target_height is not None else (-bottom or None))
    cols = slice(left, left + target_width if target_width is not None else (-right or None))
    return back(batch[:, rows, cols, :])


# --- sampling ------------------------------------------------------------------------------------
def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0):
    """inputs (any rank, shape known) read at coordinates, an array (inputs.ndim, *shape) or a list of
    inputs.ndim arrays: order 0 takes the nearest entry, order 1 interpolates linearly; points outside
    read as fill_mode says.  The result has the coordinates' shape."""
    inputs = as_tensor(inputs)
    if not isinstance(coordinates, (list, tuple)):
        coordinates = as_tensor(coordinates)
        if coordinates.ndim < 2:
            raise ValueError("Invalid coordinates rank: expected at least rank 2. Received input with shape: %s"
                             % (coordinates.type.shape,))
        coordinates = [coordinates[k] for k in range(coordinates.type.shape[0] or 0)]
    coordinates = [as_float(c) for c in coordinates]
    if len(coordinates) != inputs.ndim:
        raise ValueError("First dim of `coordinates` must be the same as the rank of `inputs`. Received inputs "
                         "with shape: %s and coordinate leading dim of %d" % (inputs.type.shape, len(coordinates)))
    _choice("fill_mode", fill_mode, FILL_MODES)
    _choice("order", order, (0, 1))
    if None in inputs.type.shape:
        raise ValueError("map_coordinates: the shape of `inputs` must be known; received %s" % (inputs.type.shape,))

    def compute(table):
        return interpolate(table, coordinates, inputs.type.shape, order, fill_mode, fill_value)
    if order == 0:
        return compute(reshape(inputs, (-1,)))
    return _in_float(reshape(inputs, (-1,)), compute, _round_half_away)


def _transform_columns(transform, count):
    """The first `count` columns of an (N, k) (or (k,)) transform, each shaped (N, 1, 1) for the pixels."""
    transform = as_tensor(transform)
    if transform.ndim not in (1, 2):
        raise ValueError("Invalid transform rank: expected rank 1 (single transform) or rank 2 (batch of "
                         "transforms). Received input with shape: transform.shape=%s" % (transform.type.shape,))
    transform = cast(reshape(transform, (-1, transform.shape[-1])), "float32")
    return [reshape(transform[:, k], (-1, 1, 1)) for k in range(count)]


def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant", fill_value=0,
                     data_format=None):
    """Images warped by transform [a0, a1, a2, b0, b1, b2, c0, c1] (or a batch of them, one per image):
    output point (x, y) reads input point (a0 x + a1 y + a2, b0 x + b1 y + b2) (c0 and c1 are ignored, as
    on Keras's jax backend)."""
    _choice("interpolation", interpolation, AFFINE_INTERPOLATIONS)
    _choice("fill_mode", fill_mode, FILL_MODES)
    batch, back = as_batch("affine_transform", images, data_format)
    columns = _transform_columns(transform, 6)

    def compute(batch):
        return affine_sample(batch, columns, interpolation, fill_mode, fill_value)
    if interpolation == "nearest":
        return back(compute(batch))
    return back(_in_float(batch, compute, _round_half_away))


def elastic_warp(batch, noise, alpha, sigma, interpolation, fill_mode, fill_value):
    """An NHWC batch of known size displaced by noise, an (N, H, W, 1) field drawn from N(0, 1): the noise
    times sigma, blurred by a Gaussian of width sigma over int(6 sigma) | 1 taps and scaled by alpha, moves
    each output pixel's reading point by that much along both its row and its column."""
    batch_size, channels = batch.shape[0], batch.shape[3]
    height, width = spatial_size("elastic_transform", batch)
    taps = int(6 * sigma) | 1
    blurred = gaussian_blur(noise * sigma, (taps, taps), (sigma, sigma), data_format="channels_last")
    shift = alpha * blurred[..., 0]
    rows, cols = np.mgrid[:height, :width].astype(noise.dtype)
    first = reshape(arange(batch_size) * (height * width), (-1, 1, 1))
    return interpolate(reshape(batch, (-1, channels)), [rows + shift, cols + shift], (height, width),
                       AFFINE_INTERPOLATIONS[interpolation], fill_mode, fill_value, first)


def elastic_transform(images, alpha=20.0, sigma=5.0, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                      seed=None, data_format=None):
    """Images deformed elastically: each pixel read from a point displaced by smooth random noise
    (elastic_warp), the noise drawn as keras.random.normal draws it with this seed.  As on Keras's jax
    backend, the row and the column displacements are the same field."""
    _choice("interpolation", interpolation, AFFINE_INTERPOLATIONS)
    _choice("fill_mode", fill_mode, FILL_MODES)
    batch, back = as_batch("elastic_transform", images, data_format)
    height, width = spatial_size("elastic_transform", batch)
    noise_dtype = batch.dtype if batch.dtype.startswith("float") else config.floatx()
    noise = as_tensor(random.normal([batch.shape[0], height, width, 1], dtype=noise_dtype, seed=seed))

    def compute(batch):
        return elastic_warp(batch, noise, alpha, sigma, interpolation, fill_mode, fill_value)
    return back(_in_float(batch, compute, _round_half_away))


def perspective_transform(images, start_points, end_points, interpolation="bilinear", fill_value=0,
                          data_format=None):
    """Images warped so that the four start_points ((4, 2) or (N, 4, 2), as (x, y)) land on end_points:
    each output point reads the input through the homography from end to start points."""
    _choice("interpolation", interpolation, AFFINE_INTERPOLATIONS)
    start, end = cast(as_tensor(start_points), "float32"), cast(as_tensor(end_points), "float32")
    for name, points in (("start_points", start), ("end_points", end)):
        if points.ndim not in (2, 3) or tuple(points.type.shape[-2:]) != (4, 2):
            raise ValueError("Invalid %s shape: expected (4,2) for a single image or (N,4,2) for a batch. "
                             "Received shape: %s" % (name, points.type.shape))
    batch, back = as_batch("perspective_transform", images, data_format)
    height, width = spatial_size("perspective_transform", batch)
    h = homography(reshape(start, (-1, 4, 2)), reshape(end, (-1, 4, 2)))
    h = [reshape(h[:, k], (-1, 1, 1)) for k in range(8)]
    y, x = np.mgrid[:height, :width].astype("float32")
    denominator = h[6] * x + h[7] * y + 1.0
    source_cols = (h[0] * x + h[1] * y + h[2]) / denominator
    source_rows = (h[3] * x + h[4] * y + h[5]) / denominator
    first = reshape(arange(batch.shape[0]) * (height * width), (-1, 1, 1))

    def compute(batch):
        return interpolate(reshape(batch, (-1, batch.shape[3])), [source_rows, source_cols], (height, width),
                           AFFINE_INTERPOLATIONS[interpolation], "constant", fill_value, first)
    return back(_in_float(batch, compute, _round_half_away))


def homography(start, end):
    """(N, 8) coefficients of the maps that take each end point (x, y) to its start point."""
    sx, sy, ex, ey = start[..., 0], start[..., 1], end[..., 0], end[..., 1]
    zeros, ones = zeros_like(ex), ones_like(ex)
    x_rows = stack([ex, ey, ones, zeros, zeros, zeros, -sx * ex, -sx * ey], axis=-1)
    y_rows = stack([zeros, zeros, zeros, ex, ey, ones, -sy * ex, -sy * ey], axis=-1)
    target = expand_dims(concatenate([sx, sy], axis=-1), -1)
    return squeeze(solve(concatenate([x_rows, y_rows], axis=1), target), -1)


def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method, antialias=True):
    """images resized along spatial_dims to output_shape, as jax.image.scale_and_translate: input point
    x (half-pixel centred) goes to x * scale + translation.  scale and translation are values (one per
    spatial dim); method "linear"/"bilinear", "cubic"/"bicubic", "lanczos3" or "lanczos5"."""
    _choice("method", method, sorted(KERNELS))
    images = as_tensor(images)
    scale, translation = convert_to_numpy(scale), convert_to_numpy(translation)
    for position, axis in enumerate(spatial_dims):
        size = images.type.shape[axis]
        weights = resize_weights(size, output_shape[axis], method, antialias, float(scale[position]),
                                 float(translation[position]))
        images = moveaxis(tensordot(images, weights.astype(images.dtype), axes=[[axis], [0]]), -1, axis)
    return images


# --- patches -------------------------------------------------------------------------------------
def _window_tuple(name, value, rank):
    value = tuple(value) if isinstance(value, (list, tuple)) else (int(value),) * rank
    if len(value) != rank:
        raise ValueError("Invalid `%s` argument. Expected %d numbers. Got: %s" % (name, rank, value))
    return value


def _patches(name, images, size, strides, dilation_rate, padding, data_format, rank):
    """Patches of `rank` spatial dims, flattened (patch position, then channel) into the channels."""
    size = _window_tuple("size", size, rank)
    strides = size if strides is None else _window_tuple("strides", strides, rank)
    dilation = _window_tuple("dilation_rate", dilation_rate, rank)
    padding = str(padding).lower()
    _choice("padding", padding, ("valid", "same"))
    images = as_tensor(images)
    if images.ndim not in (rank + 1, rank + 2):
        raise ValueError("%s: expected images of rank %d or %d; received shape %s"
                         % (name, rank + 1, rank + 2, images.type.shape))
    data_format = standardize_data_format(data_format)
    batch = images if images.ndim == rank + 2 else expand_dims(images, 0)
    if data_format == "channels_first":
        batch = moveaxis(batch, 1, -1)
    spans = [(k - 1) * d + 1 for k, d in zip(size, dilation)]
    lengths = batch.type.shape[1:-1]
    if None in lengths:
        raise ValueError("%s: the spatial sizes must be known; received shape %s" % (name, images.type.shape))
    if padding == "same":
        outs = [-(-n // s) for n, s in zip(lengths, strides)]
        totals = [max((o - 1) * s + k - n, 0) for o, s, k, n in zip(outs, strides, spans, lengths)]
        batch = pad(batch, [(0, 0)] + [(t // 2, t - t // 2) for t in totals] + [(0, 0)])
    else:
        outs = [(n - k) // s + 1 for n, k, s in zip(lengths, spans, strides)]
    pieces = []
    for offsets in itertools.product(*[range(k) for k in size]):
        window = tuple(slice(i * d, i * d + (o - 1) * s + 1, s) for i, d, o, s in zip(offsets, dilation, outs,
                                                                                       strides))
        pieces.append(batch[(slice(None),) + window])
    patches = concatenate(pieces, axis=-1)
    if data_format == "channels_first":
        patches = moveaxis(patches, -1, 1)
    return patches if images.ndim == rank + 2 else squeeze(patches, 0)


def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    """The size = (patch_height, patch_width) patches of each image, each flattened into the channels
    ((row, col, channel) order), every `strides` pixels; a size of 3 numbers takes 3-d patches of volumes."""
    if not isinstance(size, int):
        if not isinstance(size, (tuple, list)):
            raise TypeError("Invalid `size` argument. Expected an int or a tuple. Received: size=%s of type %s"
                            % (size, type(size).__name__))
        if len(size) not in (2, 3):
            raise ValueError("Invalid `size` argument. Expected a tuple of length 2 or 3. Received: size=%s "
                             "with length %d" % (size, len(size)))
    rank = 2 if isinstance(size, int) else len(size)
    return _patches("extract_patches", images, size, strides, dilation_rate, padding, data_format, rank)


def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    """The (depth, height, width) patches of each volume, flattened into the channels."""
    return _patches("extract_patches_3d", volumes, size, strides, dilation_rate, padding, data_format, 3)

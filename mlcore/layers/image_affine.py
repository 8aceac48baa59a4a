"""RandomTranslation, RandomRotation and RandomZoom: each image resampled through an affine map drawn
for it, as Keras on jax does (keras.ops.image.affine_transform, i.e. jax.scipy.ndimage.map_coordinates):
output pixel (row y, col x) reads the input at col a0 x + a1 y + a2, row b0 x + b1 y + b2, "bilinear"
blending the four pixels around that point, "nearest" taking the closest.  Points outside the image are
read per fill_mode: "reflect" (d c b a | a b c d | d c b a), "wrap" (the image tiled), "nearest" (the
edge pixel), "constant" (fill_value)."""
import math

import numpy as np

from mlcore import ops
from mlcore.layers.image_base import RandomImageLayer, check_choice, factor_range, fraction_range

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


def fix_index(index, size, fill_mode):
    """Integer positions outside [0, size) mapped inside as fill_mode says ("constant" is masked apart)."""
    if fill_mode == "nearest":
        return ops.clip(index, 0, size - 1)
    if fill_mode == "wrap":
        return ops.mod(index, size)
    if fill_mode == "reflect":
        folded = ops.mod(index, 2 * size)
        return ops.where(ops.less(folded, size), folded, 2 * size - 1 - folded)
    return ops.clip(index, 0, size - 1)     # constant: any pixel, masked by inside()


def taps(position, interpolation):
    """The integer positions a sample at `position` reads, with their weights."""
    if interpolation == "nearest":      # round half away from zero, as jax.lax.round
        return [(ops.cast(ops.sign(position) * ops.floor(ops.abs(position) + 0.5), "int64"), 1.0)]
    below = ops.floor(position)
    weight = position - below
    below = ops.cast(below, "int64")
    return [(below, 1.0 - weight), (below + 1, weight)]


def inside(index, size):
    return ops.logical_and(ops.greater_equal(index, 0), ops.less(index, size))


def affine_transform(images, transform, interpolation, fill_mode, fill_value):
    """NHWC images of known size resampled through transform = (a0, a1, a2, b0, b1, b2), each a tensor of
    shape (batch, 1, 1) (one map per image) or a number."""
    batch, height, width, channels = images.shape[0], images.type.shape[1], images.type.shape[2], images.shape[3]
    if None in (height, width):
        raise ValueError("affine_transform: the images' height and width must be known; received NHWC shape %s"
                         % (images.type.shape,))
    a0, a1, a2, b0, b1, b2 = transform
    rows, cols = np.mgrid[:height, :width].astype("float32")
    source_cols, source_rows = a0 * cols + a1 * rows + a2, b0 * cols + b1 * rows + b2
    pixels = ops.reshape(images, (-1, channels))
    first = ops.reshape(ops.arange(batch) * (height * width), (-1, 1, 1))
    output = 0.0
    for row, row_weight in taps(source_rows, interpolation):
        for col, col_weight in taps(source_cols, interpolation):
            flat = first + fix_index(row, height, fill_mode) * width + fix_index(col, width, fill_mode)
            value = ops.take(pixels, flat, axis=0)
            if fill_mode == "constant":
                valid = ops.expand_dims(ops.logical_and(inside(row, height), inside(col, width)), -1)
                value = ops.where(valid, value, ops.cast(fill_value, images.dtype))
            output = output + value * ops.expand_dims(ops.cast(row_weight * col_weight, images.dtype), -1)
    return output


class AffineImageLayer(RandomImageLayer):
    """A random affine augmentation: subclasses give each image's transform for affine_transform."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        check_choice(type(self).__name__, "fill_mode", fill_mode, FILL_MODES)
        check_choice(type(self).__name__, "interpolation", interpolation, INTERPOLATIONS)
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value

    def augment(self, images):
        return affine_transform(images, self.random_transform(images), self.interpolation, self.fill_mode,
                                self.fill_value)

    def random_transform(self, images):
        raise NotImplementedError

    def draw(self, images, low, high):
        """One float32 draw in [low, high) for each image, shaped (batch, 1, 1) to broadcast over pixels."""
        return self.streams.uniform([images.shape[0], 1, 1], low, high, dtype="float32")

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "fill_value": self.fill_value}


class RandomTranslation(AffineImageLayer):
    """Each image shifted down by a fraction of its height drawn in height_factor's range (a number f:
    [-f, f]) and right by one of its width drawn in width_factor's."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_range = fraction_range(height_factor, "height_factor")
        self.width_range = fraction_range(width_factor, "width_factor")

    def random_transform(self, images):
        height, width = images.type.shape[1:3]
        down = self.draw(images, *self.height_range) * height
        right = self.draw(images, *self.width_range) * width
        return 1.0, 0.0, -right, 0.0, 1.0, -down

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


class RandomRotation(AffineImageLayer):
    """Each image turned about its centre by an angle drawn in factor's range, in fractions of a full turn
    (a number f: [-f, f]); a positive angle turns it counter-clockwise."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = factor_range(factor, (-1, 1), "factor")

    def random_transform(self, images):
        height, width = images.type.shape[1:3]
        angle = self.draw(images, self.factor[0] * 360.0, self.factor[1] * 360.0) * (math.pi / 180.0)
        cos, sin = ops.cos(angle), ops.sin(angle)
        center_x, center_y = 0.5 * (width - 1), 0.5 * (height - 1)
        return (cos, -sin, center_x - center_x * cos + center_y * sin,
                sin, cos, center_y - center_x * sin - center_y * cos)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class RandomZoom(AffineImageLayer):
    """Each image zoomed about its centre: it reads a window 1 + z times its size, z drawn in
    height_factor's range (a number f: [-f, f]; positive z zooms out) and in width_factor's, or the same z
    for both when width_factor is None."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_range = fraction_range(height_factor, "height_factor", open_below=True)
        self.width_range = None if width_factor is None else fraction_range(width_factor, "width_factor",
                                                                            open_below=True)

    def random_transform(self, images):
        height, width = images.type.shape[1:3]
        zoom_y = self.draw(images, 1.0 + self.height_range[0], 1.0 + self.height_range[1])
        zoom_x = zoom_y if self.width_range is None else self.draw(images, 1.0 + self.width_range[0],
                                                                   1.0 + self.width_range[1])
        return zoom_x, 0.0, (width - 1) / 2.0 * (1.0 - zoom_x), 0.0, zoom_y, (height - 1) / 2.0 * (1.0 - zoom_y)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}

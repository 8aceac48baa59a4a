"""keras.ops.image's colour conversions, with the numbers of Keras on jax (dm_pix's formulas): grayscale
as ITU-R 601 luma, HSV with hue, saturation and value in [0, 1] (hue 0 red, 1/3 green, 2/3 blue)."""
import numpy as np

from mlcore import config
from mlcore.ops.arrays import expand_dims, stack, take
from mlcore.ops.core import as_tensor, cast
from mlcore.ops.elementwise import absolute, clip, equal, greater, less, maximum, minimum, mod, where
from mlcore.ops.reductions import tensordot
from mlcore.ops.image_layout import standardize_data_format

GRAY_WEIGHTS = (0.2989, 0.5870, 0.1140)


def _images(name, images, data_format, float_only):
    """(images, channels axis), checked: rank 3 or 4, and floats where float_only."""
    images = as_tensor(images)
    if images.ndim not in (3, 4):
        raise ValueError("%s: invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
                         "Received input with shape: images.shape=%s" % (name, images.type.shape))
    if float_only and not images.dtype.startswith("float"):
        raise ValueError("%s: invalid images dtype: expected float dtype. Received: images.dtype=%s"
                         % (name, images.dtype))
    return images, -1 if standardize_data_format(data_format) == "channels_last" else -3


def _planes(name, images, axis):
    if images.type.shape[axis] != 3:
        raise ValueError("%s: input images must have 3 channels, but received images with %s channels."
                         % (name, images.type.shape[axis]))
    return [take(images, k, axis=axis) for k in range(3)]


def rgb_to_grayscale(images, data_format=None):
    """One channel, 0.2989 R + 0.5870 G + 0.1140 B (images with one channel come back as they are)."""
    images, axis = _images("rgb_to_grayscale", images, data_format, float_only=False)
    channels = images.type.shape[axis]
    if channels not in (1, 3):
        raise ValueError("Invalid channel size: expected 3 (RGB) or 1 (Grayscale). Received input with shape: "
                         "images.shape=%s" % (images.type.shape,))
    if channels == 1:
        return images
    floats = images if images.dtype.startswith("float") else cast(images, config.floatx())
    gray = tensordot(floats, np.array(GRAY_WEIGHTS, dtype=floats.dtype), axes=[[axis % images.ndim], [0]])
    return cast(expand_dims(gray, axis), images.dtype)


def rgb_to_hsv(images, data_format=None):
    """RGB in [0, 1] as hue, saturation, value."""
    images, axis = _images("rgb_to_hsv", images, data_format, float_only=True)
    images = where(less(absolute(images), np.finfo(images.dtype).eps), 0.0, images)
    red, green, blue = _planes("rgb_to_hsv", images, axis)
    value = maximum(maximum(red, green), blue)
    spread = value - minimum(minimum(red, green), blue)
    saturation = where(greater(value, 0), spread / where(greater(value, 0), value, 1.0), 0.0)
    norm = 1.0 / (6.0 * where(greater(spread, 0), spread, 1.0))
    hue = where(equal(value, green), norm * (blue - red) + 2.0 / 6.0, norm * (red - green) + 4.0 / 6.0)
    hue = where(equal(value, red), norm * (green - blue), hue)
    hue = where(greater(spread, 0), hue, 0.0) + cast(less(hue, 0.0), images.dtype)
    return stack([hue, saturation, value], axis=axis)


def hsv_to_rgb(images, data_format=None):
    """Hue, saturation, value in [0, 1] as RGB."""
    images, axis = _images("hsv_to_rgb", images, data_format, float_only=True)
    hue, saturation, value = _planes("hsv_to_rgb", images, axis)
    sixths = mod(hue, 1.0) * 6.0
    shades = [clip(absolute(sixths - 3.0) - 1.0, 0.0, 1.0), clip(2.0 - absolute(sixths - 2.0), 0.0, 1.0),
              clip(2.0 - absolute(sixths - 4.0), 0.0, 1.0)]
    return stack([value * (1.0 - saturation + saturation * shade) for shade in shades], axis=axis)

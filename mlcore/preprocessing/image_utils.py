"""Image files <-> numpy arrays through Pillow, with Keras's names and defaults.

The functions follow `keras.utils.load_img` and friends so that Keras-era code
(`load_img(path, target_size=(224, 224))` then `img_to_array`) runs unchanged.
"""

import io
import os
import pathlib
import warnings

import numpy as np

try:
    from PIL import Image as pil_image
except ImportError:  # Pillow is only needed once an image is touched.
    pil_image = None

if pil_image is not None:
    PIL_INTERPOLATION_METHODS = {
        "nearest": pil_image.Resampling.NEAREST,
        "bilinear": pil_image.Resampling.BILINEAR,
        "bicubic": pil_image.Resampling.BICUBIC,
        "hamming": pil_image.Resampling.HAMMING,
        "box": pil_image.Resampling.BOX,
        "lanczos": pil_image.Resampling.LANCZOS,
    }


def default_data_format():
    """mlcore.config's image_data_format(), or Keras's default when no config exists."""
    try:
        from mlcore import config

        return config.image_data_format()
    except (ImportError, AttributeError):
        return "channels_last"


def default_floatx():
    """mlcore.config's floatx(), or Keras's default "float32" when no config exists."""
    try:
        from mlcore import config

        return config.floatx()
    except (ImportError, AttributeError):
        return "float32"


def standardize_data_format(data_format):
    """Resolve None to the global setting and reject anything but the two layouts."""
    if data_format is None:
        data_format = default_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            'data_format must be "channels_last" or "channels_first". '
            f"Received: data_format={data_format!r}"
        )
    return data_format


def _require_pil(name):
    if pil_image is None:
        raise ImportError(f"`{name}` requires Pillow: pip install Pillow")


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """Convert a 3D array to a PIL Image; `scale` maps [min, max] to [0, 255]."""
    _require_pil("array_to_img")
    data_format = standardize_data_format(data_format)
    x = np.array(x, dtype=dtype or default_floatx())  # a copy: scaling is in place
    if x.ndim != 3:
        raise ValueError(
            "Expected image array to have rank 3 (single image). "
            f"Got array with shape: {x.shape}"
        )
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x -= np.min(x)
        x_max = np.max(x)
        if x_max != 0:
            x /= x_max
        x *= 255
    channels = x.shape[2]
    if channels in (3, 4):
        return pil_image.fromarray(x.astype("uint8"), "RGB" if channels == 3 else "RGBA")
    if channels == 1:
        if np.max(x) > 255:  # 32-bit integer grayscale (PIL mode "I")
            return pil_image.fromarray(x[:, :, 0].astype("int32"), "I")
        return pil_image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}")


def img_to_array(img, data_format=None, dtype=None):
    """Convert a PIL Image to a 3D array (grayscale images get a channel axis of 1)."""
    data_format = standardize_data_format(data_format)
    x = np.asarray(img, dtype=dtype or default_floatx())
    if x.ndim == 2:
        x = x[np.newaxis] if data_format == "channels_first" else x[:, :, np.newaxis]
    elif x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    else:
        raise ValueError(f"Unsupported image shape: {x.shape}")
    return x


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Save an array as an image file; the format comes from the extension unless given."""
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"  # Pillow's name for it
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.")
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest",
             keep_aspect_ratio=False):
    """Load an image file into a PIL Image, converted to `color_mode` and resized.

    The file is read into memory first so no file handle stays open (Pillow opens
    lazily). `target_size` is (height, width); `keep_aspect_ratio` resizes the
    largest centred crop that has the target's aspect ratio instead of distorting.
    """
    _require_pil("load_img")
    if isinstance(path, io.BytesIO):
        img = pil_image.open(path)
    elif isinstance(path, (str, bytes, os.PathLike)):
        with open(path, "rb") as f:
            img = pil_image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")

    if color_mode == "grayscale":
        if img.mode not in ("L", "I;16", "I"):  # keep 16/32-bit grayscale as is
            img = img.convert("L")
    elif color_mode in ("rgb", "rgba"):
        if img.mode != color_mode.upper():
            img = img.convert(color_mode.upper())
    else:
        raise ValueError('color_mode must be "grayscale", "rgb", or "rgba"')

    if target_size is None:
        return img
    width_height = (target_size[1], target_size[0])
    if img.size == width_height:
        return img
    if interpolation not in PIL_INTERPOLATION_METHODS:
        raise ValueError(
            f"Invalid interpolation method {interpolation} specified. Supported "
            f"methods are {', '.join(PIL_INTERPOLATION_METHODS)}"
        )
    resample = PIL_INTERPOLATION_METHODS[interpolation]
    if not keep_aspect_ratio:
        return img.resize(width_height, resample)
    width, height = img.size
    crop_width = min(width, (height * width_height[0]) // width_height[1])
    crop_height = min(height, (width * width_height[1]) // width_height[0])
    left, top = (width - crop_width) // 2, (height - crop_height) // 2
    return img.resize(width_height, resample,
                      box=(left, top, left + crop_width, top + crop_height))


def random_state(seed):
    """What augmentation draws from: numpy's global RNG for seed=None (so np.random.seed
    makes runs repeatable, as in Keras), a given Generator as is, else a private
    Generator seeded with `seed`, which leaves everyone else's random state alone."""
    if seed is None:
        return np.random
    if hasattr(seed, "uniform"):
        return seed
    return np.random.default_rng(seed)

"""Geometric and colour transforms of one image, as keras.preprocessing.image has them.

Unlike Keras 3's legacy code, every transform here is centred on the image's true
centre and `tx` always moves columns (x), `ty` rows (y), as Keras documents. On square
images rotation, shear and zoom give the same pixels as Keras.
"""

import numpy as np

from mlcore.preprocessing.image_utils import array_to_img, img_to_array


def flip_axis(x, axis):
    """Reverse `x` along `axis` (a view, no copy)."""
    return np.flip(np.asarray(x), axis)


def apply_affine_transform(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, row_axis=1,
                           col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0,
                           order=1):
    """Rotate (degrees, counter-clockwise), shift (pixels), shear (degrees) and zoom.

    The matrix maps output pixel coordinates (row, col) to input coordinates, which is
    what scipy.ndimage.affine_transform samples; so zoom > 1 shrinks the content and a
    positive `tx` moves it left, as in Keras.
    """
    if sorted((row_axis, col_axis, channel_axis)) != [0, 1, 2]:
        raise ValueError("row_axis, col_axis and channel_axis must be 0, 1, 2 in some order")
    if x.ndim != 3:
        raise ValueError("Input arrays must be multi-channel 2D images.")
    if channel_axis not in (0, 2):
        raise ValueError("Channels are allowed at the first and last dimensions only.")
    if theta == 0 and tx == 0 and ty == 0 and shear == 0 and zx == 1 and zy == 1:
        return x

    theta, shear = np.deg2rad(theta), np.deg2rad(shear)
    c, s = np.cos(theta), np.sin(theta)
    rotation = np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]])
    shift = np.array([[1, 0, ty], [0, 1, tx], [0, 0, 1]])
    shearing = np.array([[np.cos(shear), 0, 0], [-np.sin(shear), 1, 0], [0, 0, 1]])
    zoom = np.diag([zy, zx, 1.0])
    matrix = rotation @ shift @ shearing @ zoom

    h, w = x.shape[row_axis], x.shape[col_axis]
    center = np.array([(h - 1) / 2, (w - 1) / 2])
    linear = matrix[:2, :2]
    offset = matrix[:2, 2] + center - linear @ center  # transform about the centre

    from scipy import ndimage  # only augmentation needs scipy

    planes = np.moveaxis(x, channel_axis, 0)
    if row_axis > col_axis:  # (channel, col, row) layout: work on transposed planes
        planes = planes.transpose(0, 2, 1)
    out = np.stack([
        ndimage.affine_transform(p, linear, offset, order=order, mode=fill_mode, cval=cval)
        for p in planes
    ])
    if row_axis > col_axis:
        out = out.transpose(0, 2, 1)
    return np.moveaxis(out, 0, channel_axis)


def apply_channel_shift(x, intensity, channel_axis=0):
    """Add `intensity` to every channel, clipped to the image's original range."""
    return np.clip(x + intensity, np.min(x), np.max(x))


def apply_brightness_shift(x, brightness, scale=True):
    """Scale brightness with PIL's ImageEnhance (1.0 keeps the image as is)."""
    from PIL import ImageEnhance

    x_min, x_max = np.min(x), np.max(x)
    local_scale = x_min < 0 or x_max > 255
    img = ImageEnhance.Brightness(array_to_img(x, scale=local_scale or scale))
    x = img_to_array(img.enhance(brightness))
    if not scale and local_scale:
        x = x / 255 * (x_max - x_min) + x_min
    return x


def random_rotation(x, rg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest",
                    cval=0.0, interpolation_order=1):
    """Rotate by a uniform random angle in [-rg, rg] degrees."""
    return apply_affine_transform(
        x, theta=np.random.uniform(-rg, rg), row_axis=row_axis, col_axis=col_axis,
        channel_axis=channel_axis, fill_mode=fill_mode, cval=cval, order=interpolation_order)


def random_shift(x, wrg, hrg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest",
                 cval=0.0, interpolation_order=1):
    """Shift by uniform random fractions of the width (wrg) and height (hrg)."""
    tx = np.random.uniform(-wrg, wrg) * x.shape[col_axis]
    ty = np.random.uniform(-hrg, hrg) * x.shape[row_axis]
    return apply_affine_transform(
        x, tx=tx, ty=ty, row_axis=row_axis, col_axis=col_axis, channel_axis=channel_axis,
        fill_mode=fill_mode, cval=cval, order=interpolation_order)


def random_shear(x, intensity, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest",
                 cval=0.0, interpolation_order=1):
    """Shear by a uniform random angle in [-intensity, intensity] degrees."""
    return apply_affine_transform(
        x, shear=np.random.uniform(-intensity, intensity), row_axis=row_axis,
        col_axis=col_axis, channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
        order=interpolation_order)


def random_zoom(x, zoom_range, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest",
                cval=0.0, interpolation_order=1):
    """Zoom x and y independently by factors drawn from `zoom_range` (lower, upper)."""
    if len(zoom_range) != 2:
        raise ValueError(f"`zoom_range` should be a tuple or list of two floats. "
                         f"Received: {zoom_range}")
    if zoom_range[0] == 1 and zoom_range[1] == 1:
        return x
    zx, zy = np.random.uniform(zoom_range[0], zoom_range[1], 2)
    return apply_affine_transform(
        x, zx=zx, zy=zy, row_axis=row_axis, col_axis=col_axis, channel_axis=channel_axis,
        fill_mode=fill_mode, cval=cval, order=interpolation_order)


def random_channel_shift(x, intensity_range, channel_axis=0):
    """Channel shift by a uniform random amount in [-intensity_range, intensity_range]."""
    intensity = np.random.uniform(-intensity_range, intensity_range)
    return apply_channel_shift(x, intensity, channel_axis=channel_axis)


def random_brightness(x, brightness_range, scale=True):
    """Brightness shift by a factor drawn uniformly from `brightness_range`."""
    if len(brightness_range) != 2:
        raise ValueError("`brightness_range should be tuple or list of two floats. "
                         f"Received: {brightness_range}")
    return apply_brightness_shift(x, np.random.uniform(*brightness_range), scale)

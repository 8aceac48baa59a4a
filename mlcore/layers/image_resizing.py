"""Resizing and CenterCrop, Keras's layers that bring images to one size inside a model.

Resizing gives what Keras on jax gives (jax.image.resize): "bilinear" weights each output pixel's
half-pixel-centred source position between its two nearest input pixels (with antialias=True, when
shrinking, a triangle filter as wide as the scale), "nearest" picks the pixel under it.  Each axis is
one matrix product with weights fixed by the sizes, so gradients flow and every backend agrees.
"""
import numpy as np

from mlcore import ops
from mlcore.layers.image_base import ImageLayer, check_choice

INTERPOLATIONS = ("bilinear", "nearest")


def linear_resize_weights(size, new_size, antialias):
    """The (size, new_size) matrix whose columns blend input pixels into each output pixel."""
    scale = new_size / size
    width = max(1 / scale, 1.0) if antialias else 1.0
    source = (np.arange(new_size) + 0.5) / scale - 0.5
    weights = np.maximum(0, 1 - np.abs(source[None, :] - np.arange(size)[:, None]) / width)
    return weights / weights.sum(axis=0, keepdims=True)


def nearest_indices(size, new_size):
    """The input pixel under each output pixel's centre."""
    return np.floor((np.arange(new_size, dtype="float32") + 0.5) * size / new_size).astype("int64")


def resize_axis(images, axis, new_size, interpolation, antialias=False):
    """images resized along one axis of known length."""
    size = images.type.shape[axis]
    if size == new_size:
        return images
    if interpolation == "nearest":
        return ops.take(images, nearest_indices(size, new_size), axis=axis)
    weights = linear_resize_weights(size, new_size, antialias).astype(images.dtype)
    return ops.moveaxis(ops.tensordot(images, weights, axes=[[axis], [0]]), -1, axis)


def resize_images(images, height, width, interpolation="bilinear", antialias=False):
    """NHWC images of known height and width resized to (height, width)."""
    if None in images.type.shape[1:3]:
        raise ValueError("resize: the images' height and width must be known; received shape %s"
                         % (images.type.shape,))
    images = resize_axis(images, 1, height, interpolation, antialias)
    return resize_axis(images, 2, width, interpolation, antialias)


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


def crop(images, top, left, rows, cols):
    return images[:, top:top + rows, left:left + cols, :]


class Resizing(ImageLayer):
    """Images resized to (height, width); crop_to_aspect_ratio first cuts the largest centred window of
    the target's aspect ratio, pad_to_aspect_ratio first pads (with fill_value) to it."""

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, antialias=False,
                 data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        check_choice("Resizing", "interpolation", interpolation, INTERPOLATIONS)
        if fill_mode != "constant":
            raise ValueError("Resizing: invalid value for argument `fill_mode`. Only 'constant' is supported. "
                             "Received: fill_mode=%r" % (fill_mode,))
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Resizing: only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be True.")
        self.height, self.width = height, width
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = bool(antialias)

    def transform(self, images, training):
        size, target = images.type.shape[1:3], (self.height, self.width)
        if None in size:
            raise ValueError("Resizing '%s': the images' height and width must be known; received NHWC shape %s"
                             % (self.name, images.type.shape))
        if self.crop_to_aspect_ratio:
            images = crop(images, *aspect_crop_box(size, target))
        elif self.pad_to_aspect_ratio:
            images = self._pad(images, size)
        return resize_images(images, self.height, self.width, self.interpolation, self.antialias)

    def _pad(self, images, size):
        band = aspect_pad_band(size, (self.height, self.width))
        return ops.pad(images, ((0, 0),) + band + ((0, 0),), constant_values=self.fill_value)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation, "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias}


class CenterCrop(ImageLayer):
    """The centred (height, width) window of each image; an image smaller than that in either direction
    is cropped to the target's aspect ratio and resized (bilinear), as Keras's smart_resize."""

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height, self.width = height, width

    def transform(self, images, training):
        size, target = images.type.shape[1:3], (self.height, self.width)
        if None in size:
            raise ValueError("CenterCrop '%s': the images' height and width must be known; received NHWC shape "
                             "%s" % (self.name, images.type.shape))
        if size[0] >= self.height and size[1] >= self.width:
            return crop(images, (size[0] - self.height) // 2, (size[1] - self.width) // 2, *target)
        return resize_images(crop(images, *aspect_crop_box(size, target)), *target)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}

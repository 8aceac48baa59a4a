"""Resizing and CenterCrop, Keras's layers that bring images to one size inside a model.

Resizing gives what Keras on jax gives: it is keras.ops.image.resize (mlcore.ops.image), with every
interpolation of jax.image.resize ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5", "area";
antialias widens the kernel when shrinking).  Each axis is one matrix product with weights fixed by the
sizes, so gradients flow and every backend agrees.
"""
from mlcore import ops
from mlcore.layers.image_base import ImageLayer, check_choice
from mlcore.ops.image_sampling import RESIZE_INTERPOLATIONS, aspect_crop_box, resize_axis

# the helpers too: the augmentation layers resize with them
__all__ = ["CenterCrop", "Resizing", "aspect_crop_box", "crop", "resize_images"]
INTERPOLATIONS = RESIZE_INTERPOLATIONS


def resize_images(images, height, width, interpolation="bilinear", antialias=False):
    """NHWC float images of known height and width resized to (height, width)."""
    if None in images.type.shape[1:3]:
        raise ValueError("resize: the images' height and width must be known; received shape %s"
                         % (images.type.shape,))
    images = resize_axis(images, 1, height, interpolation, antialias)
    return resize_axis(images, 2, width, interpolation, antialias)


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
        if None in images.type.shape[1:3]:
            raise ValueError("Resizing '%s': the images' height and width must be known; received NHWC shape %s"
                             % (self.name, images.type.shape))
        return ops.image.resize(images, (self.height, self.width), self.interpolation, self.antialias,
                                self.crop_to_aspect_ratio, self.pad_to_aspect_ratio, self.fill_mode,
                                self.fill_value, data_format="channels_last")

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

"""Resizing and CenterCrop, Keras's layers that bring images to one size inside a model.

Resizing gives what Keras on jax gives: it is keras.ops.image.resize (mlcore.ops.image), with every
interpolation of jax.image.resize ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5", "area";
antialias widens the kernel when shrinking).  Each axis is one matrix product with weights fixed by the
sizes, so gradients flow and every backend agrees.  Masks are resized with "nearest"; boxes are moved
and clipped as Keras moves them.
"""
from mlcore import ops
from mlcore.layers.image_base import ImageLayer, check_choice
from mlcore.layers.image_boxes import moved_boxes, scaled_boxes
from mlcore.ops.image_sampling import RESIZE_INTERPOLATIONS, aspect_crop_box, resize_axis

# the helpers too: the augmentation layers resize with them
__all__ = ["CenterCrop", "CropLayer", "Resizing", "aspect_crop_box", "crop", "resize_images", "window"]
INTERPOLATIONS = RESIZE_INTERPOLATIONS


def resize_images(images, height, width, interpolation="bilinear", antialias=False):
    """NHWC float images of known height and width resized to (height, width)."""
    if None in images.type.shape[1:3]:
        raise ValueError("resize: the images' height and width must be known; received shape %s"
                         % (images.type.shape,))
    images = resize_axis(images, 1, height, interpolation, antialias)
    return resize_axis(images, 2, width, interpolation, antialias)


def crop(images, top, left, rows, cols):
    """The (rows, cols) window of NHWC images at (top, left), numbers or scalar int tensors."""
    if isinstance(top, int) and isinstance(left, int):
        return images[:, top:top + rows, left:left + cols, :]
    return ops.take(ops.take(images, ops.arange(rows) + top, axis=1), ops.arange(cols) + left, axis=2)


def window(size, top, left, rows, cols):
    """A crop layer's transformation: the (rows, cols) window at (top, left) of images of `size`."""
    return {"size": size, "top": top, "left": left, "rows": rows, "cols": cols}


class CropLayer(ImageLayer):
    """A layer that cuts from the images the window its get_random_transformation() gives and resizes it
    to (height, width) where the window's size differs; masks are cut the same way and resized with
    "nearest" (in the compute dtype, as Keras's crop layers give them), boxes follow the window."""
    batch_wide = True

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height, self.width = height, width

    def transform_images(self, images, transformation=None, training=True, interpolation="bilinear"):
        window = transformation
        images = crop(images, window["top"], window["left"], window["rows"], window["cols"])
        if (window["rows"], window["cols"]) == (self.height, self.width):
            return images
        return resize_images(images, self.height, self.width, interpolation)

    def transform_segmentation_masks(self, masks, transformation=None, training=True):
        return self.transform_images(ops.cast(masks, self.compute_dtype), transformation, training, "nearest")

    def transform_bounding_boxes(self, bounding_boxes, transformation=None, training=True):
        window = transformation

        def move(boxes):
            x_scale, y_scale = self.width / window["cols"], self.height / window["rows"]
            return scaled_boxes(boxes, x_scale, y_scale, -window["left"] * x_scale, -window["top"] * y_scale)
        return moved_boxes(self, bounding_boxes, window["size"], move, (self.height, self.width))

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


class Resizing(ImageLayer):
    """Images resized to (height, width); crop_to_aspect_ratio first cuts the largest centred window of
    the target's aspect ratio, pad_to_aspect_ratio first pads (with fill_value) to it."""
    batch_wide = True

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

    def get_random_transformation(self, images, training):
        """The images' (height, width), which the boxes need."""
        if None in images.type.shape[1:3]:
            raise ValueError("Resizing '%s': the images' height and width must be known; received NHWC shape %s"
                             % (self.name, images.type.shape))
        return images.type.shape[1:3]

    def transform_images(self, images, transformation=None, training=True, interpolation=None):
        return ops.image.resize(images, (self.height, self.width), interpolation or self.interpolation,
                                self.antialias, self.crop_to_aspect_ratio, self.pad_to_aspect_ratio, self.fill_mode,
                                self.fill_value, data_format="channels_last")

    def transform_segmentation_masks(self, masks, transformation=None, training=True):
        resized = self.transform_images(ops.cast(masks, self.compute_dtype), transformation, training, "nearest")
        return ops.cast(resized, masks.dtype)

    def transform_bounding_boxes(self, bounding_boxes, transformation=None, training=True):
        """Boxes scaled as the image (and shifted by the crop or the padding); as in Keras, padding boxes
        (all 0 or all -1) come out as zeros."""
        padding = ops.logical_or(ops.all(ops.equal(bounding_boxes["boxes"], -1.0), axis=-1, keepdims=True),
                                 ops.all(ops.equal(bounding_boxes["boxes"], 0.0), axis=-1, keepdims=True))
        size = transformation
        moved = moved_boxes(self, bounding_boxes, size, lambda boxes: self.move_boxes(boxes, *size),
                            (self.height, self.width))
        return dict(moved, boxes=ops.where(padding, 0.0, moved["boxes"]))

    def move_boxes(self, boxes, height, width):
        if self.pad_to_aspect_ratio:
            scale = min(self.height / height, self.width / width)
            return scaled_boxes(boxes, scale, scale, (self.width - width * scale) // 2,
                                (self.height - height * scale) // 2)
        if self.crop_to_aspect_ratio:
            wider = width / height > self.width / self.height
            new_width = self.height * width / height if wider else self.width
            new_height = self.height if wider else self.width * height / width
            x_scale, y_scale = new_width / width, new_height / height
            return scaled_boxes(boxes, x_scale, y_scale, -((new_width - self.width) // 2),
                                -((new_height - self.height) // 2))
        return scaled_boxes(boxes, self.width / width, self.height / height)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation, "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias}


class CenterCrop(CropLayer):
    """The centred (height, width) window of each image; an image smaller than that in either direction
    is cropped to the target's aspect ratio and resized (bilinear), as Keras's smart_resize."""

    def get_random_transformation(self, images, training):
        size, target = images.type.shape[1:3], (self.height, self.width)
        if None in size:
            raise ValueError("CenterCrop '%s': the images' height and width must be known; received NHWC shape "
                             "%s" % (self.name, images.type.shape))
        if size[0] >= self.height and size[1] >= self.width:
            return window(size, (size[0] - self.height) // 2, (size[1] - self.width) // 2, *target)
        return window(size, *aspect_crop_box(size, target))

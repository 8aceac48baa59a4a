"""RandomTranslation, RandomRotation and RandomZoom: each image resampled through an affine map drawn
for it, as Keras on jax does (keras.ops.image.affine_transform, whose sampler mlcore.ops.image_sampling
has): output pixel (row y, col x) reads the input at col a0 x + a1 y + a2, row b0 x + b1 y + b2,
"bilinear" blending the four pixels around that point, "nearest" taking the closest.  Points outside the
image are read per fill_mode: "reflect" (d c b a | a b c d | d c b a), "wrap" (the image tiled),
"nearest" (the edge pixel), "constant" (fill_value).  Masks are resampled the same way with "nearest";
boxes move with their images (image_boxes) and are clipped to them."""
import math

from mlcore import ops
from mlcore.layers.image_base import RandomImageLayer, check_choice, factor_range, fraction_range
from mlcore.layers.image_boxes import moved_boxes, per_box, scaled_boxes
from mlcore.ops.image_sampling import affine_sample
from mlcore.utils.bounding_boxes import geometry   # a module: it may still be loading (image_boxes.py)

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


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

    def get_random_transformation(self, images, training):
        """The layer's draws for each image (a dict), with the images' "size"; None at inference."""
        return dict(self.random_transformation(images), size=images.type.shape[1:3]) if training else None

    def transform_images(self, images, transformation=None, training=True):
        return images if transformation is None else self.warp(images, transformation, self.interpolation)

    def transform_segmentation_masks(self, masks, transformation=None, training=True):
        if transformation is None:
            return masks
        return ops.cast(self.warp(ops.cast(masks, self.compute_dtype), transformation, "nearest"), masks.dtype)

    def transform_bounding_boxes(self, bounding_boxes, transformation=None, training=True):
        if transformation is None:
            return bounding_boxes
        return moved_boxes(self, bounding_boxes, transformation["size"],
                           lambda boxes: self.move_boxes(boxes, transformation))

    def warp(self, images, transformation, interpolation):
        return affine_sample(images, self.sampling_map(transformation), interpolation, self.fill_mode,
                             self.fill_value)

    def random_transformation(self, images):
        raise NotImplementedError

    def sampling_map(self, transformation):
        """(a0, a1, a2, b0, b1, b2) of affine_sample for the drawn transformation."""
        raise NotImplementedError

    def move_boxes(self, boxes, transformation):
        """(batch, n, 4) xyxy boxes moved as the transformation moves their images (unclipped)."""
        raise NotImplementedError

    def draw(self, images, low, high):
        """One float32 draw in [low, high) for each image, shaped (batch, 1, 1) to broadcast over pixels."""
        return self.generator.uniform([images.shape[0], 1, 1], low, high, dtype="float32")

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

    def random_transformation(self, images):
        height, width = images.type.shape[1:3]
        down = self.draw(images, *self.height_range) * height
        return {"down": down, "right": self.draw(images, *self.width_range) * width}

    def sampling_map(self, transformation):
        return 1.0, 0.0, -transformation["right"], 0.0, 1.0, -transformation["down"]

    def move_boxes(self, boxes, transformation):
        right, down = per_box(transformation["right"], boxes), per_box(transformation["down"], boxes)
        return scaled_boxes(boxes, 1.0, 1.0, right, down)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


class RandomRotation(AffineImageLayer):
    """Each image turned about its centre by an angle drawn in factor's range, in fractions of a full turn
    (a number f: [-f, f]); a positive angle turns it counter-clockwise."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = factor_range(factor, (-1, 1), "factor")

    def random_transformation(self, images):
        return {"degrees": self.draw(images, self.factor[0] * 360.0, self.factor[1] * 360.0)}

    def sampling_map(self, transformation):
        height, width = transformation["size"]
        angle = transformation["degrees"] * (math.pi / 180.0)
        cos, sin = ops.cos(angle), ops.sin(angle)
        center_x, center_y = 0.5 * (width - 1), 0.5 * (height - 1)
        return (cos, -sin, center_x - center_x * cos + center_y * sin,
                sin, cos, center_y - center_x * sin - center_y * cos)

    def move_boxes(self, boxes, transformation):
        """Keras's rule: each box becomes the smallest box around its turned corners."""
        degrees = ops.reshape(transformation["degrees"], (-1,))
        zeros, ones = ops.zeros_like(degrees), ops.ones_like(degrees)
        return geometry.affine_transform(boxes, degrees, zeros, zeros, ones, zeros, zeros, *transformation["size"])

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

    def random_transformation(self, images):
        zoom_y = self.draw(images, 1.0 + self.height_range[0], 1.0 + self.height_range[1])
        zoom_x = zoom_y if self.width_range is None else self.draw(images, 1.0 + self.width_range[0],
                                                                   1.0 + self.width_range[1])
        return {"zoom_x": zoom_x, "zoom_y": zoom_y}

    def sampling_map(self, transformation):
        (height, width), zoom_x, zoom_y = transformation["size"], transformation["zoom_x"], transformation["zoom_y"]
        return zoom_x, 0.0, (width - 1) / 2.0 * (1.0 - zoom_x), 0.0, zoom_y, (height - 1) / 2.0 * (1.0 - zoom_y)

    def move_boxes(self, boxes, transformation):
        """The window each image reads, from (a2, b2) to (a0 w + a2, b1 h + b2), stretched over the image."""
        sampling_map = self.sampling_map(transformation)
        zoom_x, left, zoom_y, top = (per_box(sampling_map[k], boxes) for k in (0, 2, 4, 5))
        return scaled_boxes(boxes, 1.0 / zoom_x, 1.0 / zoom_y, -left / zoom_x, -top / zoom_y)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}

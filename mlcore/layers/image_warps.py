"""Keras 3's RandomShear, RandomPerspective and RandomElasticTransform: each image resampled through a
random shear (an affine map, on image_affine's machinery), a random homography
(mlcore.ops.image.perspective_transform) or a smooth random displacement field."""

import numpy as np

from mlcore import ops
from mlcore.layers.image_affine import AffineImageLayer
from mlcore.layers.image_base import RandomImageLayer, check_choice, factor_range
from mlcore.layers.image_boxes import corners, from_corners, image_size, moved_boxes, per_box
from mlcore.layers.image_filtering import per_channel
from mlcore.layers.image_ranges import checked_pair, chosen
from mlcore.ops.image_sampling import FILL_MODES, interpolate
from mlcore.utils.bounding_boxes import geometry   # a module: it may still be loading (image_boxes.py)


class RandomShear(AffineImageLayer):
    """Each image sheared: output pixel (x, y) reads the input at (x + s_x y, y + s_y x), s_x drawn in
    x_factor's range and s_y in y_factor's (a number f: [-f, f]), both negated together with even odds.
    A pair may reach below 0 (Keras 3.15 refuses that, so it cannot reload its own config of a number f)."""

    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                 data_format=None, seed=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.x_factor = checked_pair("RandomShear", x_factor, "x_factor", -1.0, pair_low=-1.0)
        self.y_factor = checked_pair("RandomShear", y_factor, "y_factor", -1.0, pair_low=-1.0)

    def random_transformation(self, images):
        sign = ops.where(ops.greater(self.draw(images, 0.0, 1.0), 0.5), -1.0, 1.0)
        shear_y = self.draw(images, *self.y_factor) * sign
        return {"shear_x": self.draw(images, *self.x_factor) * sign, "shear_y": shear_y}

    def sampling_map(self, transformation):
        return 1.0, transformation["shear_x"], 0.0, transformation["shear_y"], 1.0, 0.0

    def move_boxes(self, boxes, transformation):
        """Keras's rule, on coordinates relative to the image's size: x less s_x times the y of the box's
        top or bottom edge (whichever widens it), then y less s_y times the new x of its left or right edge."""
        height, width = transformation["size"]
        shear_x, shear_y = per_box(transformation["shear_x"], boxes), per_box(transformation["shear_y"], boxes)
        x1, y1, x2, y2 = (c / size for c, size in zip(corners(boxes), (width, height, width, height)))
        left_up = ops.less(shear_x, 0)
        x1, x2 = (ops.where(left_up, x1 - shear_x * y1, x1 - shear_x * y2),
                  ops.where(left_up, x2 - shear_x * y2, x2 - shear_x * y1))
        down = ops.greater(shear_y, 0)
        y1, y2 = (ops.where(down, y1 - shear_y * x2, y1 - shear_y * x1),
                  ops.where(down, y2 - shear_y * x1, y2 - shear_y * x2))
        return from_corners(x1 * width, y1 * height, x2 * width, y2 * height)

    def get_config(self):
        return {**super().get_config(), "x_factor": self.x_factor, "y_factor": self.y_factor}


class RandomPerspective(RandomImageLayer):
    """With a probability drawn in factor's range (a number f: [0, f]), each image warped so that its
    corners move by up to scale / 2 of their own coordinates (Keras's rule: a corner (x, y) goes to
    (x (1 + u), y (1 + v)), u and v drawn in [-scale / 2, scale / 2]); points outside read fill_value.
    Masks are warped the same way with "nearest"; each box becomes the smallest box around its moved
    corners, clipped to the image.  Keras 3.15 returns those boxes in "xyxy" whatever its
    bounding_box_format; mlcore writes them back in the layer's format."""

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_value=0.0, seed=None, data_format=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_range(factor, (0, 1), "factor")
        if not 0.0 <= scale <= 1.0:
            raise ValueError("RandomPerspective: the `scale` argument should be a number in the range [0,1]. "
                             "Received: scale=%r" % (scale,))
        check_choice("RandomPerspective", "interpolation", interpolation, ("nearest", "bilinear"))
        self.scale = scale
        self.interpolation = interpolation
        self.fill_value = fill_value

    def get_random_transformation(self, images, training):
        """Keras's keys: each image's corners ("start_points", as (x, y)), where they go ("end_points"),
        whether it is warped ("apply_perspective") and the images' shape ("input_shape", NHWC)."""
        if not training:
            return None
        batch, (height, width) = images.shape[0], images.type.shape[1:3]
        corners = np.array([[0.0, 0.0], [width - 1, 0.0], [0.0, height - 1], [width - 1, height - 1]], "float32")
        moves = self.generator.uniform([batch, 4, 2], -0.5 * self.scale, 0.5 * self.scale, dtype="float32")
        start = ops.zeros_like(moves) + corners
        return {"start_points": start, "end_points": start + start * moves,
                "apply_perspective": chosen(self, batch, self.factor), "input_shape": images.type.shape}

    def transform_images(self, images, transformation=None, training=True):
        return self.warp(images, transformation, self.interpolation)

    def transform_segmentation_masks(self, masks, transformation=None, training=True):
        return self.warp(masks, transformation, "nearest")

    def warp(self, images, transformation, interpolation):
        if transformation is None:
            return images
        start, end = transformation["start_points"], transformation["end_points"]
        warped = ops.image.perspective_transform(images, start, end, interpolation, self.fill_value,
                                                 data_format="channels_last")
        return ops.where(transformation["apply_perspective"], warped, images)

    def transform_bounding_boxes(self, bounding_boxes, transformation=None, training=True):
        if transformation is None:
            return bounding_boxes
        # the map that takes each start corner to its end corner: input points to where they land
        h = ops.image.homography(transformation["end_points"], transformation["start_points"])
        h = [ops.reshape(h[:, k], (-1, 1)) for k in range(8)]

        def moved(x, y):
            denominator = h[6] * x + h[7] * y + 1.0
            return (h[0] * x + h[1] * y + h[2]) / denominator, (h[3] * x + h[4] * y + h[5]) / denominator

        def warped(boxes):
            apply = ops.reshape(transformation["apply_perspective"], (-1, 1, 1))
            return ops.where(apply, geometry.around_moved_corners(boxes, moved), boxes)
        return moved_boxes(self, bounding_boxes, image_size(transformation), warped)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "scale": self.scale,
                "interpolation": self.interpolation, "fill_value": self.fill_value}


class RandomElasticTransform(RandomImageLayer):
    """With a probability drawn in factor's range, each image displaced by Gaussian noise blurred with
    a Gaussian of width sigma = 0.05 d min(h, w) (a window of int(6 sigma) | 1 taps) and scaled by
    alpha = 0.1 d max(h, w), d drawn in scale's range for the batch; then clipped to value_range.  As on
    Keras's jax backend, the column and row displacements are the same noise.  scale or factor with an
    upper end of 0 leaves the images as they are.  Masks move with their images ("nearest", not clipped
    to value_range); Keras 3.15 draws them a displacement of their own.  Boxes are refused, as by Keras."""

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                 value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_range(factor, (0, 1), "factor")
        self.scale = factor_range(scale, (0, 1), "scale")
        check_choice("RandomElasticTransform", "interpolation", interpolation, ("nearest", "bilinear"))
        check_choice("RandomElasticTransform", "fill_mode", fill_mode, FILL_MODES)
        self.interpolation, self.fill_mode, self.fill_value = interpolation, fill_mode, fill_value
        self.value_range = value_range

    def get_random_transformation(self, images, training):
        """Whether each image is displaced ("apply") and by how much ("shift", (batch, height, width))."""
        if not training or self.scale[1] == 0 or self.factor[1] == 0:
            return None
        batch, (height, width) = images.shape[0], images.type.shape[1:3]
        apply = chosen(self, batch, self.factor)
        distortion = self.generator.uniform((), self.scale[0], self.scale[1], dtype="float32")
        alpha, sigma = max(height, width) * 0.1 * distortion, min(height, width) * 0.05 * distortion
        noise = self.generator.normal([batch, height, width, 1], dtype="float32") * sigma
        taps = self.window_taps(sigma, min(height, width) * 0.05 * self.scale[1])
        shift = alpha * per_channel(noise, ops.expand_dims(taps, 1) * ops.expand_dims(taps, 0))[..., 0]
        return {"apply": apply, "shift": shift}

    def transform_images(self, images, transformation=None, training=True):
        if transformation is None:
            return images
        warped = self.warp(images, transformation, self.interpolation)
        return ops.clip(warped, self.value_range[0], self.value_range[1])

    def transform_segmentation_masks(self, masks, transformation=None, training=True):
        if transformation is None:
            return masks
        return ops.cast(self.warp(ops.cast(masks, self.compute_dtype), transformation, "nearest"), masks.dtype)

    def transform_bounding_boxes(self, bounding_boxes, transformation=None, training=True):
        raise NotImplementedError("RandomElasticTransform does not support bounding boxes (as in Keras 3.15).")

    def warp(self, images, transformation, interpolation):
        batch, (height, width), channels = images.shape[0], images.type.shape[1:3], images.shape[3]
        shift = transformation["shift"]
        rows, cols = np.mgrid[:height, :width].astype("float32")
        first = ops.reshape(ops.arange(batch) * (height * width), (-1, 1, 1))
        warped = interpolate(ops.reshape(images, (-1, channels)), [rows + shift, cols + shift], (height, width),
                             {"nearest": 0, "bilinear": 1}[interpolation], self.fill_mode, self.fill_value, first)
        return ops.where(transformation["apply"], ops.reshape(warped, ops.shape(images)), images)

    @staticmethod
    def window_taps(sigma, widest):
        """The normalized Gaussian of width sigma (a tensor) over Keras's int(6 sigma) | 1 taps, laid in
        the window of the widest sigma the layer can draw (the taps beyond its own window are 0)."""
        reach = (int(6 * widest) | 1) // 2
        offsets = np.arange(-reach, reach + 1, dtype="float32")
        half = ops.floor(ops.floor(6.0 * sigma) / 2.0)
        taps = ops.where(ops.less_equal(np.abs(offsets), half), ops.exp(-0.5 * ops.square(offsets / sigma)), 0.0)
        return taps / ops.sum(taps)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "scale": self.scale,
                "interpolation": self.interpolation, "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                "value_range": self.value_range}

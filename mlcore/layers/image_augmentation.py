"""Keras's augmentation layers that need no resampling: RandomFlip, RandomCrop, RandomContrast and
RandomBrightness.  Each transforms in training only, drawing from its own SeedGenerator, so a compiled
train step augments anew at every call (image_base.RandomImageLayer)."""
from mlcore import ops
from mlcore.layers.image_base import RandomImageLayer, factor_range
from mlcore.layers.image_boxes import corners, from_corners, image_size, moved_boxes, per_box
from mlcore.layers.image_ranges import value_range_pair
from mlcore.layers.image_resizing import CropLayer, aspect_crop_box, window
from mlcore.utils.rng import layer_streams

FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


class RandomFlip(RandomImageLayer):
    """Each image flipped with probability 1/2: left-right, upside down, or (horizontal_and_vertical, as
    Keras) both at once."""

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if mode not in FLIP_MODES:
            raise ValueError("RandomFlip '%s' received an unknown mode argument %r; expected one of %s"
                             % (self.name, mode, FLIP_MODES))
        self.mode = mode

    def get_random_transformation(self, images, training):
        if not training:
            return None
        return {"flips": ops.less_equal(self.per_image(images, 0.0, 1.0), 0.5), "input_shape": images.type.shape}

    def transform_images(self, images, transformation=None, training=True):
        if transformation is None:
            return images
        axes = [axis for axis, word in ((1, "vertical"), (2, "horizontal")) if word in self.mode]
        return ops.where(transformation["flips"], ops.flip(images, axis=axes), images)

    def transform_segmentation_masks(self, masks, transformation=None, training=True):
        return self.transform_images(ops.cast(masks, self.compute_dtype), transformation, training)

    def transform_bounding_boxes(self, bounding_boxes, transformation=None, training=True):
        if transformation is None:
            return bounding_boxes
        height, width = image_size(transformation)

        def flipped(boxes):
            flips, (x1, y1, x2, y2) = per_box(transformation["flips"], boxes), corners(boxes)
            if "horizontal" in self.mode:
                x1, x2 = ops.where(flips, width - x2, x1), ops.where(flips, width - x1, x2)
            if "vertical" in self.mode:
                y1, y2 = ops.where(flips, height - y2, y1), ops.where(flips, height - y1, y2)
            return from_corners(x1, y1, x2, y2)
        return moved_boxes(self, bounding_boxes, (height, width), flipped)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class RandomCrop(CropLayer):
    """A (height, width) window of the images, at one random place for the whole batch in training; at
    inference (and for images not larger than the window in both directions) the centred window of the
    target's aspect ratio, resized to it.  Keras 3.15 documents that inference behaviour but returns its
    inputs unchanged, breaking its own output shape; mlcore does what Keras documents, and its boxes
    follow the window (Keras's swap x and y offsets and are not clipped to the window)."""

    def __init__(self, height, width, seed=None, data_format=None, name=None, **kwargs):
        super().__init__(height, width, data_format=data_format, name=name, **kwargs)
        self.seed = seed
        self.generator = layer_streams(seed)

    def get_random_transformation(self, images, training):
        size = images.type.shape[1:3]
        if None in size:
            raise ValueError("RandomCrop '%s' requires the input to have a fully defined height and width. "
                             "Received: NHWC images.shape=%s" % (self.name, images.type.shape))
        if training and size[0] > self.height and size[1] > self.width:
            top, left = (ops.cast(self.generator.uniform((), 0.0, float(size[k] - target + 1)), "int64")
                         for k, target in enumerate((self.height, self.width)))
            return window(size, top, left, self.height, self.width)
        top, left, _, _ = aspect_crop_box(size, (self.height, self.width))
        # as Keras: the window of the target's size at the aspect box's corner, cut off by the image's edges
        return window(size, top, left, min(self.height, size[0] - top), min(self.width, size[1] - left))

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class RandomContrast(RandomImageLayer):
    """Each image's channels pulled to (or pushed from) their mean over the image by a factor drawn in
    [1 - factor[0], 1 + factor[1]] (a number f gives (0, f), as in Keras 3), then clipped to value_range."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor_range(factor, (0, 1), "factor")
        self.value_range = value_range

    def get_random_transformation(self, images, training):
        """Keras's {"contrast_factor": one factor per image}, so a transformation written for Keras works."""
        if not training:
            return None
        return {"contrast_factor": self.per_image(images, 1.0 - self.factor[0], 1.0 + self.factor[1])}

    def transform_images(self, images, transformation=None, training=True):
        if transformation is None or not training:
            return images
        mean = ops.mean(images, axis=(1, 2), keepdims=True)
        contrasted = (images - mean) * transformation["contrast_factor"] + mean
        return ops.clip(contrasted, self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class RandomBrightness(RandomImageLayer):
    """Each image shifted by a delta drawn in [factor[0], factor[1]] times the width of value_range, then
    clipped to value_range."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor_range(factor, (-1, 1), "factor")
        self.value_range = value_range_pair("RandomBrightness", value_range)

    def augment(self, images):
        low, high = self.value_range
        delta = self.per_image(images, self.factor[0], self.factor[1]) * (high - low)
        return ops.clip(images + delta, low, high)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}

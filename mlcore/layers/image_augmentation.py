"""Keras's augmentation layers that need no resampling: RandomFlip, RandomCrop, RandomContrast and
RandomBrightness.  Each transforms in training only, drawing from its own SeedGenerator, so a compiled
train step augments anew at every call (image_base.RandomImageLayer)."""
from mlcore import ops
from mlcore.layers.image_base import ImageLayer, RandomImageLayer, factor_range
from mlcore.layers.image_resizing import aspect_crop_box, crop, resize_images
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

    def augment(self, images):
        axes = [axis for axis, word in ((1, "vertical"), (2, "horizontal")) if word in self.mode]
        flips = ops.less_equal(self.per_image(images, 0.0, 1.0), 0.5)
        return ops.where(flips, ops.flip(images, axis=axes), images)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class RandomCrop(ImageLayer):
    """A (height, width) window of the images, at one random place for the whole batch in training; at
    inference (and for images not larger than the window in both directions) the centred window of the
    target's aspect ratio, resized to it.  Keras 3.15 documents that inference behaviour but returns its
    inputs unchanged, breaking its own output shape; mlcore does what Keras documents."""

    def __init__(self, height, width, seed=None, data_format=None, name=None, **kwargs):
        super().__init__(data_format=data_format, name=name, **kwargs)
        self.height, self.width = height, width
        self.seed = seed
        self.generator = layer_streams(seed)

    def transform(self, images, training):
        size = images.type.shape[1:3]
        if None in size:
            raise ValueError("RandomCrop '%s' requires the input to have a fully defined height and width. "
                             "Received: NHWC images.shape=%s" % (self.name, images.type.shape))
        if training and size[0] > self.height and size[1] > self.width:
            top, left = (ops.cast(self.generator.uniform((), 0.0, float(size[k] - target + 1)), "int64")
                         for k, target in enumerate((self.height, self.width)))
            images = ops.take(images, ops.arange(self.height) + top, axis=1)
            return ops.take(images, ops.arange(self.width) + left, axis=2)
        top, left, _, _ = aspect_crop_box(size, (self.height, self.width))
        return resize_images(crop(images, top, left, self.height, self.width), self.height, self.width)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width, "seed": self.seed}


class RandomContrast(RandomImageLayer):
    """Each image's channels pulled to (or pushed from) their mean over the image by a factor drawn in
    [1 - factor[0], 1 + factor[1]] (a number f gives (0, f), as in Keras 3), then clipped to value_range."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor_range(factor, (0, 1), "factor")
        self.value_range = value_range

    def augment(self, images):
        contrast = self.per_image(images, 1.0 - self.factor[0], 1.0 + self.factor[1])
        mean = ops.mean(images, axis=(1, 2), keepdims=True)
        return ops.clip((images - mean) * contrast + mean, self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class RandomBrightness(RandomImageLayer):
    """Each image shifted by a delta drawn in [factor[0], factor[1]] times the width of value_range, then
    clipped to value_range."""

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor_range(factor, (-1, 1), "factor")
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise ValueError("RandomBrightness: the `value_range` argument should be a list of two numbers. "
                             "Received: value_range=%r" % (value_range,))
        self.value_range = sorted(value_range)

    def augment(self, images):
        low, high = self.value_range
        delta = self.per_image(images, self.factor[0], self.factor[1]) * (high - low)
        return ops.clip(images + delta, low, high)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}

"""Keras 3's colour augmentation layers: RandomGrayscale, RandomColorDegeneration, RandomSaturation,
RandomHue and RandomColorJitter.  Each draws one number per image from its own SeedGenerator in
training (fresh at every call of a compiled step) and leaves the images unchanged at inference.  The
arithmetic is Keras's, step for step, so a draw forced by a collapsed factor range gives Keras's output."""
from mlcore import config, ops
from mlcore.layers.image_augmentation import RandomBrightness, RandomContrast
from mlcore.layers.image_base import RandomImageLayer
from mlcore.layers.image_ranges import ColorImageLayer, rescale


def grayscale(images):
    """NHWC images' luma (one channel; a one-channel image is its own)."""
    return ops.image.rgb_to_grayscale(images, data_format="channels_last")


class RandomGrayscale(RandomImageLayer):
    """Each image turned to gray with probability `factor`, keeping its number of channels."""

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if not 0 <= factor <= 1:
            raise ValueError("RandomGrayscale: `factor` should be between 0 and 1. Received: factor=%r" % (factor,))
        self.factor = factor

    def augment(self, images):
        return ops.where(ops.less(self.per_image(images, 0.0, 1.0), self.factor), grayscale(images), images)

    def get_config(self):
        config = {**super().get_config(), "factor": self.factor}
        del config["seed"]              # Keras 3.15 leaves the seed out of this layer's config
        return config


class RandomColorDegeneration(ColorImageLayer):
    """Each image moved toward its grayscale version by a fraction drawn in factor's range (a number
    f: [-f, f]; a negative fraction moves away from gray), then clipped to value_range."""

    def augment(self, images):
        fraction = self.per_image(images, *self.factor)
        return ops.clip(images + fraction * (grayscale(images) - images), *self.value_range)


class RandomSaturation(ColorImageLayer):
    """Each image's HSV saturation multiplied by f / (1 - f), f drawn in factor's range (a number f:
    [-f, f]); as Keras, the saturation is clipped to value_range and hue/saturation/value computed on
    the pixel values as they come."""

    def augment(self, images):
        drawn = self.per_image(images, *self.factor)[..., 0]
        scale = drawn / (1.0 - drawn + config.epsilon())
        hsv = ops.image.rgb_to_hsv(images, data_format="channels_last")
        saturation = ops.clip(hsv[..., 1] * scale, *self.value_range)
        return ops.image.hsv_to_rgb(ops.stack([hsv[..., 0], saturation, hsv[..., 2]], axis=-1),
                                    data_format="channels_last")


class RandomHue(ColorImageLayer):
    """Each image's hue turned by half a number drawn in factor's range (a number f: [0, f]), forward
    or back with even odds, on images brought from value_range to [0, 1]."""
    FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(factor, value_range, data_format, seed, **kwargs)
        self.value_range = value_range          # Keras keeps this layer's value_range as given

    def augment(self, images):
        sign = ops.where(ops.greater(self.per_image(images, 0.0, 1.0), 0.5), -1.0, 1.0)
        shift = (sign * self.per_image(images, *self.factor) * 0.5)[..., 0]
        hsv = ops.image.rgb_to_hsv(rescale(images, self.value_range, (0, 1)), data_format="channels_last")
        hue = hsv[..., 0] + shift
        hue = ops.where(ops.greater(hue, 1.0), hue - 1.0, hue)
        hue = ops.where(ops.less(hue, 0.0), hue + 1.0, hue)
        rgb = ops.image.hsv_to_rgb(ops.stack([hue, hsv[..., 1], hsv[..., 2]], axis=-1), data_format="channels_last")
        return rescale(ops.clip(rgb, 0.0, 1.0), (0, 1), self.value_range)


class RandomColorJitter(RandomImageLayer):
    """RandomBrightness, RandomContrast, RandomSaturation and RandomHue in that order, each where its
    factor is given, all on value_range."""

    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None, saturation_factor=None,
                 hue_factor=None, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = value_range
        self.factors = {"brightness_factor": brightness_factor, "contrast_factor": contrast_factor,
                        "saturation_factor": saturation_factor, "hue_factor": hue_factor}
        kinds = (RandomBrightness, RandomContrast, RandomSaturation, RandomHue)
        self.steps = [kind(factor=factor, value_range=value_range, seed=seed)
                      for kind, factor in zip(kinds, self.factors.values()) if factor is not None]
        for step in self.steps:     # each draws in turn from the jitter's stream, as in Keras: with one factor
            step.generator = self.generator     # the draws are those of that layer with the same seed

    def augment(self, images):
        for step in self.steps:
            images = step.transform(images, training=True)
        return images

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range, **self.factors}

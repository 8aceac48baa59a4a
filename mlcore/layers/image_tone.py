"""Keras 3's tone layers: RandomInvert, Solarization and RandomPosterization (random, in training only),
AutoContrast (always) and Equalization (in training).  The colour arithmetic runs on 0..255 after
value_range is mapped there, as Keras does, and gives Keras's numbers."""
from mlcore import ops
from mlcore.layers.image_base import ImageLayer, RandomImageLayer, factor_range
from mlcore.layers.image_ranges import ColorImageLayer, checked_pair, chosen, rescale, value_range_pair

FULL = (0, 255)


class RandomInvert(RandomImageLayer):
    """Each image replaced by value_range[1] - image with a probability drawn in factor's range (a number
    f: [0, f])."""

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_range(factor, (0, 1), "factor")
        self.value_range = value_range

    def augment(self, images):
        return ops.where(chosen(self, images.shape[0], self.factor), self.value_range[1] - images, images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class Solarization(RandomImageLayer):
    """Each image (on 0..255) raised by an addition drawn in [addition_factor[0], 255 addition_factor[1]],
    clipped, then every pixel at or above a threshold drawn in [threshold_factor[0], 255 threshold_factor[1]]
    inverted (255 - x).  A number f means (0, f); the ranges' lower ends are not scaled, as in Keras."""

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.addition_factor = checked_pair("Solarization", addition_factor, "addition_factor")
        self.threshold_factor = checked_pair("Solarization", threshold_factor, "threshold_factor")
        self.value_range = value_range_pair("Solarization", value_range)

    def augment(self, images):
        additions = self.per_image(images, self.addition_factor[0], self.addition_factor[1] * 255)
        thresholds = self.per_image(images, self.threshold_factor[0], self.threshold_factor[1] * 255)
        raised = ops.clip(rescale(images, self.value_range, FULL) + additions, *FULL)
        return rescale(ops.where(ops.less(raised, thresholds), raised, 255.0 - raised), FULL, self.value_range)

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range, "addition_factor": self.addition_factor,
                "threshold_factor": self.threshold_factor}


class RandomPosterization(ColorImageLayer):
    """Each image (on 0..255, as uint8) kept to its top b bits, b an integer drawn in [factor[0],
    factor[1]) (a number f: [1, f); equal ends: that b).  Values outside 0..255 are clipped into it."""
    FACTOR_BOUNDS = (1, 8)

    def augment(self, images):
        low, high = self.factor
        bits = float(low) if low == high else ops.floor(self.per_image(images, float(low), float(high)))
        step = ops.power(2.0, 8.0 - bits)
        levels = ops.floor(ops.clip(rescale(images, self.value_range, FULL), *FULL))
        return rescale(ops.floor(levels / step) * step, FULL, self.value_range)


class AutoContrast(ImageLayer):
    """Each channel of each image stretched so that its lowest value goes to value_range[0] and its
    highest to value_range[1]; a flat channel stays as it is.  Keras applies it at inference too."""

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self.value_range = value_range_pair("AutoContrast", value_range)

    def transform(self, images, training):
        full = rescale(images, self.value_range, FULL)
        low = ops.min(full, axis=(1, 2), keepdims=True)
        high = ops.max(full, axis=(1, 2), keepdims=True)
        flat = ops.less_equal(high, low)
        scale = 255.0 / ops.where(flat, 1.0, high - low)
        # (x - low) * scale, not Keras's x * scale - low * scale: a compiled graph may fuse that into one
        # multiply-add, and the lowest value would not come out exactly 0
        stretched = rescale(ops.clip((full - low) * scale, *FULL), FULL, self.value_range)
        return ops.where(flat, images, stretched)

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range}


class Equalization(ImageLayer):
    """In training, each channel's histogram (over the whole batch, `bins` bins on 0..255) equalized:
    each value replaced by its bin's rank in the cumulative histogram, scaled to 0..255 and rounded.  A
    channel whose values fill at most one bin stays as it is."""

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.bins = bins
        self.value_range = value_range_pair("Equalization", value_range)

    def transform(self, images, training):
        if not training:
            return images
        full = rescale_always(images, self.value_range, FULL)
        bins, channels = self.bins, images.type.shape[3]
        slots = ops.clip(ops.cast(full * float(bins - 1) / 255.0, "int32"), 0, bins - 1)
        slots = ops.reshape(slots + ops.arange(channels, dtype="int32") * bins, (-1, 1))   # channel c's bins
        counts = ops.reshape(ops.scatter(slots, ops.ones_like(slots[:, 0]), (channels * bins,)), (channels, bins))
        cdf = ops.cumsum(counts, axis=-1)
        last = cdf[:, -1:]
        first = ops.min(ops.where(ops.greater(cdf, 0), cdf, last), axis=-1, keepdims=True)
        spread = ops.where(ops.equal(last, first), 1, last - first)
        # XLA divides by the broadcast spread as a product with its float32 reciprocal, so Keras's .5 ties
        # round that way; the reciprocal is taken in float64 and cast so that no backend folds it back
        reciprocal = ops.cast(1.0 / ops.cast(spread, "float64"), "float32")
        table = ops.cast((cdf - first) * 255, "float32") * reciprocal
        table = ops.clip(ops.round(table), *FULL)
        index = ops.cast(ops.clip(full / 255.0 * float(bins - 1), 0, bins - 1), "int32")
        equalized = ops.take(ops.reshape(table, (-1,)), index + ops.arange(channels) * bins)
        used = ops.sum(ops.cast(ops.greater(counts, 0), "int32"), axis=-1)
        equalized = ops.where(ops.less_equal(used, 1), full, ops.cast(equalized, images.dtype))
        return rescale_always(equalized, FULL, self.value_range)

    def get_config(self):
        return {**super().get_config(), "bins": self.bins, "value_range": self.value_range}


def rescale_always(images, source, target):
    """Keras's Equalization scaling (x * scale + offset), applied even between equal ranges."""
    scale = float(target[1] - target[0]) / float(source[1] - source[0])
    return images * scale + (target[0] - source[0] * scale)

"""What Keras 3's colour and occlusion layers share beyond image_base: a value_range checked and
sorted, images moved between value ranges (the colour layers compute on 0..255), factors whose two
ends are each checked against their bounds, the coin each image tosses to be augmented, and the base
of the layers with one `factor` and a sorted value_range."""
from mlcore import ops
from mlcore.layers.image_base import RandomImageLayer, factor_range


def value_range_pair(layer_name, value_range):
    """value_range as a sorted list, as Keras's colour layers store it."""
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise ValueError("%s: The `value_range` argument should be a list of two numbers. Received: "
                         "value_range=%s" % (layer_name, value_range))
    return sorted(value_range)


def rescale(images, source, target):
    """images mapped linearly from the value range `source` to `target` (Keras's _transform_value_range)."""
    if source[0] == target[0] and source[1] == target[1]:
        return images
    unit = (images - float(source[0])) / float(source[1] - source[0])
    return unit * float(target[1] - target[0]) + float(target[0])


def checked_pair(layer_name, factor, name, number_low=0.0, pair_low=0.0):
    """(lower, upper) of a factor given as a number f in [0, 1], giving (number_low * f, f) (Solarization's
    (0, f), RandomShear's (-f, f)), or as a pair with both ends in [pair_low, 1], sorted."""
    pair = isinstance(factor, (tuple, list))
    numbers = factor if pair else [factor]
    low = pair_low if pair else 0.0
    if (pair and len(factor) != 2
            or any(isinstance(f, bool) or not isinstance(f, (int, float)) or not low <= f <= 1 for f in numbers)):
        raise ValueError("%s: the `%s` argument should be a number (or a list of two numbers) in the range "
                         "[0, 1]. Received: %s=%r" % (layer_name, name, name, factor))
    return tuple(sorted(factor)) if pair else (number_low * factor, factor)


def chosen(layer, batch, probability_range):
    """(batch, 1, 1, 1) booleans: each image augmented with a probability drawn in probability_range
    (Keras draws the probability, then a threshold in [0, 1) below it)."""
    probability = layer.generator.uniform([batch, 1, 1, 1], probability_range[0], probability_range[1],
                                        dtype="float32")
    return ops.less(layer.generator.uniform([batch, 1, 1, 1], 0.0, 1.0, dtype="float32"), probability)


class ColorImageLayer(RandomImageLayer):
    """A colour layer with Keras's `factor` (parsed within FACTOR_BOUNDS) and a sorted value_range."""
    FACTOR_BOUNDS = (-1, 1)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_range(factor, self.FACTOR_BOUNDS, "factor")
        self.value_range = value_range_pair(type(self).__name__, value_range)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}

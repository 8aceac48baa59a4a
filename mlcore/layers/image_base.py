"""What Keras's image preprocessing layers share: images of rank 4 (a batch) or 3 (one image) in either
data format, handed to the layer's transform() as an NHWC batch in the layer's float dtype; and the
`factor` arguments of the augmentation layers, parsed as Keras parses them."""
from mlcore import ops
from mlcore.layers.base import Layer
from mlcore.layers.convolutional import from_nhwc, standardize_data_format, to_nhwc
from mlcore.utils.rng import layer_streams


def factor_range(factor, bounds, name):
    """(lower, upper) from a number f (-|f| and |f|, the lower clipped at bounds[0]) or a pair (sorted);
    out of bounds is an error, as Keras's base image layer checks it."""
    error = ("The `%s` argument should be a number (or a list of two numbers) in the range [%s, %s]. "
             "Received: %s=%r" % (name, bounds[0], bounds[1], name, factor))
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > bounds[1] or factor[1] < bounds[0]:
            raise ValueError(error)
        return tuple(sorted(factor))
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not bounds[0] <= factor <= bounds[1]:
        raise ValueError(error)
    return max(-abs(factor), bounds[0]), abs(factor)


def fraction_range(factor, name, open_below=False):
    """factor_range for fractions of the image size, each number in [-1, 1] ((-1, 1] for a zoom)."""
    numbers = factor if isinstance(factor, (tuple, list)) else [factor]
    if any(isinstance(f, (int, float)) and (f > 1 or f < -1 or (open_below and f == -1)) for f in numbers):
        raise ValueError("The `%s` argument should be a number (or a list of two numbers) in the range %s1.0, "
                         "1.0]. Received: %s=%r" % (name, "(-" if open_below else "[-", name, factor))
    return factor_range(factor, (-1, 1), name)


def check_choice(layer_name, argument, value, choices):
    if value not in choices:
        raise NotImplementedError("%s: unknown `%s` %r. Expected one of %s." % (layer_name, argument, value, choices))


class ImageLayer(Layer):
    """An image preprocessing layer: subclasses implement transform(images, training) on NHWC batches."""
    rowwise = True

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)

    def call(self, inputs, training=True):
        if inputs.ndim not in (3, 4):
            raise ValueError("%s '%s': expected images of rank 3 (one image) or 4 (a batch of images); received "
                             "input shape %s" % (type(self).__name__, self.name, inputs.type.shape))
        images = ops.cast(inputs if inputs.ndim == 4 else ops.expand_dims(inputs, 0), self.compute_dtype)
        outputs = from_nhwc(self.transform(to_nhwc(images, self.data_format), training), self.data_format)
        return outputs if inputs.ndim == 4 else ops.squeeze(outputs, 0)

    def transform(self, images, training):
        raise NotImplementedError

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class RandomImageLayer(ImageLayer):
    """An augmentation layer: augment() in training, drawing from the layer's own SeedGenerator (fresh
    numbers at every call of a compiled step); the images unchanged at inference."""

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.seed = seed
        self.generator = layer_streams(seed)

    def transform(self, images, training):
        return self.augment(images) if training else images

    def augment(self, images):
        raise NotImplementedError

    def per_image(self, images, low, high):
        """One uniform draw in [low, high) for each image of the batch, shaped (batch, 1, 1, 1)."""
        return self.generator.uniform([images.shape[0], 1, 1, 1], low, high, dtype=self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}

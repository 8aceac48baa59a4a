"""What Keras's image preprocessing layers share: images of rank 4 (a batch) or 3 (one image) in either
data format, handed to the layer as an NHWC batch in the layer's float dtype, with the masks and boxes
of the same call; and the `factor` arguments of the augmentation layers, parsed as Keras parses them."""
from mlcore import ops, random
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


class OpsBackend:
    """Keras's `layer.backend` of its preprocessing layers, for code written against it: mlcore's ops under
    Keras's backend names (`backend.numpy.where`, `backend.image.resize`, `backend.shape`, `backend.cast`)
    and mlcore.random as `backend.random`, whose functions the layers' SeedGenerators draw through."""
    random = random

    def __getattr__(self, name):
        return getattr(ops, name)


class ImageLayer(Layer):
    """An image preprocessing layer.  It takes images, or Keras's dict {"images", "labels", "bounding_boxes":
    {"boxes", "labels"}, "segmentation_masks"} (image_inputs.transform_inputs).  One call measures and
    draws once, in get_random_transformation(), what transform_images(), transform_segmentation_masks(),
    transform_bounding_boxes() and transform_labels() then apply, so that each image's masks and boxes
    move with it.  All of them see NHWC batches; by default masks, boxes and labels pass unchanged, as
    through Keras's colour layers."""
    rowwise = True
    # True where one transformation serves the whole batch (crops, resizing): then a batch of images may
    # share one set of (num_boxes, 4) boxes, as Keras's crop and resize layers take them
    batch_wide = False
    backend = OpsBackend()

    def __init__(self, data_format=None, bounding_box_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.bounding_box_format = bounding_box_format

    def __call__(self, inputs, *args, **kwargs):
        from mlcore.layers.image_inputs import dense_inputs
        return super().__call__(dense_inputs(inputs), *args, **kwargs)

    def call(self, inputs, training=True):
        if isinstance(inputs, dict):
            from mlcore.layers.image_inputs import transform_inputs
            return transform_inputs(self, inputs, training)
        return self.restored(self.transform(self.nhwc_batch(inputs), training), inputs)

    def nhwc_batch(self, inputs, key="images", cast=True):
        """inputs (images, or masks: key names them) of rank 4 or 3 (one image) in the layer's data format
        as an NHWC batch, cast to the compute dtype unless told not."""
        if inputs.ndim not in (3, 4):
            raise ValueError("%s '%s': Expected the input %s to be rank 3 or 4 (one image or a batch). Received: "
                             "inputs.shape=%s" % (type(self).__name__, self.name, "image" if key == "images" else key,
                                                  inputs.type.shape))
        batch = inputs if inputs.ndim == 4 else ops.expand_dims(inputs, 0)
        return to_nhwc(ops.cast(batch, self.compute_dtype) if cast else batch, self.data_format)

    def restored(self, outputs, inputs):
        """An NHWC batch back in the data format and rank of `inputs`."""
        outputs = from_nhwc(outputs, self.data_format)
        return outputs if inputs.ndim == 4 else ops.squeeze(outputs, 0)

    def transform(self, images, training):
        """NHWC images through one fresh transformation (a call on images alone)."""
        return self.transform_images(images, self.get_random_transformation(images, training), training)

    def get_random_transformation(self, images, training):
        """What one call draws or measures from its NHWC images, shared by its images, masks and boxes."""
        return None

    def transform_images(self, images, transformation=None, training=True):
        """Layers that share no transformation may define transform(images, training) instead."""
        if type(self).transform is ImageLayer.transform:
            raise NotImplementedError("%s defines neither transform_images() nor transform()" % type(self).__name__)
        return self.transform(images, training)

    def transform_segmentation_masks(self, masks, transformation=None, training=True):
        return masks

    def transform_bounding_boxes(self, bounding_boxes, transformation=None, training=True):
        """bounding_boxes: {"boxes": (batch, n, 4) float32 in bounding_box_format, "labels": (batch, n)}."""
        return bounding_boxes

    def transform_labels(self, labels, transformation=None, training=True):
        return labels

    def get_config(self):
        config = {**super().get_config(), "data_format": self.data_format}
        if self.bounding_box_format is not None:       # Keras lists it only when given
            config["bounding_box_format"] = self.bounding_box_format
        return config


class RandomImageLayer(ImageLayer):
    """An augmentation layer: augment() in training, drawing from the layer's own SeedGenerator (fresh
    numbers at every call of a compiled step); the images unchanged at inference.  Layers that move pixels
    draw in get_random_transformation() instead and override transform_images()."""

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.seed = seed
        self.generator = layer_streams(seed)

    def transform_images(self, images, transformation=None, training=True):
        return self.augment(images) if training else images

    def augment(self, images):
        raise NotImplementedError

    def per_image(self, images, low, high):
        """One uniform draw in [low, high) for each image of the batch, shaped (batch, 1, 1, 1)."""
        return self.generator.uniform([images.shape[0], 1, 1, 1], low, high, dtype=self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}

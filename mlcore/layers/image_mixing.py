"""Keras 3's occlusion and mixing augmentations: RandomErasing (a random box filled), MixUp (each image
blended with another of the batch) and CutMix (a box pasted from another image of the batch).  Boxes are
Keras's: sides a random fraction of the image's, at a uniform position, covering the pixels whose
row/column index falls in [start, start + side)."""
from mlcore import ops, random
from mlcore.layers.image_base import RandomImageLayer, factor_range
from mlcore.layers.image_ranges import chosen


def box_mask(draw, images, ratios):
    """(batch, height, width, 1) booleans: for each image a box whose width and height are the ratios
    (two (batch,) tensors, for x and y) of the image's, at a position drawn with draw(batch).  The image's
    size may be known only when the graph runs."""
    inside = []
    for ratio, axis in ((ratios[0], 2), (ratios[1], 1)):
        size = ops.cast(images.shape[axis], "float32")
        length = ratio * size
        start = ops.reshape(draw(images.shape[0]) * (size - length), (-1, 1, 1, 1))
        grid = ops.arange(images.shape[axis], dtype="float32")
        for other in sorted({0, 1, 2, 3} - {axis}):
            grid = ops.expand_dims(grid, other)
        inside.append(ops.logical_and(ops.greater_equal(grid, start),
                                      ops.less(grid, start + ops.reshape(length, (-1, 1, 1, 1)))))
    return ops.logical_and(*inside)


class RandomErasing(RandomImageLayer):
    """With a probability drawn in factor's range (a number f: [0, f]), each image has a box erased whose
    sides are sqrt(s) of the image's, s drawn in scale's range for each side; the box gets fill_value (a
    number, or one per channel), or Gaussian noise times value_range[1] when fill_value is None, clipped
    to value_range."""

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255), seed=None,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_range(factor, (0, 1), "factor")
        self.scale = factor_range(scale, (0, 1), "scale")
        if fill_value is not None and not (isinstance(fill_value, (int, float)) or
                                           isinstance(fill_value, (tuple, list)) and len(fill_value) == 3):
            raise ValueError("RandomErasing: the `fill_value` argument should be a number (or a list of three "
                             "numbers). Received: fill_value=%r" % (fill_value,))
        self.fill_value = fill_value
        self.value_range = value_range

    def get_random_transformation(self, images, training):
        """Keras's keys: {"batch_masks": each image's box, "fill_value": what fills it, "apply_erasing": per
        image}, so that a transformation written for Keras's transform_images() works here."""
        if not training:
            return None
        batch = images.shape[0]
        sides = ops.sqrt(self.generator.uniform([batch, 2], self.scale[0], self.scale[1], dtype=self.compute_dtype))
        mask = box_mask(lambda n: self.generator.uniform([n], 0.0, 1.0, dtype=self.compute_dtype), images,
                        (sides[:, 0], sides[:, 1]))
        if self.fill_value is None:
            fill = self.generator.normal(images.shape, dtype=self.compute_dtype) * float(self.value_range[1])
        else:
            fill = ops.cast(ops.convert_to_tensor(self.fill_value), self.compute_dtype)
        fill = ops.clip(fill, self.value_range[0], self.value_range[1])
        return {"batch_masks": mask, "fill_value": fill, "apply_erasing": chosen(self, batch, self.factor)}

    def transform_images(self, images, transformation=None, training=True):
        if transformation is None or not training:
            return images
        erased = ops.where(transformation["batch_masks"], ops.cast(transformation["fill_value"], images.dtype), images)
        return ops.where(ops.reshape(transformation["apply_erasing"], (-1, 1, 1, 1)), erased, images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "scale": self.scale, "fill_value": self.fill_value,
                "value_range": self.value_range}


class MixingLayer(RandomImageLayer):
    """A layer that mixes images of a batch, drawing with Keras's random functions (beta draws and
    shuffles) from a SeedGenerator of its own.  In a dict {"images", "labels", ...} the labels are mixed
    with the images' weights, w y + (1 - w) y_partner, as in Keras."""

    def get_random_transformation(self, images, training):
        """Keras's keys: {"mix_weight": each image's own share, "permutation_order": the index of the image
        it mixes with, ...}, so that a transformation written for Keras's transform_images() works here."""
        return self.draw_mixing(images) if training else None

    def transform_images(self, images, transformation=None, training=True):
        return images if transformation is None else self.mix(images, transformation)

    def transform_labels(self, labels, transformation=None, training=True):
        if transformation is None:
            return labels
        labels = ops.cast(labels, self.compute_dtype)
        weights = ops.reshape(transformation["mix_weight"], (-1,) + (1,) * (labels.ndim - 1))
        return weights * labels + (1.0 - weights) * ops.take(labels, transformation["permutation_order"], axis=0)

    def draw_mixing(self, images):
        raise NotImplementedError

    def mix(self, images, mixing):
        raise NotImplementedError

    def partners(self, images):
        """For each image, the index of the image it mixes with: a random permutation of the batch (the
        order of uniform draws, as random.shuffle of arange gives it)."""
        return ops.argsort(random.uniform([images.shape[0]], dtype="float32", seed=self.generator))


class MixUp(MixingLayer):
    """Each image blended with another of the batch (a random permutation): w x + (1 - w) x', w drawn
    from Beta(alpha, alpha) for each image."""

    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.alpha = alpha

    def draw_mixing(self, images):
        weights = random.beta([images.shape[0]], self.alpha, self.alpha, dtype=self.compute_dtype, seed=self.generator)
        return {"mix_weight": weights, "permutation_order": self.partners(images)}

    def mix(self, images, mixing):
        weight = ops.reshape(mixing["mix_weight"], (-1, 1, 1, 1))
        return weight * images + (1.0 - weight) * ops.take(images, mixing["permutation_order"], axis=0)

    def transform_segmentation_masks(self, masks, transformation=None, training=True):
        """Blended as the images are, as Keras blends them."""
        return self.transform_images(ops.cast(masks, self.compute_dtype), transformation, training)

    def transform_bounding_boxes(self, bounding_boxes, transformation=None, training=True):
        """Each image's boxes followed by its partner's, joined on axis 1 as Keras joins them.  The labels
        are joined on their last axis: for unbatched labels (rank 1) that is Keras's axis 0; for batched
        ones it is the boxes' axis, where Keras's axis 0 would break their shape."""
        if transformation is None:
            return bounding_boxes
        partners = transformation["permutation_order"]
        axes = {"boxes": 1, "labels": -1}
        return dict(bounding_boxes, **{key: ops.concatenate([value, ops.take(value, partners, axis=0)], axis=axes[key])
                                       for key, value in bounding_boxes.items() if key in axes})

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class CutMix(MixingLayer):
    """A box of each image replaced by the same box of another image of the batch (a random permutation):
    its sides sqrt(1 - w) of the image's, w drawn from Beta(a, a) for each image with a drawn in factor's
    range (a number f: [0, f]) for the batch; labels are weighed by the share of each image left.  A single
    image (rank 3) passes unchanged."""

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_range(factor, (0, 1), "factor")

    def get_random_transformation(self, images, training):
        return super().get_random_transformation(images, training and images.type.shape[0] != 1)

    def draw_mixing(self, images):
        batch = images.shape[0]
        alpha = random.uniform((), self.factor[0], self.factor[1], dtype=self.compute_dtype, seed=self.generator) + 1e-6
        side = ops.sqrt(1.0 - random.beta([batch], alpha, alpha, dtype=self.compute_dtype, seed=self.generator))
        mask = box_mask(lambda n: random.uniform([n], dtype=self.compute_dtype, seed=self.generator), images,
                        (side, side))
        return {"mix_weight": 1.0 - side * side, "permutation_order": self.partners(images), "batch_masks": mask}

    def mix(self, images, mixing):
        return ops.where(mixing["batch_masks"], ops.take(images, mixing["permutation_order"], axis=0), images)

    def transform_segmentation_masks(self, masks, transformation=None, training=True):
        """The same box pasted from the same partner, as Keras pastes it."""
        return self.transform_images(ops.cast(masks, self.compute_dtype), transformation, training)

    def transform_bounding_boxes(self, bounding_boxes, transformation=None, training=True):
        raise NotImplementedError("CutMix does not support bounding boxes (as in Keras 3.15).")

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}

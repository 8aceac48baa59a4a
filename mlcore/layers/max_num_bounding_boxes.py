"""Keras's MaxNumBoundingBoxes: every image's boxes brought to one count, so that batches of images with
different numbers of boxes stack into dense tensors (a detector's targets need a fixed shape)."""
from mlcore import ops
from mlcore.layers.image_base import ImageLayer


class MaxNumBoundingBoxes(ImageLayer):
    """Each image's boxes and box labels cut to the first max_number, or padded to it with fill_value;
    images, masks and labels pass unchanged."""

    def __init__(self, max_number, fill_value=-1, **kwargs):
        super().__init__(**kwargs)
        self.max_number = int(max_number)
        self.fill_value = int(fill_value)

    def transform_images(self, images, transformation=None, training=True):
        return images

    def transform_bounding_boxes(self, bounding_boxes, transformation=None, training=True):
        def fitted(values):
            """values (batch, n, ...) followed by max_number rows of fill_value, the first max_number kept."""
            padding = ops.full(ops.concatenate([ops.shape(values)[:1], [self.max_number], ops.shape(values)[2:]]),
                               self.fill_value, dtype=values.dtype)
            return ops.concatenate([values, padding], axis=1)[:, :self.max_number]
        return dict(bounding_boxes, boxes=fitted(bounding_boxes["boxes"]), labels=fitted(bounding_boxes["labels"]))

    def get_config(self):
        return {**super().get_config(), "max_number": self.max_number}    # Keras 3.15 leaves fill_value out

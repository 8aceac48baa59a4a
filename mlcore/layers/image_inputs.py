"""Keras's dict inputs of the image preprocessing layers: {"images", "labels", "bounding_boxes": {"boxes",
"labels"}, "segmentation_masks"}, each key optional but "images".  One transformation, drawn from the
images, goes to every key (image_base.ImageLayer), so boxes and masks follow their images.

Boxes come as (batch, n, 4) or, for one image, (n, 4) tensors in the layer's bounding_box_format, with
labels (batch, n) or (n,); ragged Python lists (a different number of boxes per image) are padded, as
Keras densifies ragged boxes, with boxes of zeros labelled -1."""
import numpy as np

from mlcore import ops
from mlcore.layers.image_base import ImageLayer

KEYS = ("images", "labels", "bounding_boxes", "segmentation_masks")


def dense_inputs(data):
    """data with ragged Python lists of boxes padded to numpy arrays (before the layer sees tensors)."""
    if not isinstance(data, dict) or not isinstance(data.get("bounding_boxes"), dict):
        return data
    boxes = data["bounding_boxes"]
    if not isinstance(boxes.get("boxes"), (list, tuple)):
        return data
    return dict(data, bounding_boxes=dict(boxes, **padded_boxes(boxes["boxes"], boxes.get("labels"))))


def padded_boxes(boxes, labels):
    """Lists of boxes (one list per image, or one list for one image) and their labels as arrays."""
    if not isinstance(labels, (list, tuple)) or len(labels) != len(boxes):
        raise ValueError("If `bounding_boxes['boxes']` is a list, `bounding_boxes['labels']` must be a list of "
                         "the same length. Received: bounding_boxes['labels']=%r" % (labels,))
    if not boxes or np.ndim(boxes[0]) == 1:                       # the boxes of one image
        return {"boxes": np.asarray(boxes, "float32").reshape(-1, 4), "labels": np.asarray(labels, "int32")}
    most = max(len(image_boxes) for image_boxes in boxes)
    dense = np.zeros((len(boxes), most, 4), "float32")
    dense_labels = np.full((len(boxes), most), -1, "int32")
    for k, (image_boxes, image_labels) in enumerate(zip(boxes, labels)):
        if len(image_boxes) != len(image_labels):
            raise ValueError("Image %d has %d boxes but %d labels in `bounding_boxes`" % (k, len(image_boxes),
                                                                                        len(image_labels)))
        if len(image_boxes):
            dense[k, :len(image_boxes)] = image_boxes
            dense_labels[k, :len(image_boxes)] = image_labels
    return {"boxes": dense, "labels": dense_labels}


def transform_inputs(layer, data, training):
    """The dict through `layer`: a new dict with the same keys, each transformed with one transformation."""
    unknown = sorted(set(data) - set(KEYS))
    if "images" not in data or unknown:
        raise ValueError("%s '%s' takes a dict with the key 'images' and optionally 'labels', 'bounding_boxes' "
                         "and 'segmentation_masks'. Received keys: %s" % (type(layer).__name__, layer.name,
                                                                          sorted(data)))
    images = layer.nhwc_batch(data["images"])
    transformation = layer.get_random_transformation(images, training)
    batched = data["images"].ndim == 4
    outputs = dict(data, images=layer.restored(layer.transform_images(images, transformation, training),
                                                data["images"]))
    if "segmentation_masks" in data:
        masks = layer.nhwc_batch(data["segmentation_masks"], "segmentation_masks", cast=False)
        masks = layer.transform_segmentation_masks(masks, transformation, training)
        outputs["segmentation_masks"] = layer.restored(masks, data["segmentation_masks"])
    if "labels" in data:
        labels = data["labels"] if batched else ops.expand_dims(data["labels"], 0)
        labels = layer.transform_labels(labels, transformation, training)
        outputs["labels"] = labels if batched else ops.squeeze(labels, 0)
    if "bounding_boxes" in data:
        outputs["bounding_boxes"] = boxes_through(layer, data["bounding_boxes"], transformation, training, batched)
    return outputs


def boxes_through(layer, bounding_boxes, transformation, training, batched):
    if not layer.bounding_box_format:
        raise ValueError("You passed an input with a 'bounding_boxes' key, but you didn't specify a bounding box "
                         "format. Pass a `bounding_box_format` argument to your %s layer, e.g. "
                         "`bounding_box_format='xyxy'`." % type(layer).__name__)
    if not isinstance(bounding_boxes, dict) or "boxes" not in bounding_boxes or "labels" not in bounding_boxes:
        raise ValueError("Expected `bounding_boxes` argument to be a dict with keys 'boxes' and 'labels'. "
                         "Received: bounding_boxes=%r" % (bounding_boxes,))
    boxes, labels = ops.cast(bounding_boxes["boxes"], "float32"), bounding_boxes["labels"]
    if type(layer).transform_bounding_boxes is ImageLayer.transform_bounding_boxes:
        return dict(bounding_boxes, boxes=boxes)    # a layer that leaves boxes be takes any shape, as Keras's
    one_set = not batched or (layer.batch_wide and boxes.ndim == 2)    # one set of boxes for every image
    if boxes.ndim != (2 if one_set else 3) or boxes.type.shape[-1] not in (4, None):   # labels unchecked, as Keras
        raise ValueError("%s '%s': expected bounding_boxes['boxes'] of shape %s for images of rank %d. Received: "
                         "boxes.shape=%s" % (type(layer).__name__, layer.name,
                                             "(batch, num_boxes, 4)" if batched else "(num_boxes, 4)",
                                             4 if batched else 3, boxes.type.shape))
    if one_set:
        boxes, labels = ops.expand_dims(boxes, 0), ops.expand_dims(labels, 0)
    moved = layer.transform_bounding_boxes(dict(bounding_boxes, boxes=boxes, labels=labels), transformation,
                                           training)
    if one_set:
        moved = dict(moved, boxes=ops.squeeze(moved["boxes"], 0), labels=ops.squeeze(moved["labels"], 0))
    return moved

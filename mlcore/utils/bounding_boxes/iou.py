"""How much boxes overlap: compute_iou (intersection over union, every box of one set against every box
of the other) and compute_ciou (Complete IoU of paired boxes: IoU less the centres' distance and the
aspect ratios' mismatch, the quantity the CIoU loss of Zheng et al. 2020 minimises), as Keras's.

Both add Keras's epsilon where Keras adds it, so that empty boxes give 0 rather than nan and the
numbers match Keras's.
"""
import math

from mlcore import config
from mlcore.ops.arrays import expand_dims
from mlcore.ops.core import as_tensor, cast
from mlcore.ops.elementwise import arctan, less, logical_or, maximum, minimum, where
from mlcore.ops.reductions import max as reduce_max
from mlcore.utils.bounding_boxes.formats import convert_format, image_size, unstack_boxes


def _area(boxes):
    """(..., N) areas of boxes (..., N, 4) in yxyx."""
    y1, x1, y2, x2 = unstack_boxes(boxes)
    return (y2 - y1) * (x2 - x1)


def _as_row(values):
    """(..., N) values as (..., 1, N): each box of the second set along the last axis."""
    return expand_dims(values, -2)


def compute_iou(boxes1, boxes2, bounding_box_format, use_masking=False, mask_val=-1, image_shape=None):
    """The IoU of every box of boxes1 (M, 4) or (batch, M, 4) with every box of boxes2 (N, 4) or
    (batch, N, 4): shape (M, N), or (batch, M, N) when either is batched.  With use_masking, pairs in
    which a box has all its coordinates below 0 (Keras's padding boxes, -1) get mask_val instead."""
    ranks = [as_tensor(b).ndim for b in (boxes1, boxes2)]
    for name, rank in zip(("boxes1", "boxes2"), ranks):
        if rank not in (2, 3):
            raise ValueError("compute_iou() expects %s to be batched, or to be unbatched. Received: "
                             "len(boxes1.shape)=%d, len(boxes2.shape)=%d. Expected either len(%s.shape)=2 "
                             "or len(%s.shape)=3." % (name, ranks[0], ranks[1], name, name))
    if "rel" in bounding_box_format and image_shape is None:
        raise ValueError("compute_iou(): when using relative bounding box formats (e.g. `rel_yxyx`) the "
                         "`image_shape` argument must be provided. Received: image_shape=None")
    height, width = image_size(image_shape)
    boxes1, boxes2 = [convert_format(b, bounding_box_format, "yxyx", height, width) for b in (boxes1, boxes2)]
    ya1, xa1, ya2, xa2 = [expand_dims(c, -1) for c in unstack_boxes(boxes1)]      # (..., M, 1)
    yb1, xb1, yb2, xb2 = [_as_row(c) for c in unstack_boxes(boxes2)]              # (..., 1, N)
    zero = cast(0, boxes1.dtype)
    intersection = (maximum(zero, minimum(ya2, yb2) - maximum(ya1, yb1))
                    * maximum(zero, minimum(xa2, xb2) - maximum(xa1, xb1)))
    union = expand_dims(_area(boxes1), -1) + _as_row(_area(boxes2)) - intersection
    iou = intersection / (union + config.epsilon())
    if not use_masking:
        return iou
    padding1 = less(reduce_max(boxes1, axis=-1, keepdims=True), 0.0)               # (..., M, 1)
    padding2 = _as_row(less(reduce_max(boxes2, axis=-1), 0.0))                    # (..., 1, N)
    return where(logical_or(padding1, padding2), cast(mask_val, iou.dtype), iou)


def compute_ciou(boxes1, boxes2, bounding_box_format, image_shape=None):
    """The Complete IoU of each box of boxes1 (..., 4) with the box of boxes2 (..., 4) at the same place
    (the two broadcast against each other): shape (...).  Relative formats are refused, as Keras refuses
    them: convert the boxes to an absolute format first."""
    if "rel" in bounding_box_format:
        raise ValueError("compute_ciou() does not support relative bounding box formats (e.g. `rel_yxyx`): "
                         "convert the boxes to an absolute format first. Received: bounding_box_format=%r, "
                         "image_shape=%r" % (bounding_box_format, image_shape))
    eps = config.epsilon()
    height, width = image_size(image_shape)
    boxes1, boxes2 = [convert_format(b, bounding_box_format, "xyxy", height, width) for b in (boxes1, boxes2)]
    xa1, ya1, xa2, ya2 = unstack_boxes(boxes1)
    xb1, yb1, xb2, yb2 = unstack_boxes(boxes2)
    width1, height1 = xa2 - xa1, ya2 - ya1 + eps
    width2, height2 = xb2 - xb1, yb2 - yb1 + eps
    intersection = (maximum(minimum(xa2, xb2) - maximum(xa1, xb1), 0)
                    * maximum(minimum(ya2, yb2) - maximum(ya1, yb1), 0))
    union = width1 * height1 + width2 * height2 - intersection + eps
    iou = intersection / (union + eps)
    hull_diagonal = ((maximum(xa2, xb2) - minimum(xa1, xb1)) ** 2
                     + (maximum(ya2, yb2) - minimum(ya1, yb1)) ** 2 + eps)
    centres_distance = ((xa1 + xa2) / 2 - (xb1 + xb2) / 2) ** 2 + ((ya1 + ya2) / 2 - (yb1 + yb2) / 2) ** 2
    aspect_mismatch = (4 / math.pi ** 2) * (arctan(width2 / height2) - arctan(width1 / height1)) ** 2
    alpha = aspect_mismatch / (aspect_mismatch - iou + (1 + eps))
    return iou - (centres_distance / hull_diagonal + aspect_mismatch * alpha)

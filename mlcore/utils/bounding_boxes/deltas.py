"""Boxes as deltas to anchors, the regression targets of anchor-based detectors (Faster R-CNN, SSD,
RetinaNet): encode_box_to_deltas and its inverse decode_deltas_to_boxes, as Keras's.

In the encoding format (center_yxhw or center_xywh) a box's centre is stored as its offset from the
anchor's centre in units of the anchor's size, and its size as the log of its ratio to the anchor's;
variance, when given, divides the deltas (multiplies them back when decoding).
"""
from mlcore import config
from mlcore.ops.arrays import concatenate
from mlcore.ops.core import as_tensor
from mlcore.ops.elementwise import exp, log, maximum
from mlcore.utils.bounding_boxes.formats import convert_format, image_size

ENCODINGS = ("center_xywh", "center_yxhw")


def _checked(variance, encoding, argument):
    if encoding not in ENCODINGS:
        raise ValueError("`%s` should be one of 'center_xywh' or 'center_yxhw'. Received: %s=%r"
                         % (argument, argument, encoding))
    if variance is None:
        return None
    variance = as_tensor(variance)
    if variance.ndim == 0 or variance.type.shape[-1] != 4:
        raise ValueError("`variance` must be length 4. Received: variance=%r" % (variance,))
    return variance


def encode_box_to_deltas(anchors, boxes, anchor_format, box_format, encoding_format="center_yxhw",
                         variance=None, image_shape=None):
    """The deltas (..., 4) that take anchors (N, 4) to boxes (N, 4) or (batch, N, 4), in encoding_format's
    order; image_shape (height, width, channels) serves the relative formats."""
    variance = _checked(variance, encoding_format, "encoding_format")
    height, width = image_size(image_shape)
    anchors = convert_format(anchors, anchor_format, encoding_format, height, width)
    boxes = convert_format(boxes, box_format, encoding_format, height, width)
    anchor_size = maximum(anchors[..., 2:], config.epsilon())
    box_size = maximum(boxes[..., 2:], config.epsilon())
    deltas = concatenate([(boxes[..., :2] - anchors[..., :2]) / anchor_size, log(box_size / anchor_size)], axis=-1)
    return deltas if variance is None else deltas / variance


def decode_deltas_to_boxes(anchors, boxes_delta, anchor_format, box_format, encoded_format="center_yxhw",
                           variance=None, image_shape=None):
    """The boxes, in box_format, that deltas (N, 4) or (batch, N, 4) encode against anchors (N, 4).
    anchors and boxes_delta may also be dicts of such tensors, one per feature-pyramid level, which
    give a dict of boxes with the same keys."""
    variance = _checked(variance, encoded_format, "encoded_format")
    height, width = image_size(image_shape)

    def decode(anchor, delta):
        anchor = convert_format(anchor, anchor_format, encoded_format, height, width)
        delta = as_tensor(delta) if variance is None else as_tensor(delta) * variance
        box = concatenate([delta[..., :2] * anchor[..., 2:] + anchor[..., :2], exp(delta[..., 2:]) * anchor[..., 2:]],
                          axis=-1)
        return convert_format(box, encoded_format, box_format, height, width)

    if isinstance(anchors, dict) and isinstance(boxes_delta, dict):
        return {level: decode(anchor, boxes_delta[level]) for level, anchor in anchors.items()}
    return decode(anchors, boxes_delta)

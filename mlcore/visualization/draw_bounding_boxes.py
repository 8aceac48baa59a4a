"""keras.visualization.draw_bounding_boxes: boxes, and their class names, drawn onto a batch of images.

What is drawn is what Keras draws with OpenCV (see mlcore.visualization.rasterize): each box whose
label is not -1 (Keras's padding) as an outline of line_thickness in `color`, and, when its label is in
class_mapping, the class name (with " | 0.87" for a confidence) above the box, or inside it when the
box touches the top of the image.
"""
import numpy as np

from mlcore.ops.core import convert_to_numpy
from mlcore.utils.bounding_boxes import convert_format
from mlcore.visualization.images import batch_as_numpy, channels_last, checked_data_format
from mlcore.visualization.rasterize import paint, rectangle_mask, text_mask


def as_uint8(images):
    """images as uint8, as Keras draws on them: floats no larger than 1 are taken as 0..1 and scaled
    to 0..255, other floats are clipped to 0..255."""
    if images.dtype.kind == "f" and images.size > 0:
        images = np.clip(images, 0, 1) * 255 if images.max() <= 1.0 else np.clip(images, 0, 255)
    return images.astype("uint8")


def text_origin(x, y, font_scale, thickness):
    """Where a box's label starts (left end of its baseline): 8 pixels above the box's top-left corner,
    or, when two lines of text would not fit above it, just inside the box."""
    font_height = int(font_scale * 12)
    if y - 8 - 2 * font_height > 0:
        return x, y - 8
    return x + 3, y + 2 * font_height + thickness + 3


def draw_bounding_boxes(images, bounding_boxes, bounding_box_format, class_mapping=None, color=(128, 128, 128),
                        line_thickness=2, text_thickness=1, font_scale=1.0, data_format=None):
    """A uint8 numpy copy of images (batch, height, width, channels) with bounding_boxes
    {"boxes": (batch, N, 4), "labels": (batch, N), optional "confidences": (batch, N)} drawn on it."""
    class_mapping = class_mapping or {}
    text_thickness = text_thickness or line_thickness
    data_format = checked_data_format(data_format)
    images = batch_as_numpy(images, "draw_bounding_boxes()")
    if not isinstance(bounding_boxes, dict):
        raise TypeError("`bounding_boxes` should be a dict. Received: bounding_boxes=%r of type %s"
                        % (bounding_boxes, type(bounding_boxes)))
    if "boxes" not in bounding_boxes or "labels" not in bounding_boxes:
        raise ValueError("`bounding_boxes` should be a dict containing 'boxes' and 'labels' keys. "
                         "Received: bounding_boxes=%r" % (bounding_boxes,))
    images = as_uint8(channels_last(images, data_format))
    height, width = images.shape[1:3]
    boxes = convert_to_numpy(convert_format(bounding_boxes["boxes"], bounding_box_format, "xyxy", height, width))
    labels = convert_to_numpy(bounding_boxes["labels"]).astype("int32")
    confidences = bounding_boxes.get("confidences")
    confidences = None if confidences is None else convert_to_numpy(confidences)
    for i, image in enumerate(images):
        for j, (x1, y1, x2, y2) in enumerate(boxes[i].astype("int32").tolist()):
            label = int(labels[i][j])
            if label == -1:
                continue
            paint(image, rectangle_mask(height, width, x1, y1, x2, y2, line_thickness), color)
            if label in class_mapping:
                text = class_mapping[label]
                if confidences is not None:
                    text = "%s | %.2f" % (text, confidences[i][j])
                origin = text_origin(x1, y1, font_scale, text_thickness)
                paint(image, text_mask(height, width, text, origin, font_scale, text_thickness), color)
    return np.transpose(images, (0, 3, 1, 2)) if data_format == "channels_first" else images

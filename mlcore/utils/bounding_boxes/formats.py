"""Bounding-box formats and convert_format, as keras.utils.bounding_boxes.convert_format.

Every conversion goes through corners (x1, y1, x2, y2): a source format is read into the four corner
coordinates and the target format is written from them, so nine formats need eighteen short rules
rather than eighty-one.  The arithmetic is Keras's (a centre is x1 + (x2 - x1) / 2, a relative corner
is scaled after the absolute rule), so the numbers are Keras's up to float32 rounding.
"""
from mlcore.ops.arrays import stack
from mlcore.ops.core import as_tensor, cast

SUPPORTED_FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw",
                     "rel_xyxy", "rel_yxyx", "rel_xywh", "rel_center_xywh")


def _to_corners(a, b, c, d, source):
    """(x1, y1, x2, y2) from the four coordinates of an absolute format."""
    if source == "xyxy":
        return a, b, c, d
    if source == "yxyx":
        return b, a, d, c
    if source == "xywh":
        return a, b, a + c, b + d
    if source == "center_xywh":
        return a - c / 2.0, b - d / 2.0, a + c / 2.0, b + d / 2.0
    return b - d / 2.0, a - c / 2.0, b + d / 2.0, a + c / 2.0    # center_yxhw: (cy, cx, h, w)


def _from_corners(x1, y1, x2, y2, target):
    """The four coordinates of an absolute format from the corners."""
    if target == "xyxy":
        return x1, y1, x2, y2
    if target == "yxyx":
        return y1, x1, y2, x2
    if target == "xywh":
        return x1, y1, x2 - x1, y2 - y1
    cx, cy, w, h = x1 + (x2 - x1) / 2.0, y1 + (y2 - y1) / 2.0, x2 - x1, y2 - y1
    return (cx, cy, w, h) if target == "center_xywh" else (cy, cx, h, w)


def unstack_boxes(boxes):
    """The four coordinates of boxes (..., 4) as four tensors (...)."""
    return [boxes[..., i] for i in range(4)]


def image_size(image_shape):
    """(height, width) from an image shape (height, width, channels), or (None, None)."""
    if image_shape is None:
        return None, None
    height, width, _ = image_shape
    return height, width


def checked_boxes(boxes, function):
    """boxes as a tensor whose last axis has 4 coordinates (where the graph knows its size)."""
    boxes = as_tensor(boxes)
    if boxes.ndim == 0 or boxes.type.shape[-1] not in (4, None):
        raise ValueError("%s: `boxes` must be a tensor with the last dimension of 4. Received: boxes.shape=%s"
                         % (function, boxes.type.shape))
    return boxes


def checked_format(name, argument):
    """name lower-cased, when it is one of SUPPORTED_FORMATS."""
    if not isinstance(name, str) or name.lower() not in SUPPORTED_FORMATS:
        raise ValueError("Invalid %s format %r. Supported formats: %s" % (argument, name, SUPPORTED_FORMATS))
    return name.lower()


def convert_format(boxes, source, target, height=None, width=None, dtype="float32"):
    """boxes (..., 4) converted from format `source` to `target` and cast to dtype.  A dict
    {"boxes", "labels", ...} comes back as a new dict with its "boxes" converted.  The relative
    ("rel_*") formats are fractions of the image's height and width, which are then required."""
    if isinstance(boxes, dict):
        converted = dict(boxes)
        converted["boxes"] = convert_format(boxes["boxes"], source, target, height, width, dtype)
        return converted
    boxes = checked_boxes(boxes, "convert_format()")
    source = checked_format(source, "source")
    target = checked_format(target, "target")
    relative = source.startswith("rel_") or target.startswith("rel_")
    if relative and (height is None or width is None):
        raise ValueError("convert_format() must receive `height` and `width` when converting between relative "
                         "and absolute formats. Received: source=%r, target=%r, height=%r, width=%r"
                         % (source, target, height, width))
    boxes = cast(boxes, dtype)
    if source == target:
        return boxes
    if source.startswith("rel_") and target.startswith("rel_"):      # both relative: no scaling at all
        source, target = source[4:], target[4:]
    x1, y1, x2, y2 = _to_corners(*unstack_boxes(boxes), source.replace("rel_", ""))
    if source.startswith("rel_"):
        width, height = cast(width, dtype), cast(height, dtype)
        x1, y1, x2, y2 = x1 * width, y1 * height, x2 * width, y2 * height
    coordinates = _from_corners(x1, y1, x2, y2, target.replace("rel_", ""))
    if target.startswith("rel_"):                       # each coordinate over its axis's size
        sizes = {"x": cast(width, dtype), "y": cast(height, dtype)}
        axes = "yxyx" if target == "rel_yxyx" else "xyxy"
        coordinates = [c / sizes[axis] for c, axis in zip(coordinates, axes)]
    return stack(coordinates, axis=-1)

"""Boxes following their image: clipped to its size, cropped, padded, or moved by an affine transform,
as keras.utils.bounding_boxes' clip_to_image_size, crop, pad and affine_transform.

Keras marks a box that has vanished (zero area after clipping) with the label -1, the same label its
padded, dense batches give to empty slots; clip_to_image_size does the same.  crop, pad and
affine_transform take boxes in "xyxy" only, as Keras's do.
"""
import functools
import math

from mlcore.ops.arrays import stack
from mlcore.ops.core import as_float, as_tensor, cast
from mlcore.ops.elementwise import clip, cos, maximum, minimum, sin, tan, where
from mlcore.utils.bounding_boxes.formats import checked_boxes, unstack_boxes


def _require_xyxy(function, bounding_box_format):
    if bounding_box_format != "xyxy":
        raise NotImplementedError("%s supports bounding_box_format='xyxy' only. Received: bounding_box_format=%r"
                                  % (function, bounding_box_format))


def clip_to_image_size(bounding_boxes, height=None, width=None, bounding_box_format="xyxy"):
    """bounding_boxes {"boxes": (..., N, 4), "labels": (..., N)} with each box clipped to the image
    ([0, width] x [0, height] in "xyxy", [0, 1] x [0, 1] in "rel_xyxy"); a box left with no area gets
    the label -1.  Returns a new dict."""
    if bounding_box_format not in ("xyxy", "rel_xyxy"):
        raise NotImplementedError("clip_to_image_size() supports bounding_box_format 'xyxy' and 'rel_xyxy' "
                                  "only. Received: bounding_box_format=%r" % (bounding_box_format,))
    if not isinstance(bounding_boxes, dict) or "boxes" not in bounding_boxes:
        raise ValueError("clip_to_image_size() expects `bounding_boxes` to be a dict with the key 'boxes' "
                         "(and optionally 'labels'). Received: bounding_boxes=%r" % (bounding_boxes,))
    if bounding_box_format == "xyxy" and (height is None or width is None):
        raise ValueError("clip_to_image_size(): `height` and `width` must be set if `format='xyxy'`.")
    boxes = checked_boxes(bounding_boxes["boxes"], "clip_to_image_size()")
    if bounding_box_format == "xyxy":
        width, height = cast(width, boxes.dtype), cast(height, boxes.dtype)
    else:
        width = height = 1.0
    x1, y1, x2, y2 = unstack_boxes(boxes)
    x1, x2 = clip(x1, 0, width), clip(x2, 0, width)
    y1, y2 = clip(y1, 0, height), clip(y2, 0, height)
    result = dict(bounding_boxes)
    result["boxes"] = stack([x1, y1, x2, y2], axis=-1)
    if bounding_boxes.get("labels") is not None:
        result["labels"] = where((x2 - x1) * (y2 - y1) > 0, bounding_boxes["labels"], -1)
    return result


def crop(boxes, top, left, height, width, bounding_box_format="xyxy"):
    """boxes in the coordinates of the crop whose top-left corner is (left, top), clipped to its
    [0, width] x [0, height] (no upper bound where height or width is None)."""
    _require_xyxy("crop()", bounding_box_format)
    x1, y1, x2, y2 = unstack_boxes(checked_boxes(boxes, "crop()"))
    xs = [_clip_above_zero(x - left, width) for x in (x1, x2)]
    ys = [_clip_above_zero(y - top, height) for y in (y1, y2)]
    return stack([xs[0], ys[0], xs[1], ys[1]], axis=-1)


def _clip_above_zero(x, upper):
    x = maximum(x, 0)
    return x if upper is None else minimum(x, upper)


def pad(boxes, top, left, height=None, width=None, bounding_box_format="xyxy"):
    """boxes in the coordinates of the image padded by `top` rows and `left` columns (height and width,
    the padded size, are accepted as Keras accepts them; the boxes do not need them)."""
    _require_xyxy("pad()", bounding_box_format)
    x1, y1, x2, y2 = unstack_boxes(checked_boxes(boxes, "pad()"))
    return stack([x1 + left, y1 + top, x2 + left, y2 + top], axis=-1)


def _inverse_affine(angle, translate_x, translate_y, scale, shear_x, shear_y, height, width, center_x,
                    center_y):
    """The six coefficients (a0, a1, a2, b0, b1, b2) mapping a pixel (x, y) of the source image to
    (a0 x + a1 y + a2, b0 x + b1 y + b2) in the transformed one: the inverse of the matrix with which
    Keras's RandomAffine-style layers sample (as TF's _get_inverse_affine_matrix), angles in degrees,
    translations and centre in fractions of (size - 1)."""
    degree = 1.0 / 180.0 * math.pi
    rot, sx, sy = -angle * degree, -shear_x * degree, -shear_y * degree
    cx, cy = center_x * (width - 1), center_y * (height - 1)
    cx_plus_tx, cy_plus_ty = cx - translate_x * (width - 1), cy - translate_y * (height - 1)
    cos_sy, tan_sx = cos(sy), tan(sx)
    a = cos(rot - sy) / cos_sy
    b = a * tan_sx + sin(rot)
    c = -sin(rot - sy) / cos_sy
    d = cos(rot) - c * tan_sx
    a0, a1, b0, b1 = d * scale, -b * scale, -c * scale, a * scale
    return a0, a1, cx - a0 * cx_plus_tx - a1 * cy_plus_ty, b0, b1, cy - b0 * cx_plus_tx - b1 * cy_plus_ty


def affine_transform(boxes, angle, translate_x, translate_y, scale, shear_x, shear_y, height, width,
                     center_x=None, center_y=None, bounding_box_format="xyxy"):
    """boxes (batch, N, 4) moved as their images are by an affine transform (rotation `angle` and
    shears in degrees, translations and centre in fractions of the image; one value per image, shape
    (batch,)): each box becomes the smallest box around its four transformed corners."""
    _require_xyxy("affine_transform()", bounding_box_format)
    angle = as_float(angle)
    boxes = checked_boxes(boxes, "affine_transform()")
    if boxes.ndim != 3:
        raise ValueError("affine_transform() expects batched boxes of shape (batch_size, num_boxes, 4). "
                         "Received: boxes.shape=%s" % (boxes.type.shape,))
    centers = [0.5 if v is None else v for v in (center_x, center_y)]
    per_image = [_per_image(v) for v in (angle, translate_x, translate_y, scale, shear_x, shear_y, *centers)]
    a0, a1, a2, b0, b1, b2 = _inverse_affine(*per_image[:6], height, width, *per_image[6:])
    return around_moved_corners(cast(boxes, angle.dtype), lambda x, y: (a0 * x + a1 * y + a2, b0 * x + b1 * y + b2))


def around_moved_corners(boxes, move):
    """The smallest xyxy boxes around the four corners of xyxy boxes, each corner (x, y) moved to
    move(x, y) = (x', y'): how a box follows a warp that does not keep its sides straight up."""
    x1, y1, x2, y2 = unstack_boxes(boxes)
    xs, ys = zip(*[move(x, y) for x, y in ((x1, y1), (x2, y1), (x2, y2), (x1, y2))])
    lowest, highest = functools.partial(functools.reduce, minimum), functools.partial(functools.reduce, maximum)
    return stack([lowest(xs), lowest(ys), highest(xs), highest(ys)], axis=-1)


def _per_image(value):
    """A parameter given per image, shape (batch,), as (batch, 1) to broadcast over the boxes; a scalar
    (a number, or a tensor of rank 0) as it is."""
    if isinstance(value, (int, float)):
        return value
    value = as_tensor(value)
    return value[:, None] if value.ndim == 1 else value

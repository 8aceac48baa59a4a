"""How the geometric image layers move bounding boxes, as Keras's do: the boxes are read in the layer's
bounding_box_format as pixel corners (x1, y1, x2, y2), moved with their image, clipped to the output
image (a box left without area gets the label -1, the label of padding) and written back in the format."""
from mlcore import ops
# modules, not their functions: mlcore.ops imports the layers, so these may still be loading (a cycle)
from mlcore.utils.bounding_boxes import formats, geometry


def corners(boxes):
    """The four corner coordinates of (batch, n, 4) xyxy boxes, each (batch, n)."""
    return [boxes[..., k] for k in range(4)]


def from_corners(x1, y1, x2, y2):
    return ops.stack([x1, y1, x2, y2], axis=-1)


def image_size(transformation):
    """(height, width) of the images a transformation was drawn for, from its "input_shape" (Keras's key):
    the shape of the NHWC batch, or of one image (height, width, channels) as Keras's tests give it."""
    shape = transformation["input_shape"]
    return shape[-3], shape[-2]


def per_box(draw, boxes):
    """A per-image draw shaped (batch, 1, 1) or (batch, 1, 1, 1) as (batch, 1) to broadcast over a batch of
    boxes, or as (1,) over the (n, 4) boxes of one image."""
    return ops.reshape(draw, (-1,) + (1,) * (boxes.ndim - 2))


def moved_boxes(layer, bounding_boxes, size, move, new_size=None):
    """bounding_boxes {"boxes", "labels"} on an image of `size` (height, width) moved by move (xyxy boxes
    to xyxy boxes on the output image of new_size, `size` by default), clipped to it."""
    height, width = size
    new_height, new_width = new_size or size
    boxes = formats.convert_format(bounding_boxes["boxes"], layer.bounding_box_format, "xyxy", height=height, width=width)
    clipped = geometry.clip_to_image_size(dict(bounding_boxes, boxes=move(boxes)), height=new_height, width=new_width,
                                 bounding_box_format="xyxy")
    return dict(clipped, boxes=formats.convert_format(clipped["boxes"], "xyxy", layer.bounding_box_format, height=new_height,
                                              width=new_width))


def scaled_boxes(boxes, x_scale, y_scale, x_shift=0.0, y_shift=0.0):
    """xyxy boxes stretched by the scales, then shifted: x x_scale + x_shift, y y_scale + y_shift."""
    x1, y1, x2, y2 = corners(boxes)
    return from_corners(x1 * x_scale + x_shift, y1 * y_scale + y_shift, x2 * x_scale + x_shift, y2 * y_scale + y_shift)

"""Drawing on numpy images without OpenCV: rectangles with the pixels cv2.rectangle sets, and text.

cv2.rectangle(image, pt1, pt2, color, thickness) draws each side as a band reaching ceil(t / 2) pixels
either side of the line (a 1-pixel line for t <= 1, the whole box for t < 0) and rounds each corner
with a disc of that radius; rectangle_mask reproduces those pixels, so mlcore's boxes match Keras's
pixel for pixel.  Text goes through Pillow's default font, not aliased, at the size of OpenCV's
FONT_HERSHEY_SIMPLEX (whose glyphs are not available here), placed as cv2.putText places it: the origin
is the left end of the baseline.
"""
import numpy as np
from PIL import Image, ImageDraw, ImageFont

HERSHEY_SIMPLEX_SIZE = 29    # Pillow's font size whose text is as wide and as tall as Hershey Simplex at scale 1


def rectangle_mask(height, width, x1, y1, x2, y2, thickness):
    """(height, width) booleans: the pixels of the outline with corners (x1, y1) and (x2, y2)."""
    ys, xs = np.arange(height)[:, None], np.arange(width)[None, :]
    across_x = (xs >= min(x1, x2)) & (xs <= max(x1, x2))
    across_y = (ys >= min(y1, y2)) & (ys <= max(y1, y2))
    if thickness < 0:
        return across_x & across_y
    reach = 0 if thickness <= 1 else (thickness + 1) // 2
    mask = across_x & ((np.abs(ys - y1) <= reach) | (np.abs(ys - y2) <= reach))
    mask |= across_y & ((np.abs(xs - x1) <= reach) | (np.abs(xs - x2) <= reach))
    for cx, cy in ((x1, y1), (x2, y1), (x2, y2), (x1, y2)):
        mask |= (xs - cx) ** 2 + (ys - cy) ** 2 <= reach ** 2
    return mask


def text_mask(height, width, text, origin, font_scale, thickness):
    """(height, width) booleans: the pixels of text whose baseline starts at origin (x, y)."""
    canvas = Image.new("L", (width, height))
    draw = ImageDraw.Draw(canvas)
    draw.fontmode = "1"                              # no anti-aliasing, as cv2's default LINE_8
    font = ImageFont.load_default(size=max(1, round(HERSHEY_SIMPLEX_SIZE * font_scale)))
    draw.text(origin, text, fill=255, font=font, anchor="ls", stroke_width=max(0, thickness - 1) // 2,
              stroke_fill=255)
    return np.asarray(canvas) > 0


def paint(image, mask, color):
    """Set image's (height, width, channels) pixels under mask to color, in place; channels color lacks
    are 0 and extra values are dropped, as OpenCV fills a Scalar."""
    channels = image.shape[-1]
    values = np.zeros(channels)
    values[:min(channels, len(color))] = list(color)[:channels]
    image[mask] = values.astype(image.dtype)

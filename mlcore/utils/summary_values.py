"""Summary.Value messages (tensorflow/core/framework/summary.proto), encoded by hand.

Each function returns one encoded Value for EventFileWriter.add_summary: a scalar as simple_value,
a histogram as a HistogramProto over TensorFlow's default buckets, an image as a PNG, or a string
tensor with a plugin's metadata.  These are the forms every TensorBoard reads as they are; TensorFlow 2
writes scalars, histograms and images as tensors instead, which TensorBoard converts them to on load.
"""
import functools
import io
import sys

import numpy as np
from PIL import Image

from mlcore.utils.protobuf_wire import bytes_field, double_field, float_field, int_field, packed_doubles_field

DT_STRING = 7            # tensorflow.DataType


def scalar(tag, value):
    """A Value with tag (1) and simple_value (2, float32)."""
    return bytes_field(1, tag) + float_field(2, float(value))


@functools.cache
def default_bucket_limits():
    """TensorFlow's histogram buckets (tensorflow/core/lib/histogram/histogram.cc): right edges growing
    by 10% from 1e-12 to 1e20 on each side of 0, with +-DBL_MAX at the ends.  A bucket holds the
    values from the limit before it (included) to its own limit (excluded)."""
    positive = []
    limit = 1.0e-12
    while limit < 1.0e20:
        positive.append(limit)
        limit *= 1.1
    positive.append(sys.float_info.max)
    return np.array([-x for x in reversed(positive)] + [0.0] + positive)


def histogram(tag, values):
    """A Value with tag (1) and histo (5): a HistogramProto with min (1), max (2), num (3), sum (4),
    sum_squares (5) and the buckets' right edges (6) and counts (7).  As TensorFlow encodes it, each
    run of empty buckets is written as one bucket, ending where the run ends."""
    values = np.asarray(values, np.float64).ravel()
    limits = default_bucket_limits()
    index = np.minimum(np.searchsorted(limits, values, side="right"), len(limits) - 1)
    counts = np.bincount(index, minlength=len(limits))
    kept = (counts > 0) | np.append(counts[1:] > 0, True)     # non-empty, or the last of an empty run
    empty = values.size == 0            # TensorFlow's empty histogram: min DBL_MAX, max -DBL_MAX
    histo = b"".join([
        double_field(1, sys.float_info.max if empty else values.min()),
        double_field(2, -sys.float_info.max if empty else values.max()),
        double_field(3, values.size),
        double_field(4, values.sum()),
        double_field(5, np.dot(values, values)),
        packed_doubles_field(6, limits[kept]),
        packed_doubles_field(7, counts[kept].astype(np.float64)),
    ])
    return bytes_field(1, tag) + bytes_field(5, histo)


def to_uint8(images):
    """Float pixels in [0, 1] to bytes, as tf.summary.image converts them (tf.image.convert_image_dtype
    with saturate=True): scaled by 255.5 in their own precision, clipped to [0, 255], truncated."""
    images = np.asarray(images)
    return np.clip(images * images.dtype.type(255.5), 0, 255).astype(np.uint8)


def images(tag, batch, max_outputs=3):
    """Values with tag (1) and image (4) for the first max_outputs images of a (n, height, width,
    channels) batch, channels 1, 3 or 4: one tagged `tag`, several `tag/0`, `tag/1`, ... (a
    Summary.Image holds a single picture).  The Image has height (1), width (2), colorspace (3) and
    the PNG bytes (4)."""
    batch = to_uint8(batch)
    n, height, width, channels = batch.shape
    if channels not in (1, 3, 4):      # grey, RGB, RGBA: Summary.Image.colorspace is the channel count
        raise ValueError("An image summary needs 1, 3 or 4 channels; %r has shape %s" % (tag, batch.shape))
    values = []
    for i, pixels in enumerate(batch[:max_outputs]):
        png = io.BytesIO()
        Image.fromarray(pixels[..., 0] if channels == 1 else pixels).save(png, "PNG")
        image = int_field(1, height) + int_field(2, width) + int_field(3, channels) + bytes_field(4, png.getvalue())
        values.append(bytes_field(1, tag if n == 1 else "%s/%d" % (tag, i)) + bytes_field(4, image))
    return values


def string_tensor(tag, text, plugin_name, plugin_content=b""):
    """A Value with tag (1), a scalar DT_STRING tensor (8) holding text, and metadata (9) naming the
    TensorBoard plugin that reads it (SummaryMetadata.plugin_data: plugin_name (1), content (2))."""
    plugin_data = bytes_field(1, plugin_name) + bytes_field(2, plugin_content)
    tensor = int_field(1, DT_STRING) + bytes_field(2, b"") + bytes_field(8, text)   # shape (2): [], a scalar
    return bytes_field(1, tag) + bytes_field(8, tensor) + bytes_field(9, bytes_field(1, plugin_data))

"""What the drawing and plotting functions share: images checked to be a batch and brought to numpy
with their channels last, where the drawing code expects them."""
import numpy as np

from mlcore import config
from mlcore.ops.core import convert_to_numpy


def checked_data_format(data_format):
    data_format = data_format or config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("`data_format` must be 'channels_last' or 'channels_first'. Received: data_format=%r"
                         % (data_format,))
    return data_format


def batch_as_numpy(images, function):
    """images (a tensor, an array or nested lists) as a numpy array of rank 4."""
    images = convert_to_numpy(images)
    if images.ndim != 4:
        raise ValueError("%s: `images` must be batched 4D tensor. Received: images.shape=%s"
                         % (function, images.shape))
    return images


def channels_last(images, data_format):
    """images (batch, ...) with their channels moved last, when data_format puts them first."""
    return np.transpose(images, (0, 2, 3, 1)) if data_format == "channels_first" else images

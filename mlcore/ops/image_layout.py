"""Where keras.ops.image finds pixels: images of rank 3 (one image) or 4 (a batch), channels last or
first, handed to the image ops as an NHWC batch, and their results put back in the caller's layout."""
from mlcore import config
from mlcore.ops.arrays import expand_dims, squeeze, transpose
from mlcore.ops.core import as_tensor


def standardize_data_format(data_format):
    """channels_last / channels_first; None is the configured image_data_format."""
    data_format = config.image_data_format() if data_format is None else str(data_format).lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
                         "Received: data_format=%r" % (data_format,))
    return data_format


def as_batch(name, images, data_format):
    """(images as an NHWC batch, a function that gives a result of that batch the images' own layout)."""
    images = as_tensor(images)
    if images.ndim not in (3, 4):
        raise ValueError("%s: invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
                         "Received input with shape: images.shape=%s" % (name, images.type.shape))
    channels_first = standardize_data_format(data_format) == "channels_first"
    batch = images if images.ndim == 4 else expand_dims(images, 0)
    batch = transpose(batch, (0, 2, 3, 1)) if channels_first else batch

    def back(result):
        result = transpose(result, (0, 3, 1, 2)) if channels_first else result
        return result if images.ndim == 4 else squeeze(result, 0)
    return batch, back


def spatial_size(name, batch):
    """(height, width) of an NHWC batch, which must be known."""
    size = tuple(batch.type.shape[1:3])
    if None in size:
        raise ValueError("%s: the images' height and width must be known; received NHWC shape %s"
                         % (name, batch.type.shape))
    return size

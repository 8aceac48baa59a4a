"""keras.ops.image.ssim: the structural similarity of two images (Wang, Bovik, Sheikh and Simoncelli, 2004),
as Keras computes it: local means, variances and covariance under a Gaussian window (valid positions only),
combined into the SSIM map, averaged over each channel's map and then over the channels."""
import numpy as np

from mlcore import config
from mlcore.ops.arrays import reshape, squeeze, transpose
from mlcore.ops.core import as_tensor, cast, shape
from mlcore.ops.image_filters import gaussian_kernel
from mlcore.ops.image_layout import as_batch
from mlcore.ops.nn import conv
from mlcore.ops.reductions import mean


def _checked_rank(name, image):
    if image.ndim not in (3, 4):
        raise ValueError("Invalid %s rank: expected rank 3 (single image) or rank 4 (batch of images). Received "
                         "input with shape: %s.shape=%s" % (name, name, image.type.shape))


def _one_channel_each(batch):
    """An NHWC batch as (N * C, H, W, 1): each channel an image of its own, so one 1-channel window does
    all of them, whatever the number of channels."""
    _, height, width, _ = shape(batch)
    return reshape(transpose(batch, (0, 3, 1, 2)), [-1, height, width, 1])


def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03, data_format=None):
    """The SSIM of image1 and image2 (rank 3, or rank 4 for a batch: one value per pair), in [-1, 1] and 1
    for equal images; max_val is the range of the pixel values (1.0, or 255.0 for 8-bit values).  Computed
    in image1's float dtype (floatx for ints) and returned in image1's dtype."""
    image1, image2 = as_tensor(image1), as_tensor(image2)
    _checked_rank("image1", image1)
    _checked_rank("image2", image2)
    if any(None not in (a, b) and a != b for a, b in zip(image1.type.shape, image2.type.shape)) \
            or image1.ndim != image2.ndim:
        raise ValueError("ssim: image1 and image2 must have the same shape. Received: image1.shape=%s, "
                         "image2.shape=%s" % (image1.type.shape, image2.type.shape))
    if int(filter_size) < 1:
        raise ValueError("ssim: filter_size must be an integer >= 1. Received: filter_size=%s" % (filter_size,))
    compute_dtype = image1.dtype if image1.dtype.startswith("float") else config.floatx()
    first, _ = as_batch("ssim", cast(image1, compute_dtype), data_format)
    second, _ = as_batch("ssim", cast(image2, compute_dtype), data_format)
    if any(size is not None and size < filter_size for size in first.type.shape[1:3]):
        raise ValueError("ssim: the images (height, width) = %s are smaller than the filter (filter_size=%d)"
                         % (tuple(first.type.shape[1:3]), filter_size))
    window = gaussian_kernel(filter_size, filter_sigma)
    window = np.outer(window, window)[:, :, None, None].astype(compute_dtype)

    def local_mean(images):
        return conv(images, window, padding="valid", data_format="channels_last")
    x, y = _one_channel_each(first), _one_channel_each(second)
    mu_x, mu_y = local_mean(x), local_mean(y)
    var_x = local_mean(x * x) - mu_x * mu_x
    var_y = local_mean(y * y) - mu_y * mu_y
    mu_xy = mu_x * mu_y
    cov = local_mean(x * y) - mu_xy
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    ssim_map = (2.0 * mu_xy + c1) * (2.0 * cov + c2) / ((mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2))
    batch_size, channels = shape(first)[0], shape(first)[3]
    per_image = mean(reshape(mean(ssim_map, axis=(1, 2, 3)), [batch_size, channels]), axis=-1)
    return cast(per_image if image1.ndim == 4 else squeeze(per_image, 0), image1.dtype)

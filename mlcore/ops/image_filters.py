"""keras.ops.image's filters: each channel convolved on its own with a fixed kernel, zero-padded to keep
the image's size ("same"), as Keras on jax does it."""
import numpy as np

from mlcore.ops.arrays import stack
from mlcore.ops.core import as_tensor, convert_to_numpy
from mlcore.ops.nn import depthwise_conv
from mlcore.ops.image_layout import as_batch

SOBEL_ROWS = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]])     # d/dy; its transpose is d/dx


def gaussian_kernel(size, sigma):
    """The normalized 1-d Gaussian of `size` taps."""
    x = np.arange(size) - (size - 1) / 2.0
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    return kernel / kernel.sum()


def _per_channel(batch, kernel):
    """NHWC batch convolved channel by channel with the (kh, kw, multiplier) kernel."""
    kernel = np.repeat(kernel[:, :, None, :], batch.type.shape[3], axis=2).astype(batch.dtype)
    return depthwise_conv(batch, kernel, padding="same", data_format="channels_last")


def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Images blurred by a Gaussian.  As on Keras's jax backend, the kernel's rows come from
    (kernel_size[1], sigma[1]) and its columns from (kernel_size[0], sigma[0])."""
    batch, back = as_batch("gaussian_blur", images, data_format)
    kernel_size = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    sigma = np.broadcast_to(np.asarray(convert_to_numpy(sigma), dtype="float64"), (2,))
    kernel = np.outer(gaussian_kernel(kernel_size[1], sigma[1]), gaussian_kernel(kernel_size[0], sigma[0]))
    return back(_per_channel(batch, kernel[:, :, None]))


def sobel_edges(images, data_format=None):
    """The Sobel derivatives of a batch of images, stacked last as [d/dy, d/dx]:
    (batch, height, width, channels, 2), or (batch, channels, height, width, 2) for channels_first."""
    images = as_tensor(images)
    if images.ndim != 4:
        raise ValueError("sobel_edges: expected a batch of images (rank 4); received shape %s"
                         % (images.type.shape,))
    batch, back = as_batch("sobel_edges", images, data_format)
    edges = _per_channel(batch, np.stack([SOBEL_ROWS, SOBEL_ROWS.T], axis=-1))
    return stack([back(edges[..., 0::2]), back(edges[..., 1::2])], axis=-1)

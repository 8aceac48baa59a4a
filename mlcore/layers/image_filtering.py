"""Keras 3's filtering augmentations: RandomSharpness (each image blended with a smoothed copy) and
RandomGaussianBlur (a Gaussian of random width).  Channels are filtered one by one, zero-padded to keep
the size, as Keras does with a depthwise convolution."""
import numpy as np

from mlcore import ops
from mlcore.layers.image_base import RandomImageLayer, factor_range
from mlcore.layers.image_ranges import ColorImageLayer, chosen

SMOOTHING = np.array([[1, 1, 1], [1, 5, 1], [1, 1, 1]]) / 13.0      # PIL's ImageFilter.SMOOTH


def per_channel(images, kernel):
    """NHWC images convolved channel by channel with the (kh, kw) kernel (a tensor or an array)."""
    kernel = ops.expand_dims(ops.expand_dims(ops.cast(kernel, images.dtype), -1), -1)
    kernel = ops.tile(kernel, (1, 1, images.shape[3], 1))
    return ops.depthwise_conv(images, kernel, padding="same", data_format="channels_last")


class RandomSharpness(ColorImageLayer):
    """Each image pushed away from (or toward) its smoothed copy: x + (1 - 2 f) (smooth(x) - x), f drawn
    in factor's range (a number f: [0, f]; f = 0.5 is the identity), then clipped to value_range."""
    FACTOR_BOUNDS = (0, 1)

    def augment(self, images):
        sharpness = self.per_image(images, *self.factor) * 2.0
        smoothed = per_channel(images, SMOOTHING)
        return ops.clip(images + (1.0 - sharpness) * (smoothed - images), *self.value_range)


def odd_sizes(kernel_size):
    """kernel_size as Keras's RandomGaussianBlur takes it: an odd number or a pair of odd numbers."""
    sizes = tuple(kernel_size) if isinstance(kernel_size, (tuple, list)) else (kernel_size, kernel_size)
    if len(sizes) != 2:
        raise ValueError("RandomGaussianBlur: the `kernel_size` argument should be a number (or a list of two "
                         "numbers). Received: kernel_size=%r" % (kernel_size,))
    if any(not isinstance(size, (int, float)) or size % 2 == 0 for size in sizes):
        raise ValueError("RandomGaussianBlur: kernel_size must be an odd number. Received: kernel_size=%r"
                         % (kernel_size,))
    return sizes


def gaussian_taps(size, sigma):
    """The normalized 1-d Gaussian of `size` taps for a symbolic width sigma."""
    taps = ops.exp(-0.5 * ops.square((np.arange(size, dtype="float32") - (size - 1) / 2.0) / sigma))
    return taps / ops.sum(taps)


class RandomGaussianBlur(RandomImageLayer):
    """Each image blurred with a probability drawn in factor's range (a number f: [0, f]); one pair of
    widths (sigma_x, sigma_y) is drawn in sigma's range for the whole batch.  In training every image is
    then clipped to value_range."""

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255), data_format=None, seed=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_range(factor, (0, 1), "factor")
        self.kernel_size = odd_sizes(kernel_size)
        self.sigma = factor_range(sigma, (0, 1), "sigma")
        self.value_range = value_range

    def get_random_transformation(self, images, training):
        """Keras's keys: {"should_apply_blur": per image, "blur_factor": the batch's (sigma_x, sigma_y)}."""
        if not training:
            return None
        apply = chosen(self, images.shape[0], self.factor)
        sigma = self.generator.uniform([2], self.sigma[0], self.sigma[1], dtype=self.compute_dtype) + 1e-6
        return {"should_apply_blur": apply, "blur_factor": sigma}

    def transform_images(self, images, transformation=None, training=True):
        if transformation is None or not training:
            return images
        sigma = transformation["blur_factor"]
        kernel = (ops.expand_dims(gaussian_taps(self.kernel_size[1], sigma[1]), 1)
                  * ops.expand_dims(gaussian_taps(self.kernel_size[0], sigma[0]), 0))
        apply = ops.reshape(transformation["should_apply_blur"], (-1, 1, 1, 1))
        blurred = ops.where(apply, per_channel(images, kernel), images)
        return ops.clip(blurred, self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "kernel_size": self.kernel_size, "sigma": self.sigma,
                "value_range": self.value_range}

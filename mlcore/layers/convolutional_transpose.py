"""Transposed convolutions: Conv2DTranspose, Conv1DTranspose and Conv3DTranspose
(Convolution2DTranspose, Convolution1DTranspose and Convolution3DTranspose are their Keras aliases).

A transposed convolution is the gradient of a convolution with respect to its input: the input
spread `strides` apart (the convolution op's lhs_dilation), padded, and cross-correlated with the
kernel flipped in space, its in and out swapped.  That is lax.conv_transpose(transpose_kernel=True),
which Keras 3 calls on jax; the padding is Keras's, so output shapes and numbers are Keras's.
Kernels are stored (*kernel_size, filters, in), as Keras stores them.
"""
from mlcore.graph import ops
from mlcore.graph.ops.nn import dilated
from mlcore.layers.base import KernelBiasOptions
from mlcore.layers.conv_base import BaseConv, check_positive, check_strides_and_dilation, image_kernel, \
    image_tuple
from mlcore.layers.convolutional import standardize_tuple
from mlcore.layers.convolutional_3d import fold_depth


def transpose_padding(kernel_size, stride, dilation, padding, output_padding):
    """(before, after) padding of the spread input along one dim, so that the output has Keras's
    length: (n - 1) * stride + max(kernel, stride) ("valid") or n * stride ("same"); with an
    output_padding, (n - 1) * stride + kernel ("valid") or + kernel % 2 ("same"), plus it."""
    kernel = dilated(kernel_size, dilation)
    if padding == "valid":
        extra = max(kernel, stride) - kernel if output_padding is None else output_padding
        return kernel - 1, kernel - 1 + extra
    total = stride + kernel - 2 if output_padding is None else kernel + kernel % 2 - 2 + output_padding
    before = min(total // 2 + total % 2, kernel - 1)
    return before, total - before


def transpose_paddings(kernel_size, strides, dilation_rate, padding, output_padding):
    """transpose_padding along each spatial dim (output_padding None or one entry per dim)."""
    extras = output_padding or (None,) * len(kernel_size)
    return tuple(transpose_padding(k, s, d, padding, extra) for k, s, d, extra in
                 zip(kernel_size, strides, dilation_rate, extras))


def transposed_conv2d(image, kernel, strides, paddings, dilation):
    """The NHWC image spread `strides` apart, padded by `paddings` (see transpose_paddings),
    cross-correlated with the (kh, kw, out, in) kernel flipped in space, its in and out swapped."""
    flipped = ops.dimshuffle(kernel[::-1, ::-1], 0, 1, 3, 2)
    return ops.conv2d(image, flipped, strides=(1, 1), padding=paddings, dilation=dilation, lhs_dilation=strides)


class Conv2DTranspose(KernelBiasOptions, BaseConv):
    """The transpose of a 2-d convolution (sometimes called deconvolution), as keras.layers.Conv2DTranspose,
    with a (kh, kw, filters, in) kernel; output_padding (each entry below its stride) adds rows and
    columns at the end and makes the output size exact."""
    shrinks = False

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias, **kwargs)
        self.filters = check_positive("filters", filters)
        self.output_padding = None if output_padding is None else \
            standardize_tuple(output_padding, self.rank, "output_padding", allow_zero=True)
        for axis, (extra, stride) in enumerate(zip(self.output_padding or (), self.strides)):
            if extra >= stride:
                raise ValueError("`output_padding` must be strictly less than `strides` for all dimensions. "
                                 "At dimension %d, `output_padding` is %d but `strides` is %d. Received: "
                                 "output_padding=%s, strides=%s"
                                 % (axis, extra, stride, self.output_padding, self.strides))
        check_strides_and_dilation(self.strides, self.dilation_rate)
        self.set_kernel_bias_options({}, kernel_initializer, bias_initializer, kernel_regularizer,
                                     bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint)

    def build_weights(self, channels):
        self.kernel = self.add_weight_with_options("kernel", self.kernel_size + (self.filters, channels), "kernel")
        self.add_bias(self.filters)

    def _paddings(self):
        return transpose_paddings(self.kernel_size, self.strides, self.dilation_rate, self.padding,
                                  self.output_padding)

    def _convolve(self, image):
        return transposed_conv2d(image, image_kernel(self.kernel, self.rank), image_tuple(self.strides, self.rank),
                                 image_tuple(self._paddings(), self.rank, fill=(0, 0)),
                                 image_tuple(self.dilation_rate, self.rank))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, **self.window_config(),
                "output_padding": self.output_padding, **self.kernel_bias_config()}


class Conv1DTranspose(Conv2DTranspose):
    """The transpose of a 1-d convolution, with a (kernel_size, filters, in) kernel."""
    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv3DTranspose(Conv2DTranspose):
    """The transpose of a 3-d convolution, with a (kd, kh, kw, filters, in) kernel.  The graph's
    convolution is 2-d: the depth is spread and padded here, then folded into the channels as
    Conv3D folds it (fold_depth), the rows and columns left to the 2-d convolution."""
    rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format=None,
                 output_padding=None, dilation_rate=(1, 1, 1), activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint, **kwargs)

    def _convolve(self, volume):
        """volume: NDHWC, spread `strides` apart and padded along the depth; the kd depth taps of
        a stride-1 convolution of it, with the kernel flipped in space, its in and out swapped."""
        (kd, _, _), (sd, sh, sw), (dd, dh, dw) = self.kernel_size, self.strides, self.dilation_rate
        depth_padding, rows, cols = self._paddings()
        if sd > 1:      # stride - 1 zeros after each depth slice, the last ones cut off
            n, depth, height, width, channels = volume.shape
            gaps = ops.pad(ops.dimshuffle(volume, 0, 1, "x", 2, 3, 4), [(0, 0), (0, 0), (0, sd - 1)] + [(0, 0)] * 3)
            volume = ops.reshape(gaps, [n, depth * sd, height, width, channels])[:, :1 - sd]
        volume = ops.pad(volume, [(0, 0), depth_padding, (0, 0), (0, 0), (0, 0)])
        taps = [volume[:, i * dd:(i - kd + 1) * dd or None] for i in range(kd)]
        kernel = ops.dimshuffle(self.kernel[::-1, ::-1, ::-1], 0, 1, 2, 4, 3)
        return fold_depth(taps, kernel, lambda images, k: ops.conv2d(
            images, k, strides=(1, 1), padding=(rows, cols), dilation=(dh, dw), lhs_dilation=(sh, sw)))


Convolution2DTranspose = Conv2DTranspose
Convolution1DTranspose = Conv1DTranspose
Convolution3DTranspose = Conv3DTranspose
# Keras 2's aliases (keras.layers and keras.layers.convolutional), with Keras 2's arguments
Deconvolution2D = Deconv2D = Conv2DTranspose
Deconvolution3D = Deconv3D = Conv3DTranspose

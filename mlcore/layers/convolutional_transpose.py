"""Transposed convolutions: Conv2DTranspose and Conv1DTranspose (Convolution2DTranspose and
Convolution1DTranspose are their Keras aliases).

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


class Conv2DTranspose(KernelBiasOptions, BaseConv):
    """The transpose of a 2-d convolution (sometimes called deconvolution), as keras.layers.Conv2DTranspose,
    with a (kh, kw, filters, in) kernel; output_padding (each entry below its stride) adds rows and
    columns at the end and makes the output size exact."""

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

    def _convolve(self, image):
        """The image spread `strides` apart, padded as Keras pads it, cross-correlated with the
        kernel flipped in space, its in and out swapped."""
        extras = self.output_padding or (None,) * self.rank
        padding = tuple(transpose_padding(k, s, d, self.padding, extra) for k, s, d, extra in
                        zip(self.kernel_size, self.strides, self.dilation_rate, extras))
        flipped = image_kernel(self.kernel, self.rank)[::-1, ::-1]
        return ops.conv2d(image, ops.dimshuffle(flipped, 0, 1, 3, 2), strides=(1, 1),
                          padding=image_tuple(padding, self.rank, fill=(0, 0)),
                          dilation=image_tuple(self.dilation_rate, self.rank),
                          lhs_dilation=image_tuple(self.strides, self.rank))

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


Convolution2DTranspose = Conv2DTranspose
Convolution1DTranspose = Conv1DTranspose

"""Depthwise and separable convolutions: DepthwiseConv2D, DepthwiseConv1D, SeparableConv2D and
SeparableConv1D (SeparableConvolution2D/1D are Keras's aliases).

A depthwise convolution filters each input channel on its own with depth_multiplier filters: a
grouped convolution with one group per channel, one Conv2D op with groups = channels.  A separable
one follows it with a 1x1 convolution that mixes the channels.  Kernels are stored as Keras stores
them: depthwise (*kernel_size, in, depth_multiplier), pointwise (1, [1,] in * depth_multiplier, filters).
"""
from mlcore import regularizers
from mlcore.graph import ops
from mlcore.layers.conv_base import BaseConv, check_positive, image_kernel, image_tuple


def depthwise_conv2d(image, kernel, strides, padding, dilation):
    """Each channel of the NHWC image cross-correlated with its own filters of the (kh, kw, in,
    depth_multiplier) kernel; output channel c * depth_multiplier + m is channel c's filter m, as in Keras."""
    kh, kw, channels, multiplier = kernel.type.shape
    per_channel = ops.reshape(kernel, (kh, kw, 1, channels * multiplier))
    return ops.conv2d(image, per_channel, strides, padding, dilation, groups=channels)


class _DepthwiseBase(BaseConv):
    """The depthwise step and its arguments, shared by the depthwise and separable layers."""

    def __init__(self, kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation,
                 use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer,
                 activity_regularizer, depthwise_constraint, bias_constraint, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias, **kwargs)
        self.depth_multiplier = check_positive("depth_multiplier", depth_multiplier)
        self.set_weight_options("depthwise", depthwise_initializer, depthwise_regularizer, depthwise_constraint)
        self.set_weight_options("bias", bias_initializer, bias_regularizer, bias_constraint)
        self.activity_regularizer = regularizers.get(activity_regularizer)

    def add_depthwise_kernel(self, channels, name):
        return self.add_weight_with_options("depthwise", self.kernel_size + (channels, self.depth_multiplier), name)

    def depthwise(self, image, kernel):
        return depthwise_conv2d(image, image_kernel(kernel, self.rank), image_tuple(self.strides, self.rank),
                                self.padding, image_tuple(self.dilation_rate, self.rank))

    def get_config(self):
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier, **self.window_config()}


class DepthwiseConv2D(_DepthwiseBase):
    """Per-channel 2-d cross-correlation, as keras.layers.DepthwiseConv2D: in * depth_multiplier
    output channels, with a (kh, kw, in, depth_multiplier) kernel named "kernel"."""

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation,
                         use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer,
                         bias_regularizer, activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)

    def build_weights(self, channels):
        self.kernel = self.add_depthwise_kernel(channels, "kernel")
        self.add_bias(channels * self.depth_multiplier)

    def _convolve(self, image):
        return self.depthwise(image, self.kernel)

    def get_config(self):
        return {**super().get_config(), **self.weight_options_config("depthwise", "bias")}


class DepthwiseConv1D(DepthwiseConv2D):
    """Per-channel 1-d cross-correlation, with a (kernel_size, in, depth_multiplier) kernel."""
    rank = 1

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation,
                         use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer,
                         bias_regularizer, activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)


class SeparableConv2D(_DepthwiseBase):
    """A depthwise 2-d convolution then a 1x1 one to `filters` channels, as keras.layers.SeparableConv2D;
    strides, padding and dilation apply to the depthwise step.  Weights: depthwise_kernel,
    pointwise_kernel, bias."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation,
                         use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer,
                         bias_regularizer, activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)
        self.filters = check_positive("filters", filters)
        self.set_weight_options("pointwise", pointwise_initializer, pointwise_regularizer, pointwise_constraint)

    def build_weights(self, channels):
        self.depthwise_kernel = self.add_depthwise_kernel(channels, "depthwise_kernel")
        self.pointwise_kernel = self.add_weight_with_options(
            "pointwise", (1,) * self.rank + (channels * self.depth_multiplier, self.filters), "pointwise_kernel")
        self.add_bias(self.filters)

    def _convolve(self, image):
        mixed = image_kernel(self.pointwise_kernel, self.rank)
        return ops.conv2d(self.depthwise(image, self.depthwise_kernel), mixed)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                **self.weight_options_config("depthwise", "pointwise", "bias")}


class SeparableConv1D(SeparableConv2D):
    """A depthwise 1-d convolution then a pointwise one, with (kernel_size, in, depth_multiplier)
    and (1, in * depth_multiplier, filters) kernels."""
    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
                         activation, use_bias, depthwise_initializer, pointwise_initializer, bias_initializer,
                         depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs)


SeparableConvolution2D = SeparableConv2D
SeparableConvolution1D = SeparableConv1D

"""What the 1-d, 3-d, transposed, depthwise and separable convolution layers share.

The graph has one convolution, mlcore.graph.ops.nn.Conv2D on NHWC images, and every layer here is
built on it: a 1-d sequence (N, L, C) is an image of height 1, (N, 1, L, C), and its (k, in, out)
kernel a (1, k, in, out) one; a grouped convolution is one Conv2D with its groups, a depthwise one
too, with a group per channel (depthwise.py); Conv3D folds its depth window into the channels
(convolutional_3d).  Kernels keep Keras's shapes, so weights load both ways.
"""
from mlcore import activations, constraints, initializers, regularizers
from mlcore.graph import ops
from mlcore.layers.base import KernelBiasOptions, Layer
from mlcore.layers.convolutional import (check_groups, check_output_size, check_rank, pop_keras1,
                                         standardize_data_format, standardize_tuple)
from mlcore.layers.lora import LoraLayer, adapted_weight, pop_lora_arguments


def image_tuple(values, rank, fill=1):
    """A layer's per-spatial-dim tuple as the 2-d convolution's: (1, k) for a 1-d layer's (k,)."""
    return (fill,) + tuple(values) if rank == 1 else tuple(values)


def to_image(x, rank, data_format):
    """x (N, *spatial, C) or (N, C, *spatial) channels-last: an NHWC image for 1 and 2 spatial
    dims, an NDHWC volume for 3."""
    if data_format == "channels_first":
        x = ops.dimshuffle(x, 0, *range(2, rank + 2), 1)
    return ops.dimshuffle(x, 0, "x", 1, 2) if rank == 1 else x


def from_image(y, rank, data_format):
    """An NHWC result back in the layer's own rank and data format."""
    if rank == 1:
        y = ops.dimshuffle(y, 0, 2, 3)
    return ops.dimshuffle(y, 0, rank + 1, *range(1, rank + 1)) if data_format == "channels_first" else y


def image_kernel(kernel, rank):
    """A (*kernel_size, in, out) kernel as the 2-d convolution's (kh, kw, in, out)."""
    return ops.dimshuffle(kernel, "x", 0, 1, 2) if rank == 1 else kernel


def standardize_conv_padding(value, rank):
    """valid or same; for 1-d convolutions also causal."""
    allowed = ["valid", "same", "causal"] if rank == 1 else ["valid", "same"]
    padding = value.lower() if isinstance(value, str) else value
    if padding not in allowed:
        raise ValueError("The `padding` argument must be one of %s. Received: padding=%r" % (allowed, value))
    return padding


def check_strides_and_dilation(strides, dilation_rate):
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise ValueError("`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                         "Received: strides=%s and dilation_rate=%s" % (strides, dilation_rate))


def check_positive(name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError("Invalid value for argument `%s`. Expected a strictly positive value. Received %s=%r."
                         % (name, name, value))
    return value


class WeightOptions:
    """The initializer, regularizer and constraint arguments of weights named by prefixes
    (depthwise_, pointwise_, bias_), for layers whose weights are not Dense's kernel and bias."""

    def set_weight_options(self, prefix, initializer, regularizer, constraint):
        setattr(self, prefix + "_initializer", initializers.get(initializer))
        setattr(self, prefix + "_regularizer", regularizers.get(regularizer))
        setattr(self, prefix + "_constraint", constraints.get(constraint))

    def add_weight_with_options(self, prefix, shape, name):
        return self.add_weight(shape, getattr(self, prefix + "_initializer"),
                               regularizer=getattr(self, prefix + "_regularizer"),
                               constraint=getattr(self, prefix + "_constraint"), name=name)

    def weight_options_config(self, *prefixes):
        modules = {"initializer": initializers, "regularizer": regularizers, "constraint": constraints}
        config = {"activity_regularizer": regularizers.serialize(self.activity_regularizer)}
        for prefix in prefixes:
            for kind, module in modules.items():
                config["%s_%s" % (prefix, kind)] = module.serialize(getattr(self, "%s_%s" % (prefix, kind)))
        return config


class BaseConv(WeightOptions, Layer):
    """A convolution over `rank` (1, 2 or 3) spatial dims: the window arguments, the activation and
    the bias, the check of the input, and the trip to channels-last (to_image) and back around
    _convolve.  shrinks: whether the window shrinks the input (not so for a transposed one)."""
    rowwise = True
    rank = 2
    shrinks = True

    def __init__(self, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                 **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = standardize_tuple(kernel_size, self.rank, "kernel_size")
        self.strides = standardize_tuple(strides, self.rank, "strides")
        self.dilation_rate = standardize_tuple(dilation_rate, self.rank, "dilation_rate")
        self.padding = standardize_conv_padding(padding, self.rank)
        self.data_format = standardize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)

    def input_channels(self, input_shape):
        """The channel count of an input shape, which must be known."""
        check_rank(self, input_shape, self.rank + 2)
        channels = input_shape[1 if self.data_format == "channels_first" else -1]
        if channels is None:
            raise ValueError("%s '%s': the channel dimension of the inputs should be defined; got shape %s "
                             "(data_format=%s)" % (type(self).__name__, self.name, tuple(input_shape),
                                                   self.data_format))
        return channels

    def call(self, inputs):
        if self.input_channels(inputs.type.shape) != self._channels:
            raise ValueError("%s '%s' expects inputs with %d channels (data_format=%s), got shape %s"
                             % (type(self).__name__, self.name, self._channels, self.data_format,
                                inputs.type.shape))
        if self.shrinks:
            check_output_size(self, inputs.type.shape)
        out = self._convolve(to_image(inputs, self.rank, self.data_format))
        if self.bias is not None:
            out = out + self.bias
        out = self.activation(from_image(out, self.rank, self.data_format))
        self.add_activity_loss(out)
        return out

    def build(self, input_shape):
        self._channels = self.input_channels(input_shape)
        self.build_weights(self._channels)
        self.built = True

    def build_weights(self, channels):
        """Create the weights for inputs of that many channels."""
        raise NotImplementedError

    def add_bias(self, size):
        self.bias = self.add_weight_with_options("bias", (size,), "bias") if self.use_bias else None

    def _convolve(self, image):
        """The convolution of the channels-last input (see to_image), without bias."""
        raise NotImplementedError

    def window_config(self):
        return {"kernel_size": self.kernel_size, "strides": self.strides, "padding": self.padding,
                "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias}


class GroupedConv(LoraLayer, KernelBiasOptions, BaseConv):
    """A convolution with `filters` outputs whose input channels may be split into `groups`, with a
    (*kernel_size, in // groups, filters) kernel: Conv1D and Conv3D (Conv2D has its own module).
    keras1_aliases: the subclass's Keras 1 keyword spellings, under their Keras 3 names.  lora_rank= or
    enable_lora(rank) fine-tunes a low-rank update of the frozen kernel (mlcore/layers/lora.py)."""
    keras1_aliases = {}
    kernel = adapted_weight("kernel")

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        old = pop_keras1(kwargs, self.keras1_aliases)
        lora = pop_lora_arguments(kwargs)
        super().__init__(kernel_size, old.get("strides", strides), old.get("padding", padding), data_format,
                         dilation_rate, activation, old.get("use_bias", use_bias), **kwargs)
        self.filters = check_positive("filters", filters)
        self.groups = check_groups(groups, filters)
        check_strides_and_dilation(self.strides, self.dilation_rate)
        self.set_kernel_bias_options(old, kernel_initializer, bias_initializer, kernel_regularizer,
                                     bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint)
        self.set_lora_arguments(*lora)

    def build(self, input_shape):
        channels = self.input_channels(input_shape)
        if channels % self.groups:
            raise ValueError("The number of input channels must be evenly divisible by the number of groups. "
                             "Received groups=%d, but the input has %d channels (full input shape is %s)."
                             % (self.groups, channels, tuple(input_shape)))
        super().build(input_shape)
        self.enable_lora_argument()

    def build_weights(self, channels):
        self.add_kernel_and_bias(self.kernel_size + (channels // self.groups, self.filters))

    def _convolve(self, image):
        padding = self.padding
        if padding == "causal":         # zeros only before the sequence: output t sees inputs up to t
            padding = ((0, 0), (self.dilation_rate[0] * (self.kernel_size[0] - 1), 0))
        return ops.conv2d(image, image_kernel(self.kernel, self.rank), image_tuple(self.strides, self.rank),
                          padding, image_tuple(self.dilation_rate, self.rank), groups=self.groups)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "groups": self.groups, **self.window_config(),
                **self.kernel_bias_config(), **self.lora_config()}

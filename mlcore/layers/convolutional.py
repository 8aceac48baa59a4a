"""2-d convolution layers: Conv2D, Convolution2D (the Keras 1/2 spelling) and ZeroPadding2D.

Kernels are stored (h, w, in // groups, out) whatever the data format, as Keras stores them, so a
weights file fits a channels_last and a channels_first model alike. The graph convolves NHWC tensors
(mlcore.graph.ops.nn.Conv2D, which takes the groups itself): channels_first inputs are transposed to
NHWC and back around it, and the activation is applied in the layer's own format, as Keras applies it.
"""
from mlcore import activations, config, ops
from mlcore.graph.ops.nn import conv2d
from mlcore.layers.base import KernelBiasOptions, Layer
from mlcore.layers.lora import LoraLayer, adapted_weight, pop_lora_arguments

# Keras 1's dim_ordering values, with their old meaning ("default" = the configured format).
DIM_ORDERINGS = {"th": "channels_first", "tf": "channels_last", "default": None}

KERAS1_CONV = {"init": "kernel_initializer", "border_mode": "padding",
               "subsample": "strides", "dim_ordering": "data_format", "atrous_rate": "dilation_rate",
               "W_regularizer": "kernel_regularizer", "b_regularizer": "bias_regularizer",
               "W_constraint": "kernel_constraint", "b_constraint": "bias_constraint", "bias": "use_bias"}


def pop_keras1(kwargs, aliases):
    """Keras 1 keyword arguments (border_mode=, dim_ordering=, ...) taken out of kwargs, under their
    Keras 3 names."""
    return {new: kwargs.pop(old) for old, new in aliases.items() if old in kwargs}


def standardize_tuple(value, n, name, allow_zero=False):
    """An int or n ints as a tuple of n positive ints (Keras's rule and message)."""
    message = "The `%s` argument must be a tuple of %d integers. Received %s=%s" % (name, n, name, value)
    if isinstance(value, int):
        values = (value,) * n
    else:
        try:
            values = tuple(int(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(message) from None
        if len(values) != n:
            raise ValueError(message)
    bad = {v for v in values if v < 0 or (v == 0 and not allow_zero)}
    if bad:
        raise ValueError(message + ", including values %s that do not satisfy `value %s 0`"
                         % (bad, ">=" if allow_zero else ">"))
    return values


def standardize_padding(value):
    padding = value.lower() if isinstance(value, str) else value
    if padding not in ("valid", "same"):
        raise ValueError("The `padding` argument must be one of ['valid', 'same']. Received: padding=%r"
                         % (value,))
    return padding


def standardize_data_format(value):
    """channels_last / channels_first; None is the configured default, Keras 1's "th"/"tf" are accepted."""
    value = DIM_ORDERINGS.get(value, value)
    if value is None:
        return config.image_data_format()
    if str(value).lower() not in ("channels_first", "channels_last"):
        raise ValueError("The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
                         "Received: data_format=%r" % (value,))
    return str(value).lower()


def to_nhwc(x, data_format):
    return ops.dimshuffle(x, 0, 2, 3, 1) if data_format == "channels_first" else x


def from_nhwc(x, data_format):
    return ops.dimshuffle(x, 0, 3, 1, 2) if data_format == "channels_first" else x


def check_rank(layer, shape, rank=4):
    if len(shape) != rank:
        raise ValueError("Input 0 of layer '%s' is incompatible with the layer: expected ndim=%d, found "
                         "ndim=%d. Full shape received: %s" % (layer.name, rank, len(shape), tuple(shape)))


def check_groups(groups, filters):
    """groups as a positive int that divides filters, in Keras's words."""
    groups = int(groups)
    if groups <= 0:
        raise ValueError("The number of groups must be a positive integer. Received: groups=%d." % groups)
    if filters % groups:
        raise ValueError("The number of filters must be evenly divisible by the number of groups. "
                         "Received: groups=%d, filters=%d." % (groups, filters))
    return groups


def check_output_size(layer, input_shape):
    """Keras's error for a "valid" window larger than the input, raised before the graph's convolution
    refuses it in its own words."""
    if layer.padding != "valid":
        return
    spatial = input_shape[2:] if layer.data_format == "channels_first" else input_shape[1:-1]
    for size, kernel, stride, dilation in zip(spatial, layer.kernel_size, layer.strides, layer.dilation_rate):
        if size is not None and (size - dilation * (kernel - 1) - 1) // stride < 0:
            raise ValueError("Computed output size would be zero or negative. Received `inputs shape=%s`, "
                             "`kernel_size=%s`, `dilation_rate=%s`, `strides=%s`, `padding=valid`."
                             % (tuple(input_shape), layer.kernel_size, layer.dilation_rate, layer.strides))


class Conv2D(LoraLayer, KernelBiasOptions, Layer):
    """2-d cross-correlation, as keras.layers.Conv2D, with a (h, w, in // groups, filters) kernel.
    Keras 1's keyword spellings (border_mode=, subsample=, dim_ordering=, init=, W_regularizer=, bias=...)
    are accepted with their old meaning; Convolution2D also takes Keras 1's positional arguments.
    lora_rank= or enable_lora(rank) fine-tunes a low-rank update of the frozen kernel (mlcore/layers/lora.py)."""
    rowwise = True
    kernel = adapted_weight("kernel")

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        old = pop_keras1(kwargs, KERAS1_CONV)
        lora = pop_lora_arguments(kwargs)
        super().__init__(**kwargs)
        if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
            raise ValueError("Invalid value for argument `filters`. Expected a strictly positive value. "
                             "Received filters=%r." % (filters,))
        self.filters = filters
        self.groups = check_groups(groups, filters)
        self.kernel_size = standardize_tuple(kernel_size, 2, "kernel_size")
        self.strides = standardize_tuple(old.get("strides", strides), 2, "strides")
        self.dilation_rate = standardize_tuple(old.get("dilation_rate", dilation_rate), 2, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError("`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                             "Received: strides=%s and dilation_rate=%s" % (self.strides, self.dilation_rate))
        self.padding = standardize_padding(old.get("padding", padding))
        self.data_format = standardize_data_format(old.get("data_format", data_format))
        self.activation = activations.get(activation)
        self.use_bias = bool(old.get("use_bias", use_bias))
        self.set_kernel_bias_options(old, kernel_initializer, bias_initializer, kernel_regularizer,
                                     bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint)
        self.set_lora_arguments(*lora)

    def _channel_axis(self):
        return 1 if self.data_format == "channels_first" else -1

    def build(self, input_shape):
        check_rank(self, input_shape)
        channels = input_shape[self._channel_axis()]
        if channels is None:
            raise ValueError("Conv2D '%s': the channel dimension of the inputs should be defined; got "
                             "shape %s (data_format=%s)" % (self.name, input_shape, self.data_format))
        if channels % self.groups:
            raise ValueError("The number of input channels must be evenly divisible by the number of groups. "
                             "Received groups=%d, but the input has %d channels (full input shape is %s)."
                             % (self.groups, channels, input_shape))
        self.add_kernel_and_bias(self.kernel_size + (channels // self.groups, self.filters))
        self.built = True
        self.enable_lora_argument()

    def _convolve(self, x):
        """Cross-correlate NHWC x; with groups, each slice of the channels with its slice of the filters."""
        return conv2d(x, self.kernel, self.strides, self.padding, self.dilation_rate, groups=self.groups)

    def call(self, inputs):
        channels = inputs.type.shape[self._channel_axis()]
        expected = self._kernel.shape[2] * self.groups
        if channels is not None and channels != expected:
            raise ValueError("Conv2D '%s' expects inputs with %d channels (data_format=%s), got shape %s"
                             % (self.name, expected, self.data_format, inputs.type.shape))
        check_output_size(self, inputs.type.shape)
        out = self._convolve(to_nhwc(inputs, self.data_format))
        if self.bias is not None:
            out = out + self.bias
        out = self.activation(from_nhwc(out, self.data_format))
        self.add_activity_loss(out)
        return out

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "groups": self.groups,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                **self.kernel_bias_config(), **self.lora_config()}


def keras1_conv_arguments(args, kwargs):
    """Conv2D's keyword arguments for a Convolution2D call in Keras 1's form, Convolution2D(nb_filter,
    nb_row, nb_col, init=, border_mode=, subsample=, dim_ordering=, W_regularizer=, bias=, ...) with its
    old meaning (dim_ordering "th" is channels_first), or in Keras 2's, Convolution2D(64, (3, 3), ...)."""
    old = pop_keras1(kwargs, dict(KERAS1_CONV, nb_filter="filters"))
    if set(old) & set(kwargs):
        raise TypeError("Convolution2D got both Keras 3 and Keras 1 names for %s" % sorted(set(old) & set(kwargs)))
    kwargs.update(old)
    names = ("filters", "nb_row", "nb_col") if len(args) == 3 else ("filters", "kernel_size")
    if len(args) > len(names):
        raise TypeError("Convolution2D takes at most 3 positional arguments (nb_filter, nb_row, nb_col); "
                        "got %d" % len(args))
    for name, value in zip(names, args):
        if name in kwargs:
            raise TypeError("Convolution2D got multiple values for argument %r" % name)
        kwargs[name] = value
    if "nb_row" in kwargs or "nb_col" in kwargs:
        kwargs["kernel_size"] = (kwargs.pop("nb_row", None), kwargs.pop("nb_col", None))
    return kwargs


class _Conv2DAlias(type):
    """Calling Convolution2D makes a plain Conv2D, and every Conv2D counts as a Convolution2D
    (isinstance, issubclass), as in Keras 2 and 3 where the name is an alias: weight files key
    layers by class name, so no layer of another class may come out of it."""

    def __call__(cls, *args, **kwargs):
        return Conv2D(**keras1_conv_arguments(args, kwargs))

    def __instancecheck__(cls, instance):
        return isinstance(instance, Conv2D)

    def __subclasscheck__(cls, subclass):
        return issubclass(subclass, Conv2D)


class Convolution2D(Conv2D, metaclass=_Conv2DAlias):
    """Keras 1's Convolution2D(nb_filter, nb_row, nb_col, border_mode=, subsample=, ...) and Keras 2's
    Convolution2D(filters, kernel_size, ...): both make a Conv2D (see keras1_conv_arguments)."""


class ZeroPadding2D(Layer):
    """Adds rows and columns of zeros around images: padding is an int, (rows, cols) or
    ((top, bottom), (left, right))."""
    rowwise = True

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        old = pop_keras1(kwargs, {"dim_ordering": "data_format"})
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(old.get("data_format", data_format))
        if isinstance(padding, int):
            padding = (padding, padding)
        if not hasattr(padding, "__len__") or len(padding) != 2:
            raise ValueError("`padding` should be either an int, a tuple of 2 ints (symmetric_height_pad, "
                             "symmetric_width_pad), or a tuple of 2 tuples of 2 ints ((top_pad, bottom_pad), "
                             "(left_pad, right_pad)). Received: padding=%r." % (padding,))
        self.padding = (standardize_tuple(padding[0], 2, "1st entry of padding", allow_zero=True),
                        standardize_tuple(padding[1], 2, "2nd entry of padding", allow_zero=True))

    def call(self, inputs):
        check_rank(self, inputs.type.shape)
        none = ((0, 0),)
        width = none * 2 + self.padding if self.data_format == "channels_first" else none + self.padding + none
        return ops.pad(inputs, width)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}



# Keras 1/2's keras.layers.convolutional also held the other convolutions, upsampling, padding and
# cropping layers, and (Keras 1, and Keras 2 "for backwards namespace compatibility") the pooling layers.
# Imported here last, as they import this module, so that `from mlcore.layers.convolutional import
# MaxPooling2D, UpSampling2D, ...` imports as in the classic tutorials.
from mlcore.layers.convolutional_1d import (Conv1D, Convolution1D, Cropping1D, UpSampling1D,  # noqa: E402,F401
                                            ZeroPadding1D)
from mlcore.layers.convolutional_3d import Conv3D, Convolution3D  # noqa: E402,F401
from mlcore.layers.convolutional_transpose import (Conv2DTranspose, Conv3DTranspose,  # noqa: E402,F401
                                                   Convolution2DTranspose, Convolution3DTranspose, Deconv2D,
                                                   Deconv3D, Deconvolution2D, Deconvolution3D)
from mlcore.layers.depthwise import (DepthwiseConv2D, SeparableConv1D, SeparableConv2D,  # noqa: E402,F401
                                     SeparableConvolution1D, SeparableConvolution2D)
from mlcore.layers.reshaping import Cropping2D, UpSampling2D  # noqa: E402,F401
from mlcore.layers.reshaping_3d import Cropping3D, UpSampling3D, ZeroPadding3D  # noqa: E402,F401
from mlcore.layers.pooling import AveragePooling2D, MaxPooling2D  # noqa: E402,F401
from mlcore.layers.pooling_1d import AveragePooling1D, MaxPooling1D  # noqa: E402,F401
from mlcore.layers.pooling_3d import AveragePooling3D, MaxPooling3D  # noqa: E402,F401

"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Permute, Lambda."""
import inspect

import numpy as np

from mlcore import activations, config
from mlcore.graph import ops
from mlcore.layers.base import KernelBiasOptions, Layer
from mlcore.layers import calibrated_kernel, int4_kernel
from mlcore.saving import lambdas
from mlcore.layers.input_spec import InputSpec
from mlcore.layers.float8_training import FLOAT8_VARIABLES, float8_bias, float8_product
from mlcore.layers.lora import LoraLayer, adapted_weight
from mlcore.layers.quantization import (INTEGER_KERNEL_MODES, QuantizableLayer, float_kernel_product, inputs_quantizer, int8_product,
                                       quantize_weight, read_quantization_config, serialize_quantization_config)
from mlcore.utils.rng import layer_streams


def _pop_aliases(kwargs, aliases):
    """Keras 1/2 argument names (output_dim=, init=, W_regularizer=...) mapped to Keras 3's."""
    found = {}
    for old, new in aliases.items():
        if old in kwargs:
            found[new] = kwargs.pop(old)
    return found


class Dense(LoraLayer, QuantizableLayer, KernelBiasOptions, Layer):
    """output = activation(dot(input, kernel) + bias), over the last axis.  quantize("int8") makes the
    kernel int8 with one scale per unit (mlcore/layers/quantization.py); quantize("int4") packs int4 values
    two a byte, with a scale per unit or per group of input rows (mlcore/layers/int4_kernel.py); quantize("float8")
trains through float8 casts (mlcore/layers/float8_training.py).  lora_rank= or enable_lora(rank) fine-tunes a
low-rank update of the frozen kernel (mlcore/layers/lora.py)."""
    supports_masking = True
    rowwise = True
    kernel = adapted_weight("kernel")
    BUILD_KEEPS_LORA_ALPHA = False
    QUANTIZED_VARIABLES = {"int8": ["kernel", "bias", "kernel_scale"],
                           "int4": ["kernel", "bias", "kernel_scale", "kernel_zero", "g_idx"],
                           "float8": FLOAT8_VARIABLES,
                           "gptq": ["bias", "quantized_kernel", "kernel_scale", "kernel_zero", "g_idx"],
                           "awq": ["bias", "quantized_kernel", "kernel_scale", "kernel_zero", "awq_scales", "g_idx"]}

    KERAS1 = {"output_dim": "units", "init": "kernel_initializer", "W_regularizer": "kernel_regularizer",
              "b_regularizer": "bias_regularizer", "W_constraint": "kernel_constraint",
              "b_constraint": "bias_constraint", "bias": "use_bias"}

    def __init__(self, units=None, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None,
                 quantization_config=None, **kwargs):
        aliases = _pop_aliases(kwargs, self.KERAS1)
        super().__init__(**kwargs)
        units = aliases.get("units", units)
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError("Received an invalid value for `units`, expected a positive integer. "
                             "Received: units=%s" % (units,))
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = aliases.get("use_bias", use_bias)
        self.set_kernel_bias_options(aliases, kernel_initializer, bias_initializer, kernel_regularizer,
                                     bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint)
        self.set_lora_arguments(lora_rank, lora_alpha)
        self.quantization_config = read_quantization_config(quantization_config)

    def build(self, input_shape):
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError("Dense '%s': the last dim of the input must be known, got shape %s"
                             % (self.name, input_shape))
        if self.quantization_mode:
            self.quantized_build((in_dim, self.units), self.quantization_mode, self.quantization_config)
        self.add_kernel_and_bias((in_dim, self.units), float_kernel=self.quantization_mode not in INTEGER_KERNEL_MODES)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: in_dim})     # Keras's check of later calls' inputs
        self.built = True
        self.enable_lora_argument()

    def integer_build(self, kernel_shape, mode, config):
        """The int8/int4/GPTQ/AWQ kernel and its scales, as zeros and ones."""
        if mode in calibrated_kernel.CALIBRATED_MODES:
            return calibrated_kernel.build_calibrated_kernel(self, kernel_shape, mode, config)
        self.inputs_quantizer = inputs_quantizer(config, int8=mode == "int8")
        if mode == "int4":
            int4_kernel.build_int4_kernel(self, *kernel_shape, config)
        else:
            self.kernel = self.add_weight(kernel_shape, "zeros", dtype="int8", trainable=False, name="kernel")
            self.kernel_scale = self.add_weight((self.units,), "ones", trainable=False, name="kernel_scale")

    def quantize_weights(self, mode, config):
        """The stored kernel quantized (LoRA's factors stay apart from it, as in Keras)."""
        kernel_shape = self._kernel.shape
        if mode == "float8":        # the float kernel stays
            return self.quantized_build(kernel_shape, mode, config)
        if mode in calibrated_kernel.CALIBRATED_MODES:     # the float kernel stays until calibration
            float_kernel = self._kernel
            self.quantized_build(kernel_shape, mode, config)
            return calibrated_kernel.keep_float_kernel(self, float_kernel)
        self.replace_kernel(kernel_shape, mode, config, self._quantized_values(mode, config, self._kernel, config))

    def _quantized_values(self, mode, config, kernel, weight_config):
        """(int8 values, scale) or (packed int4 values, scale, zero or None) of a float kernel."""
        if mode == "int4":
            return int4_kernel.int4_kernel_values(self, config, kernel, weight_config)
        return quantize_weight(weight_config, kernel, 0)

    # --- LoRA (mlcore/layers/lora.py) ---
    def lora_weight_shape(self):
        return self._kernel.shape[0], self.units       # an int4 kernel is packed along the units

    def lora_input_product(self, inputs, factor_a):
        return ops.dot(inputs, factor_a)

    def dequantized_weight(self):
        if self.quantization_mode == "int4":
            return int4_kernel.dequantized_kernel(self)
        return ops.cast(self._kernel, self.compute_dtype) / self.kernel_scale

    def requantized(self, kernel):
        """Keras re-quantizes a merged kernel with the default quantizers, whatever the layer's config."""
        return self._quantized_values(self.quantization_mode, self.quantization_config, kernel, None)

    def call(self, inputs, training=None):
        in_dim = self.g_idx.shape[0] if self.quantization_mode in calibrated_kernel.CALIBRATED_MODES else \
            self._kernel.shape[0]      # a GPTQ/AWQ kernel is stored transposed; g_idx has a row per input
        if inputs.type.shape[-1] is not None and inputs.type.shape[-1] != in_dim:
            raise ValueError("Dense '%s' expects inputs with last dim %d, got shape %s"
                             % (self.name, in_dim, inputs.type.shape))
        if self.quantization_mode == "float8":
            return self.bias_and_activation(float8_product(self, ops.dot, inputs, training), float8_bias(self))
        if self.quantization_mode in calibrated_kernel.CALIBRATED_MODES:
            return self.bias_and_activation(ops.dot(inputs, calibrated_kernel.calibrated_or_float_kernel(self)))
        if self._is_quantized:
            return self.bias_and_activation(self.plus_lora_output(inputs, self._integer_product(inputs)))
        return self.bias_and_activation(ops.dot(inputs, self.kernel))

    def _integer_product(self, inputs):
        """inputs times the int8 or int4 kernel."""
        if self.quantization_mode == "int4" and self._int4_block_size is not None:     # per group
            return float_kernel_product(ops.dot, inputs, int4_kernel.dequantized_kernel(self), None, -1, None,
                                        self.compute_dtype)
        kernel = int4_kernel.unpacked_kernel(self) if self.quantization_mode == "int4" else self._kernel
        return int8_product(ops.dot, inputs, kernel, self.kernel_scale, self.inputs_quantizer, -1,
                            lambda scale: scale, self.compute_dtype)

    def get_config(self):
        config_ = {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation),
                   "use_bias": self.use_bias, **self.kernel_bias_config(),
                   "quantization_config": serialize_quantization_config(self.quantization_config),
                   **self.lora_config()}
        if self.activity_regularizer is None:       # Keras's Dense leaves it to Layer's rule
            del config_["activity_regularizer"]
        return config_


class Activation(Layer):
    supports_masking = True
    rowwise = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self._build_at_init()

    def call(self, inputs):
        return self.activation(inputs)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


def noise_shape_of(inputs, noise_shape):
    """The shape of a noise sample for inputs: theirs, or noise_shape's (None: the input's size there);
    a 1 there is a broadcastable dim, so one draw applies along all of that axis."""
    if noise_shape is None:
        return inputs.shape
    return [inputs.shape[i] if d is None else d for i, d in enumerate(noise_shape)]


def _validated_noise_shape(noise_shape):
    """noise_shape as a tuple of positive ints and Nones, with Keras's errors."""
    if noise_shape is None:
        return None
    error = "Invalid value received for argument `noise_shape`. "
    if isinstance(noise_shape, str):
        raise ValueError(error + "Expected a tuple or list of integers. Received: noise_shape=%s" % noise_shape)
    try:
        noise_shape = tuple(noise_shape)
    except TypeError:
        raise ValueError(error + "Expected an iterable of integers (e.g., a tuple or list). Received: noise_shape=%s"
                         % (noise_shape,)) from None
    for i, dim in enumerate(noise_shape):
        if dim is not None and not isinstance(dim, (int, np.integer)):
            raise ValueError(error + "Expected all elements to be integers or None. Received element at index %d: %s "
                             "(type: %s)" % (i, dim, type(dim).__name__))
        if dim is not None and dim <= 0:
            raise ValueError(error + "Expected all dimensions to be positive integers or None. Received negative or "
                             "zero value at index %d: %s" % (i, dim))
    return noise_shape


class Dropout(Layer):
    """Zeroes a fraction `rate` of the inputs during training and scales the rest by 1/(1-rate)."""
    supports_masking = True
    rowwise = True

    def __init__(self, rate=None, noise_shape=None, seed=None, **kwargs):
        rate = kwargs.pop("p", rate)        # Keras 1's name
        super().__init__(**kwargs)
        if rate is None or not 0 <= rate <= 1:
            raise ValueError("Invalid value received for argument `rate`. Expected a float value between 0 and 1. "
                             "Received: rate=%s" % (rate,))
        self.rate = float(rate)
        self.noise_shape = _validated_noise_shape(noise_shape)
        self.seed = seed
        if self.rate > 0:           # as in Keras, a Dropout that drops nothing has no random state
            self.seed_generator = layer_streams(seed)
        self._build_at_init()

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return ops.zeros_like(inputs)
        keep = self.seed_generator.binomial(noise_shape_of(inputs, self._noise_shape()), p=1.0 - self.rate,
                                            dtype=inputs.dtype)
        return inputs * keep / (1.0 - self.rate)

    def _noise_shape(self):
        """The axes along which one keep-or-drop is shared (1) or drawn anew (None); subclasses choose."""
        return self.noise_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}


class Flatten(Layer):
    """Flattens all but the batch dim; channels_first maps are first moved to channels_last
    order, so a Dense after it keeps its weights when the data format changes (Keras's rule)."""
    rowwise = True

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or config.image_data_format()

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = ops.transpose(inputs, (0,) + tuple(range(2, inputs.ndim)) + (1,))
        batch = inputs.type.shape[0]
        if batch is not None and None in inputs.type.shape[1:]:
            return ops.reshape(inputs, [batch, -1], ndim=2)     # the known batch size stays known, as in Keras
        return ops.flatten(inputs, 2)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    rowwise = True

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)
        if any(d < -1 for d in self.target_shape):
            raise ValueError("Each dimension in `target_shape` must be a non-negative integer, or `-1` for a single "
                             "unknown dimension. Received: target_shape=%s." % (self.target_shape,))
        if self.target_shape.count(-1) > 1:
            raise ValueError("There must be at most one unknown dimension (-1) in `target_shape`. Received: "
                             "target_shape=%s." % (self.target_shape,))
        self._build_at_init()       # as Keras's Reshape, built once made

    def call(self, inputs):
        batch = inputs.shape[0] if inputs.type.shape[0] is None else inputs.type.shape[0]
        return ops.reshape(inputs, [batch] + self._target(inputs.type.shape[1:]), ndim=len(self.target_shape) + 1)

    def _target(self, size):
        """target_shape with its -1 worked out where the input's size is known, so that the
        output's shape is known to the layers after it (Flatten then Dense), as in Keras."""
        known = int(np.prod([d for d in self.target_shape if d != -1]))
        if None in size:
            return list(self.target_shape)
        total = int(np.prod(size))
        if (-1 in self.target_shape and total % max(known, 1)) or (-1 not in self.target_shape and total != known):
            raise ValueError("Reshape '%s': cannot reshape input of shape %s to %s"
                             % (self.name, (None,) + tuple(size), self.target_shape))
        return [total // max(known, 1) if d == -1 else d for d in self.target_shape]

    def get_config(self):
        return {**super().get_config(), "target_shape": tuple(self.target_shape)}


class Permute(Layer):
    rowwise = True

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError("Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` must "
                             "be consecutive and start from 1. Received dims=%s" % (self.dims,))
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def call(self, inputs):
        return ops.transpose(inputs, (0,) + self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": tuple(self.dims)}


def _takes_argument(function, name):
    try:
        return name in inspect.signature(function).parameters
    except (TypeError, ValueError):     # a builtin or ufunc without a readable signature
        return False


class Lambda(Layer):
    """Wraps a function of symbolic tensors.  Saved as Keras saves it: a named function by name (found again
    in custom_objects or the registered objects), a Python lambda as its bytecode, which is only loaded
    back when the caller passes safe_mode=False (Keras 3, CVE-2024-3660).
    mask: the outputs' mask, a tensor or a function (inputs, mask) -> mask; a function that
    takes `mask=` receives the inputs' mask."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.function = function
        self.output_shape_ = output_shape
        self.arguments = arguments or {}
        self.mask = mask
        self.supports_masking = mask is not None
        self._function_takes_mask = _takes_argument(function, "mask")

    def call(self, inputs, mask=None):
        extra = {"mask": mask} if self._function_takes_mask else {}
        return self.function(inputs, **self.arguments, **extra)

    def compute_mask(self, inputs, mask=None):
        return self.mask(inputs, mask) if callable(self.mask) else self.mask

    def get_config(self):
        config_ = {**super().get_config(), "function": _function_spec(self.function), "arguments": self.arguments}
        if callable(self.mask):
            config_["mask"] = _function_spec(self.mask)
        return config_

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=True):
        config = dict(config)       # the caller's dict stays as it was
        name = config.get("name")
        config["function"] = _function_from_spec(config.pop("function"), custom_objects, safe_mode, name)
        if isinstance(config.get("mask"), dict):
            config["mask"] = _function_from_spec(config["mask"], custom_objects, safe_mode, name)
        return cls(**config)


def _function_spec(function):
    """A function as Keras's Lambda saves it: a Python lambda as its bytecode with the values of its
    default arguments and closure (mlcore/saving/lambdas.py), any other function by name."""
    if function.__name__ != "<lambda>":
        from mlcore.saving.serialization_lib import serialize_keras_object    # it imports the layers
        return serialize_keras_object(function)
    code, defaults, closure = lambdas.dump(function)
    return {"class_name": "__lambda__", "config": {"code": code, "defaults": defaults, "closure": closure}}


def _function_from_spec(spec, custom_objects, safe_mode, layer_name):
    """The function _function_spec (mlcore's or Keras's) saved: a named one looked up, a lambda's bytecode
    loaded only with safe_mode=False."""
    from mlcore.saving.serialization_lib import deserialize_keras_object
    if not (isinstance(spec, dict) and spec.get("class_name") == "__lambda__"):
        return deserialize_keras_object(spec, custom_objects)
    if config.effective_safe_mode(safe_mode):
        raise ValueError("Loading Lambda layer '%s' would execute code stored in the file: this carries a "
                         "potential risk of arbitrary code execution and thus it is disallowed by default "
                         "(safe_mode=True); pass safe_mode=False to load_model only if you trust the file's "
                         "source." % layer_name)
    saved = spec["config"]
    return lambdas.load(saved["code"], saved.get("defaults"), saved.get("closure"), {"ops": ops, "np": np, **vars(ops)})


# Keras 1/2's keras.layers.core also held these; imported here last (they import this module) so that
# `from mlcore.layers.core import Masking, RepeatVector, ...` imports as in the classic tutorials.
from mlcore.layers.identity import ActivityRegularization  # noqa: E402,F401
from mlcore.layers.masking import Masking  # noqa: E402,F401
from mlcore.layers.noise import SpatialDropout1D, SpatialDropout2D, SpatialDropout3D  # noqa: E402,F401
from mlcore.layers.reshaping import RepeatVector  # noqa: E402,F401

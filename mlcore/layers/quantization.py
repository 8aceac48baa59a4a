"""What makes a layer quantizable (Keras 3's layer.quantize): Dense, EinsumDense, Embedding and
ReversibleEmbedding mix QuantizableLayer in.  quantize(mode) swaps the float kernel for an int8 one
plus its scales and sets a "<mode>_from_<policy>" dtype policy; a layer built under such a policy
(a loaded quantized model) makes the quantized weights at once, and one set on a built layer quantizes it.
The `kernel` property gives the quantized values as Keras's does (int4 unpacked).  Saved variables follow Keras's order
per mode (QUANTIZED_VARIABLES), so .keras files pass between mlcore and Keras.

mlcore.ops and mlcore.quantizers are imported where used: they import the layers package, which imports
this module."""
import numpy as np

from mlcore.graph import grad
from mlcore.layers.float8_training import build_float8_variables

INTEGER_KERNEL_MODES = ("int8", "int4", "gptq", "awq")      # the modes whose quantized_build makes the kernel


class QuantizableLayer:
    """Mixed into a layer class that defines quantize_weights(mode, config) (the quantized values, the float
    weights dropped, quantized_build called) and integer_build(kernel_shape, mode, config) (its int8/int4
    weights, empty).
    QUANTIZED_VARIABLES: for each supported mode, the attributes it saves, in Keras's order."""
    QUANTIZED_VARIABLES = {}

    @property
    def dtype_policy(self):
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value):
        """As Keras's: a quantized policy set on a built float layer quantizes it (GPTQ needs its config)."""
        from mlcore import dtype_policies
        from mlcore.layers.layer_state import LayerState
        policy = dtype_policies.get(value)
        LayerState.dtype_policy.fset(self, policy)
        mode = policy.quantization_mode
        if mode is None or not getattr(self, "built", False) or self._is_quantized:   # (also set in __init__)
            return
        if mode == "gptq":
            raise ValueError("Implicitly enabling GPTQ quantization by setting `dtype_policy` to '%s' is not "
                             "supported. GPTQ requires a calibration dataset and a `GPTQConfig` object.\n\n"
                             "Please use the `.quantize('gptq', config=...)` method on the layer or model instead."
                             % (value,))
        self.quantize(mode)

    def quantize(self, mode=None, type_check=True, config=None):
        """Quantize the built layer's weights for inference: mode "int8" (or a QuantizationConfig)."""
        from mlcore.quantizers.quantization_config import validate_and_resolve_config
        config = validate_and_resolve_config(mode, config)
        mode = config.mode
        check_quantize_args(self, mode)
        if type_check and "quantize_weights" not in vars(type(self)):
            raise not_implemented(self, "quantize")     # a subclass may add weights it would not quantize
        if mode not in self.QUANTIZED_VARIABLES:
            raise invalid_mode(self, mode)
        self.quantization_config = config
        self.quantize_weights(mode, config)
        if self.dtype_policy.quantization_mode is None:
            policy_mode = (int4_policy_mode(self, config) if mode == "int4" else
                           config.dtype_policy_string() if mode in ("gptq", "awq") else mode)
            self.dtype_policy = "%s_from_%s" % (policy_mode, self.dtype_policy.name)

    def quantized_call(self, *args, **kwargs):
        """Keras's entry to a quantized layer's computation (the layer's call computes by its mode)."""
        if self.quantization_mode not in self.QUANTIZED_VARIABLES:
            raise invalid_mode(self, self.quantization_mode)
        return self(*args, **kwargs)

    def quantized_build(self, kernel_shape, mode, config=None):
        """The quantized variables of mode as zeros and ones (quantize or a load sets them): float8's scales
        and histories beside the float kernel, or the layer's integer variables (integer_build)."""
        if mode not in self.QUANTIZED_VARIABLES:
            raise invalid_mode(self, mode)
        if mode == "float8":
            build_float8_variables(self)
        else:
            self.integer_build(kernel_shape, mode, config)
        self._is_quantized = True

    def integer_build(self, kernel_shape, mode, config):
        raise not_implemented(self, "quantized_build")

    def quantized_weight(self, stored):
        """What the `kernel` (`embeddings`) property gives of a quantized layer, as Keras's: int4 values unpacked
        to the float weight's shape (int4_values), a calibrated GPTQ/AWQ kernel's values unpacked (uint8, as
        stored, transposed), else the stored variable (int8 values, float8's and an uncalibrated layer's float
        kernel)."""
        from mlcore.layers import calibrated_kernel
        if self.quantization_mode == "int4":
            return self.int4_values()
        if self.quantization_mode in calibrated_kernel.CALIBRATED_MODES and calibrated_kernel.is_calibrated(self):
            return calibrated_kernel.unpacked_values(self)
        return stored

    def int4_values(self):
        """The int4 values (int8) of the kernel (mlcore/layers/int4_kernel.py) in the float kernel's shape."""
        from mlcore import ops
        from mlcore.layers import int4_kernel
        return ops.reshape(int4_kernel.unpacked_kernel(self), self.lora_weight_shape())

    def drop_weight(self, weight):
        """Forget a float weight that quantization replaces (Keras's `del layer._kernel`)."""
        self._weights = [w for w in self._weights if w is not weight]

    def replace_kernel(self, kernel_shape, mode, config, quantized):
        """The float kernel dropped and the mode's variables built holding `quantized`: (packed values,
        scales, zero points or None) for int4, (int8 kernel, scale) for int8."""
        from mlcore.layers import int4_kernel
        self.drop_weight(self._kernel)      # the stored kernel (`kernel` adds LoRA's update to it)
        self.quantized_build(kernel_shape, mode, config)
        if mode == "int4":
            int4_kernel.assign_int4_kernel(self, *quantized)
        else:
            kernel, scale = quantized
            self._kernel.assign(kernel)
            self.kernel_scale.assign(scale)

    def _own_variables(self):
        """The saved variables: a quantized layer's in Keras's order for its mode (the adapted weight's
        stored variable, not what its property reads)."""
        if not self._is_quantized:
            return super()._own_variables()
        variables = [getattr(self, "_" + name if name == self.LORA_WEIGHT else name, None)
                     for name in self.QUANTIZED_VARIABLES[self.quantization_mode]]
        return [variable for variable in variables if variable is not None]


def read_quantization_config(config):
    """A layer's quantization_config argument: a QuantizationConfig, its serialized dict (a saved config), or None."""
    from mlcore import quantizers
    return quantizers.deserialize(config) if isinstance(config, dict) else config


def serialize_quantization_config(config):
    from mlcore import quantizers
    return quantizers.serialize(config)


def inputs_quantizer(config, int8=True):
    """The quantizer of a layer's inputs: the config's (None: weights only); without a config, AbsMaxQuantizer()
    for int8 and none for int4, as Keras's layers choose."""
    from mlcore import quantizers
    default = quantizers.AbsMaxQuantizer() if int8 else None
    return quantizers.QuantizationConfig.activation_quantizer_or_default(config, default)


def quantize_weight(config, weight, axis, value_range=(-127, 127), keepdims=False):
    """A float weight's int8 values (in value_range) and its scales over axis (that size-1 dim dropped unless
    keepdims), by the config's weight quantizer or AbsMaxQuantizer(axis), on the host as Keras does."""
    from mlcore import quantizers
    default = quantizers.AbsMaxQuantizer(axis=axis, value_range=value_range)
    quantizer = quantizers.QuantizationConfig.weight_quantizer_or_default(config, default)
    values, scale = quantizer(_host_value(weight), to_numpy=True)
    return values, scale if keepdims else np.squeeze(scale, axis)


def quantize_int4_weight(config, weight, axis, block_size):
    """A 2-D float weight's int4 values (in int8, unpacked) over axis (0 or -1): per channel (block_size None or
    -1; (values, scales, None)) or per group of block_size entries along axis with zero points ((values, scales,
    zeros), the groups along axis), as Keras's int4 quantizes it."""
    from mlcore.quantizers import abs_max_quantize_grouped_with_zero_point
    if block_size is None or block_size == -1:
        return quantize_weight(config, weight, axis, (-8, 7)) + (None,)
    value = _host_value(weight)
    flip = axis % 2 == 1        # the grouped quantizer groups rows: quantize the transpose over columns
    quantized = abs_max_quantize_grouped_with_zero_point(value.T if flip else value, block_size, to_numpy=True)
    return tuple(np.asarray(q).T if flip else np.asarray(q) for q in quantized)


def _host_value(weight):
    return weight.get_value() if hasattr(weight, "get_value") else np.asarray(weight)


def int4_policy_mode(layer, config):
    """The mode an int4 policy names, "int4/<block size>" (-1: per channel)."""
    from mlcore.quantizers.quantization_config import int4_block_size
    block_size = int4_block_size(layer, config)
    return "int4/%d" % (-1 if block_size is None else block_size)


def invalid_mode(layer, mode):
    """Keras's error for a mode the layer does not quantize to, its modes listed in Keras's order."""
    from mlcore.dtype_policies import QUANTIZATION_MODES
    expected = tuple(m for m in QUANTIZATION_MODES if m in layer.QUANTIZED_VARIABLES)
    return NotImplementedError("Invalid quantization mode. Expected one of %s. Received: quantization_mode=%s "
                               "(layer '%s', %s)" % (expected, mode, layer.name, type(layer).__name__))


def not_implemented(layer, method):
    return NotImplementedError("Layer %s does not have a `%s` method implemented." % (type(layer).__name__, method))


def check_quantize_args(layer, mode):
    """Keras's checks before quantizing: built, not yet quantized, a known mode, not int8 in float16."""
    if not layer.built:
        raise ValueError("Cannot quantize a layer that isn't yet built. Layer '%s' (of type '%s') is not built yet."
                         % (layer.name, type(layer).__name__))
    if getattr(layer, "_is_quantized", False):
        raise ValueError("Layer '%s' is already quantized with dtype_policy='%s'. Received: mode=%s"
                         % (layer.name, layer.dtype_policy.name, mode))
    if mode == "int8" and layer.compute_dtype == "float16":
        raise ValueError("Quantization mode='%s' doesn't work well with compute_dtype='float16'. Consider loading "
                         "model/layer with another dtype policy such as 'mixed_bfloat16' or 'mixed_float16' before "
                         "calling `quantize()`." % mode)


def int8_product(product, inputs, kernel, kernel_scale, inputs_quantizer, input_axes, align_input_scale,
                 compute_dtype, scale_to_kernel=None):
    """product(inputs, kernel) (a matmul or an einsum) with an int8 kernel, exact in int32, rescaled to floats:
    the inputs are quantized too (per row along input_axes) when there is an inputs_quantizer.  The inputs'
    gradient is the float product's with the dequantized kernel, as Keras's custom gradient gives;
    scale_to_kernel lays the scales out as the kernel's dims where they are stored in the output's."""
    from mlcore import ops

    @ops.custom_gradient
    def quantized_product(x, int_kernel, scale):
        def grad_fn(upstream):
            kernel_layout_scale = scale if scale_to_kernel is None else scale_to_kernel(scale)
            float_kernel = ops.divide(ops.cast(int_kernel, compute_dtype), kernel_layout_scale)
            return _float_product_grad(product, x, float_kernel, upstream), ops.zeros_like(int_kernel), \
                ops.zeros_like(scale)

        output_scale = scale
        if inputs_quantizer:
            int_x, x_scale = inputs_quantizer(x, axis=input_axes)
            output_scale = ops.multiply(output_scale, align_input_scale(x_scale))
            out = product(ops.cast(int_x, "int32"), ops.cast(int_kernel, "int32"))
        else:       # weights only
            out = product(ops.cast(x, compute_dtype), ops.cast(int_kernel, compute_dtype))
        return ops.divide(ops.cast(out, compute_dtype), output_scale), grad_fn
    return quantized_product(inputs, kernel, kernel_scale)


def float_kernel_product(product, inputs, float_kernel, inputs_quantizer, input_axes, align_input_scale,
                         compute_dtype):
    """product(inputs, float_kernel) for a kernel dequantized from int4 (Keras's sub-channel int4, and its
    EinsumDense's): with an inputs_quantizer, the int8 inputs times the float kernel over the inputs' scales.
    The inputs' gradient is the float product's; the quantized weights get none."""
    from mlcore import ops

    @ops.custom_gradient
    def quantized_product(x, kernel):
        def grad_fn(upstream):
            return _float_product_grad(product, x, kernel, upstream), ops.zeros_like(kernel)

        if not inputs_quantizer:
            return product(x, kernel), grad_fn
        int_x, x_scale = inputs_quantizer(x, axis=input_axes)
        out = ops.cast(product(ops.cast(int_x, compute_dtype), kernel), compute_dtype)
        return ops.divide(out, align_input_scale(x_scale)), grad_fn
    return quantized_product(inputs, float_kernel)


def _float_product_grad(product, x, float_kernel, upstream):
    """The gradient of product(x, float_kernel) with respect to x, given the output's."""
    from mlcore import ops
    return grad(ops.sum(ops.multiply(product(x, float_kernel), upstream)), x)

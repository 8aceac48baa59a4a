"""float8 training (Keras 3's quantize("float8") for Dense and EinsumDense): the kernel stays a float32
variable, but the product reads the inputs and the kernel rounded to float8_e4m3fn, and its gradient
flows back rounded to float8_e5m2, each scaled by delayed scaling (NVIDIA Transformer Engine's rule).

Each of the three tensors has a scale and a history of its last amax_history_length abs-maxima.  They are
trainable variables marked overwrite_with_gradient: the custom gradients below give each its *next value*
as its gradient, and the optimizer assigns that instead of stepping (mlcore/optimizers/base.py).  Outside
training their gradients are their current values, so the overwrite keeps them.

mlcore.ops and mlcore.quantizers are imported where used: they import the layers package, which imports
this module."""
import ml_dtypes

FLOAT8_VARIABLES = ["kernel", "bias", "inputs_scale", "inputs_amax_history", "kernel_scale", "kernel_amax_history",
                    "outputs_grad_scale", "outputs_grad_amax_history"]
FORWARD_DTYPE, BACKWARD_DTYPE = "float8_e4m3fn", "float8_e5m2"


def build_float8_variables(layer):
    """The scale (1.0) and amax history (zeros) of the inputs, the kernel and the outputs' gradient, all
    float32 whatever the policy; the history's length is the policy's amax_history_length (1024 by default)."""
    from mlcore.dtype_policies import QuantizedFloat8DTypePolicy
    length = getattr(layer.dtype_policy, "amax_history_length", QuantizedFloat8DTypePolicy.default_amax_history_length)
    for prefix in ("inputs", "kernel", "outputs_grad"):
        for suffix, shape, initializer in (("scale", (), "ones"), ("amax_history", (length,), "zeros")):
            name = "%s_%s" % (prefix, suffix)
            setattr(layer, name, layer.add_weight(shape, initializer, dtype="float32", autocast=False,
                                                  overwrite_with_gradient=True, name=name))


def float8_product(layer, product, inputs, training):
    """product(inputs, kernel) with both operands rounded through float8_e4m3fn and the output's gradient
    through float8_e5m2; in training, the gradients of the scales and histories are their next values.
    LoRA's factors are not rounded through float8: Keras 3.15 refuses them here too."""
    if layer.lora_enabled:
        raise NotImplementedError("Layer '%s' (%s): float8 training does not support LoRA; quantize to int8 or "
                                  "int4 instead" % (layer.name, type(layer).__name__))
    x = _scaled_float8(inputs, layer.inputs_scale, layer.inputs_amax_history, layer.compute_dtype, training)
    kernel = _scaled_float8(layer.kernel, layer.kernel_scale, layer.kernel_amax_history, layer.compute_dtype,
                            training)
    return _float8_output_gradient(product(x, kernel), layer.outputs_grad_scale, layer.outputs_grad_amax_history,
                                   layer.compute_dtype)


def float8_bias(layer):
    """The bias a float8 layer adds: under a float32 policy, rounded through bfloat16 as Keras's does (so that
    XLA fuses the add into the float8 matmul on a GPU)."""
    from mlcore import ops
    if layer.bias is None or layer.dtype_policy.compute_dtype != "float32":
        return layer.bias
    return ops.cast(ops.cast(layer.bias, "bfloat16"), layer.bias.dtype)


def _next_scale(amax_history, scale, dtype):
    from mlcore import ops, quantizers
    return quantizers.compute_float8_scale(ops.max(amax_history, axis=0), scale,
                                           ops.cast(float(ml_dtypes.finfo(dtype).max), "float32"))


def _scaled_float8(value, scale, amax_history, compute_dtype, training):
    from mlcore import ops, quantizers
    @ops.custom_gradient
    def quantize_dequantize(x, scale, amax_history):
        def grad(upstream):
            if not training:        # their "gradients" overwrite them: keep the values
                return upstream, scale, amax_history
            return upstream, _next_scale(amax_history, scale, FORWARD_DTYPE), \
                quantizers.compute_float8_amax_history(x, amax_history)
        return quantizers.quantize_and_dequantize(x, scale, FORWARD_DTYPE, compute_dtype), grad
    return quantize_dequantize(value, scale, amax_history)


def _float8_output_gradient(value, scale, amax_history, compute_dtype):
    from mlcore import ops, quantizers
    @ops.custom_gradient
    def quantize_dequantize_gradient(x, scale, amax_history):
        def grad(upstream):
            return quantizers.quantize_and_dequantize(upstream, scale, BACKWARD_DTYPE, compute_dtype), \
                _next_scale(amax_history, scale, BACKWARD_DTYPE), \
                quantizers.compute_float8_amax_history(upstream, amax_history)
        return x, grad
    return quantize_dequantize_gradient(value, scale, amax_history)

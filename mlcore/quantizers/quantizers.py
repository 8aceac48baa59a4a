"""The quantizers' math (keras.quantizers): abs-max int8/int4 quantization of weights and
activations, fake quantization for quantization-aware training, and the float8 scaling
helpers.  Each function is written with keras.ops, so it builds graph nodes on symbolic tensors
and runs at once on arrays, giving the numbers Keras's functions give."""
import numpy as np

from mlcore import config, ops


class Quantizer:
    """The base class: quantizer(x) gives the quantized x (here x itself)."""

    def __init__(self, output_dtype="int8"):
        self.output_dtype = output_dtype

    def __call__(self, x):
        return x

    @classmethod
    def from_config(cls, config_):
        return cls(**config_)

    def get_config(self):
        raise NotImplementedError("%s does not implement get_config()" % (self,))


def abs_max_quantize(inputs, axis, value_range=(-127, 127), dtype="int8", epsilon=config.epsilon(),
                     to_numpy=False):
    """(round(inputs * scale) clipped to value_range, in dtype; scale), with scale = value_range's top over
    |inputs|'s maximum along axis (kept as a size-1 dim).  to_numpy: on the host, as numpy arrays (Keras
    does it to save device memory; mlcore's eager ops give numpy arrays either way)."""
    if to_numpy:
        inputs = ops.convert_to_numpy(inputs)
        axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    inputs = ops.convert_to_tensor(inputs)
    scale = ops.divide(value_range[1], ops.add(ops.max(ops.abs(inputs), axis=axis, keepdims=True), epsilon))
    scale = ops.cast(scale, ops.dtype(inputs))
    outputs = ops.clip(ops.round(ops.multiply(inputs, scale)), value_range[0], value_range[1])
    return ops.cast(outputs, dtype), scale


class AbsMaxQuantizer(Quantizer):
    """abs_max_quantize as an object, the default quantizer of weights and activations.  axis is
    Keras's deprecated constructor argument; give it to __call__ (default -1)."""

    def __init__(self, axis=None, value_range=(-127, 127), epsilon=config.epsilon(), output_dtype="int8"):
        Quantizer.__init__(self, output_dtype=output_dtype)
        self.axis = None if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
        self.value_range = value_range
        self.epsilon = epsilon
        if output_dtype == "int8" and (value_range[0] < -128 or value_range[1] > 127):
            raise ValueError("Quantizer with output_dtype='int8' requires value_range to be within the interval "
                             "[-128, 127]. Received: value_range=%s" % (value_range,))

    def __call__(self, x, axis=None, to_numpy=False):
        axis = self.axis if axis is None else axis
        return abs_max_quantize(x, -1 if axis is None else axis, self.value_range, self.output_dtype, self.epsilon,
                                to_numpy)

    def get_config(self):
        config_ = {"value_range": self.value_range, "epsilon": self.epsilon, "output_dtype": self.output_dtype}
        if self.axis is not None:
            config_["axis"] = self.axis
        return config_


def _nudged_range(min_range, max_range, num_bits, narrow_range):
    """TensorFlow's fake-quant range: [min, max] moved so that 0.0 is exactly a quantization step, with
    that step (scale) and its inverse, computed in float32 at least."""
    dtype = "float64" if "float64" in (ops.dtype(min_range), ops.dtype(max_range)) else "float32"
    min_range, max_range = ops.cast(min_range, dtype), ops.cast(max_range, dtype)
    quant_max = (1 << num_bits) - 1
    quant_min = 1 if narrow_range else 0
    span = ops.subtract(max_range, min_range)
    scale = ops.divide(span, quant_max - quant_min)
    inv_scale = ops.divide(quant_max - quant_min, span)
    zero_point = ops.round(ops.clip(quant_min - ops.divide(min_range, scale), quant_min, quant_max))
    return (ops.multiply(ops.subtract(quant_min, zero_point), scale),
            ops.multiply(ops.subtract(quant_max, zero_point), scale), scale, inv_scale)


def fake_quant_with_min_max_vars(inputs, min_vals, max_vals, num_bits=8, narrow_range=False, axis=None):
    """inputs clamped to [min_vals, max_vals] (per tensor, or per channel along axis), quantized to
    num_bits and dequantized back; its gradient passes straight through inside the range and goes to
    min_vals / max_vals outside it, so the range can be trained."""
    # python numbers as float32 arrays, as Keras converts them; values stay values (run at once)
    min_vals, max_vals = (np.float32(v) if isinstance(v, (int, float)) else v for v in (min_vals, max_vals))
    num_bits = int(num_bits)
    ndim = len(ops.shape(inputs))
    axis = None if axis is None else axis % ndim

    @ops.custom_gradient
    def fake_quant(x, min_val, max_val):
        nudged_min, nudged_max, scale, inv_scale = _nudged_range(min_val, max_val, num_bits, narrow_range)
        quant_zero = ops.floor(ops.add(ops.multiply(-nudged_min, inv_scale), 0.5))
        shifted = ops.subtract(ops.clip(ops.cast(x, ops.dtype(nudged_min)), nudged_min, nudged_max), nudged_min)
        steps = ops.floor(ops.add(ops.subtract(ops.multiply(shifted, inv_scale), quant_zero), 0.5))
        result = ops.cast(ops.multiply(steps, scale), ops.dtype(x))
        inside = ops.logical_and(ops.greater_equal(x, nudged_min), ops.less_equal(x, nudged_max))

        def grad(upstream):
            others = [i for i in range(ndim) if i != axis]

            def bound_grad(mask, bound):
                g = ops.where(mask, upstream, ops.zeros_like(upstream))
                g = ops.sum(g, axis=others) if axis is not None else ops.sum(g)
                return ops.reshape(g, ops.shape(bound))
            return (ops.where(inside, upstream, ops.zeros_like(upstream)),
                    bound_grad(ops.less_equal(x, nudged_min), min_val),
                    bound_grad(ops.greater_equal(x, nudged_max), max_val))
        return result, grad

    return fake_quant(inputs, min_vals, max_vals)


# --- float8 -------------------------------------------------------------------------------------
def compute_float8_scale(amax, scale, dtype_max, margin=0):
    """The next delayed-scaling factor (NVIDIA Transformer Engine's rule): amax / dtype_max * 2**margin,
    or the current scale where amax is 0 or not finite."""
    scale = ops.reciprocal(scale)
    new = ops.divide(ops.divide(dtype_max, amax), 2 ** margin)
    new = ops.where(ops.greater(amax, 0.0), new, scale)
    new = ops.where(ops.isfinite(amax), new, scale)
    return ops.reciprocal(new)


def compute_float8_amax_history(x, amax_history):
    """The amax history rolled one step, max(|x|) as its first entry."""
    amax = ops.cast(ops.max(ops.abs(x)), ops.dtype(amax_history))
    return ops.scatter_update(ops.roll(amax_history, shift=-1), [[0]], ops.reshape(amax, [1]))


def quantize_and_dequantize(inputs, scale, quantized_dtype, compute_dtype):
    """inputs / scale clipped to quantized_dtype's range, rounded to it (float8_e4m3fn...), times scale."""
    import ml_dtypes
    dtype_max = ops.cast(float(ml_dtypes.finfo(quantized_dtype).max), compute_dtype)
    x = ops.divide(inputs, ops.cast(scale, compute_dtype))
    x = ops.cast(ops.clip(x, -dtype_max, dtype_max), quantized_dtype)
    return ops.multiply(ops.cast(x, compute_dtype), ops.cast(scale, compute_dtype))


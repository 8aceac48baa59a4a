"""EinsumDense, Keras 3's dense layer of any rank: activation(einsum(equation, inputs, kernel) + bias),
the kernel's and the bias's shapes read off the equation.  MultiHeadAttention's four projections are
EinsumDense layers, so that their weights have Keras's shapes ((dim, heads, key_dim) for the query).
quantize("int8") keeps scales laid out as the output (mlcore/layers/einsum_quantization.py); quantize("int4")
flattens the kernel to (summed dims, other dims) and packs it (mlcore/layers/int4_kernel.py); quantize("float8")
trains through float8 casts (mlcore/layers/float8_training.py); lora_rank= or enable_lora(rank) fine-tunes a
low-rank update of the frozen kernel (mlcore/layers/lora.py)."""
import re

from mlcore import activations, initializers
from mlcore.graph import ops
from mlcore.layers import calibrated_kernel, einsum_quantization as layout_of, int4_kernel
from mlcore.layers.base import KernelBiasOptions, Layer
from mlcore.layers.float8_training import FLOAT8_VARIABLES, float8_bias, float8_product
from mlcore.layers.lora import LoraLayer, adapted_weight
from mlcore.layers.quantization import (INTEGER_KERNEL_MODES, QuantizableLayer, float_kernel_product, inputs_quantizer, int8_product,
                                       quantize_weight, read_quantization_config, serialize_quantization_config)

# Keras's three forms: "ab,bc->ac", "...b,bc->...c" (dims on the left elided), "ab...,bc->ac..." (on the right)
_FORMS = ((re.compile(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$"), None),
          (re.compile(r"\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+)$"), "left"),
          (re.compile(r"([a-zA-Z]{2,})\.\.\.,([a-zA-Z]+)->([a-zA-Z]+)\.\.\.$"), "right"))


class EinsumDense(LoraLayer, QuantizableLayer, KernelBiasOptions, Layer):
    """equation: "ab,bc->ac" and the like, the input first, the kernel second; output_shape: the output's
    dims after the batch dim (and after or before those "..." stands for), None where the input gives
    them; bias_axes: the output letters the bias spans (None: no bias)."""
    rowwise = True
    kernel = adapted_weight("kernel")
    QUANTIZED_VARIABLES = {"int8": ["kernel", "bias", "kernel_scale"],
                           "int4": ["kernel", "bias", "kernel_scale", "kernel_zero", "g_idx"],
                           "float8": FLOAT8_VARIABLES,
                           "gptq": ["bias", "quantized_kernel", "kernel_scale", "kernel_zero", "g_idx"],
                           "awq": ["bias", "quantized_kernel", "kernel_scale", "kernel_zero", "awq_scales", "g_idx"]}

    def __init__(self, equation, output_shape, activation=None, bias_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, lora_rank=None, lora_alpha=None, gptq_unpacked_column_size=None,
                 quantization_config=None, activity_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.set_lora_arguments(lora_rank, lora_alpha)
        self.quantization_config = read_quantization_config(quantization_config)
        self.gptq_unpacked_column_size = gptq_unpacked_column_size     # Keras's record of a GPTQ kernel's columns
        self.equation = equation
        self.partial_output_shape = (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.use_bias = bias_axes is not None
        self.set_kernel_bias_options({}, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                                     activity_regularizer, kernel_constraint, bias_constraint)

    def build(self, input_shape):
        kernel_shape, bias_shape, _, input_axes, output_axes = self._analyze(input_shape)
        initializer = self.kernel_initializer
        if isinstance(initializer, initializers.VarianceScaling) and None in (initializer.input_axes,
                                                                               initializer.output_axes):
            # Keras's fans for a kernel of any rank: the dims the input sums over, and the output's
            initializer = type(initializer).from_config(dict(initializer.get_config(), input_axes=input_axes,
                                                             output_axes=output_axes))
        self.input_ndim = len(input_shape)
        if self.quantization_mode:
            self.quantized_build(kernel_shape, self.quantization_mode, self.quantization_config)
        if self.quantization_mode not in INTEGER_KERNEL_MODES:
            self.kernel = self.add_weight(kernel_shape, initializer, regularizer=self.kernel_regularizer,
                                          constraint=self.kernel_constraint, name="kernel")
        self.bias = None if bias_shape is None else self.add_weight(
            bias_shape, self.bias_initializer, regularizer=self.bias_regularizer, constraint=self.bias_constraint,
            name="bias")
        self.built = True
        self.enable_lora_argument()

    def integer_build(self, kernel_shape, mode, config):
        """The int8/int4 kernel and its scales, laid out by the equation, or the GPTQ/AWQ kernel and its
        scales, as zeros and ones."""
        if mode in calibrated_kernel.CALIBRATED_MODES:
            calibrated_kernel.build_calibrated_kernel(self, kernel_shape, mode, config, zero_name="zero_point")
            if mode == "gptq":
                self.gptq_unpacked_column_size = calibrated_kernel.matrix_shape(self, kernel_shape)[1]
            return
        self._layout = layout_of.quantization_layout(self.equation, self.input_ndim)
        self._kernel_shape = tuple(kernel_shape)
        self.inputs_quantizer = inputs_quantizer(config, int8=mode == "int8")
        if mode == "int4":
            rows, columns = layout_of.int4_matrix_shape(kernel_shape, self._layout.kernel)
            int4_kernel.build_int4_kernel(self, rows, columns, config)
        else:
            layout_of.scale_shape([None] * self.input_ndim, self._layout.inputs, self)     # checks it
            scale_shape = layout_of.scale_shape(kernel_shape, self._layout.kernel, self)
            self.kernel = self.add_weight(kernel_shape, "zeros", dtype="int8", trainable=False, name="kernel")
            self.kernel_scale = self.add_weight(scale_shape, "ones", trainable=False, name="kernel_scale")

    def quantize_weights(self, mode, config):
        """The stored kernel quantized (LoRA's factors stay apart from it, as in Keras)."""
        kernel_shape = self._kernel.shape
        if mode == "float8":        # the float kernel stays
            return self.quantized_build(kernel_shape, mode, config)
        if mode in calibrated_kernel.CALIBRATED_MODES:     # the float kernel stays until calibration
            float_kernel = self._kernel
            self.quantized_build(kernel_shape, mode, config)
            return calibrated_kernel.keep_float_kernel(self, float_kernel)
        if mode == "int8":
            layout_of.scale_shape(kernel_shape, self._kernel_layout(), self)      # fails before any change
        quantized = self._quantized_values(mode, config, self._kernel.get_value(), config)
        self.replace_kernel(kernel_shape, mode, config, quantized)

    def _kernel_layout(self):
        return layout_of.quantization_layout(self.equation, self.input_ndim).kernel

    def _quantized_values(self, mode, config, kernel, weight_config):
        """(int8 values, scale laid out as the output) or (packed int4 values, scale, zero or None) of a float
        kernel (numpy); Keras quantizes int4 the flat kernel per column with its default quantizer."""
        layout = self._kernel_layout()
        if mode == "int4":
            flat = kernel.reshape(layout_of.int4_matrix_shape(kernel.shape, layout))
            return int4_kernel.int4_kernel_values(self, config, flat)
        values, scale = quantize_weight(weight_config, kernel, layout.reduced, keepdims=True)
        return values, layout_of.to_output_layout(scale, layout)

    # --- LoRA (mlcore/layers/lora.py) ---
    def lora_weight_shape(self):
        return self._kernel_shape if self.quantization_mode == "int4" else self._kernel.shape

    def lora_input_product(self, inputs, factor_a):
        return self._einsum(inputs, factor_a)

    def dequantized_weight(self):
        if self.quantization_mode == "int4":
            return ops.reshape(int4_kernel.dequantized_kernel(self), self._kernel_shape)
        return ops.cast(self._kernel, self.compute_dtype) / layout_of.to_kernel_layout(self.kernel_scale,
                                                                                        self._layout.kernel)

    def requantized(self, kernel):
        """Keras re-quantizes a merged kernel with the default quantizers, whatever the layer's config."""
        return self._quantized_values(self.quantization_mode, self.quantization_config, kernel, None)

    def _analyze(self, input_shape):
        """(kernel shape, bias shape or None, full output shape, kernel's input axes, kernel's output axes)
        for inputs of input_shape, as Keras's EinsumDense reads its equation."""
        input_shape = tuple(input_shape)
        for pattern, elided_side in _FORMS:
            match = pattern.match(self.equation)
            if match:
                break
        else:
            raise ValueError("EinsumDense '%s': invalid einsum equation '%s'. Equations must be in the form "
                             "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...." % (self.name, self.equation))
        input_spec, kernel_spec, output_spec = match.groups()
        elided = len(input_shape) - len(input_spec)
        if elided < 0 or (elided and elided_side is None):
            raise ValueError("EinsumDense '%s': the equation '%s' names %d input dims; the input has shape %s"
                             % (self.name, self.equation, len(input_spec), input_shape))
        if elided_side == "left":       # "..." is the batch dim and the ones after it
            offset, tail = elided, []
            output_shape = list(input_shape[:elided]) + list(self.partial_output_shape)
        else:                           # the first letter is the batch dim
            offset, tail = 0, list(input_shape[len(input_shape) - elided:])
            output_shape = [input_shape[0]] + list(self.partial_output_shape) + tail
        if len(output_shape) - offset - len(tail) != len(output_spec):
            raise ValueError("EinsumDense '%s': output_shape %s does not fit the output '%s' of '%s'"
                             % (self.name, self.partial_output_shape, output_spec, self.equation))
        input_dims = dict(zip(input_spec, input_shape[elided:] if elided_side == "left" else input_shape))
        output_dims = dict(zip(output_spec, output_shape[offset:]))
        for letter in set(input_spec) & set(output_spec):
            if None not in (input_dims[letter], output_dims[letter]) and input_dims[letter] != output_dims[letter]:
                raise ValueError("EinsumDense '%s': input shape %s and output_shape %s differ at the shared dim "
                                 "'%s' of '%s'" % (self.name, input_shape, self.partial_output_shape, letter,
                                                   self.equation))
        unknown = [c for c in output_spec if c not in input_spec + kernel_spec] + \
            [c for c in kernel_spec if c not in input_spec + output_spec]
        if unknown:
            raise ValueError("EinsumDense '%s': dim '%s' of '%s' must be in the kernel and the input or output"
                             % (self.name, unknown[0], self.equation))
        kernel_shape = [output_dims[c] if c in output_dims else input_dims[c] for c in kernel_spec]
        if None in kernel_shape:
            raise ValueError("EinsumDense '%s': the kernel's shape %s of '%s' must be known; input shape %s, "
                             "output_shape %s" % (self.name, kernel_shape, self.equation, input_shape,
                                                  self.partial_output_shape))
        input_axes = [i for i, c in enumerate(kernel_spec) if c not in output_dims]
        output_axes = [i for i, c in enumerate(kernel_spec) if c in output_dims]
        output_shape[offset:offset + len(output_spec)] = [input_dims.get(c) if output_dims[c] is None else
                                                          output_dims[c] for c in output_spec]
        return kernel_shape, self._bias_shape(output_spec, output_dims, len(tail)), output_shape, input_axes, \
            output_axes

    def _bias_shape(self, output_spec, output_dims, elided_right):
        """The bias spans the output's dims from its first bias letter on, 1 where a dim is not a bias axis."""
        if self.bias_axes is None:
            return None
        stray = [c for c in self.bias_axes if c not in output_spec]
        if stray:
            raise ValueError("EinsumDense '%s': bias dimension '%s' was requested, but is not part of the output "
                             "spec '%s'" % (self.name, stray[0], output_spec))
        first = min(output_spec.index(c) for c in self.bias_axes)
        shape = [output_dims[c] if c in self.bias_axes else 1 for c in output_spec[first:]] + [1] * elided_right
        if None in shape:
            raise ValueError("EinsumDense '%s': the bias's shape %s over '%s' must be known; give its sizes in "
                             "output_shape (got %s)" % (self.name, shape, self.bias_axes, self.partial_output_shape))
        return shape

    def compute_output_shape(self, input_shape):
        return tuple(self._analyze(input_shape)[2])

    def call(self, inputs, training=None):
        if inputs.ndim != self.input_ndim:
            raise ValueError("EinsumDense '%s' was built for %d-d inputs ('%s'); got shape %s"
                             % (self.name, self.input_ndim, self.equation, inputs.type.shape))
        if self.quantization_mode == "float8":
            return self.bias_and_activation(float8_product(self, self._einsum, inputs, training), float8_bias(self))
        if self.quantization_mode in calibrated_kernel.CALIBRATED_MODES:
            return self.bias_and_activation(self._einsum(inputs, calibrated_kernel.calibrated_or_float_kernel(self)))
        if self._is_quantized:
            return self.bias_and_activation(self.plus_lora_output(inputs, self._quantized_einsum(inputs)))
        return self.bias_and_activation(self._einsum(inputs, self.kernel))

    def _einsum(self, inputs, kernel):
        return ops.einsum(self.equation, inputs, kernel)

    def _quantized_einsum(self, inputs):
        """The einsum with the int8 kernel (exact in int32 when the inputs are quantized too) or with the float
        kernel dequantized from int4, the inputs quantized over the summed dims, scales aligned to the output."""
        def align_input_scale(scale):
            return layout_of.to_output_layout(scale, self._layout.inputs)
        input_axes = tuple(self._layout.inputs.reduced)
        if self.quantization_mode == "int8":
            return int8_product(self._einsum, inputs, self._kernel, self.kernel_scale, self.inputs_quantizer, input_axes,
                                align_input_scale, self.compute_dtype,
                                lambda scale: layout_of.to_kernel_layout(scale, self._layout.kernel))
        kernel = ops.reshape(int4_kernel.dequantized_kernel(self), self._kernel_shape)
        quantizer = None if self._int4_block_size is not None else self.inputs_quantizer     # per group: weights only
        return float_kernel_product(self._einsum, inputs, kernel, quantizer, input_axes, align_input_scale,
                                    self.compute_dtype)

    def get_config(self):
        config = {**super().get_config(), "output_shape": self.partial_output_shape, "equation": self.equation,
                  "activation": activations.serialize(self.activation), "bias_axes": self.bias_axes,
                  **self.kernel_bias_config(),
                  "quantization_config": serialize_quantization_config(self.quantization_config),
                  **self.lora_config()}
        if self.gptq_unpacked_column_size:
            config["gptq_unpacked_column_size"] = self.gptq_unpacked_column_size
        return config

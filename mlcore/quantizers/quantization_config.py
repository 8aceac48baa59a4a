"""Quantization configs (keras.quantizers.Int8QuantizationConfig...): which quantizers a layer's
quantize() uses for its weights and its activations, resolved from model.quantize(mode, config)."""
from mlcore.dtype_policies import QUANTIZATION_MODES


def _serialize(obj):
    from mlcore.quantizers import serialize
    return serialize(obj)


def _deserialize(config):
    from mlcore.quantizers import deserialize
    return None if config is None else deserialize(config)


class QuantizationConfig:
    """The base class: a weight quantizer and an activation quantizer (None: the layer's defaults)."""

    def __init__(self, weight_quantizer=None, activation_quantizer=None):
        self.weight_quantizer = weight_quantizer
        self.activation_quantizer = activation_quantizer

    @property
    def mode(self):
        raise NotImplementedError("Subclasses must implement this property. Do not instantiate "
                                  "QuantizationConfig directly.")

    def get_config(self):
        return {"weight_quantizer": _serialize(self.weight_quantizer),
                "activation_quantizer": _serialize(self.activation_quantizer)}

    @classmethod
    def from_config(cls, config):
        return cls(weight_quantizer=_deserialize(config.get("weight_quantizer")),
                   activation_quantizer=_deserialize(config.get("activation_quantizer")))

    @staticmethod
    def weight_quantizer_or_default(config, default):
        if config is not None and config.weight_quantizer is not None:
            return config.weight_quantizer
        return default

    @staticmethod
    def activation_quantizer_or_default(config, default):
        """A config's activation quantizer, None included (weight-only quantization); default without one."""
        return default if config is None else config.activation_quantizer


class Int8QuantizationConfig(QuantizationConfig):
    """activation_quantizer="default": AbsMaxQuantizer() over the last axis; None: weights only."""

    def __init__(self, weight_quantizer=None, activation_quantizer="default"):
        from mlcore.quantizers.quantizers import AbsMaxQuantizer
        if activation_quantizer == "default":
            activation_quantizer = AbsMaxQuantizer()
        super().__init__(weight_quantizer, activation_quantizer)
        if weight_quantizer is not None and weight_quantizer.output_dtype != "int8":
            raise ValueError("Int8QuantizationConfig requires a weight_quantizer with output_dtype='int8'. "
                             "Received: output_dtype=%s" % (weight_quantizer.output_dtype,))

    @property
    def mode(self):
        return "int8"


class Int4QuantizationConfig(QuantizationConfig):
    """block_size: input rows per group of sub-channel quantization; None or -1: one scale per output
    channel.  The activations are not quantized unless an activation_quantizer is given."""

    def __init__(self, weight_quantizer=None, activation_quantizer="default", block_size=128):
        if activation_quantizer == "default":
            activation_quantizer = None
        super().__init__(weight_quantizer, activation_quantizer)
        if block_size is not None and block_size != -1 and block_size <= 0:
            raise ValueError("block_size must be None, -1, or a positive integer. Received: block_size=%s"
                             % (block_size,))
        self.block_size = block_size
        if block_size is not None and block_size > 0 and (weight_quantizer is not None or
                                                          activation_quantizer is not None):
            raise ValueError("Int4 sub-channel quantization (block_size > 0) does not support custom quantizers. "
                             "Either set block_size to None or -1 for per-channel quantization, or remove the "
                             "custom quantizer arguments. Received: block_size=%s" % (block_size,))
        if weight_quantizer is not None:
            if tuple(weight_quantizer.value_range) != (-8, 7):
                raise ValueError("Int4QuantizationConfig requires a weight_quantizer with value_range=(-8, 7). "
                                 "Received: value_range=%s" % (weight_quantizer.value_range,))
            if weight_quantizer.output_dtype != "int8":
                raise ValueError("Int4QuantizationConfig requires a weight_quantizer with output_dtype='int8'. "
                                 "Received: output_dtype=%s" % (weight_quantizer.output_dtype,))

    @property
    def mode(self):
        return "int4"

    def get_config(self):
        return {**super().get_config(), "block_size": self.block_size}

    @classmethod
    def from_config(cls, config):
        return cls(weight_quantizer=_deserialize(config.get("weight_quantizer")),
                   activation_quantizer=_deserialize(config.get("activation_quantizer")),
                   block_size=config.get("block_size"))


class Float8QuantizationConfig(QuantizationConfig):
    """float8 training takes no custom quantizers: the config only names the mode."""

    def __init__(self):
        super().__init__(None, None)

    @property
    def mode(self):
        return "float8"

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls()


DEFAULT_CONFIGS = {"int8": Int8QuantizationConfig, "int4": Int4QuantizationConfig,
                   "float8": Float8QuantizationConfig}


def validate_and_resolve_config(mode, config):
    """The config quantize() runs with: the mode's default one, or the given one checked against mode."""
    if isinstance(config, str):
        mode, config = config, None
    _validate_mode(mode)
    if config is None:
        if mode in ("gptq", "awq"):
            raise ValueError("For %s, you must pass a%s `%sConfig` object in the `config` argument."
                             % (mode.upper(), "n" if mode == "awq" else "", mode.upper()))
        if mode is None:
            raise ValueError("You must provide either `mode` or `config` to `quantize`.")
        config = DEFAULT_CONFIGS[mode]()
    elif not isinstance(config, QuantizationConfig):
        raise ValueError("Argument `config` must be an instance of `QuantizationConfig`. Received: config=%r "
                         "(of type %s)" % (config, type(config)))
    if mode is not None and config.mode != mode:
        raise ValueError("Contradictory arguments: mode='%s' but config.mode='%s'" % (mode, config.mode))
    _validate_mode(config.mode)
    return config


def _validate_mode(mode):
    if mode is not None and mode not in QUANTIZATION_MODES:
        raise ValueError("Invalid quantization mode. Expected one of %s. Received: mode=%s"
                         % (QUANTIZATION_MODES, mode))


def int4_block_size(layer, config):
    """The int4 block size a layer quantizes or loads with: its config's, else its policy's; None: per channel."""
    from mlcore.dtype_policies import Int4DTypePolicy
    if isinstance(config, Int4QuantizationConfig):
        return config.block_size
    if isinstance(layer.dtype_policy, Int4DTypePolicy):
        return None if layer.dtype_policy.block_size == -1 else layer.dtype_policy.block_size
    return None

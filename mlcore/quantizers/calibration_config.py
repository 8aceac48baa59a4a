"""GPTQConfig and AWQConfig (keras.quantizers): the settings of the quantization modes that calibrate on
data.  model.quantize("gptq" or "awq", config=...) runs the calibration samples (the dataset, tokenized)
through the model block by block (mlcore/quantizers/calibration.py) and quantizes each Dense and
EinsumDense of a block from the statistics of its inputs.

The dataset, the tokenizer and the layer structure are needed once, to calibrate: a saved config holds None
for them (Keras 3.15 saves the dataset and tokenizer as None too, and fails on the structure's layers)."""
from mlcore.quantizers.quantization_config import QuantizationConfig


class CalibrationConfig(QuantizationConfig):
    """What GPTQ and AWQ share: the calibration data and how much of it, the bits and the group size.
    quantization_layer_structure: {"pre_block_layers": [...], "sequential_blocks": [...]}, or None for the
    model's get_quantization_layer_structure(mode)."""
    _bits_error = None      # the message for unsupported weight_bits, with %s for them
    _config_keys = ()       # get_config's keys, in Keras's order

    def __init__(self, dataset, tokenizer, weight_bits, num_samples, sequence_length, group_size,
                 quantization_layer_structure):
        super().__init__()
        self._check(weight_bits, num_samples, sequence_length, group_size)
        self.dataset = dataset
        self.tokenizer = tokenizer
        self.weight_bits = weight_bits
        self.num_samples = num_samples
        self.sequence_length = sequence_length
        self.group_size = group_size
        self.quantization_layer_structure = quantization_layer_structure

    def _check(self, weight_bits, num_samples, sequence_length, group_size):
        if weight_bits not in self.supported_bits:
            raise ValueError(self._bits_error % (weight_bits,))
        if num_samples <= 0:
            raise ValueError("num_samples must be a positive integer.")
        if sequence_length <= 0:
            raise ValueError("sequence_length must be a positive integer.")
        if group_size < -1 or group_size == 0:
            raise ValueError("Invalid group_size. Supported values are -1 (%s) or a positive integer, but got %s."
                             % (self._per_channel_words, group_size))

    def dtype_policy_string(self):
        """The mode part of the layers' policy names: "gptq/4/128"."""
        return "%s/%d/%d" % (self.mode, self.weight_bits, self.group_size)

    def get_config(self):
        """The _config_keys in Keras's order, the calibration-only ones as None."""
        return {key: None if key in ("dataset", "tokenizer", "quantization_layer_structure") else getattr(self, key)
                for key in self._config_keys}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class GPTQConfig(CalibrationConfig):
    """GPTQ (Frantar et al. 2022): each layer's weights quantized one input row at a time, the rounding error
    pushed onto the rows not yet quantized through the inverse Hessian of the layer's inputs.
    hessian_damping: the fraction of the Hessian's mean diagonal added to it; symmetric: a range centred
    on zero; activation_order: quantize the rows with the largest Hessian diagonal first; per_channel:
    a scale per output channel (else one for the whole tensor)."""
    supported_bits = (2, 3, 4, 8)
    _bits_error = "Unsupported weight_bits %s. Supported values are 2, 3, 4, and 8."
    _per_channel_words = "whole-tensor"
    _config_keys = ("dataset", "tokenizer", "weight_bits", "num_samples", "per_channel", "sequence_length",
                    "hessian_damping", "group_size", "symmetric", "activation_order", "quantization_layer_structure")

    def __init__(self, dataset, tokenizer, *, weight_bits=4, num_samples=128, per_channel=True, sequence_length=512,
                 hessian_damping=0.01, group_size=128, symmetric=False, activation_order=False,
                 quantization_layer_structure=None):
        super().__init__(dataset, tokenizer, weight_bits, num_samples, sequence_length, group_size,
                         quantization_layer_structure)
        if hessian_damping < 0 or hessian_damping > 1:
            raise ValueError("hessian_damping must be between 0 and 1.")
        self.per_channel = per_channel
        self.hessian_damping = hessian_damping
        self.symmetric = symmetric
        self.activation_order = activation_order

    @property
    def mode(self):
        return "gptq"



class AWQConfig(CalibrationConfig):
    """AWQ (Lin et al. 2023): each input channel's weights scaled up by a power of the channel's largest
    activation before 4-bit quantization (and the scale divided out after), the power picked among
    num_grid_points + 1 values in [0, 1] by the activation-weighted error."""
    supported_bits = (4,)
    _bits_error = "AWQ only supports 4-bit quantization. Received weight_bits=%s."
    _per_channel_words = "per-channel"
    _config_keys = ("dataset", "tokenizer", "weight_bits", "num_samples", "sequence_length", "group_size",
                    "num_grid_points", "quantization_layer_structure")

    def __init__(self, dataset, tokenizer, *, weight_bits=4, num_samples=128, sequence_length=512, group_size=128,
                 num_grid_points=20, quantization_layer_structure=None):
        super().__init__(dataset, tokenizer, weight_bits, num_samples, sequence_length, group_size,
                         quantization_layer_structure)
        if num_grid_points <= 0:
            raise ValueError("num_grid_points must be a positive integer.")
        self.num_grid_points = num_grid_points

    @property
    def mode(self):
        return "awq"


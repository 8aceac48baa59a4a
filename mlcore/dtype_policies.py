"""keras.dtype_policies: a layer's dtype policy, the dtype its variables are stored in and the one
its computation runs in, and the global policy that layers made without dtype= take.

Most policies name one dtype for both ("float32", "float64", "float16", "int32"...).  The mixed ones
keep float32 variables and compute in float16 ("mixed_float16") or bfloat16 ("mixed_bfloat16"):
mlcore/layers/autocasting.py says how a layer's call then computes in the lower precision.  bfloat16
is ml_dtypes's numpy dtype (which jax brings); which backends compute in it, the backends say.
"""
import numpy as np

from mlcore import config

MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
QUANTIZATION_MODES = ("int8", "float8", "int4", "gptq", "awq")
_global_policy = []       # the policy set_dtype_policy set; none: floatx's


class DTypePolicy:
    """DTypePolicy(name=None): "float32", "mixed_float16"...; None is the global policy's name."""

    def __init__(self, name=None):
        if name is None:
            name = dtype_policy().name
        if not isinstance(name, str):
            raise TypeError("'name' must be a string, such as 'mixed_float16'. Received: name=%r (of type %s)"
                            % (name, type(name)))
        self._name = name
        self._compute_dtype, self._variable_dtype = _parse(name)

    @property
    def name(self):
        return self._name

    @property
    def compute_dtype(self):
        return self._compute_dtype

    @property
    def variable_dtype(self):
        return self._variable_dtype

    @property
    def quantization_mode(self):
        return None

    @property
    def is_mixed(self):
        return self.compute_dtype != self.variable_dtype

    def get_config(self):
        return {"name": self._name}

    @classmethod
    def from_config(cls, config_):
        return cls(**config_)

    def __eq__(self, other):
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        name = "DTypePolicy" if isinstance(self, FloatDTypePolicy) else type(self).__name__
        return '<%s "%s">' % (name, self._name)


class FloatDTypePolicy(DTypePolicy):
    """Keras 3.0-3.3's name for a float DTypePolicy, kept by Keras as an alias."""


class QuantizedDTypePolicy(DTypePolicy):
    """A quantized layer's policy, named "<mode>_from_<source policy>" ("int8_from_float32"): its float
    weights and computation keep the source policy's dtypes; model.quantize(mode) sets it."""

    def __init__(self, mode, source_name=None):
        if source_name is None:
            source_name = dtype_policy().name
        self._compute_dtype, self._variable_dtype = _parse(source_name)
        if mode not in QUANTIZATION_MODES:
            raise ValueError("Invalid quantization mode. Expected one of %s. Received: mode=%s"
                             % (QUANTIZATION_MODES, mode))
        if mode == "int8" and self._compute_dtype == "float16":
            raise ValueError("Quantization mode='%s' doesn't work well with compute_dtype='float16'." % mode)
        self._name = "%s_from_%s" % (mode, source_name)
        self._source_name = source_name
        self._quantization_mode = mode

    @property
    def quantization_mode(self):
        return self._quantization_mode

    def get_config(self):
        return {"mode": self._quantization_mode, "source_name": self._source_name}

    def __eq__(self, other):
        return type(other) is type(self) and other.get_config() == self.get_config()

    def __hash__(self):
        return hash(self._name)


class QuantizedFloat8DTypePolicy(QuantizedDTypePolicy):
    """float8 training's policy; amax_history_length: how many past maxima the delayed scaling keeps."""
    default_amax_history_length = 1024

    def __init__(self, mode, source_name=None, amax_history_length=1024):
        super().__init__(mode, source_name)
        if not isinstance(amax_history_length, int):
            raise TypeError("`amax_history_length` must be an integer. Received: amax_history_length=%s"
                            % (amax_history_length,))
        self._amax_history_length = amax_history_length

    @property
    def amax_history_length(self):
        return self._amax_history_length

    def get_config(self):
        return {**super().get_config(), "amax_history_length": self._amax_history_length}


class Int4DTypePolicy(QuantizedDTypePolicy):
    """int4 with its block size in the mode, "int4/<block_size>" (-1: one scale per output channel), so
    that a loaded model rebuilds its scales in the shapes they were saved in."""

    def __init__(self, mode, source_name=None):
        base, _, block = mode.partition("/")
        if base != "int4" or not block or "/" in block:
            raise ValueError("Invalid mode for Int4DTypePolicy. Expected format 'int4/<block_size>', but got "
                             "'%s'." % mode)
        try:
            block_size = int(block)
        except ValueError:
            raise ValueError("Invalid mode for Int4DTypePolicy. <block_size> must be an integer. Expected format "
                             "'int4/<block_size>', but got '%s'." % mode) from None
        if block_size < -1 or block_size == 0:
            raise ValueError("Invalid block_size in mode. Supported values are -1 (per-channel) or a positive "
                             "integer (sub-channel), but got %d from '%s'." % (block_size, mode))
        super().__init__(base, source_name)
        self._name = "%s_from_%s" % (mode, self._source_name)
        self.mode = base
        self.block_size = block_size

    def get_config(self):
        return {**super().get_config(), "mode": "%s/%d" % (self.mode, self.block_size)}


class CalibratedDTypePolicy(QuantizedDTypePolicy):
    """The policy of a layer quantized by a calibrating algorithm (GPTQ, AWQ), named
    "<algorithm>/<weight_bits>/<group_size>_from_<source>": a loaded model rebuilds its packed kernel,
    scales and zero points in the shapes they were saved in.  Subclasses name the algorithm and the
    bits it supports."""
    algorithm = None
    supported_bits = ()

    def __init__(self, mode, source_name=None):
        parts = mode.split("/")
        expected = "'%s/<weight_bits>/<group_size>'" % self.algorithm
        if len(parts) != 3 or parts[0] != self.algorithm:
            raise ValueError("Invalid mode for %s. Expected format %s, but got '%s'."
                             % (type(self).__name__, expected, mode))
        try:
            weight_bits, group_size = int(parts[1]), int(parts[2])
        except ValueError:
            raise ValueError("Invalid mode for %s. <weight_bits> and <group_size> must be integers. Expected format "
                             "%s, but got '%s'." % (type(self).__name__, expected, mode)) from None
        if weight_bits not in self.supported_bits:
            raise ValueError(self._bits_error(weight_bits, mode))
        if group_size < -1 or group_size == 0:
            raise ValueError("Invalid group_size in mode. Supported values are -1 (%s) or a positive integer, but got "
                             "%d from '%s'." % (self._per_channel_words, group_size, mode))
        super().__init__(self.algorithm, source_name)
        self._name = "%s_from_%s" % (mode, self._source_name)
        self.mode = self.algorithm
        self.weight_bits = weight_bits
        self.group_size = group_size

    def get_config(self):
        return {**super().get_config(), "mode": "%s/%d/%d" % (self.mode, self.weight_bits, self.group_size)}


class GPTQDTypePolicy(CalibratedDTypePolicy):
    """"gptq/<weight_bits>/<group_size>" (bits 2, 3, 4 or 8; group_size -1: one group per output channel)."""
    algorithm = "gptq"
    supported_bits = (2, 3, 4, 8)
    _per_channel_words = "whole-tensor"

    def _bits_error(self, weight_bits, mode):
        return ("Invalid weight_bits in mode. Supported values are 2, 3, 4, and 8, but got %d from '%s'."
                % (weight_bits, mode))


class AWQDTypePolicy(CalibratedDTypePolicy):
    """"awq/4/<group_size>": AWQ quantizes to 4 bits only."""
    algorithm = "awq"
    supported_bits = (4,)
    _per_channel_words = "per-channel"

    def _bits_error(self, weight_bits, mode):
        return ("Invalid weight_bits in mode. AWQ only supports 4-bit quantization, but got %d from '%s'."
                % (weight_bits, mode))


def quantized_policy(name):
    """The policy a quantized name gives: "int8_from_float32", "int4/128_from_float32", "float8_from_..."."""
    mode, sep, source_name = name.partition("_from_")
    if not sep or "_from_" in source_name:
        raise ValueError("Cannot convert `policy` into a valid pair (`mode`, `source_name`) to instantiate "
                         "`QuantizedDTypePolicy`. Received: policy=%s" % name)
    if mode.startswith("int4/"):
        return Int4DTypePolicy(mode, source_name)
    if mode == "float8":
        return QuantizedFloat8DTypePolicy(mode, source_name)
    if mode.startswith("gptq"):
        return GPTQDTypePolicy(mode, source_name)
    if mode.startswith("awq"):
        return AWQDTypePolicy(mode, source_name)
    return QuantizedDTypePolicy(mode, source_name)


from mlcore.dtype_policy_map import DTypePolicyMap  # noqa: E402  (a DTypePolicy subclass, in its own module)

Policy = DTypePolicy        # keras.mixed_precision.Policy, Keras 2's name
POLICY_CLASSES = {"DTypePolicy": DTypePolicy, "FloatDTypePolicy": FloatDTypePolicy, "Policy": DTypePolicy,
                  "QuantizedDTypePolicy": QuantizedDTypePolicy,
                  "QuantizedFloat8DTypePolicy": QuantizedFloat8DTypePolicy, "Int4DTypePolicy": Int4DTypePolicy,
                  "GPTQDTypePolicy": GPTQDTypePolicy, "AWQDTypePolicy": AWQDTypePolicy,
                  "DTypePolicyMap": DTypePolicyMap}


def _parse(name):
    """(compute dtype, variable dtype) of a policy name."""
    if "bfloat16" in name:
        _register_bfloat16()
    if name in MIXED:
        return MIXED[name], "float32"
    try:
        dtype = np.dtype(name).name
    except TypeError:
        dtype = None
    if dtype is None:
        raise ValueError("Cannot convert '%s' to a mixed precision DTypePolicy. Valid policies include "
                         "'mixed_float16', 'mixed_bfloat16', and the name of any float dtype such as "
                         "'float32'." % name)
    return dtype, dtype


def _register_bfloat16():
    """numpy knows "bfloat16" once ml_dtypes is imported."""
    try:
        import ml_dtypes  # noqa: F401
    except ImportError:
        raise ValueError("The bfloat16 dtype needs the ml_dtypes package (pip install ml_dtypes; jax brings "
                         "it)") from None


def get(identifier):
    """A policy from a policy, its name, its serialized dict, or None (the global policy)."""
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return quantized_policy(identifier) if identifier.startswith(QUANTIZATION_MODES) else DTypePolicy(identifier)
    if isinstance(identifier, np.dtype) or isinstance(identifier, type) and issubclass(identifier, np.generic):
        return DTypePolicy(np.dtype(identifier).name)
    raise ValueError("Cannot interpret `dtype` argument. Expected a string or an instance of DTypePolicy. "
                     "Received: dtype=%r" % (identifier,))


def serialize(dtype_policy):
    """Keras's {"module", "class_name", "config", "registered_name"} of a policy: the module is "keras"
    for the float policies (exported there), "keras.dtype_policies" for the quantized ones and the
    maps; a policy inside the config (a DTypePolicyMap's default) is serialized too."""
    module = "keras.dtype_policies" if isinstance(dtype_policy, (QuantizedDTypePolicy, DTypePolicyMap)) else "keras"
    fields = {key: serialize(value) if isinstance(value, DTypePolicy) else value
              for key, value in dtype_policy.get_config().items()}
    return {"module": module, "class_name": type(dtype_policy).__name__, "config": fields, "registered_name": None}


def deserialize(config, custom_objects=None):
    """A policy from serialize()'s dict (Keras 3.0's FloatDTypePolicy and Keras 2's Policy too);
    custom_objects also serve the policies inside a DTypePolicyMap. (`config` is Keras's argument name;
    it hides the mlcore.config module here, which this function does not use.)"""
    cls = POLICY_CLASSES.get(config.get("class_name"))
    if cls is None:
        cls = (custom_objects or {}).get(config.get("class_name"))
    if cls is None:
        raise ValueError("Unsupported dtype policy %r: mlcore reads DTypePolicy (and FloatDTypePolicy, Policy) "
                         "DTypePolicyMap and the int8, int4, float8, GPTQ and AWQ quantized policies"
                         % config.get("class_name"))
    if issubclass(cls, DTypePolicyMap):
        return cls.from_config(config["config"], custom_objects)
    return cls.from_config(config["config"])


# --- the global policy (keras.config.dtype_policy / set_dtype_policy) --------------------------------
def dtype_policy():
    """The global policy: the one set_dtype_policy set, else floatx's."""
    return _global_policy[0] if _global_policy else DTypePolicy(config.floatx())


def set_dtype_policy(policy):
    """Layers made afterwards without dtype= take this policy (a name or a DTypePolicy)."""
    if isinstance(policy, str):
        policy = get(policy)
    if not isinstance(policy, DTypePolicy):
        raise ValueError("Invalid `policy` argument. Expected the string name of a policy (such as "
                         "'mixed_float16') or a `DTypePolicy` instance. Received: policy=%r (of type %s)"
                         % (policy, type(policy)))
    _global_policy[:] = [policy]

"""keras.dtype_policies: a layer's dtype policy, the dtype its variables are stored in and the one
its computation runs in, and the global policy that layers made without dtype= take.

mlcore runs a layer's graph in one dtype: policies whose compute and variable dtypes are equal
("float32", "float64", "float16", "bfloat16", "int32"...) work everywhere; the mixed ones
("mixed_float16", "mixed_bfloat16") can be made and (de)serialized, but a layer or the global
policy refuses them with a ValueError (mlcore has no autocasting of variables inside a call).
"""
import numpy as np

from mlcore import config

MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
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
        return self._compute_dtype != self._variable_dtype

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
        return '<DTypePolicy "%s">' % self._name


class FloatDTypePolicy(DTypePolicy):
    """Keras 3.0-3.3's name for a float DTypePolicy, kept by Keras as an alias."""


Policy = DTypePolicy        # keras.mixed_precision.Policy, Keras 2's name
_CLASSES = {"DTypePolicy": DTypePolicy, "FloatDTypePolicy": FloatDTypePolicy, "Policy": DTypePolicy}


def _parse(name):
    """(compute dtype, variable dtype) of a policy name."""
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


def get(identifier):
    """A policy from a policy, its name, its serialized dict, or None (the global policy)."""
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    if isinstance(identifier, np.dtype) or isinstance(identifier, type) and issubclass(identifier, np.generic):
        return DTypePolicy(np.dtype(identifier).name)
    raise ValueError("Cannot interpret `dtype` argument. Expected a string or an instance of DTypePolicy. "
                     "Received: dtype=%r" % (identifier,))


def serialize(policy):
    """Keras's {"module": "keras", "class_name", "config", "registered_name"} of a policy."""
    return {"module": "keras", "class_name": type(policy).__name__, "config": policy.get_config(),
            "registered_name": None}


def deserialize(config_, custom_objects=None):
    """A policy from serialize()'s dict (Keras 3.0's FloatDTypePolicy and Keras 2's Policy too)."""
    cls = _CLASSES.get(config_.get("class_name"))
    if cls is None:
        cls = (custom_objects or {}).get(config_.get("class_name"))
    if cls is None:
        raise ValueError("Unsupported dtype policy %r: mlcore reads DTypePolicy (and FloatDTypePolicy, Policy); "
                         "quantized policies are not implemented" % config_.get("class_name"))
    return cls.from_config(config_["config"])


def layer_policy(dtype, layer_name):
    """The policy a layer runs with for its dtype= argument; a mixed one is refused (see above)."""
    policy = get(dtype)
    if policy.is_mixed:
        raise ValueError("Layer '%s': dtype policy '%s' computes in %s with %s variables; mlcore layers run in "
                         "one dtype (use dtype='%s' or '%s')" % (layer_name, policy.name, policy.compute_dtype,
                                                               policy.variable_dtype, policy.compute_dtype,
                                                               policy.variable_dtype))
    return policy


# --- the global policy (keras.config.dtype_policy / set_dtype_policy) --------------------------------
def dtype_policy():
    """The global policy: the one set_dtype_policy set, else floatx's."""
    return _global_policy[0] if _global_policy else DTypePolicy(config.floatx())


def set_dtype_policy(policy):
    """Layers made afterwards without dtype= take this policy (a name or a DTypePolicy)."""
    if isinstance(policy, str):
        policy = DTypePolicy(policy)
    if not isinstance(policy, DTypePolicy):
        raise ValueError("Invalid `policy` argument. Expected the string name of a policy (such as 'float64') "
                         "or a `DTypePolicy` instance. Received: policy=%r (of type %s)" % (policy, type(policy)))
    layer_policy(policy, "(the global policy)")
    _global_policy[:] = [policy]

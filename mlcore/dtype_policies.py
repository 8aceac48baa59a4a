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
POLICY_CLASSES = {"DTypePolicy": DTypePolicy, "FloatDTypePolicy": FloatDTypePolicy, "Policy": DTypePolicy}


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
    cls = POLICY_CLASSES.get(config_.get("class_name"))
    if cls is None:
        cls = (custom_objects or {}).get(config_.get("class_name"))
    if cls is None:
        raise ValueError("Unsupported dtype policy %r: mlcore reads DTypePolicy (and FloatDTypePolicy, Policy); "
                         "quantized policies are not implemented" % config_.get("class_name"))
    return cls.from_config(config_["config"])


# --- the global policy (keras.config.dtype_policy / set_dtype_policy) --------------------------------
def dtype_policy():
    """The global policy: the one set_dtype_policy set, else floatx's."""
    return _global_policy[0] if _global_policy else DTypePolicy(config.floatx())


def set_dtype_policy(policy):
    """Layers made afterwards without dtype= take this policy (a name or a DTypePolicy)."""
    if isinstance(policy, str):
        policy = DTypePolicy(policy)
    if not isinstance(policy, DTypePolicy):
        raise ValueError("Invalid `policy` argument. Expected the string name of a policy (such as "
                         "'mixed_float16') or a `DTypePolicy` instance. Received: policy=%r (of type %s)"
                         % (policy, type(policy)))
    _global_policy[:] = [policy]

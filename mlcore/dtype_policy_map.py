"""keras.dtype_policies.DTypePolicyMap: one dtype= for a whole block of layers that gives each layer
the policy of its path ("encoder/attention/query"), so one config can mix policies (a model quantized
layer by layer, a float32 head on a bfloat16 body).

Keys are layer paths or regular expressions over them: an exact key wins, else the one key that
re.fullmatch-es the path (two matching keys are an error, as the choice would be arbitrary), else the
default policy.  "encoder" is the encoder layer only; "encoder/.*" is everything inside it.  A layer
given a map looks its policy up once it has a path (when it is built: mlcore/layers/layer_state.py);
as a policy itself the map reads as its default.
"""
import re
from collections.abc import MutableMapping

from mlcore import dtype_policies
from mlcore.dtype_policies import DTypePolicy


class DTypePolicyMap(DTypePolicy, MutableMapping):
    """DTypePolicyMap(default_policy=None, policy_map=None): layer paths (or regexes) -> DTypePolicy;
    default_policy None is the global policy when the map is made."""

    def __init__(self, default_policy=None, policy_map=None):
        if isinstance(default_policy, DTypePolicyMap):
            raise ValueError("`default_policy` cannot be a `DTypePolicyMap`.")
        if policy_map is not None and not isinstance(policy_map, dict):
            raise TypeError("If specified, `policy_map` must be a dict. Received: policy_map=%r of type %s"
                            % (policy_map, type(policy_map)))
        self._default_policy_arg = default_policy
        self._default_policy = dtype_policies.get(default_policy)
        self._policy_map = {}
        for key, policy in (policy_map or {}).items():
            self[key] = policy

    @property
    def name(self):
        return "map_%s" % self._default_policy.name

    @property
    def default_policy(self):
        """The policy of paths no key matches."""
        return self._default_policy

    @property
    def compute_dtype(self):
        return self._default_policy.compute_dtype

    @property
    def variable_dtype(self):
        return self._default_policy.variable_dtype

    @property
    def quantization_mode(self):
        return self._default_policy.quantization_mode

    def __getitem__(self, path):
        """The policy of a layer path: its exact key's, else the one regex key's that fully matches it,
        else the default."""
        if path in self._policy_map:
            return self._policy_map[path]
        matching = [pattern for pattern in self._policy_map if re.fullmatch(pattern, path)]
        if len(matching) > 1:
            raise ValueError("Path '%s' matches multiple dtype policy specification keys: %s. Please make sure "
                             "each path only matches at most one dtype policy specification key in the "
                             "DTypePolicyMap." % (path, matching))
        return self._policy_map[matching[0]] if matching else self._default_policy

    def __setitem__(self, key, policy):
        """Add a policy (a DTypePolicy, its name or its config) for a new key; keys are never overwritten,
        so that two layers cannot silently fight over one path."""
        if not isinstance(key, str):
            raise TypeError("DTypePolicyMap keys are layer paths or regexes (strings). Received: key=%r of type %s"
                            % (key, type(key)))
        if key in self._policy_map:
            raise ValueError("%s already exist in the DTypePolicyMap with value %s. Please make sure to not use "
                             "duplicated keys." % (key, self._policy_map[key]))
        try:
            policy = dtype_policies.get(policy)
        except Exception:
            raise ValueError("Cannot interpret the assigned value by `keras.dtype_policies.get`. Received: %r of "
                             "type %s" % (policy, type(policy))) from None
        self._policy_map[key] = policy

    def __delitem__(self, key):
        del self._policy_map[key]

    def __contains__(self, key):
        return key in self._policy_map

    def __len__(self):
        return len(self._policy_map)

    def __iter__(self):
        return iter(self._policy_map)

    def __eq__(self, other):
        return (isinstance(other, DTypePolicyMap) and other._default_policy == self._default_policy
                and other._policy_map == self._policy_map)

    __hash__ = None     # mutable, as a dict

    def get_config(self):
        """Keras's config.  With no default_policy given, the entries are saved without their float
        dtype ("name": None, "source_name": None), as Keras saves them, so that a loaded map follows
        the global policy of the session that loads it."""
        return {"default_policy": self._default_policy_arg,
                "policy_map": {key: self._entry_config(policy) for key, policy in self._policy_map.items()}}

    def _entry_config(self, policy):
        config = dtype_policies.serialize(policy)
        if self._default_policy_arg is None:
            inner = dict(config["config"])
            inner["source_name" if "source_name" in inner else "name"] = None
            config["config"] = inner
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["policy_map"] = {key: dtype_policies.deserialize(policy, custom_objects)
                                for key, policy in (config.get("policy_map") or {}).items()}
        return cls(**config)

    def __repr__(self):
        return "<DTypePolicyMap at %s default_policy=%s, mapping=%s>" % (
            hex(id(self)), self._default_policy.name, [(k, v.name) for k, v in self._policy_map.items()])

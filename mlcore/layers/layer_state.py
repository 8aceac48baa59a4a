"""What a Keras 3 layer knows of its own state, beside calling: its variables (add_weight,
add_variable), where it sits (path: "sequential/dense", its weights' "sequential/dense/kernel"),
its dtype policy, and how a .keras file saves and rebuilds it (get_build_config /
build_from_config, save_own_variables / load_own_variables, which custom layers override).

Paths come from name scopes, as in Keras: a layer's build and call run inside its scope, under
the scope it was first called (or built) in, so a layer that a Sequential builds is
"sequential/dense" and one built alone is "dense".
"""
import functools
import inspect
from contextlib import contextmanager

import numpy as np

from mlcore import constraints, initializers, regularizers
from mlcore import dtype_policies

_scopes = []        # (name, layer or caller, the path it sits under; None: under the scope before), innermost last


def current_path():
    """The open scopes' path, each layer's under the path it was first met in (Keras's current_path);
    a keras.name_scope without override_parent sits under the scope before it (mlcore/name_scopes.py)."""
    parts = []
    for name, _, parent in _scopes:
        if parent is not None:
            parts = [p for p in parent.split("/") if p]
        parts.append(name)
    return "/".join(parts)


@contextmanager
def layer_scope(layer):
    """Open the layer's scope, unless it is the innermost one already (its build inside its call)."""
    if layer._parent_path is None:
        layer._parent_path = current_path()
    if _scopes and _scopes[-1][1] is layer and _scopes[-1][0] == layer.name:
        yield
        return
    _scopes.append((layer.name, layer, layer._parent_path))
    try:
        yield
    finally:
        _scopes.pop()


def _scoped_build(build):
    """build(), run in the layer's scope (its path is set there); the shapes it took are recorded for
    get_build_config, as Keras's build wrapper does, unless build() recorded them itself."""
    @functools.wraps(build)
    def build_in_scope(self, *args, **kwargs):
        self._build_shapes_dict = None
        with layer_scope(self):
            self._path = current_path()
            result = build(self, *args, **kwargs)
        if self._build_shapes_dict is None or self._build_shapes_dict is self._recorded_shapes:
            arguments = inspect.signature(build).bind(self, *args, **kwargs).arguments
            self._build_shapes_dict = self._recorded_shapes = dict(list(arguments.items())[1:])
        return result
    return build_in_scope


def _positional_weight_args(args, **keywords):
    """add_weight's shape, initializer and dtype, each given by position (args, in that order) or by keyword
    (keywords, in that order), with Keras's errors: a name given first, as Keras 2 took it, is refused."""
    if len(args) > 3:
        raise TypeError("add_weight() takes at most 3 positional arguments but %d were given." % len(args))
    if args and isinstance(args[0], str):
        raise ValueError("`name` must be passed as a keyword argument. Received: add_weight('%s', ...). "
                         "Use: add_weight(shape=..., name='%s')." % (args[0], args[0]))
    for key, value in zip(keywords, args):
        if keywords[key] is not None:
            raise ValueError("`%s` was passed both positionally and as a keyword argument." % key)
        keywords[key] = value
    return tuple(keywords.values())


def _overrides(layer, method):
    return getattr(type(layer), method) is not getattr(LayerState, method)


class LayerState:
    """Mixed into Layer (mlcore/layers/base.py)."""

    _path = None
    _parent_path = None
    _build_shapes_dict = None
    _recorded_shapes = None         # the shapes a build wrapper recorded (an outer one may replace them)
    _dtype_policy = None
    activity_regularizer = None     # Keras's every layer has one; those that take activity_regularizer= set it
    _is_quantized = False           # quantize() sets it (mlcore/layers/quantization.py)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "build" in vars(cls):
            cls.build = _scoped_build(vars(cls)["build"])

    @property
    def path(self):
        """Where the layer sits, as "sequential/dense"; None until it is built."""
        return self._path

    # --- dtype policy ------------------------------------------------------------------------------
    @property
    def dtype_policy(self):
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value):
        """A layer that takes its policy from a DTypePolicyMap and has a path gets the new policy as
        its path's entry in that map (quantize() sets it so), as in Keras."""
        policy = dtype_policies.get(value)
        if isinstance(self._dtype_policy, dtype_policies.DTypePolicyMap) and self.path:
            if self.path in self._dtype_policy:
                del self._dtype_policy[self.path]
            self._dtype_policy[self.path] = policy
        else:
            self._dtype_policy = policy

    @property
    def _own_policy(self):
        """The policy the layer works in: a DTypePolicyMap's for the layer's path once it has one."""
        if isinstance(self._dtype_policy, dtype_policies.DTypePolicyMap) and self.path:
            return self._dtype_policy[self.path]
        return self._dtype_policy

    @property
    def dtype(self):
        """The variables' dtype (Keras's layer.dtype); dtype= takes a dtype, a policy or its name."""
        return self._own_policy.variable_dtype

    @dtype.setter
    def dtype(self, value):
        self.dtype_policy = value

    @property
    def compute_dtype(self):
        return self._own_policy.compute_dtype

    @property
    def variable_dtype(self):
        return self._own_policy.variable_dtype

    @property
    def quantization_mode(self):
        """The dtype policy's mode ("int8"...), None for a float layer (Keras's every layer has it)."""
        return self._own_policy.quantization_mode

    @property
    def input_dtype(self):
        """The dtype floating inputs are taken in: the compute dtype."""
        return self._own_policy.compute_dtype

    # --- variables -----------------------------------------------------------------------------------
    def add_weight(self, *args, shape=None, initializer=None, dtype=None, trainable=True, autocast=True,
                   regularizer=None, constraint=None, aggregation="none", overwrite_with_gradient=False, name=None):
        """Create a weight initialised now (Keras 3's add_weight); weights are float by default, in the
        policy's variable dtype.  autocast=True: a mixed-precision call reads it in its compute dtype
        (mlcore/layers/autocasting.py).  overwrite_with_gradient: the optimizer assigns the weight its gradient
        (float8 training).  aggregation is Keras's (distribution): mlcore's single-replica weights ignore it.
        args: shape, initializer and dtype given by position, as Keras still takes them."""
        from mlcore.layers.base import Weight, unique_name
        if self.built and getattr(self, "_call_depth", 0):
            raise ValueError("You cannot add new elements of state (variables or sub-layers) to a layer that is "
                             "already built. All state must be created in the `__init__()` method or in the "
                             "`build()` method. (Layer '%s' added a weight in its call().)" % self.name)
        shape, initializer, dtype = _positional_weight_args(args, shape=shape, initializer=initializer, dtype=dtype)
        shape = tuple(int(s) for s in (shape or ()))
        dtype = dtype or self.dtype
        if initializer is None:
            initializer = "glorot_uniform" if np.dtype(dtype).kind == "f" else "zeros"
        value = initializers.get(initializer)(shape, dtype=dtype)
        name = name or unique_name("variable")      # Keras's: variable, variable_1, ... (one counter for all)
        with layer_scope(self):
            path = "%s/%s" % (current_path(), name)
        weight = Weight(np.asarray(value, dtype=dtype), name, path, trainable, regularizers.get(regularizer),
                        constraints.get(constraint), autocast)
        weight.overwrite_with_gradient = overwrite_with_gradient
        self._weights.append(weight)
        return weight

    def add_variable(self, shape, initializer, dtype=None, trainable=True, autocast=True, regularizer=None,
                     constraint=None, name=None):
        """Keras 3's add_variable: add_weight with the initializer required."""
        return self.add_weight(shape=shape, initializer=initializer, dtype=dtype, trainable=trainable,
                               autocast=autocast, regularizer=regularizer, constraint=constraint, name=name)

    # --- .keras files ------------------------------------------------------------------------------
    def get_build_config(self):
        """The shapes build() took (None before it ran), from which build_from_config rebuilds the layer."""
        if self._build_shapes_dict is None:
            return None
        if len(self._build_shapes_dict) == 1:
            return {"input_shape": next(iter(self._build_shapes_dict.values()))}
        return {"shapes_dict": self._build_shapes_dict}

    def build_from_config(self, config):
        """Create the layer's state from get_build_config()'s dict, as loading a model does."""
        from mlcore.layers.base import map_shapes
        if not config:
            return
        if "input_shape" in config:
            shape = config["input_shape"]
            self.build(None if shape is None else map_shapes(tuple, shape))
        elif "shapes_dict" in config:
            self.build(**{k: None if v is None else map_shapes(tuple, v) for k, v in config["shapes_dict"].items()})
        self.built = True

    def save_own_variables(self, store):
        """Put the layer's state in store, a dict of arrays by key (its weights as "0", "1"...); a .keras
        file and a .weights.h5 file keep it in the layer's vars group, trainable ones first, as Keras."""
        for k, weight in enumerate(self._own_variables()):
            store[str(k)] = weight

    def _own_variables(self):
        """Its weights, trainable ones first; only its own where the layers it holds have vars groups of
        their own (a custom layer's sublayers, as Keras's Layer.save_own_variables: mlcore.saving.object_paths)."""
        from mlcore.saving.object_paths import keeps_sublayers_apart
        weights = self.trainable_weights + self.non_trainable_weights
        if not keeps_sublayers_apart(self):
            return weights
        own = {id(w) for w in self._own_weights()}
        return [w for w in weights if id(w) in own]

    def load_own_variables(self, store):
        """Set the layer's state from what save_own_variables stored."""
        weights = self._own_variables()
        if len(store.keys()) != len(weights):
            raise ValueError("Layer '%s' expected %d variables, but received %d variables during loading. "
                             "Expected: %s" % (self.name, len(weights), len(store.keys()), [w.name for w in weights]))
        values = [np.asarray(store[str(k)]) for k in range(len(weights))]
        for weight, value in zip(weights, values):
            if tuple(value.shape) != tuple(weight.shape):
                raise ValueError("Layer '%s': weight '%s' has shape %s; the stored value has shape %s"
                                 % (self.name, weight.path, tuple(weight.shape), value.shape))
        for weight, value in zip(weights, values):
            weight.assign(value.astype(weight.dtype))

    # --- symbolic outputs ----------------------------------------------------------------------------
    def compute_output_spec(self, *args, **kwargs):
        """The symbolic outputs (shape and dtype) of a call on symbolic inputs, or on anything with a
        shape and a dtype (Keras's KerasTensor), without adding losses or updates to any step.  A user's
        layer that implements compute_output_shape gets outputs of those shapes without being called,
        as in Keras (mlcore's own layers compute theirs from their graph, which gives their dtypes too)."""
        from mlcore.graph.basic import TensorType, Variable
        from mlcore.layers.base import Layer, collect_extras, map_structure
        from mlcore.tree import map_shape_structure

        own_shapes = type(self).compute_output_shape
        if own_shapes is not Layer.compute_output_shape and not own_shapes.__module__.startswith("mlcore."):
            shapes = self.compute_output_shape(*(tuple(a.shape) if hasattr(a, "shape") else a for a in args))
            if isinstance(shapes, list) and shapes and isinstance(shapes[0], (int, type(None))):
                shapes = tuple(shapes)          # one shape written as a list
            return map_shape_structure(lambda shape: TensorType(self.compute_dtype, tuple(shape))(), shapes)

        def symbolic(value):
            if isinstance(value, Variable) or not hasattr(value, "shape"):
                return value
            return TensorType(str(getattr(value, "dtype", None) or self.compute_dtype), tuple(value.shape))()
        args, kwargs = map_structure(symbolic, args), map_structure(symbolic, kwargs)
        with collect_extras():
            return self(*args, **kwargs)

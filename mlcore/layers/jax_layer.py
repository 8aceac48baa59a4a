"""keras.layers.JaxLayer: a pure jax function and its parameter pytrees as a layer, as Keras 3's.

    def call_fn(params, inputs):
        return jax.nn.relu(inputs @ params["w"] + params["b"])
    layer = JaxLayer(call_fn, params={"w": w0, "b": b0})

The array leaves of `params` become trainable weights and those of `state` non-trainable ones, in
jax's order of the leaves (dict keys sorted); other leaves stay as they are, configuration for the
function.  call_fn takes, by name and in its own order, params, state, rng, inputs (required) and
training; with a state it returns (outputs, new_state) and the state weights take the new values.
Its call is one graph op (mlcore/compile/jax_function.py), which every backend runs, and whose
gradient is jax's.  The function runs as under Keras's jax backend, with jax's 32-bit defaults
(mlcore turns 64-bit types on for its own graphs), so that its default dtypes and random draws are
Keras's; a float64 input keeps 64-bit types on, for mlcore's float64 models.
"""
import inspect

import numpy as np

from mlcore.compile.jax_function import JaxFunctionOp, import_jax
from mlcore.graph.basic import Variable
from mlcore.layers.base import Layer, map_shapes
from mlcore.layers.weight import Weight
from mlcore.utils.rng import get_generator

CALL_FN_ARGUMENTS = ("params", "state", "rng", "inputs", "training")
INIT_FN_ARGUMENTS = ("rng", "inputs", "training")


def require_jax(layer_name):
    """jax, which the layer's functions are written in; a clear error where it is not installed."""
    try:
        return import_jax()
    except ImportError as error:
        raise ImportError("%s wraps jax functions and needs jax: pip install jax (mlcore's 'jax' extra)"
                          % layer_name) from error


def validated_arguments(fn, fn_name, allowed):
    """fn's parameter names, which must include `inputs` and be among `allowed` (Keras's check)."""
    names = list(inspect.signature(fn).parameters)
    if "inputs" not in names:
        raise ValueError("Missing required argument in `%s`: `inputs`" % fn_name)
    for name in names:
        if name not in allowed:
            raise ValueError("Unsupported argument in `%s`: `%s`, supported arguments are `%s`"
                             % (fn_name, name, "`, `".join(allowed)))
    return names


def _is_variable(value):
    return isinstance(value, Variable)


def _keras_precision(arrays):
    """The context jax runs the function in, and its array inputs made ready for it: 32-bit defaults
    (64-bit ints narrowed, as jax narrows them then), unless a float64 input asks for 64-bit types."""
    jax = import_jax()
    dtypes = [np.dtype(a.dtype) for a in arrays]
    if any(d.name in ("float64", "complex128") for d in dtypes):
        return jax.enable_x64(True), arrays
    return jax.enable_x64(False), [a.astype(d.kind + "4") if d.kind in "iu" and d.itemsize == 8 else a
                                   for a, d in zip(arrays, dtypes)]


class FlatCall:
    """call_fn as a function of the flat arrays of its arguments (params, state, rng and inputs, the
    variable leaves of each in jax's order) returning the leaves of its outputs, then those of its new
    state.  The arguments' other leaves and `training` are fixed here; the outputs' structure is
    recorded when jax traces it."""

    def __init__(self, layer, arguments, training):
        self.layer, self.training = layer, training
        self.trees = {name: import_jax().tree_util.tree_flatten(value, is_leaf=_is_variable)
                      for name, value in arguments.items()}
        self.__name__ = getattr(layer.call_fn, "__name__", "call_fn")
        self.output_tree = None

    def variables(self):
        """The op's inputs: the variable leaves of the arguments, in the order __call__ takes them."""
        return [leaf for leaves, _ in self.trees.values() for leaf in leaves if _is_variable(leaf)]

    def __call__(self, *arrays):
        tree_util = import_jax().tree_util
        precision, arrays = _keras_precision(arrays)
        arrays = iter(arrays)
        given = {name: tree.unflatten([next(arrays) if _is_variable(leaf) else leaf for leaf in leaves])
                 for name, (leaves, tree) in self.trees.items()}
        given["training"] = self.training
        with precision:
            result = self.layer.call_fn(*[given[name] for name in self.layer.call_fn_arguments])
        outputs, new_state = result if self.layer.call_fn_has_state else (result, None)
        flat_outputs, self.output_tree = tree_util.tree_flatten(outputs)
        return tuple(flat_outputs) + tuple(self._state_leaves(new_state))

    def _state_leaves(self, new_state):
        if not self.layer.call_fn_has_state:
            return []
        leaves, tree = self.trees["state"]
        try:
            new_leaves = tree.flatten_up_to(new_state)
        except (ValueError, TypeError) as error:
            raise ValueError("Structure mismatch: the structure of the state returned by `call` does not match "
                             "the structure of the state at initialization time (layer '%s'): %s"
                             % (self.layer.name, error)) from error
        return [new for new, leaf in zip(new_leaves, leaves) if _is_variable(leaf)]


class JaxLayer(Layer):
    """Keras 3's JaxLayer (keras.layers.JaxLayer): call_fn with its params and state as a layer.

    init_fn(rng, inputs[, training]) makes the params (and state: then a tuple of both) at build time,
    from inputs of ones of the input shape, where neither params nor state is given.  seed seeds the
    rng passed to call_fn when training (None otherwise).  native_serialization_platforms is Keras's
    option for jax2tf under TensorFlow, kept in the config only."""

    def __init__(self, call_fn, init_fn=None, params=None, state=None, seed=None,
                 native_serialization_platforms=None, **kwargs):
        require_jax(type(self).__name__)
        super().__init__(**kwargs)
        self.call_fn_arguments = validated_arguments(call_fn, "call_fn", CALL_FN_ARGUMENTS)
        self.init_fn_arguments = validated_arguments(init_fn, "init_fn", INIT_FN_ARGUMENTS) if init_fn else None
        self.call_fn, self.init_fn = call_fn, init_fn
        self.call_fn_has_params = "params" in self.call_fn_arguments
        self.call_fn_has_state = "state" in self.call_fn_arguments
        if init_fn is None and params is None and state is None and (self.call_fn_has_params or
                                                                     self.call_fn_has_state):
            raise ValueError("`init_fn`, `params` and `state` cannot all be `None` when `call_fn` takes a "
                             "`params` or a `state` argument.")
        self.native_serialization_platforms = native_serialization_platforms
        self.tracked_params = self._create_variables(params, trainable=True)
        self.tracked_state = self._create_variables(state, trainable=False)
        if "rng" in self.call_fn_arguments:
            from mlcore.random import SeedGenerator
            self.seed_generator = SeedGenerator(seed)
        else:
            self.seed_generator = None

    def _create_variables(self, values, trainable):
        """A weight for each array or number leaf of values (a float one in the layer's dtype), the
        structure of weights kept as self.params or self.state; returns the weights, in order."""
        jax = import_jax()

        def create(value):
            if isinstance(value, (np.ndarray, np.generic, jax.Array, bool, int, float)):
                array = np.asarray(value)
                dtype = None if array.dtype.kind == "f" else ("int32" if isinstance(value, int) and not
                                                              isinstance(value, bool) else array.dtype)
                return self.add_weight(array.shape, initializer=array, dtype=dtype, trainable=trainable)
            return value
        variables = jax.tree_util.tree_map(create, values)
        setattr(self, "params" if trainable else "state", variables)
        return [leaf for leaf in jax.tree_util.tree_leaves(variables, is_leaf=_is_variable)
                if isinstance(leaf, Weight)]

    # --- Keras's hooks for the keys passed as rng (FlaxLayer passes dicts of them) -----------------
    def _get_init_seed(self):
        """A fresh key [seed, 0] from mlcore's generator (set_random_seed makes it reproducible)."""
        return np.array([get_generator().integers(1, 10 ** 9), 0], dtype="uint32")

    def _get_init_rng(self):
        return self._get_init_seed()

    def _get_call_seed(self):
        return self.seed_generator.next()

    def _get_call_rng(self, training):
        return self._get_call_seed() if training else None

    # --- building and calling ----------------------------------------------------------------------
    def build(self, input_shape):
        if self.params is None and self.state is None and (self.call_fn_has_params or self.call_fn_has_state):
            self._initialize_weights(input_shape)

    def _initialize_weights(self, input_shape):
        """params and state from init_fn, called on ones of the input shape (1 where a dim is unknown)."""
        jax = import_jax()
        with jax.enable_x64(False):
            inputs = map_shapes(lambda shape: jax.numpy.ones([1 if d is None else d for d in shape]), input_shape)
            given = {"rng": jax.tree_util.tree_map(jax.numpy.asarray, self._get_init_rng()),
                     "inputs": inputs, "training": True}
            result = self.init_fn(*[given[name] for name in self.init_fn_arguments])
        params, state = result if self.call_fn_has_state else (result, None)
        self.tracked_params = self._create_variables(params, trainable=True)
        self.tracked_state = self._create_variables(state, trainable=False)

    def call(self, inputs, training=False):
        arguments = {"params": lambda: self.params, "state": lambda: self.state, "inputs": lambda: inputs,
                     "rng": lambda: self._get_call_rng(training)}     # a key is drawn only for an rng argument
        flat = FlatCall(self, {name: arguments[name]() for name in self.call_fn_arguments if name != "training"},
                        bool(training))
        results = JaxFunctionOp(flat)(*flat.variables())
        results = results if isinstance(results, list) else [results]
        n_outputs = flat.output_tree.num_leaves
        if self.call_fn_has_state:
            for weight, value in zip(self.tracked_state, results[n_outputs:]):
                weight.assign(value)
        return flat.output_tree.unflatten(results[:n_outputs])

    # --- config ----------------------------------------------------------------------------------
    def get_config(self):
        """Keras's: what remakes the functions, by registered names; params and state are weights, not config."""
        return {**super().get_config(), **self._functions_config(),
                "native_serialization_platforms": self.native_serialization_platforms}

    def _functions_config(self):
        from mlcore.saving import serialize_keras_object
        return {"call_fn": serialize_keras_object(self.call_fn), "init_fn": serialize_keras_object(self.init_fn)}

    @classmethod
    def from_config(cls, config):
        return super().from_config(cls._deserialized(config))

    @classmethod
    def _deserialized(cls, config):
        """config with the functions it names found (registered, or in a custom_object_scope)."""
        from mlcore.saving import deserialize_keras_object
        return dict(config, call_fn=deserialize_keras_object(config["call_fn"]),
                    init_fn=deserialize_keras_object(config["init_fn"]))

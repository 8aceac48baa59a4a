"""keras.layers.FlaxLayer: a flax.linen Module as a layer, as Keras 3's: a JaxLayer whose call_fn
applies the module and whose init_fn initializes it.

The "params" collection is trainable; every other collection (BatchNorm's "batch_stats") is state,
which apply may change (mutable: all but "params").  The module's method (`__call__` unless
`method` is given; a function taking the module first, or a method's name, also works) may take a
`training` argument; the "dropout" rng is passed when training.  flax is imported only here.
"""
import inspect

from mlcore.layers.jax_layer import JaxLayer


def split_variables(variables):
    """(params, state) from the module's variables: the "params" collection, and the others."""
    if variables is None:
        return None, None
    params = {key: value for key, value in variables.items() if key == "params"}
    state = {key: value for key, value in variables.items() if key != "params"}
    return params, state


def merge_variables(params, state):
    """The module's variables from params and state (either may be empty)."""
    return {**(params or {}), **(state or {})}


class FlaxLayer(JaxLayer):
    """Keras 3's FlaxLayer (keras.layers.FlaxLayer): module (a flax.linen.Module), method (what apply
    calls), variables (the module's initial variables, else module.init at build time)."""

    def __init__(self, module, method=None, variables=None, **kwargs):
        from flax.linen import DenyList     # flax is needed by this layer alone
        self.module = module
        self.method = getattr(module, method) if isinstance(method, str) else method
        self._mutable = DenyList(["params"])
        takes_training = "training" in inspect.signature(self.method or module.__call__).parameters
        params, state = split_variables(variables)
        super().__init__(call_fn=self._apply_training if takes_training else self._apply,
                         init_fn=self._init_training if takes_training else self._init,
                         params=params, state=state, **kwargs)

    # call_fn and init_fn, with and without the `training` argument the method may take
    def _apply(self, params, state, rng, inputs):
        return self._run_apply(params, state, rng, inputs)

    def _apply_training(self, params, state, rng, inputs, training):
        return self._run_apply(params, state, rng, inputs, training=training)

    def _run_apply(self, params, state, rng, inputs, **training):
        return self.module.apply(merge_variables(params, state), inputs, rngs=rng, method=self.method,
                                 mutable=self._mutable, **training)

    def _init(self, rng, inputs):
        return split_variables(self.module.init(rng, inputs, method=self.method))

    def _init_training(self, rng, inputs, training):
        return split_variables(self.module.init(rng, inputs, method=self.method, training=training))

    # the rngs flax takes, by collection
    def _get_init_rng(self):
        return {"params": self._get_init_seed(), "dropout": self._get_init_seed()}

    def _get_call_rng(self, training):
        return {"dropout": self._get_call_seed()} if training else {}

    # --- config: the module and the method, from which the functions are made again -------------------
    def _functions_config(self):
        from mlcore.saving import serialize_keras_object
        method = self.method
        if getattr(method, "__self__", None) == self.module:
            method = method.__name__        # a method of the module (or of an equal one), by its name
        return {"module": serialize_keras_object(self.module), "method": serialize_keras_object(method)}

    @classmethod
    def _deserialized(cls, config):
        from mlcore.saving import deserialize_keras_object
        method = config["method"]
        return dict(config, module=deserialize_keras_object(config["module"]),
                    method=method if isinstance(method, str) else deserialize_keras_object(method))

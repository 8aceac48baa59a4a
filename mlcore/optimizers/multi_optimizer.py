"""MultiOptimizer and OptimizerMap, as keras.optimizers: each model variable trained by the optimizer
its path selects (say Adam for an encoder, SGD for the rest)."""
import re
from collections.abc import MutableMapping

from mlcore.optimizers.base import Optimizer
from mlcore.optimizers.loss_scale_optimizer import LossScaleOptimizer


def _path(variable):
    return getattr(variable, "path", None) or variable.name or ""


def _serialize(obj):
    """Keras's dict for an OptimizerMap, an optimizer, a selector function or a dict of them."""
    from mlcore.saving.serialization_lib import serialize_keras_object
    if isinstance(obj, OptimizerMap):
        return {"module": "keras.optimizers", "class_name": "OptimizerMap", "config": obj.get_config(),
                "registered_name": None}
    return serialize_keras_object(obj)


def _deserialize(config, custom_objects):
    from mlcore.saving.serialization_lib import deserialize_keras_object
    return deserialize_keras_object(config, custom_objects=custom_objects)


# Keras's refusals of an optimizer that cannot be inside a MultiOptimizer, worded one way when it is put in an
# OptimizerMap and another when build() meets it: (not an optimizer, a LossScaleOptimizer, a MultiOptimizer)
_MAP_REFUSALS = ("optimizer must be a Keras Optimizer instance. Received: %s",
                 "optimizer cannot be LossScaleOptimizer.", "optimizer cannot be MultiOptimizer.")
_BUILD_REFUSALS = ("Optimizer for variable %s is not an Optimizer instance.",
                   "LossScaleOptimizer cannot be used inside an MultiOptimizer.",
                   "MultiOptimizer cannot be used inside an MultiOptimizer.")


def _check_inner(optimizer, refusals, subject):
    not_optimizer, loss_scale, multi = refusals
    if not isinstance(optimizer, Optimizer):
        raise ValueError(not_optimizer % (subject,))
    if isinstance(optimizer, LossScaleOptimizer):
        raise ValueError(loss_scale)
    if isinstance(optimizer, MultiOptimizer):
        raise ValueError(multi)


class OptimizerMap(MutableMapping):
    """Variable path (or a regular expression matching a whole path, such as "encoder/.*") -> optimizer;
    default_optimizer for a path that none matches."""

    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError("default_optimizer must be a Keras Optimizer instance. Received: %s"
                            % (default_optimizer,))
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError("optimizer_map must be a dictionary. Received: %r" % (optimizer_map,))
        self._default_optimizer = default_optimizer
        self._optimizer_map = optimizer_map or {}

    @property
    def default_optimizer(self):
        return self._default_optimizer

    def __getitem__(self, key):
        """The exact key's optimizer, else the one pattern that fullmatches key, else the default."""
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matching = [pattern for pattern in self._optimizer_map if re.fullmatch(pattern, key)]
        if len(matching) > 1:
            raise ValueError("Multiple optimizers assigned to variable %s." % key)
        return self._optimizer_map[matching[0]] if matching else self._default_optimizer

    def __setitem__(self, key, optimizer):
        if key in self._optimizer_map:
            raise ValueError("'%s' already exists in the OptimizerMap with value %s. Please make sure to not use "
                             "duplicated keys." % (key, self._optimizer_map[key]))
        if not isinstance(key, str):
            raise ValueError("key must be a string. Received: %r" % (key,))
        _check_inner(optimizer, _MAP_REFUSALS, optimizer)
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self._optimizer_map[key]

    def __len__(self):
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable):
        return self[_path(variable)]

    def get_config(self):
        return {"default_optimizer": _serialize(self._default_optimizer),
                "optimizer_map": _serialize(self._optimizer_map)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(_deserialize(config["default_optimizer"], custom_objects),
                   _deserialize(config["optimizer_map"], custom_objects))


class MultiOptimizer(Optimizer):
    """optimizer_map: an OptimizerMap, or a function of a variable returning its optimizer.  Each inner
    optimizer updates its own variables with its own state and step count; loss_scale_factor is
    shared by all.  There is no single learning rate: read and set it on .optimizers."""

    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        super().__init__(0.0, loss_scale_factor=loss_scale_factor, name=name)
        self._optimizer_map = optimizer_map
        self._inner_optimizers = []
        listed = list(optimizer_map.values()) if hasattr(optimizer_map, "values") else []
        default = getattr(optimizer_map, "default_optimizer", None)
        for optimizer in listed + ([default] if default is not None else []):
            self._add_inner(optimizer)

    def _add_inner(self, optimizer):
        if optimizer not in self._inner_optimizers:
            optimizer.loss_scale_factor = self.loss_scale_factor
            self._inner_optimizers.append(optimizer)

    def build(self, variables):
        """Each variable to its optimizer (new ones, from a selector function, join the list), each
        optimizer built on its own variables in the model's order."""
        if self.built:
            return
        variables = list(variables)
        self._optimizer_index = {}
        for variable in variables:
            optimizer = self._optimizer_map(variable)
            _check_inner(optimizer, _BUILD_REFUSALS, variable)
            self._add_inner(optimizer)
            self._optimizer_index[id(variable)] = self._inner_optimizers.index(optimizer)
        for k, optimizer in enumerate(self._inner_optimizers):
            own = self._variables_of(k, variables)
            if own:
                optimizer.build(own)
        super().build(variables)

    def _variables_of(self, k, variables):
        return [v for v in variables if self._optimizer_index[id(v)] == k]

    @property
    def optimizers(self):
        return self._inner_optimizers

    @property
    def variables(self):
        """Its own iteration and (unused) learning rate, then each inner optimizer's variables."""
        return self._variables + [v for optimizer in self._inner_optimizers for v in optimizer.variables]

    @property
    def learning_rate(self):
        raise AttributeError("Learning rate cannot be accessed on a MultiOptimizer. Access the learning rate on "
                             "the individual sub-optimizers instead.")

    @learning_rate.setter
    def learning_rate(self, value):
        raise AttributeError("Learning rate cannot be set on a MultiOptimizer. Set the learning rate on the "
                             "individual sub-optimizers instead.")

    lr = learning_rate

    @property
    def loss_scale_factor(self):
        return getattr(self, "_loss_scale_factor", None)

    @loss_scale_factor.setter
    def loss_scale_factor(self, value):
        self._loss_scale_factor = value
        for optimizer in getattr(self, "_inner_optimizers", ()):
            optimizer.loss_scale_factor = value

    def get_updates(self, variables, grads):
        """Each inner optimizer's updates for its variables (it unscales them itself), and the step count."""
        variables, grads = list(variables), list(grads)
        self.build(variables)
        if len(grads) != len(self._optimizer_index):
            raise ValueError("Gradients must match trainable variables one-to-one. Received %d gradients and %d "
                             "variables." % (len(grads), len(self._optimizer_index)))
        updates = []
        for k, optimizer in enumerate(self._inner_optimizers):
            pairs = [(v, g) for v, g in zip(variables, grads) if self._optimizer_index[id(v)] == k]
            if pairs:
                updates += optimizer.get_updates([v for v, _ in pairs], [g for _, g in pairs])
        return updates + [(self._iterations, self._iterations + 1)]

    def finalize_variable_values(self, var_list):
        for k, optimizer in enumerate(self._inner_optimizers):
            own = self._variables_of(k, var_list)
            if own:
                optimizer.finalize_variable_values(own)

    def get_config(self):
        return {"optimizer_map": _serialize(self._optimizer_map), "loss_scale_factor": self.loss_scale_factor,
                "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["optimizer_map"] = _deserialize(config["optimizer_map"], custom_objects)
        return cls(**config)

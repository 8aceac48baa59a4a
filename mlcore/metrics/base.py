"""The Metric base class, as keras.metrics.Metric: state in variables that update_state assigns
and result() reads.

mlcore builds graphs where Keras runs eagerly.  Inside a compiled train or test step
(models/step_functions.py) a metric's update_state runs once, symbolically, under
`tracing_updates()`: each assign() becomes an update of the step, like BatchNormalization's moving
statistics, so the state lives where the backend keeps shared variables and changes with every
batch.  Called from Python on arrays, update_state compiles those same updates (once per input
shapes and dtypes, numpy backend) and runs them, and result() returns numbers: the code of a Keras
metric runs unchanged in both places.
"""
import functools
from contextlib import contextmanager

import numpy as np

from mlcore import config, dtype_policies, initializers
from mlcore.graph.basic import Constant, SharedVariable, TensorType, Variable, clone, graph_inputs
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.layers.base import Weight, unique_name
from mlcore.ops.eager import evaluate
from mlcore.utils.naming import to_snake_case

_traces = []


class StateUpdates:
    """The assignments made while metric updates are traced, in order: a later read of a variable
    sees the value assigned to it before, as in Keras's eager code."""

    def __init__(self):
        self.new_values = {}

    def assign(self, variable, value):
        value = as_tensor_variable(value)
        if value.dtype != variable.dtype:
            value = ew.cast(value, variable.dtype)
        self.new_values[variable] = self.current(value)

    def current(self, expression):
        """expression with each variable assigned so far replaced by its new value."""
        if not self.new_values:
            return expression
        replace = {v: self.new_values[v] for v in graph_inputs([expression]) if v in self.new_values}
        return clone(expression, replace) if replace else expression

    @property
    def updates(self):
        return list(self.new_values.items())


@contextmanager
def tracing_updates():
    """Collect the assignments of the metric code run inside (a StateUpdates) instead of applying them."""
    state = StateUpdates()
    _traces.append(state)
    try:
        yield state
    finally:
        _traces.pop()


class MetricVariable(Weight):
    """A metric's state, a non-trainable Weight: assign() inside traced updates becomes an update of
    the step being built; outside, it sets the value at once.  Either way it returns the value
    assigned, as Keras's does (IoU's update_state returns it)."""

    def __init__(self, value, name, path, aggregation="sum"):
        super().__init__(value, name, path, trainable=False)
        self.aggregation = aggregation

    def assign(self, value):
        if _traces:
            _traces[-1].assign(self, value)
            return _traces[-1].new_values[self]
        self.set_value(np.broadcast_to(evaluate(value), self.shape).astype(self.dtype))
        return self.get_value()

    def assign_add(self, value):
        return self.assign(self + value)

    def assign_sub(self, value):
        return self.assign(self - value)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.get_value(), dtype=dtype)

    def __float__(self):
        return float(self.get_value())


class Metric:
    """Subclass with Keras's three methods: __init__ creates the state with add_variable,
    update_state(y_true, y_pred, sample_weight=None) assigns it, result() computes the value from it
    (a scalar, or a dict of scalars).  reset_state() zeroes every variable unless overridden."""

    def __init__(self, dtype=None, name=None):       # Keras 3's order
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self._dtype_policy = dtype_policies.get(dtype or config.floatx())    # floatx, not the global policy
        self._dtype = self._dtype_policy.compute_dtype
        self._variables = []
        self._compiled = {}

    def __init_subclass__(cls, **kwargs):
        """A subclass's own update_state and result, called from Python on numbers, run eagerly
        (compiled and run, or evaluated) instead of building graph."""
        super().__init_subclass__(**kwargs)
        if "update_state" in cls.__dict__:
            cls.update_state = _eager_update(cls.__dict__["update_state"])
        if "result" in cls.__dict__:
            cls.result = _eager_result(cls.__dict__["result"])

    @property
    def dtype(self):
        return self._dtype

    def add_variable(self, shape, initializer, dtype=None, aggregation="sum", name=None):
        """A state variable of this metric (Keras 3's signature), initialised now."""
        if not hasattr(self, "_variables"):
            raise RuntimeError("You forgot to call `super().__init__()` in the `__init__()` method of %s"
                               % type(self).__name__)
        shape = tuple(int(s) for s in shape)
        dtype = dtype or self.dtype
        name = name or unique_name("variable")      # Keras's: variable, variable_1, ... (one counter for all)
        value = np.asarray(initializers.get(initializer)(shape, dtype=dtype), dtype=dtype)
        variable = MetricVariable(value, name, "%s/%s" % (self.name, name), aggregation)
        self._variables.append(variable)
        return variable

    def add_weight(self, shape=(), initializer="zeros", dtype=None, name=None):
        return self.add_variable(shape, initializer, dtype=dtype, name=name)

    @property
    def variables(self):
        """This metric's variables, then those of the metrics it holds as attributes."""
        found = list(self._variables)
        for value in vars(self).values():
            if isinstance(value, Metric):
                found.extend(value.variables)
        return found

    def reset_state(self):
        for variable in self.variables:
            variable.assign(np.zeros(variable.shape, variable.dtype))

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def stateless_update_state(self, metric_variables, *args, **kwargs):
        """Keras 3's (jax): the values of self.variables after update_state(*args, **kwargs) from
        metric_variables, computed as jax arrays and assigned to nothing (mlcore/stateless.py)."""
        from mlcore import stateless
        return stateless.metric_update_state(self, metric_variables, args, kwargs)

    def stateless_result(self, metric_variables):
        """Keras 3's (jax): result() computed from these values of self.variables."""
        from mlcore import stateless
        return stateless.metric_result(self, metric_variables)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __getstate__(self):
        return {**self.__dict__, "_compiled": {}}

    def __repr__(self):
        return "<%s name=%s>" % (type(self).__name__, self.name)


def _as_input_array(value, dtype):
    """An argument as the array the metric computes on: floats and bools as the metric's dtype, or as
    floatx where the metric counts in integers (IoU's scores are thresholded or argmaxed first)."""
    value = np.asarray(value)
    float_dtype = dtype if np.dtype(dtype).kind == "f" else config.floatx()
    return value.astype(float_dtype) if value.dtype.kind in "fb" else value


def _eager_update(update_state):
    """update_state that, called from Python on arrays, traces itself once per input shapes and
    dtypes into a numpy-backend function of those arrays that applies its assignments and returns
    what update_state returns (None for most metrics, the new confusion matrix for IoU's)."""
    @functools.wraps(update_state)
    def wrapper(self, *args, **kwargs):
        if _traces:
            return update_state(self, *args, **kwargs)
        names = sorted(kwargs)
        values = list(args) + [kwargs[k] for k in names]
        if any(isinstance(v, Variable) for v in values):
            raise ValueError("%s.update_state got symbolic tensors outside a compiled step: pass arrays, or "
                             "give the metric to model.compile(metrics=...)" % type(self).__name__)
        arrays = [None if v is None else _as_input_array(v, self.dtype) for v in values]
        key = (update_state, len(args), tuple(names), tuple(None if a is None else (a.shape, a.dtype.str)
                                                           for a in arrays))
        if key not in self._compiled:
            from mlcore.function import function
            inputs = [None if a is None else TensorType(a.dtype, a.shape)() for a in arrays]
            with tracing_updates() as state:
                returned = update_state(self, *inputs[:len(args)], **dict(zip(names, inputs[len(args):])))
            outputs = [] if returned is None else [as_tensor_variable(returned)]
            self._compiled[key] = function([i for i in inputs if i is not None], outputs, updates=state.updates,
                                           backend="numpy", on_unused_input="ignore")
        returned = self._compiled[key](*[a for a in arrays if a is not None])
        return np.asarray(returned[0]) if returned else None
    return wrapper


def _eager_result(result):
    """result that, called from Python, returns numpy values: its graph on the metric's variables is
    compiled once (again when the variables change, as AUC makes them on its first update)."""
    @functools.wraps(result)
    def wrapper(self):
        if _traces:
            return result(self)
        key = ("result", result, tuple(id(v) for v in self.variables))
        if key not in self._compiled:
            with tracing_updates():         # a result() built on another's (super().result()) builds graph
                value = result(self)
            keys = list(value) if isinstance(value, dict) else None
            outputs = [as_tensor_variable(v) for v in (value.values() if keys is not None else [value])]
            if all(isinstance(o, (Constant, SharedVariable)) for o in outputs):
                compiled = lambda: [evaluate(o) for o in outputs]  # noqa: E731
            else:
                from mlcore.function import function
                compiled = function([], outputs, backend="numpy")
            self._compiled[key] = (compiled, keys)
        compiled, keys = self._compiled[key]
        values = [np.asarray(v) for v in compiled()]
        return dict(zip(keys, values)) if keys is not None else values[0]
    return wrapper

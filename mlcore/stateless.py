"""Keras 3's stateless API (its jax backend's): graphs run as pure functions of their variables' values.

Keras's jax trainer passes the value of every variable through `train_step(state, data)`: a custom
step calls `model.stateless_call(trainable, non_trainable, x)`, differentiates it with `jax.grad`,
and applies `optimizer.stateless_apply`, all under `jax.jit`.  In mlcore a layer's variables are
shared variables of a graph.  A StatelessGraph is a graph (inputs, outputs, updates) lowered to jax
without jit: called with values for its inputs and for some of its shared variables (the others
read the value they hold), it returns the outputs and the new values of the variables it updates,
as jax arrays, so the caller's `jax.grad` and `jax.jit` trace through it.  Nothing is assigned.

Each object keeps its graphs per input signature (shapes and dtypes), built on first use, as jit
traces once per signature.
"""
import sys
import weakref

import numpy as np

from mlcore.graph.basic import SharedVariable, TensorType
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.tree import flatten, map_structure

_graphs = weakref.WeakKeyDictionary()     # object -> {signature: StatelessGraph}


class StatelessGraph:
    """A graph run on values given per call; see the module's docstring."""

    def __init__(self, inputs, outputs, updates=(), name=None):
        from backends import get_backend
        from mlcore.function import function
        compiled = function(inputs, list(outputs), updates=list(updates), backend="jax", on_unused_input="ignore",
                            name=name)
        self.inputs, self.shared, self.targets = compiled.inputs, compiled.shared, compiled.update_targets
        self.n_outputs = len(compiled.outputs)
        self.name = name
        self.run = get_backend("jax").trace_function(compiled.fgraph)

    def __call__(self, input_values, bound):
        """(outputs, {id(variable): new value}) for values of the inputs and bound, {id(shared
        variable): value}.  A variable the graph updates must be bound: its new value could not be kept."""
        unbound = [v.name for v in self.targets if id(v) not in bound]
        if unbound:
            raise ValueError("%s updates variable(s) %s, which are not in the state it was given: a layer's "
                             "random state must be a SeedGenerator held in one of its attributes (Keras's rule), "
                             "so that non_trainable_variables carries it" % (self.name, unbound))
        values = [as_dtype(value, var.dtype) for var, value in zip(self.inputs, input_values)]
        # jax arrays, as jit would trace them: numpy values would run nodes on their numpy kernels
        # (backends/jax/compiler.py ConcreteFirst), whose random draws are not jax's
        shared = [as_dtype(bound[id(v)] if id(v) in bound else v.get_value(borrow=True), v.dtype)
                  for v in self.shared]
        results = self.run(*values, *shared)
        return results[:self.n_outputs], {id(t): r for t, r in zip(self.targets, results[self.n_outputs:])}


def as_dtype(value, dtype):
    """A value as a jax array of dtype (numpy data, a traced value, a Python number, or a variable,
    for its value: Keras's examples pass layer.trainable_variables themselves as the values)."""
    if isinstance(value, SharedVariable):
        value = value.get_value(borrow=True)
    value = jax_numpy().asarray(value)
    return value if value.dtype == np.dtype(dtype) else value.astype(dtype)


def values_of(variables):
    """The variables' values as jax arrays of their dtypes: a state to start from."""
    return [as_dtype(v.get_value(), v.dtype) for v in variables]


def jax_numpy():
    """jax.numpy, once mlcore's jax backend has set jax up (64-bit types on, as mlcore's graphs need)."""
    from backends import get_backend
    get_backend("jax")
    import jax.numpy as jnp
    return jnp


def signature(values):
    """The shapes and dtypes a graph is built for."""
    return tuple((tuple(np.shape(v)), str(v.dtype if hasattr(v, "dtype") else np.asarray(v).dtype)) for v in values)


def placeholder(value, dtype=None, name=None):
    """A symbolic input of the value's shape and dtype (or the dtype given)."""
    return TensorType(dtype or signature([value])[0][1], np.shape(value))(name)


def cached(owner, key, build):
    """owner's StatelessGraph for key, made by build() the first time."""
    graphs = _graphs.setdefault(owner, {})
    if key not in graphs:
        graphs[key] = build()
    return graphs[key]


def bind(variables, values, owner, what):
    """{id(variable): value}, checking that values match variables one to one (Keras's message)."""
    variables, values = list(variables), list(values)
    if len(values) != len(variables):
        raise ValueError("Argument `%s` must be a list of tensors corresponding 1:1 to %s().%s. Received list "
                         "with length %d, but expected %d variables."
                         % (what, type(owner).__name__, what, len(values), len(variables)))
    return {id(v): value for v, value in zip(variables, values)}


def holds_jax_values(values):
    """Whether jax arrays (or values jax is tracing) are among the values, nested in lists, tuples and
    dicts: jax code calling mlcore's functions, such as a loss inside a custom train_step."""
    jax = sys.modules.get("jax")
    return jax is not None and _holds(values, jax.Array)


def _holds(value, cls):
    if isinstance(value, (list, tuple)):
        return any(_holds(v, cls) for v in value)
    if isinstance(value, dict):
        return any(_holds(v, cls) for v in value.values())
    return isinstance(value, cls)


def call_on_jax_values(fn, args, kwargs):
    """fn(*args, **kwargs), a function of graph ops, on jax values: its graph, built on placeholders
    for the arrays among the arguments, run by jax on them (under jit: traced once)."""
    arrays, inputs = [], []

    def substitute(value):
        if not isinstance(value, np.ndarray) and not holds_jax_values([value]):
            return value
        arrays.append(value)
        inputs.append(placeholder(value))
        return inputs[-1]
    symbolic_args, symbolic_kwargs = map_structure(substitute, (list(args), dict(kwargs)))
    out = fn(*symbolic_args, **symbolic_kwargs)
    graph = StatelessGraph(inputs, [as_tensor_variable(v) for v in flatten(out)],
                           name=getattr(fn, "__name__", type(fn).__name__))
    results = iter(graph(arrays, {})[0])
    return map_structure(lambda _: next(results), out)


def metric_update_state(metric, metric_variables, args, kwargs):
    """metric.stateless_update_state: the new values of metric.variables after update_state(*args, **kwargs)."""
    from mlcore.metrics.base import tracing_updates
    names = sorted(k for k, v in kwargs.items() if v is not None)
    values = list(args) + [kwargs[k] for k in names]
    key = ("update_state", len(args), tuple(names), signature(values))

    def build():
        inputs = [placeholder(v) for v in values]
        with tracing_updates() as state:
            metric.update_state(*inputs[:len(args)], **dict(zip(names, inputs[len(args):])))
        return StatelessGraph(inputs, [], state.updates, name="%s.update_state" % metric.name)
    variables = metric.variables
    _, new = cached(metric, key, build)(values, bind(variables, metric_variables, metric, "variables"))
    return [new.get(id(v), value) for v, value in zip(variables, metric_variables)]


def metric_result(metric, metric_variables):
    """metric.stateless_result: result() computed from these values of metric.variables."""
    from mlcore.metrics.base import tracing_updates

    def build():
        with tracing_updates():
            value = metric.result()
        keys = list(value) if isinstance(value, dict) else None
        outputs = [as_tensor_variable(v) for v in (value.values() if keys is not None else [value])]
        graph = StatelessGraph([], outputs, name="%s.result" % metric.name)
        graph.keys = keys
        return graph
    graph = cached(metric, "result", build)
    outputs, _ = graph([], bind(metric.variables, metric_variables, metric, "variables"))
    return dict(zip(graph.keys, outputs)) if graph.keys is not None else outputs[0]


def optimizer_apply(optimizer, optimizer_variables, grads, trainable_variables):
    """optimizer.stateless_apply: (new trainable values, new optimizer variable values) after one step,
    the variables' constraints applied, as Keras's apply does."""
    from mlcore.optimizers.base import constrained
    if not optimizer.built:
        raise ValueError("You are calling `stateless_apply()` on an optimizer that has not yet been built. "
                         "Please call `optimizer.build(trainable_variables)` first.")
    variables = optimizer._trainable_variables
    grads = list(grads)

    def build():
        inputs = [placeholder(g, v.dtype, "grad_" + (v.name or "")) for g, v in zip(grads, variables)]
        return StatelessGraph(inputs, [], constrained(optimizer.get_updates(variables, inputs)),
                              name="%s.stateless_apply" % optimizer.name)
    bound = bind(optimizer.variables, optimizer_variables, optimizer, "variables")
    bound.update(bind(variables, trainable_variables, optimizer, "trainable_variables"))
    _, new = cached(optimizer, ("apply", signature(grads)), build)(grads, bound)
    return ([new.get(id(v), value) for v, value in zip(variables, trainable_variables)],
            [new.get(id(v), value) for v, value in zip(optimizer.variables, optimizer_variables)])

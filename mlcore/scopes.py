"""keras.StatelessScope and keras.SymbolicScope: how eager work treats variables inside a block.

Inside a StatelessScope, a variable reads as the value its state_mapping gives (variable.value,
numpy(), keras.ops run at once, a layer called on arrays), and an assignment changes no variable:
the new value is kept in the scope (scope.get_current_value(variable)), as Keras's stateless_call
runs a layer.  The graphs run there are run by jax on the values given (mlcore/stateless.py), so a
caller's jax.grad or jax.jit traces through them.  With collect_losses=True the values of the losses
the layers add go to scope.losses.  mlcore's variables get their value when created, so there is
never anything left for initialize_variables to initialize at exit.

A SymbolicScope marks the symbolic stage (compute_output_spec): there variables stay the graph
inputs they are, even inside a StatelessScope, as Keras's regularization losses read them.
"""
import numpy as np

from mlcore.graph.basic import SharedVariable

_stateless = []       # the open StatelessScopes, innermost last
_symbolic = []        # the open SymbolicScopes


class StatelessScope:
    """with StatelessScope([(variable, value), ...]) as scope: ... leaves every variable as it was."""

    def __init__(self, state_mapping=None, collect_losses=False, initialize_variables=True):
        self.collect_losses = collect_losses
        self.initialize_variables = initialize_variables
        self.losses = []
        self.state_mapping = {}
        for variable, value in state_mapping or ():
            if not isinstance(variable, SharedVariable):
                raise ValueError("Invalid reference variable in StatelessScope: all keys in argument `mapping` "
                                 "must be Variable instances. Received instead: %s" % (variable,))
            value = _as_value(value, variable.dtype)
            if tuple(value.shape) != tuple(np.shape(variable.get_value(borrow=True))):
                raise ValueError("Invalid variable value in StatelessScope: all values in argument `mapping` must "
                                 "be tensors with a shape that matches the corresponding variable shape. For "
                                 "variable %s, received invalid value with shape %s."
                                 % (getattr(variable, "path", variable.name), tuple(value.shape)))
            self.state_mapping[id(variable)] = value

    def __enter__(self):
        _stateless.append(self)
        return self

    def __exit__(self, *exc_info):
        _stateless.remove(self)

    def add_loss(self, loss):
        self.losses.append(loss)

    def add_update(self, update):
        variable, value = update
        self.state_mapping[id(variable)] = value

    def get_current_value(self, variable):
        """The variable's value in the scope: the one mapped or assigned there, else None."""
        return self.state_mapping.get(id(variable))


class SymbolicScope:
    """with SymbolicScope(): ... the block builds symbolic tensors (compute_output_spec runs in one)."""

    def __enter__(self):
        _symbolic.append(self)
        return self

    def __exit__(self, *exc_info):
        _symbolic.remove(self)


def get_stateless_scope():
    return _stateless[-1] if _stateless else None


def in_stateless_scope():
    return bool(_stateless)


def get_symbolic_scope():
    return _symbolic[-1] if _symbolic else None


def in_symbolic_scope():
    return bool(_symbolic)


def _as_value(value, dtype):
    """A mapped value in the variable's dtype: a jax value stays one (it may be traced), others numpy."""
    from mlcore import stateless
    if isinstance(value, SharedVariable):
        value = value.get_value()
    if stateless.holds_jax_values([value]):
        return stateless.as_dtype(value, dtype)
    return np.asarray(value, dtype=dtype)


def substituted_value(variable):
    """What reading variable gives here: the open StatelessScope's value for it, or None to read its own."""
    scope = get_stateless_scope()
    if scope is None or in_symbolic_scope():
        return None
    return scope.get_current_value(variable)


def assigned_in_scope(variable, value):
    """Whether an eager assignment went to the open StatelessScope (which then keeps it) instead of the variable."""
    scope = get_stateless_scope()
    if scope is None:
        return False
    scope.add_update((variable, _as_value(value, variable.dtype)))
    return True


def run_graph(inputs, outputs, updates, values):
    """The outputs of a graph for these input values, its updates applied: compiled and run as usual,
    or inside a StatelessScope run on the scope's values, the updates kept in the scope."""
    from mlcore.function import function
    scope = get_stateless_scope()
    if scope is None:
        return function(inputs, outputs, updates=updates, on_unused_input="ignore")(*values)
    from mlcore.stateless import StatelessGraph
    graph = StatelessGraph(inputs, outputs, updates, name="a graph run in a StatelessScope")
    bound = {id(v): v.get_value(borrow=True) for v in graph.targets}
    bound.update(scope.state_mapping)
    results, new = graph(values, bound)
    for variable in graph.targets:
        scope.add_update((variable, new[id(variable)]))
    return results


def collect_losses(values):
    """Keep the values of the losses an eager call added, in a StatelessScope that collects them."""
    scope = get_stateless_scope()
    if scope is not None and scope.collect_losses:
        scope.losses.extend(values)

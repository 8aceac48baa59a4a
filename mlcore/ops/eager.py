"""keras.ops on values give values: called on numpy arrays, numbers, lists or constants (and no
symbolic input), an op's graph is compiled and run at once and its result comes back as numpy,
as Keras's ops return arrays outside a traced function.  On graph variables they build graphs."""
import functools

from mlcore import scopes, stateless
from mlcore.ops.call_notes import note_call
from mlcore.graph.basic import Constant, SharedVariable, Variable


def _has_symbolic_input(values):
    """Whether any of the (nested) values is a graph variable other than a constant."""
    for value in values:
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, (list, tuple)):
            if _has_symbolic_input(value):
                return True
        elif isinstance(value, Variable) and not isinstance(value, Constant):
            return True
    return False


def evaluate(structure):
    """The numpy value of each graph variable in a result (a variable, a tuple, a list or a dict) that
    depends on no graph input: a shared variable's value, a constant's data, or a small graph on
    them run with the numpy backend."""
    if isinstance(structure, (list, tuple)):
        values = [evaluate(item) for item in structure]
        return values if isinstance(structure, list) else tuple(values)
    if isinstance(structure, dict):
        return {key: evaluate(value) for key, value in structure.items()}
    if isinstance(structure, SharedVariable):
        value = scopes.substituted_value(structure)
        return structure.get_value() if value is None else value
    if isinstance(structure, Constant):
        return structure.data.copy()
    if isinstance(structure, Variable):
        if scopes.in_stateless_scope():    # on the scope's values of the variables (mlcore/scopes.py)
            return scopes.run_graph([], [structure], [], [])[0]
        from mlcore.function import function
        return function([], structure, backend="numpy")()
    return structure


def on_values(op):
    """op, run at once when none of its arguments is symbolic; on jax values (keras.ops in jax code,
    such as a custom train_step), run by jax (mlcore/stateless.py); on graph variables, noted on the
    tensors it makes (mlcore/ops/call_notes.py)."""
    @functools.wraps(op)
    def run(*args, **kwargs):
        symbolic = _has_symbolic_input(args) or _has_symbolic_input(kwargs.values())
        if not symbolic and stateless.holds_jax_values((args, kwargs)):
            return stateless.call_on_jax_values(op, args, kwargs)
        out = op(*args, **kwargs)
        return note_call(op, args, kwargs, out) if symbolic else evaluate(out)
    return run

"""keras.remat and keras.RematScope: recompute activations in the backward pass instead of keeping them.

mlcore differentiates its graphs itself (mlcore/graph/gradient.py), so rematerialization is a graph
rewrite of the gradient, the one jax.checkpoint makes inside JAX's: remat(f) on symbolic tensors
wraps f's graph in one op whose gradient runs f's forward pass again, from barrier copies of its
inputs taken together with the incoming gradient (mlcore/graph/ops/barrier.py), then differentiates
that copy.  The forward values are f's own; only what the backward pass keeps changes.  Called on
arrays, remat(f) is f; on jax values (jax code such as a custom train_step), it is jax.checkpoint(f).

A RematScope sets how the layers created inside it call themselves, as in Keras: "full" (every
call rematerialized), "activations" (the layer's activation only), "larger_than" (layers whose
output has more than output_size_threshold elements), "list_of_layers" (the layers named).
"""
import collections
import functools
import math

from mlcore import stateless, tree
from mlcore.graph.basic import Constant, Variable, clone, graph_inputs
from mlcore.graph.gradient import grad, is_float
from mlcore.graph.ops.barrier import optimization_barrier

MODES = ("full", "activations", "larger_than", "list_of_layers", None)
RematMode = collections.namedtuple("RematMode", ["mode", "output_size_threshold", "layer_names"])
_remat_scopes = []      # the open RematScopes, innermost last


class RematScope:
    """with RematScope(mode="full"): the layers created inside rematerialize their calls."""

    def __init__(self, mode="full", output_size_threshold=1024, layer_names=None):
        if mode not in MODES:
            raise ValueError("Invalid mode '%s'. Supported modes are: 'full', 'activations', 'larger_than', "
                             "'list_of_layers', or  None." % (mode,))
        self.mode = mode
        self.output_size_threshold = output_size_threshold
        self.layer_names = layer_names or []

    def __enter__(self):
        _remat_scopes.append(self)
        return self

    def __exit__(self, *exc_info):
        _remat_scopes.remove(self)


def get_current_remat_mode():
    """The innermost RematScope's settings as a RematMode, None outside any."""
    if not _remat_scopes:
        return None
    scope = _remat_scopes[-1]
    return RematMode(scope.mode, scope.output_size_threshold, scope.layer_names)


def remat(f):
    """f, whose activations the backward pass recomputes (see the module's docstring)."""
    @functools.wraps(f)
    def rematerialized(*args, **kwargs):
        leaves = tree.flatten((args, kwargs))
        if any(isinstance(v, Variable) and not isinstance(v, Constant) for v in leaves):
            return _on_symbolic(f, args, kwargs)
        if stateless.holds_jax_values(leaves):
            import jax
            return jax.checkpoint(lambda a, k: f(*a, **k))(args, kwargs)
        return f(*args, **kwargs)
    return rematerialized


def _on_symbolic(f, args, kwargs):
    """f's graph as one op whose gradient recomputes it (mlcore.compile.OpFromGraph)."""
    from mlcore.compile.builders import OpFromGraph
    from mlcore.layers.base import current_extras
    given = list({id(v): v for v in tree.flatten((args, kwargs))       # each tensor once
                  if isinstance(v, Variable) and not isinstance(v, Constant)}.values())
    stand_ins = {id(v): v.type() for v in given}
    extras = current_extras()
    counts = (len(extras.updates), len(extras.losses)) if extras is not None else None
    call_args, call_kwargs = tree.map_structure(lambda v: stand_ins.get(id(v), v), (list(args), kwargs))
    result = f(*call_args, **call_kwargs)
    outputs = tree.flatten(result)
    # what f read besides its arguments (a layer's weights, the outer graph's tensors): inputs too, so that
    # the gradient reaches them
    own = {id(s) for s in stand_ins.values()}
    read = [v for v in graph_inputs(outputs) if not isinstance(v, Constant) and id(v) not in own]
    inner = [stand_ins[id(v)] for v in given] + [v.type() for v in read]
    outer = given + read
    inner_outputs = clone(outputs, list(zip(read, inner[len(given):]))) if read else outputs
    op = OpFromGraph(inner, inner_outputs, lop_overrides=_recomputed_gradient(inner, inner_outputs),
                     name="remat(%s)" % getattr(f, "__name__", type(f).__name__))
    computed = op(*outer)
    computed = computed if isinstance(computed, (list, tuple)) else [computed]
    if counts is not None:   # updates and losses the call added read the stand-ins: give them the real tensors
        _rewire(extras, counts, list(zip([stand_ins[id(v)] for v in given], given)))
    values = iter(computed)
    return tree.map_structure(lambda _: next(values), result)


def _recomputed_gradient(inner, inner_outputs):
    """The op's gradient: its forward graph again, on barrier copies of its inputs and of the output
    gradients, differentiated."""
    def gradient(inputs, outputs, output_grads):
        copies = optimization_barrier(*inputs, *output_grads)
        inputs_again, grads_again = copies[:len(inputs)], copies[len(inputs):]
        recomputed = clone(inner_outputs, list(zip(inner, inputs_again)))
        floats = [x for x in inputs_again if is_float(x)]
        found = iter(grad(None, floats, known_grads=dict(zip(recomputed, grads_again)),
                          disconnected_inputs="ignore") if floats else [])
        return [next(found) if is_float(x) else None for x in inputs_again]
    return gradient


def _rewire(extras, counts, replacements):
    """The updates and losses added since counts, read on the real tensors instead of the stand-ins."""
    n_updates, n_losses = counts
    extras.updates[n_updates:] = [(target, clone(value, replacements)) for target, value in extras.updates[n_updates:]]
    extras.losses[n_losses:] = [clone(loss, replacements) for loss in extras.losses[n_losses:]]


def rematerialized_call(layer, call, args, kwargs):
    """layer's call as its RematScope at creation said (Keras's Layer.rematerialized_call)."""
    mode = getattr(layer, "_remat_mode", None)
    if mode is None or mode.mode is None:
        return call
    if mode.mode == "full" or mode.mode == "list_of_layers" and layer.name in mode.layer_names:
        return remat(call)
    if mode.mode == "activations" and getattr(layer, "activation", None) is not None:
        return _with_remat_activation(layer, call)
    if mode.mode == "larger_than" and _output_size(layer, call, args, kwargs) > mode.output_size_threshold:
        return remat(call)
    return call


def _with_remat_activation(layer, call):
    @functools.wraps(call)
    def run(*args, **kwargs):
        activation = layer.activation
        layer.activation = remat(activation)
        try:
            return call(*args, **kwargs)
        finally:
            layer.activation = activation
    return run


def _output_size(layer, call, args, kwargs):
    """How many elements the call's outputs hold, an unknown (batch) dim counted as 1, as Keras counts:
    from a call on stand-ins, whose updates and losses go nowhere."""
    from mlcore.layers.base import collect_extras
    stand_ins = tree.map_structure(lambda v: v.type() if isinstance(v, Variable) else v, (list(args), kwargs))
    with collect_extras():
        outputs = call(*stand_ins[0], **stand_ins[1])
    return sum(math.prod(d or 1 for d in v.type.shape) for v in tree.flatten(outputs) if isinstance(v, Variable))

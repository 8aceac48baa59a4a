"""theano.gof.opt: the optimizer classes of "Extending Theano", on mlcore's FunctionGraph.

A global Optimizer changes a whole FunctionGraph (`apply`); a LocalOptimizer looks at one Apply
node and returns the variables to put in place of its outputs, or False.  A navigator (TopoOptimizer,
in2out, out2in, EquilibriumOptimizer) walks the graph offering each node to local optimizers, sweep
after sweep until none applies, as mlcore's own rewrite passes do (mlcore.graph.rewrite.local_pass).
OpSub, OpRemove and PatternSub write the common local optimizers from a description.  Ops may be
named as Theano code names them, by the functions that make them (T.true_div, T.mul).
"""
import functools

import numpy as np

from mlcore.graph.basic import Constant, Op, op_made_by
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.rewrite import local_pass
from mlcore.graph.rewrite.merge import merge


class Optimizer:
    """A global optimization: optimize(fgraph) adds its requirements, then applies it."""

    def apply(self, fgraph):
        raise NotImplementedError("%s must define apply(fgraph)" % type(self).__name__)

    def add_requirements(self, fgraph):
        """Attach the features apply needs (toolbox.ReplaceValidate, ...); none by default."""

    def optimize(self, fgraph):
        self.add_requirements(fgraph)
        return self.apply(fgraph)

    def __call__(self, fgraph):
        return self.optimize(fgraph)


class MergeOptimizer(Optimizer):
    """Merges the nodes that compute the same op of the same inputs (mlcore's merge pass)."""

    def apply(self, fgraph):
        return merge(fgraph)


merge_optimizer = MergeOptimizer()


class LocalOptimizer:
    """A local optimization: transform(node) gives the node's replacement outputs, or False.
    tracks() lists the ops it looks at (None: every node)."""

    def transform(self, node):
        raise NotImplementedError("%s must define transform(node)" % type(self).__name__)

    def tracks(self):
        return None

    def rule(self, node):
        """mlcore's rule form of this optimizer: a list of new outputs, or None."""
        tracked = self.tracks()
        if tracked and not any(_is_op(node.op, head) for head in tracked):
            return None
        result = self.transform(node)
        if not result:
            return None
        if isinstance(result, dict):         # {old output: new variable}, as later Theano allows
            return [result.get(out, out) for out in node.outputs]
        return list(result)


class FromFunctionLocalOptimizer(LocalOptimizer):
    """The LocalOptimizer that local_optimizer(tracks) makes of a function of a node."""

    def __init__(self, fn, tracks=None):
        self.fn, self._tracks = fn, tracks
        functools.update_wrapper(self, fn)

    def transform(self, node):
        return self.fn(node)

    def tracks(self):
        return self._tracks

    def __call__(self, node):
        return self.fn(node)


def local_optimizer(tracks, inplace=False, requirements=()):
    """Decorator: a LocalOptimizer offered the nodes of the ops in `tracks` (Ops, Op classes or
    the functions that make them; None for every node)."""
    def decorator(fn):
        return FromFunctionLocalOptimizer(fn, tracks)
    return decorator


class LocalOptGroup(LocalOptimizer):
    """Several local optimizers as one: the first that applies to a node wins."""

    def __init__(self, *optimizers):
        self.optimizers = optimizers

    def transform(self, node):
        for optimizer in self.optimizers:
            result = optimizer.rule(node)
            if result is not None:
                return result
        return False


class TopoOptimizer(Optimizer):
    """A navigator: offers every node, inputs first (order="in_to_out") or outputs first, to a local
    optimizer and swaps in what it returns; the new nodes are offered too (sweeps until none
    applies), unless ignore_newtrees."""

    def __init__(self, local_opt, order="in_to_out", ignore_newtrees=False, failure_callback=None):
        if order not in ("in_to_out", "out_to_in"):
            raise ValueError("TopoOptimizer: order must be 'in_to_out' or 'out_to_in', got %r" % (order,))
        self.local_opt, self.order, self.ignore_newtrees = local_opt, order, ignore_newtrees
        self.failure_callback = failure_callback

    def apply(self, fgraph):
        sweep = local_pass(self._safe_rule, max_sweeps=1 if self.ignore_newtrees else 50,
                           reverse=self.order == "out_to_in")
        return sweep(fgraph)

    def _safe_rule(self, node):
        try:
            return self.local_opt.rule(node)
        except Exception as error:
            if self.failure_callback is None:
                raise
            self.failure_callback(error, self, node)
            return None


def in2out(*local_opts, **kwargs):
    return TopoOptimizer(_one(local_opts), "in_to_out", **kwargs)


def out2in(*local_opts, **kwargs):
    return TopoOptimizer(_one(local_opts), "out_to_in", **kwargs)


def _one(local_opts):
    return local_opts[0] if len(local_opts) == 1 else LocalOptGroup(*local_opts)


class EquilibriumOptimizer(Optimizer):
    """Applies its optimizers (local ones through a navigator, global ones as they are) over and
    over until none changes the graph."""

    def __init__(self, optimizers, max_use_ratio=None, ignore_newtrees=True, failure_callback=None):
        locals_ = [o for o in optimizers if isinstance(o, LocalOptimizer)]
        self.steps = [o for o in optimizers if not isinstance(o, LocalOptimizer)]
        if locals_:
            self.steps.insert(0, in2out(*locals_, failure_callback=failure_callback))

    def apply(self, fgraph):
        changed_any = False
        for _ in range(50):
            changed = [bool(step.optimize(fgraph)) for step in self.steps]
            changed_any |= any(changed)
            if not any(changed):
                break
        return changed_any


# --- optimizers from a description -----------------------------------------------------------------
class OpSub(LocalOptimizer):
    """Replaces each use of op1 by op2 on the same inputs."""

    def __init__(self, op1, op2, transfer_tags=True):
        self.op1, self.op2 = op1, op2

    def transform(self, node):
        if not _is_op(node.op, self.op1):
            return False
        result = self.op2(*node.inputs)
        return result if isinstance(result, (list, tuple)) else [result]

    def tracks(self):
        return [self.op1]


class OpRemove(LocalOptimizer):
    """Removes op: y = op(x) becomes x (op has as many outputs as inputs)."""

    def __init__(self, op):
        self.op = op

    def transform(self, node):
        return list(node.inputs) if _is_op(node.op, self.op) else False

    def tracks(self):
        return [self.op]


class PatternSub(LocalOptimizer):
    """Replaces what in_pattern matches by out_pattern.  A pattern is (op, sub-pattern, ...), a
    string (a variable, the same wherever the name appears), a number (a constant of that value), or
    {"pattern": p, "constraint": fn(variable) -> bool}.  allow_multiple_clients and the rest of
    Theano's arguments are accepted: an inner node that has other users keeps serving them, so a
    match is replaced whether or not it has."""

    def __init__(self, in_pattern, out_pattern, allow_multiple_clients=False, skip_identities_fn=None,
                 name=None, pdb=False, tracks=(), get_nodes=None, values_eq_approx=None):
        self.in_pattern, self.out_pattern = in_pattern, out_pattern
        if not isinstance(in_pattern, (tuple, list)):
            raise TypeError("PatternSub: in_pattern must start with an op, got %r" % (in_pattern,))

    def tracks(self):
        return [self.in_pattern[0]]

    def transform(self, node):
        bindings = {}
        if not self._match(self.in_pattern, node.outputs[0], bindings):
            return False
        out = self._build(self.out_pattern, bindings)
        if out.dtype != node.outputs[0].dtype or out.ndim != node.outputs[0].ndim:
            return False
        return [out]

    def _match(self, pattern, variable, bindings):
        if isinstance(pattern, dict):
            return self._match(pattern["pattern"], variable, bindings) and \
                pattern.get("constraint", lambda v: True)(variable)
        if isinstance(pattern, str):
            if pattern in bindings:
                return bindings[pattern] is variable
            bindings[pattern] = variable
            return True
        if isinstance(pattern, (int, float, np.number)):
            return isinstance(variable, Constant) and variable.data.size == 1 and \
                float(variable.data.reshape(())) == float(pattern)
        node = variable.owner
        if node is None or not _is_op(node.op, pattern[0]) or len(node.inputs) != len(pattern) - 1:
            return False
        return all(self._match(p, v, bindings) for p, v in zip(pattern[1:], node.inputs))

    def _build(self, pattern, bindings):
        if isinstance(pattern, str):
            return bindings[pattern]
        if isinstance(pattern, (tuple, list)):
            return pattern[0](*[self._build(p, bindings) for p in pattern[1:]])
        return as_tensor_variable(pattern)


# --- naming ops as Theano code does -----------------------------------------------------------------
def _is_op(op, head):
    """Whether op is what head names: an Op (equal), an Op class (an instance), or a function that
    makes one (T.true_div names the op T.true_div(x, y) applies)."""
    if isinstance(head, Op):
        return op == head
    if isinstance(head, type):
        return isinstance(op, head)
    made = op_made_by(head)
    return made is not None and op == made

"""Theano's OpFromGraph: a graph wrapped as one op, called on other variables as any op is.

Its gradient is the inner graph's, or the one grad_overrides / lop_overrides give (a common use:
a custom gradient for an expression).  No backend runs it as such: mlcore.function puts the inner
graph in its place (with the call's inputs) before rewriting, which Theano calls inline=True, so the
rewrites see through it; shared variables of the inner graph are found then, as Theano finds them.
"""
from mlcore.graph.basic import Apply, Constant, Op, Variable, clone
from mlcore.graph.gradient import _backpropagate, is_float
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.elemwise import zeros_like

DEFAULT = "default"


class OpFromGraph(Op):
    """op = OpFromGraph([x, y], [x + y * 2]); op(a, b) is a + b * 2, with the inner graph's gradient.

    grad_overrides: "default", a callable (inputs, output_grads) -> input grads (another OpFromGraph
    too), or a list with one entry per input ("default", such a callable returning that input's grad,
    or None for no gradient).  lop_overrides: the same, called (inputs, outputs, output_grads), and it
    wins over grad_overrides.  connection_pattern[i][j]: whether output j depends on input i (an input
    connected to no output gets no gradient).  rop_overrides is kept for Theano's signature: mlcore's
    Rop is two L_ops (as PyTensor's default), so it does not call it.  inline and the function
    keyword arguments are accepted; the inner graph is always inlined when compiled."""
    foldable = False

    def __init__(self, inputs, outputs, inline=False, lop_overrides=DEFAULT, grad_overrides=DEFAULT,
                 rop_overrides=DEFAULT, connection_pattern=None, name=None, **kwargs):
        for variable in inputs:
            if not isinstance(variable, Variable) or isinstance(variable, Constant) or variable.owner is not None:
                raise TypeError("OpFromGraph: the inputs must be symbolic inputs such as T.matrix(), not the "
                                "constant or computed %r" % (variable,))
        self.inputs, self.outputs = list(inputs), [as_tensor_variable(o) for o in outputs]
        self.inline, self.name, self.function_kwargs = inline, name, kwargs
        self.lop_overrides, self.grad_overrides, self.rop_overrides = lop_overrides, grad_overrides, rop_overrides
        self.connection_pattern = connection_pattern
        for overrides in (lop_overrides, grad_overrides):
            if isinstance(overrides, list) and len(overrides) != len(self.inputs):
                raise ValueError("OpFromGraph: %d gradient overrides for %d inputs"
                                 % (len(overrides), len(self.inputs)))

    # an op is its own graph: two of them are never interchangeable
    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return id(self)

    def __str__(self):
        return self.name or "OpFromGraph{%s}" % ", ".join(str(o.type) for o in self.outputs)

    def make_node(self, *inputs):
        if len(inputs) != len(self.inputs):
            raise TypeError("%s takes %d inputs, got %d" % (self, len(self.inputs), len(inputs)))
        inputs = [as_tensor_variable(v) for v in inputs]
        for given, expected in zip(inputs, self.inputs):
            if given.dtype != expected.dtype or given.ndim != expected.ndim:
                raise TypeError("%s: an input of type %s was given where %s is expected"
                                % (self, given.type, expected.type))
        return Apply(self, inputs, [o.type for o in self.outputs])

    def expand(self, inputs):
        """The inner graph's outputs computed from these inputs."""
        return clone(self.outputs, list(zip(self.inputs, inputs)))

    def pullback(self, inputs, outputs, output_grads):
        output_grads = [zeros_like(o) if g is None else g for o, g in zip(outputs, output_grads)]

        def default():
            return self._default(inputs, output_grads)
        if self.lop_overrides != DEFAULT:
            grads = _overridden(self.lop_overrides, default, (list(inputs), list(outputs), output_grads))
        elif self.grad_overrides != DEFAULT:
            grads = _overridden(self.grad_overrides, default, (list(inputs), output_grads))
        else:
            grads = default()
        return [None if g is None or not self._connected(k) or not is_float(x) else g
                for k, (x, g) in enumerate(zip(inputs, grads))]

    def _default(self, inputs, output_grads):
        """The inner graph's gradient, on the call's inputs: None where an input is disconnected."""
        floats = [x for x in self.inputs if is_float(x)]
        found = _backpropagate(dict(zip(self.outputs, output_grads)), floats, ())
        inner = [found.get(x) for x in self.inputs]
        present = [g for g in inner if g is not None]
        outer = iter(clone(present, list(zip(self.inputs, inputs))) if present else [])
        return [None if g is None else next(outer) for g in inner]

    def _connected(self, k):
        return self.connection_pattern is None or any(self.connection_pattern[k])


def _overridden(overrides, default, arguments):
    """The input gradients an override gives: one callable for all, or a list with one entry per input
    ("default": default()'s, computed once; None: no gradient; else a callable)."""
    if not isinstance(overrides, list):
        return list(overrides(*arguments))
    defaults = default() if DEFAULT in overrides else None
    return [defaults[k] if entry == DEFAULT else None if entry is None else entry(*arguments)
            for k, entry in enumerate(overrides)]


def inline_op_from_graphs(fgraph):
    """Put each OpFromGraph call's inner graph (nested ones too) in its place, in the function's graph."""
    while True:
        calls = [node for node in fgraph.toposort() if isinstance(node.op, OpFromGraph)]
        if not calls:
            return
        fgraph.replace([pair for node in calls for pair in zip(node.outputs, node.op.expand(node.inputs))])

"""Theano's OpFromGraph: a graph wrapped as one op, called on other variables as any op is.

Its gradient is the inner graph's, or the one grad_overrides / lop_overrides give (a common use:
a custom gradient for an expression).  No backend runs it as such: mlcore.function puts the inner
graph in its place (with the call's inputs) before rewriting, which Theano calls inline=True, so the
rewrites see through it.  The inner graph's shared variables are extra inputs of every call, as in
Theano, so gradients reach them and T.Rop can use rop_overrides.
"""
from mlcore.graph.basic import Apply, Constant, Op, SharedVariable, Variable, clone, graph_inputs, toposort
from mlcore.graph.gradient import _backpropagate, grad, is_float, zero_grad
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.elemwise import zeros_like

DEFAULT = "default"


class OpFromGraph(Op):
    """op = OpFromGraph([x, y], [x + y * 2]); op(a, b) is a + b * 2, with the inner graph's gradient.

    The inner graph's shared variables become inputs of each call (op.shared_inputs, after the
    explicit ones), as in Theano, so gradients reach them and the function that runs the call
    reads their current values and applies their default updates.
    grad_overrides: "default", a callable (inputs, output_grads) -> input grads, another
    OpFromGraph (called on inputs + output_grads), or a list with one entry per explicit input
    ("default", such a callable returning that input's grad, None or DisconnectedType()() for no
    gradient, NullType()() for an undefined one).  lop_overrides: the same, called (inputs,
    outputs, output_grads), and it wins over grad_overrides.  rop_overrides: a callable
    (inputs, eval_points) -> one R-op per output, or an OpFromGraph called on inputs +
    eval_points; T.Rop then gives it.  connection_pattern[i][j]: whether output j depends on
    input i (op.connection_pattern(node) gives it, computed from the graph when not given; an
    input connected to no output gets no gradient).  inline and the function keyword arguments
    are accepted; the inner graph is always inlined when compiled."""
    foldable = False

    def __init__(self, inputs, outputs, inline=False, lop_overrides=DEFAULT, grad_overrides=DEFAULT,
                 rop_overrides=DEFAULT, connection_pattern=None, name=None, **kwargs):
        _check_graph(inputs, outputs, kwargs)
        outputs = [as_tensor_variable(o) for o in outputs]
        self.shared_inputs = [v for v in graph_inputs(outputs) if isinstance(v, SharedVariable)]
        stand_ins = [v.type() for v in self.shared_inputs]
        self.inputs = list(inputs) + stand_ins
        self.outputs = clone(outputs, list(zip(self.shared_inputs, stand_ins))) if stand_ins else outputs
        self.inline, self.name, self.function_kwargs = inline, name, kwargs
        self.lop_overrides, self.grad_overrides, self.rop_overrides = lop_overrides, grad_overrides, rop_overrides
        self.given_connection_pattern = connection_pattern
        for overrides in (lop_overrides, grad_overrides):
            if isinstance(overrides, list) and len(overrides) != len(inputs):
                raise ValueError("OpFromGraph: %d gradient overrides for %d inputs" % (len(overrides), len(inputs)))
        if isinstance(rop_overrides, list):
            raise NotImplementedError("OpFromGraph: rop_overrides takes one callable or OpFromGraph for all "
                                      "outputs, not a list")

    # an op is its own graph: two of them are never interchangeable
    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return id(self)

    def __str__(self):
        return self.name or "OpFromGraph{%s}" % ", ".join(str(o.type) for o in self.outputs)

    def make_node(self, *inputs):
        explicit = len(self.inputs) - len(self.shared_inputs)
        if len(inputs) == explicit:
            inputs = list(inputs) + self.shared_inputs
        if len(inputs) != len(self.inputs):
            raise TypeError("%s takes %d inputs, got %d" % (self, explicit, len(inputs)))
        inputs = [as_tensor_variable(v) for v in inputs]
        for given, expected in zip(inputs, self.inputs):
            if given.dtype != expected.dtype or given.ndim != expected.ndim:
                raise TypeError("%s: an input of type %s was given where %s is expected"
                                % (self, given.type, expected.type))
        return Apply(self, inputs, [o.type for o in self.outputs])

    def expand(self, inputs):
        """The inner graph's outputs computed from these inputs."""
        return clone(self.outputs, list(zip(self.inputs, inputs)))

    def connection_pattern(self, node):
        """For each input (the shared ones last), whether each output depends on it: the pattern
        given to the constructor, else the inner graph's (through nested calls' own patterns)."""
        if self.given_connection_pattern is not None:
            return [list(row) for row in self.given_connection_pattern]
        reached = _dependencies(self.inputs, self.outputs)
        return [[k in found for found in reached] for k in range(len(self.inputs))]

    def pullback(self, inputs, outputs, output_grads):
        output_grads = [zeros_like(o) if g is None else g for o, g in zip(outputs, output_grads)]
        if self.rop_overrides == DEFAULT:
            grads = self._pulled(inputs, outputs, output_grads)
        else:
            grads = self._pulled_with_rop(inputs, outputs, output_grads)
        return [None if g is None or not self._connected(k) or not is_float(x) else g
                for k, (x, g) in enumerate(zip(inputs, grads))]

    def _pulled(self, inputs, outputs, output_grads):
        """The input gradients: the overrides' for the explicit inputs where given (they never see
        the shared ones), the inner graph's elsewhere."""
        n = len(inputs) - len(self.shared_inputs)
        found = []

        def default():
            if not found:
                found.append(self._default(inputs, output_grads))
            return found[0]
        if self.lop_overrides != DEFAULT:
            grads = _overridden(self.lop_overrides, default, (list(inputs[:n]), list(outputs), output_grads))
        elif self.grad_overrides != DEFAULT:
            grads = _overridden(self.grad_overrides, default, (list(inputs[:n]), output_grads))
        else:
            return default()
        return grads + default()[n:] if self.shared_inputs else grads

    def _pulled_with_rop(self, inputs, outputs, output_grads):
        """The input gradients with the value and the input-derivatives of _pulled, whose derivative
        with respect to output_grads is the transpose of rop_overrides, so that T.Rop (two reverse
        passes) gives the override: plain(x, stop(g)) + R^T(stop(x), g) - R^T(stop(x), stop(g))."""
        n = len(inputs) - len(self.shared_inputs)
        fixed_inputs = [zero_grad(x) for x in inputs[:n]] + list(inputs[n:])
        fixed_grads = [zero_grad(g) for g in output_grads]
        plain = self._pulled(inputs, outputs, fixed_grads)
        through = self._rop_transposed(fixed_inputs[:n], output_grads) + [None] * len(self.shared_inputs)
        cancel = self._rop_transposed(fixed_inputs[:n], fixed_grads) + [None] * len(self.shared_inputs)
        return [p if t is None else _plus(p, t - c) for p, t, c in zip(plain, through, cancel)]

    def _rop_transposed(self, inputs, output_grads):
        """For each explicit input, output_grads pulled back through the linear map rop_overrides
        gives from that input's eval point (None where it gives nothing)."""
        points = [x.type() for x in inputs]
        rops = _as_list(_call(self.rop_overrides, (list(inputs), points)))
        terms = [(r * g).sum() for r, g in zip(rops, output_grads) if r is not None]
        if not terms:
            return [None] * len(inputs)
        pulled = grad(sum(terms[1:], terms[0]), points, disconnected_inputs="ignore", return_disconnected="None")
        at_zero = list(zip(points, [zeros_like(x) for x in inputs]))
        return [None if g is None else clone(g, at_zero) for g in pulled]

    def _default(self, inputs, output_grads):
        """The inner graph's gradient, on the call's inputs: None where an input is disconnected."""
        floats = [x for x in self.inputs if is_float(x)]
        found = _backpropagate(dict(zip(self.outputs, output_grads)), floats, ())
        inner = [found.get(x) for x in self.inputs]
        present = [g for g in inner if g is not None]
        outer = iter(clone(present, list(zip(self.inputs, inputs))) if present else [])
        return [None if g is None else next(outer) for g in inner]

    def _connected(self, k):
        pattern = self.given_connection_pattern
        return pattern is None or k >= len(pattern) or any(pattern[k])


def _check_graph(inputs, outputs, kwargs):
    """Theano's checks of an OpFromGraph's graph: lists of variables, the inputs free ones."""
    if not isinstance(inputs, list) or not isinstance(outputs, list):
        raise TypeError("OpFromGraph: inputs and outputs must be lists, got %s and %s"
                        % (type(inputs).__name__, type(outputs).__name__))
    for variable in inputs:
        if not isinstance(variable, Variable) or isinstance(variable, (Constant, SharedVariable)) \
                or variable.owner is not None:
            raise TypeError("OpFromGraph: the inputs must be symbolic inputs such as T.matrix(), not the "
                            "constant, shared or computed %r" % (variable,))
    for variable in outputs:
        if not isinstance(variable, Variable):
            raise TypeError("OpFromGraph: the outputs must be variables, got %r" % (variable,))
    if "updates" in kwargs or "givens" in kwargs:
        raise TypeError("OpFromGraph: updates and givens are not allowed here")


def _dependencies(inputs, outputs):
    """For each output, the positions of the inputs it depends on, through each nested
    OpFromGraph's connection pattern and through every input of the other nodes."""
    reach = {id(x): {k} for k, x in enumerate(inputs)}
    for node in toposort(outputs, blockers=inputs):
        pattern = node.op.connection_pattern(node) if isinstance(node.op, OpFromGraph) else None
        for j, out in enumerate(node.outputs):
            used = [i for k, i in enumerate(node.inputs) if pattern is None or pattern[k][j]]
            reach[id(out)] = set().union(*(reach.get(id(i), set()) for i in used))
    return [reach.get(id(o), set()) for o in outputs]


def _plus(a, b):
    return b if a is None else a + b


def _call(override, arguments):
    """An override called on arguments (lists of variables): a callable takes the lists, another
    OpFromGraph their variables one after the other, as Theano calls them."""
    if isinstance(override, OpFromGraph):
        return override(*[v for group in arguments for v in group], return_list=True)
    return override(*arguments)


def _as_list(result):
    return list(result) if isinstance(result, (list, tuple)) else [result]


def _is_default(entry):
    return isinstance(entry, str) and entry == DEFAULT


def _overridden(overrides, default, arguments):
    """The input gradients an override gives: one callable (or OpFromGraph) for all, or a list with
    one entry per input ("default": default()'s; None or DisconnectedType()(): no gradient; a
    callable: its result; anything else, such as NullType()(), is that input's gradient)."""
    if not isinstance(overrides, list):
        return _as_list(_call(overrides, arguments))
    return [default()[k] if _is_default(entry) else _as_list(_call(entry, arguments))[0] if callable(entry)
            else entry for k, entry in enumerate(overrides)]


def inline_op_from_graphs(fgraph):
    """Put each OpFromGraph call's inner graph (nested ones too) in its place, in the function's graph."""
    while True:
        calls = [node for node in fgraph.toposort() if isinstance(node.op, OpFromGraph)]
        if not calls:
            return
        fgraph.replace([pair for node in calls for pair in zip(node.outputs, node.op.expand(node.inputs))])

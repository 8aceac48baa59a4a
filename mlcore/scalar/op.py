"""Scalar ops written as in Theano: ScalarOp and its Unary/Binary kinds, and Composite.

A user's scalar op gives nin, impl(*values) on numbers, grad(inputs, output_gradients) written
with scalar ops, and its output types (output_types_preference=upgrade_to_float, ...).  It is not a
node of its own in a graph: applied to scalars, or to tensors through T.elemwise.Elemwise(op), it
makes a ScalarElemwise node (mlcore/scalar/elemwise.py), which every backend runs.
"""
import numpy as np

from mlcore.compile.builders import OpFromGraph
from mlcore.graph.basic import Constant, Op, Variable, toposort
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.scalar.type import ScalarType, as_scalar


class ScalarOp(Op):
    """Theano's ScalarOp: subclass it with nin (-1: any number), nout, impl and grad."""

    nin = -1
    nout = 1

    def __init__(self, output_types_preference=None, name=None):
        self.name = name
        if output_types_preference is not None:
            if not callable(output_types_preference):
                raise TypeError("%s: output_types_preference must be a type rule such as upgrade_to_float, "
                                "not %r" % (type(self).__name__, output_types_preference))
            self.output_types_preference = output_types_preference

    def output_types(self, types):
        """The output types for these input types, by output_types_preference (or an override)."""
        rule = getattr(self, "output_types_preference", None)
        if rule is None:
            raise NotImplementedError("%s has no output types: pass output_types_preference (upgrade_to_float, "
                                      "same_out, upcast_out, ...) or define output_types(types)" % self)
        return rule(*types)

    def make_node(self, *inputs):
        from mlcore.scalar.elemwise import ScalarElemwise
        return ScalarElemwise(self).make_node(*[as_scalar(x, op=self) for x in inputs])

    def impl(self, *inputs):
        raise NotImplementedError("%s has no impl(*inputs): it cannot be computed" % self)

    def grad(self, inputs, output_gradients):
        raise NotImplementedError("%s has no grad(inputs, output_gradients)" % self)

    def numpy_function(self, nin):
        """The op on whole arrays: numpy's function named by Theano's nfunc_spec when the op has one,
        else impl called on each element, as Theano's Elemwise runs a scalar op in Python."""
        spec = getattr(self, "nfunc_spec", None)
        if spec:
            return getattr(np, spec[0])
        return np.frompyfunc(self.impl, nin, self.nout)

    def __eq__(self, other):
        return (type(self) is type(other) and self._props() == other._props()
                and getattr(self, "output_types_preference", None) == getattr(other, "output_types_preference", None))

    def __hash__(self):
        return hash((type(self), self._props(), getattr(self, "output_types_preference", None)))

    def __str__(self):
        return self.name or type(self).__name__

    __repr__ = __str__


class UnaryScalarOp(ScalarOp):
    nin = 1


class BinaryScalarOp(ScalarOp):
    nin = 2


class Composite(ScalarOp):
    """A graph of scalar ops as one op: Composite([x, y], [x + y * 2]).  Applied to scalars or, through
    Elemwise, to tensors, it is an OpFromGraph of the graph rebuilt on those inputs' types, so it
    has the graph's gradient and the backends see (and fuse) the graph itself."""

    foldable = False       # its node, an OpFromGraph, is inlined when compiled, not run as such

    def __init__(self, inputs, outputs):
        super().__init__()
        for x in inputs:
            if not isinstance(x, Variable) or isinstance(x, Constant) or x.owner is not None or x.ndim:
                raise TypeError("Composite: its inputs must be scalar inputs such as theano.scalar.float64(), "
                                "not %r" % (x,))
        self.inputs, self.outputs = list(inputs), [as_tensor_variable(o) for o in outputs]
        for out in self.outputs:
            if out.ndim:
                raise TypeError("Composite: its outputs must be scalars, not %s of type %s" % (out, out.type))
        self.nin, self.nout = len(self.inputs), len(self.outputs)

    def __eq__(self, other):
        return self is other

    def __hash__(self):
        return id(self)

    def __str__(self):
        from mlcore.printing import pp
        return "Composite{%s}" % ", ".join(pp(out) for out in self.outputs)

    def output_types(self, types):
        outputs = replay(self.outputs, zip(self.inputs, [ScalarType(t.dtype)() for t in types]))
        return tuple(ScalarType(out.dtype) for out in outputs)

    def make_node(self, *inputs):
        if len(inputs) != self.nin:
            raise TypeError("%s takes %d inputs, got %d" % (self, self.nin, len(inputs)))
        inputs = [as_tensor_variable(x) for x in inputs]
        fresh = [x.type() for x in inputs]
        return CompositeGraph(self, fresh, replay(self.outputs, zip(self.inputs, fresh))).make_node(*inputs)

    def impl(self, *values):
        """The outputs' values for these input values, computed by the numpy backend."""
        from mlcore.function import function
        if "_function" not in self.__dict__:
            self._function = function(self.inputs, self.outputs, backend="numpy")
        results = self._function(*values)
        return results[0] if self.nout == 1 else results


class CompositeGraph(OpFromGraph):
    """What a Composite applied to some inputs is in the graph: an OpFromGraph that remembers its
    Composite, so a graph holding it can be rebuilt on inputs of other shapes (replay)."""

    def __init__(self, composite, inputs, outputs):
        super().__init__(inputs, outputs, inline=True, name=str(composite))
        self.scalar_op = composite


def replay(outputs, replacements):
    """The graph of outputs rebuilt with the variables of replacements, pairs (old, new), put in:
    each node's op is applied again, so types, shapes and broadcasting come from the new inputs (a
    scalar graph applied to matrices).  Nodes that do not depend on a replaced variable are kept."""
    replacements = list(replacements)
    memo = {id(old): new for old, new in replacements}
    for node in toposort(outputs, blockers=[old for old, _ in replacements]):
        args = [memo.get(id(i), i) for i in node.inputs]
        if all(a is i for a, i in zip(args, node.inputs)):
            continue
        op = node.op.scalar_op if isinstance(node.op, CompositeGraph) else node.op
        results = op(*args)
        for old, new in zip(node.outputs, results if isinstance(results, list) else [results]):
            memo[id(old)] = new
    return [memo.get(id(out), out) for out in outputs]

"""Scan: a loop as one op holding the graph of one step (Theano's Scan, JAX's lax.scan).

At step t the step graph maps the rows x[t] of the sequences, past values of the recurrent
outputs (their taps: t-1, t-2, ...) and the loop's invariants to each output's value at t; the
op stacks those values over the steps.  Whatever the step graph reads from outside becomes an
invariant input of the op, so each backend compiles the step graph on its own and runs it in
its own loop (a Python loop, jax.lax.scan, pytensor.scan).  The gradient is another Scan,
running backwards (scan_grad.py).  A Scan with until (Theano's scan_module.until) stops after
the step whose condition is true, so its length is known from the values only.  While is the
loop whose data decide when it stops (JAX's lax.while_loop): it keeps only the last values, and
has no gradient, as lax.while_loop has none.
"""
import numpy as np

from mlcore.graph.basic import Apply, Constant, Op, TensorType, toposort
from mlcore.graph.ops.common import as_tensor_variable


def free_variables(outputs, given):
    """The variables the graph of `outputs` reads from outside, besides `given` and constants:
    the inputs of the nodes that depend on something given and do not themselves.  What depends
    on nothing given is thereby computed once, outside the loop (Theano's scan "pushout")."""
    varying = {id(v) for v in given}
    found, seen = [], set()

    def take(var):
        if id(var) not in varying and id(var) not in seen and not isinstance(var, Constant):
            seen.add(id(var))
            found.append(var)
    for node in toposort(outputs, blockers=given):
        if any(id(i) in varying for i in node.inputs):
            varying.update(id(o) for o in node.outputs)
            for i in node.inputs:
                take(i)
    for out in outputs:
        take(out)
    return found


class StepGraph:
    """The graph of one step: its inputs (the given ones, then the free variables it reads from
    outside) and outputs.  The Scan op's parameter, compared by identity."""

    def __init__(self, given, outputs):
        self.outputs = list(outputs)
        self.free = free_variables(self.outputs, given)
        self.inputs = list(given) + self.free

    def function_graph(self):
        """A rewritten copy of the step graph, for a backend to compile.  Its inputs are new
        variables, so that no rewrite reaches through an invariant into the graph outside."""
        from mlcore.graph.fgraph import FunctionGraph
        from mlcore.graph.rewrite import rewrite
        inputs = [v.type(v.name) for v in self.inputs]
        return rewrite(FunctionGraph(inputs, self.outputs, dict(zip(self.inputs, inputs))))

    def __repr__(self):
        return "StepGraph(%d inputs, %d outputs)" % (len(self.inputs), len(self.outputs))


class Scan(Op):
    """outputs[j][t] = step(rows t of the sequences, the taps of the recurrent outputs at t,
    the invariants)[j], for t in range(n_steps).

    Inputs: n_steps; the sequences, of n_steps rows each; for each recurrent output the values of
    its window before step 0 (window rows, the last one step -1); the invariants.  taps holds,
    per output, the negative offsets at which the step reads its past: (-1,) for a plain
    recurrence, () for an output that is not fed back.  truncate_gradient: how many steps back
    the gradient goes (-1: all, Theano's truncated BPTT otherwise).
    """

    __props__ = ("step", "n_sequences", "taps", "truncate_gradient", "name", "until")

    def __init__(self, step, n_sequences, taps, truncate_gradient=-1, name=None, until=False):
        self.step = step
        self.n_sequences = n_sequences
        self.taps = tuple(tuple(int(k) for k in t) for t in taps)
        self.truncate_gradient = int(truncate_gradient)
        self.name = name
        self.until = bool(until)      # the step's last output is a condition: stop after the step it is true
        if self.until and (step.outputs[-1].ndim != 0 or self.taps[-1]):
            raise ValueError("Scan: until's condition must be a scalar the step does not read back, got %s"
                             % (step.outputs[-1].type,))
        if len(self.taps) != len(step.outputs):
            raise ValueError("Scan: %d tap lists for %d step outputs" % (len(self.taps), len(step.outputs)))
        if any(k >= 0 for t in self.taps for k in t):
            raise ValueError("Scan: an output can only read its past (negative taps), got %s" % (self.taps,))

    @property
    def recurrent(self):
        """Positions of the outputs fed back into the step."""
        return [j for j, t in enumerate(self.taps) if t]

    def window(self, j):
        """How many past values of output j the step reads back."""
        return -min(self.taps[j])

    @property
    def n_slots(self):
        """How many step inputs take new values each step (sequence rows and taps)."""
        return self.n_sequences + sum(len(t) for t in self.taps)

    def split(self, inputs):
        """The op's inputs after n_steps, as (sequences, initial windows, invariants)."""
        a, b = self.n_sequences, self.n_sequences + len(self.recurrent)
        return list(inputs[:a]), list(inputs[a:b]), list(inputs[b:])

    def __str__(self):
        return "Scan{%s}" % self.name if self.name else "Scan"

    __repr__ = __str__

    def make_node(self, n_steps, *inputs):
        n_steps = as_tensor_variable(n_steps)
        if n_steps.ndim != 0 or np.dtype(n_steps.dtype).kind not in "iu":
            raise TypeError("Scan: n_steps must be an integer scalar, got %s" % (n_steps.type,))
        inputs = [as_tensor_variable(i) for i in inputs]
        sequences, initials, invariants = self.split(inputs)
        if (len(sequences), len(invariants)) != (self.n_sequences, len(self.step.inputs) - self.n_slots):
            raise ValueError("Scan: expected %d sequences and %d invariants, got %d inputs after n_steps"
                             % (self.n_sequences, len(self.step.inputs) - self.n_slots, len(inputs)))
        steps = int(n_steps.data) if isinstance(n_steps, Constant) and not self.until else None
        row_shapes = [out.type.shape for out in self.step.outputs]
        for j, initial in zip(self.recurrent, initials):
            row_shapes[j] = self._state_row_shape(j, initial)
        types = [TensorType(out.dtype, (steps,) + shape) for out, shape in zip(self.step.outputs, row_shapes)]
        return Apply(self, [n_steps] + inputs, types)

    def _state_row_shape(self, j, initial):
        """Output j's shape per step, which its initial window also fixes; a mismatch fails here."""
        out = self.step.outputs[j]
        if initial.dtype != out.dtype or initial.ndim != out.ndim + 1:
            raise TypeError("Scan: the initial state of output %d (%s, one row per tap back) does not match "
                            "what the step returns (%s); an output fed back must keep its dtype and "
                            "shape" % (j, initial.type, out.type))
        shape = []
        for a, b in zip(initial.type.shape[1:], out.type.shape):
            if a is not None and b is not None and a != b:
                raise ValueError("Scan: output %d has shape %s per step, but its initial state %s"
                                 % (j, out.type, initial.type))
            shape.append(b if a is None else a)
        return tuple(shape)

    def pullback(self, inputs, outputs, output_grads):
        from mlcore.graph.ops.scan_grad import scan_pullback
        if not self.until:
            return scan_pullback(self, inputs, outputs, output_grads)
        # The steps that ran, as a loop of a fixed length: the same step over the sequences' first rows.
        from mlcore.graph.ops.elemwise import zeros_like
        from mlcore.graph.ops.indexing import set_subtensor
        from mlcore.graph.ops.shape import shape
        ran = shape(outputs[-1])[0]
        sequences, rest = inputs[1:1 + self.n_sequences], inputs[1 + self.n_sequences:]
        fixed = Scan(self.step, self.n_sequences, self.taps, self.truncate_gradient, self.name)
        grads = scan_pullback(fixed, [ran] + [s[:ran] for s in sequences] + rest, outputs, output_grads)
        for i, s in enumerate(sequences):
            if grads[1 + i] is not None:
                grads[1 + i] = set_subtensor(zeros_like(s)[:ran], grads[1 + i])
        return grads


def apply_scan(n_steps, sequences, initials, slots, outputs, taps, invariants=(), truncate_gradient=-1,
               name=None, until=False):
    """The stacked outputs of a Scan of the step graph `outputs`.  slots: its inputs taking new
    values each step (the sequences' rows, then the taps of each recurrent output); invariants:
    (inner, outer) pairs binding other inputs of the step graph to outer values.  Everything else
    the step graph reads from outside is found here and passed in as it is."""
    step = StepGraph(list(slots) + [inner for inner, _ in invariants], outputs)
    op = Scan(step, len(sequences), taps, truncate_gradient, name, until)
    outer = [value for _, value in invariants] + step.free
    return op.make_node(n_steps, *sequences, *initials, *outer).outputs


class While(Op):
    """The loop variables after `body` has replaced them for as long as `cond` holds (at most
    maximum_iterations times, where given).  cond and body are StepGraphs given the loop
    variables; inputs: the initial values, then the free variables of cond, then those of body."""

    __props__ = ("cond", "body", "maximum_iterations")

    def __init__(self, cond, body, maximum_iterations=None):
        self.cond, self.body = cond, body
        self.maximum_iterations = None if maximum_iterations is None else int(maximum_iterations)
        if len(cond.outputs) != 1 or cond.outputs[0].ndim != 0:
            raise ValueError("while_loop: cond must return one scalar, got %s" % ([o.type for o in cond.outputs],))

    def split(self, inputs):
        """The op's inputs as (loop variables, cond's free variables, body's free variables)."""
        a = len(self.body.outputs)
        b = a + len(self.cond.free)
        return list(inputs[:a]), list(inputs[a:b]), list(inputs[b:])

    def make_node(self, *inputs):
        inputs = [as_tensor_variable(i) for i in inputs]
        initials = inputs[:len(self.body.outputs)]
        for k, (initial, out) in enumerate(zip(initials, self.body.outputs)):
            if initial.dtype != out.dtype or initial.ndim != out.ndim or any(
                    a is not None and b is not None and a != b for a, b in zip(initial.type.shape, out.type.shape)):
                raise TypeError("while_loop: body must return each loop variable with its dtype and shape: "
                                "variable %d is %s, body gives %s" % (k, initial.type, out.type))
        return Apply(self, inputs, [TensorType(i.dtype, i.type.shape) for i in initials])

    def pullback(self, inputs, outputs, output_grads):
        raise NotImplementedError("while_loop has no gradient (as jax.lax.while_loop): its number of steps "
                                  "is data; differentiate a fori_loop or scan of a fixed length instead")


def apply_while(cond_graph, body_graph, loop_variables, given, maximum_iterations=None):
    """The last values of a While loop: cond_graph (a scalar) and body_graph (the new values) are
    built on `given`, stand-ins of the loop variables, whose initial values are loop_variables."""
    cond, body = StepGraph(given, [cond_graph]), StepGraph(given, body_graph)
    op = While(cond, body, maximum_iterations)
    return op.make_node(*loop_variables, *cond.free, *body.free).outputs

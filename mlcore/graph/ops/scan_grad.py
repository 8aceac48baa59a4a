"""The gradient of a Scan: another Scan, over the same steps backwards (backpropagation through
time, built symbolically as Theano does).

Going back from the last step, the backward step takes the gradient of each output at step t
(given from outside, plus what later steps sent back through the taps that read it) and pulls
it back through the forward step graph: the gradients of that step's sequence rows, taps and
invariants.  A tap's gradient belongs to an earlier output, so each recurrent output carries a
window of pending gradients, as many rows as its taps reach back: row l holds what the output of
step t - window + 1 + l has received so far, the last row step t's own.  After step 0 the
window holds the gradients of the initial values.
"""
from mlcore.graph.basic import TensorType
from mlcore.graph.fgraph import FunctionGraph
from mlcore.graph.gradient import backpropagate, is_float
from mlcore.graph.ops.elemwise import cast, lt, minimum, switch, zeros_like
from mlcore.graph.ops.scan import apply_scan
from mlcore.graph.ops.shape import concatenate, dimshuffle, stack


def _row_of(var, name):
    """A step input taking one row of var at a time."""
    return TensorType(var.dtype, var.type.shape[1:])(name)


class BackwardStep:
    """The graph of one step of the backward scan.

    Its per-step inputs (`slots`): the output gradients at t, the forward step's own per-step
    inputs, and the forward outputs at t that the gradient reads (tanh's gradient reads tanh:
    stored rows, not recomputed); then a window per float recurrent output.  Its outputs: the
    next windows, then the gradients of the connected sequence rows and invariants.
    """

    def __init__(self, op, outputs, output_grads):
        step = op.step
        self.op = op
        self.forward_slots, self.invariants = step.inputs[:op.n_slots], step.inputs[op.n_slots:]
        self.grad_slots = {j: _row_of(g, "g%d" % j) for j, g in enumerate(output_grads) if g is not None}
        self.windows = {j: TensorType(outputs[j].dtype, (op.window(j),) + outputs[j].type.shape[1:])("window%d" % j)
                        for j in op.recurrent if is_float(outputs[j])}
        self.grads = self._pull_back()
        self.sequences = [i for i, s in enumerate(self.forward_slots[:op.n_sequences]) if s in self.grads]
        self.connected = [m for m, v in enumerate(self.invariants) if v in self.grads]
        results = ([self._next_window(j, w) for j, w in self.windows.items()]
                   + [self.grads[self.forward_slots[i]] for i in self.sequences]
                   + [self.grads[self.invariants[m]] for m in self.connected])
        self.stored = {j: _row_of(outputs[j], "y%d" % j) for j, y in enumerate(step.outputs)
                       if y.owner is not None and y not in step.inputs}
        self.slots = list(self.grad_slots.values()) + self.forward_slots + list(self.stored.values())
        given = self.slots + list(self.windows.values()) + self.invariants
        self.outputs = FunctionGraph(given, results, {step.outputs[j]: y for j, y in self.stored.items()}).outputs

    def _pull_back(self):
        """{forward step input: its gradient at this step}, for the float inputs the seeds reach."""
        step, seeds = self.op.step, {}
        for j, g in list(self.grad_slots.items()) + [(j, w[-1]) for j, w in self.windows.items()]:
            y = step.outputs[j]
            seeds[y] = seeds[y] + g if y in seeds else g
        wrt = [v for v in self.forward_slots + self.invariants if is_float(v)]
        return {v: g for v, g in zip(wrt, backpropagate(seeds, wrt) if wrt else []) if g is not None}

    def _next_window(self, j, window):
        """The pending gradients for the steps before this one: shifted by a step, plus this step's
        taps' gradients, each to the row of the step it read."""
        op = self.op
        tap_slots = iter(self.forward_slots[op.n_sequences:])
        sent = {}
        for i in op.recurrent:
            for k in op.taps[i]:
                slot = next(tap_slots)
                if i == j and slot in self.grads:
                    sent.setdefault(op.window(j) + k, []).append(self.grads[slot])
        rows = []
        for row in range(op.window(j)):
            parts = ([window[row - 1]] if row else []) + sent.get(row, [])
            rows.append(sum(parts[1:], parts[0]) if parts else zeros_like(window[0]))
        return cast(stack(rows), window.dtype)


def _rows(history, start, n):
    """history[start:start + n], the rows a tap read, one per step."""
    return (history[start:] if start else history)[:n]


def scan_pullback(op, inputs, outputs, output_grads):
    n_steps, (sequences, initials, invariants) = inputs[0], op.split(inputs[1:])
    back = BackwardStep(op, outputs, output_grads)
    if not back.outputs:
        return [None] * len(inputs)
    truncated = op.truncate_gradient >= 0
    n_back = minimum(n_steps, op.truncate_gradient) if truncated else n_steps

    def backwards(rows):
        """The rows of the steps the gradient goes through, last step first."""
        return rows[::-1][:n_back] if truncated else rows[::-1]
    histories = {j: concatenate([init, outputs[j]]) for j, init in zip(op.recurrent, initials)}
    tap_rows = [_rows(histories[j], op.window(j) + k, n_steps) for j in op.recurrent for k in op.taps[j]]
    initial_of = dict(zip(op.recurrent, initials))
    stacked = iter(apply_scan(
        n_back,
        [backwards(output_grads[j]) for j in back.grad_slots] + [backwards(s) for s in sequences + tap_rows]
        + [backwards(outputs[j]) for j in back.stored],
        [dimshuffle(zeros_like(initial_of[j]), "x", *range(w.ndim)) for j, w in back.windows.items()],
        back.slots + list(back.windows.values()), back.outputs,
        [(-1,)] * len(back.windows) + [()] * (len(back.outputs) - len(back.windows)),
        invariants=list(zip(back.invariants, invariants)), name="grad_of_%s" % (op.name or "scan")))

    grads = [None] * len(inputs)
    for j, windows in zip(back.windows, stacked):
        initial = initial_of[j]
        grad = windows[-1]
        if truncated:   # the gradient stops before reaching step 0
            grad = switch(lt(n_back, n_steps), zeros_like(initial), grad)
        grads[1 + op.n_sequences + op.recurrent.index(j)] = grad
    for i, rows in zip(back.sequences, stacked):
        rows = rows[::-1]
        if truncated:
            rows = concatenate([zeros_like(sequences[i][:n_steps - n_back]), rows])
        grads[1 + i] = rows
    for m, rows in zip(back.connected, stacked):
        grads[1 + op.n_sequences + len(initials) + m] = rows.sum(axis=0)
    return grads

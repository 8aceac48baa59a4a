"""The gradient of a Scan: another Scan, over the same steps backwards (backpropagation through
time, built symbolically as Theano does).

Going back from the last step, the backward step takes the gradient of each output at step t
(given from outside, plus what later steps sent back through the taps that read it) and pulls
it back through the forward step graph: the gradients of that step's sequence rows, taps and
invariants.  A tap's gradient belongs to an earlier output, so each recurrent output carries a
window of pending gradients, as many rows as its taps reach back: row l holds what the output of
step t - window + 1 + l has received so far, the last row step t's own.  After step 0 the
window holds the gradients of the initial values.

An invariant's gradient is the sum over the steps of what each step sends it.  Where a step sends
a^T @ b for matrices a and b (a recurrent kernel's h_prev^T @ dz), the sum is one product of the
stacked a's and b's, taken after the loop (Theano's scan pushout of dot products): the loop keeps
the rows of a and b, usually its inputs or outputs already, instead of a whole matrix per step,
and one large matmul replaces a small one per step.
"""
from mlcore.graph.basic import TensorType, graph_inputs
from mlcore.graph.fgraph import FunctionGraph
from mlcore.graph.gradient import backpropagate, is_float
from mlcore.graph.ops.elemwise import cast, lt, minimum, switch, zeros_like
from mlcore.graph.ops.linalg import Matmul, tensordot
from mlcore.graph.ops.scan import apply_scan
from mlcore.graph.ops.shape import DimShuffle, concatenate, dimshuffle, stack


def _row_of(var, name):
    """A step input taking one row of var at a time."""
    return TensorType(var.dtype, var.type.shape[1:])(name)


def _product_factors(grad):
    """(a, b) when grad is a^T @ b for matrices a and b, else None."""
    node = grad.owner
    if node is None or not isinstance(node.op, Matmul) or grad.ndim != 2:
        return None
    transposed, b = node.inputs
    node = transposed.owner
    if node is None or not isinstance(node.op, DimShuffle) or node.op.order != (1, 0):
        return None
    return node.inputs[0], b


def _unique(variables):
    return list({id(v): v for v in variables}.values())


class BackwardStep:
    """The graph of one step of the backward scan.

    Its per-step inputs (`slots`): the output gradients at t, the forward step's own per-step
    inputs, and the forward outputs at t that the gradient reads (tanh's gradient reads tanh:
    stored rows, not recomputed); then a window per float recurrent output.  Its outputs: the
    next windows, then the gradients of the connected sequence rows and invariants (`connected`),
    then the factors of the invariants' gradients summed after the loop (`products`, {invariant:
    where its a and b rows come from}) that no slot or earlier output holds.
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
        connected = [m for m, v in enumerate(self.invariants) if v in self.grads]
        products = {m: self._product_of_rows(self.grads[self.invariants[m]]) for m in connected}
        self.connected = [m for m in connected if products[m] is None]     # summed over the stacked steps
        factors = _unique(v for m in connected if products[m] is not None for v in products[m])
        results = ([self._next_window(j, w) for j, w in self.windows.items()]
                   + [self.grads[self.forward_slots[i]] for i in self.sequences]
                   + [self.grads[self.invariants[m]] for m in self.connected] + factors)
        self.stored = {j: _row_of(outputs[j], "y%d" % j) for j, y in enumerate(step.outputs)
                       if y.owner is not None and y not in step.inputs}
        self.slots = list(self.grad_slots.values()) + self.forward_slots + list(self.stored.values())
        given = self.slots + list(self.windows.values()) + self.invariants
        results = FunctionGraph(given, results, {step.outputs[j]: y for j, y in self.stored.items()}).outputs
        self.outputs = results[:len(results) - len(factors)]
        where = dict(zip(map(id, factors), (self._place(f) for f in results[len(self.outputs):])))
        self.products = {m: tuple(where[id(v)] for v in products[m]) for m in connected if products[m] is not None}

    def _product_of_rows(self, grad):
        """(a, b) when grad is a^T @ b and both a and b change from step to step, else None."""
        factors = _product_factors(grad)
        per_step = {id(v) for v in list(self.grad_slots.values()) + self.forward_slots + list(self.windows.values())}
        if factors is None or not all(any(id(i) in per_step for i in graph_inputs([f])) for f in factors):
            return None
        return factors

    def _place(self, factor):
        """Where the rows of a product's factor come from: ("slot", k), the k-th per-step input, or
        ("output", k), the backward scan's k-th output (made one here if it is not yet)."""
        if any(factor is s for s in self.slots):
            return "slot", next(k for k, s in enumerate(self.slots) if s is factor)
        if not any(factor is o for o in self.outputs):
            self.outputs.append(factor)
        return "output", next(k for k, o in enumerate(self.outputs) if o is factor)

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
    if not back.outputs and not back.products:
        return [None] * len(inputs)
    truncated = op.truncate_gradient >= 0
    n_back = minimum(n_steps, op.truncate_gradient) if truncated else n_steps

    def backwards(rows):
        """The rows of the steps the gradient goes through, last step first."""
        return rows[::-1][:n_back] if truncated else rows[::-1]
    histories = {j: concatenate([init, outputs[j]]) for j, init in zip(op.recurrent, initials)}
    tap_rows = [_rows(histories[j], op.window(j) + k, n_steps) for j in op.recurrent for k in op.taps[j]]
    initial_of = dict(zip(op.recurrent, initials))
    stacked_rows = {"slot": [backwards(output_grads[j]) for j in back.grad_slots]
                    + [backwards(s) for s in sequences + tap_rows] + [backwards(outputs[j]) for j in back.stored]}
    stacked_rows["output"] = apply_scan(
        n_back, stacked_rows["slot"],
        [dimshuffle(zeros_like(initial_of[j]), "x", *range(w.ndim)) for j, w in back.windows.items()],
        back.slots + list(back.windows.values()), back.outputs,
        [(-1,)] * len(back.windows) + [()] * (len(back.outputs) - len(back.windows)),
        invariants=list(zip(back.invariants, invariants)), name="grad_of_%s" % (op.name or "scan")) \
        if back.outputs else []
    stacked = iter(stacked_rows["output"])

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
    for m, summands in zip(back.connected, stacked):
        grads[1 + op.n_sequences + len(initials) + m] = summands.sum(axis=0)
    for m, ((kind_a, a), (kind_b, b)) in back.products.items():     # sum over steps and rows of a^T @ b
        grads[1 + op.n_sequences + len(initials) + m] = tensordot(stacked_rows[kind_a][a], stacked_rows[kind_b][b],
                                                                   [[0, 1], [0, 1]])
    return grads

"""The numpy backend's Scan: a Python loop calling the step graph, compiled by this backend; a
Scan with until stops after the step whose condition (the step's last output) is true."""
import numpy as np


def scan_kernel(op, node):
    from backends.numpy import BACKEND
    step = BACKEND.compile(op.step.function_graph())

    def run(n_steps, *inputs):
        sequences, initials, invariants = op.split(inputs)
        n = int(n_steps)
        if n < 0 or any(len(s) != n for s in sequences):
            raise ValueError("%s: %d steps over sequences of %s rows" % (op, n, [len(s) for s in sequences]))
        if any(len(w) != op.window(j) for w, j in zip(initials, op.recurrent)):
            raise ValueError("%s: initial states of %s rows for taps %s" % (op, [len(w) for w in initials], op.taps))
        windows = [list(w) for w in initials]       # the last values of each recurrent output, oldest first

        def step_at(rows):
            taps = [w[k] for w, j in zip(windows, op.recurrent) for k in op.taps[j]]
            return step(*rows, *taps, *invariants)
        stacked = [[] for _ in node.outputs]
        for t in range(n):
            values = step_at([s[t] for s in sequences])
            for column, value in zip(stacked, values):
                column.append(value)
            for w, j in zip(windows, op.recurrent):
                w.append(values[j])
                del w[0]
            if op.until and values[-1]:
                break
        if n == 0:   # no step ran: one on zeros gives each output's shape per step
            with np.errstate(all="ignore"):
                probe = step_at([np.zeros(s.shape[1:], s.dtype) for s in sequences])
            results = [np.empty((0,) + p.shape, p.dtype) for p in probe]
        else:
            results = [np.stack(column) for column in stacked]
        return results[0] if len(results) == 1 else results
    return run


def while_kernel(op, node):
    """A Python while loop calling the compiled cond and body graphs."""
    from backends.numpy import BACKEND
    cond, body = BACKEND.compile(op.cond.function_graph()), BACKEND.compile(op.body.function_graph())
    limit = op.maximum_iterations

    def run(*inputs):
        values, cond_free, body_free = op.split(inputs)
        steps = 0
        while (limit is None or steps < limit) and cond(*values, *cond_free)[0]:
            values = body(*values, *body_free)
            steps += 1
        return values[0] if len(values) == 1 else values
    return run

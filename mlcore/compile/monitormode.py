"""Theano's MonitorMode: a compiled function run node by node, with a callback before and after
each, to step through what it computes (theano.compile.monitormode).

    def detect_nan(i, node, fn): ...    # i: the node's position, fn.inputs / fn.outputs: [value] cells
    f = theano.function([x], y, mode=MonitorMode(post_func=detect_nan))

Such functions run on the numpy backend, whose plan calls one kernel per node.
"""
import numpy as np

from mlcore.compile.mode import Mode


class NodeWatcher(Mode):
    """A Mode that sees each node run: watch(i, node, inputs, run) returns the node's results.
    The numpy backend calls it for every node as it would a Profile's timer."""

    watches_nodes = True
    calls, total = 0, 0.0          # a compiled function counts its calls here, as in a Profile

    def __init__(self, optimizer="default", linker=None):
        super().__init__(linker, optimizer)
        self.positions = {}

    def attach(self, fn):
        """Remember each node's position in fn's order (the order the numpy plan runs them)."""
        self.positions.update((id(node), k) for k, node in enumerate(fn.fgraph.toposort()))
        return fn

    def timer(self, node, kernel, args):
        return self.watch(self.positions.get(id(node)), node, args, lambda: kernel(*args))

    def watch(self, i, node, inputs, run):
        raise NotImplementedError


class Thunk:
    """The fn a MonitorMode callback gets, as Theano's thunk: one [value] cell per input and output."""

    def __init__(self, inputs):
        self.inputs = [[v] for v in inputs]
        self.outputs = []


class MonitorMode(NodeWatcher):
    """pre_func(i, node, fn) runs before each node, post_func(i, node, fn) after it (fn.outputs
    filled), as in Theano."""

    def __init__(self, pre_func=None, post_func=None, optimizer="default", linker=None):
        super().__init__(optimizer, linker)
        self.pre_func, self.post_func = pre_func, post_func

    def watch(self, i, node, inputs, run):
        fn = Thunk([np.array(v) for v in inputs])   # copies: a kernel may write its result over an input
        if self.pre_func is not None:
            self.pre_func(i, node, fn)
        results = run()
        fn.outputs = [[np.asarray(r, dtype=o.dtype)]
                      for r, o in zip(results if len(node.outputs) > 1 else [results], node.outputs)]
        if self.post_func is not None:
            self.post_func(i, node, fn)
        return results


def detect_nan(i, node, fn):
    """A post_func that prints the node, its inputs and outputs where an output holds a NaN."""
    from mlcore.printing import debugprint
    for output in fn.outputs:
        if np.isnan(np.asarray(output[0], dtype=float)).any():
            print("*** NaN detected ***")
            debugprint(node.outputs[0] if len(node.outputs) == 1 else node.outputs)
            print("Inputs : %s" % [cell[0] for cell in fn.inputs])
            print("Outputs: %s" % [cell[0] for cell in fn.outputs])
            break

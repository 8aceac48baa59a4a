"""Theano's NanGuardMode: a compiled function that stops at the first node whose output holds a
NaN, an Inf, or a value above 1e10, naming the node (theano.compile.nanguardmode).

    f = theano.function([x], y, mode=NanGuardMode(nan_is_error=True, inf_is_error=True))

Such functions run on the numpy backend, node by node.
"""
import numpy as np

from mlcore.compile.monitormode import NodeWatcher

BIG = 1e10    # Theano's threshold for big_is_error


class NanGuardMode(NodeWatcher):
    """Checks every node's inputs and outputs; an AssertionError names the first node where a
    checked kind of value appears.  Theano's defaults: each check
    is on unless set to False."""

    def __init__(self, nan_is_error=None, inf_is_error=None, big_is_error=None, optimizer="default", linker=None):
        super().__init__(optimizer, linker)
        self.checks = [(name, test) for name, test, on in (
            ("NaN", np.isnan, nan_is_error), ("Inf", np.isinf, inf_is_error),
            ("Big value", lambda v: np.abs(v) > BIG, big_is_error)) if on is not False]

    def watch(self, i, node, inputs, run):
        self._check(inputs, "an input of %s" % (node,))
        results = run()
        self._check(results if len(node.outputs) > 1 else [results], "the output of %s" % (node,))
        return results

    def _check(self, values, where):
        for value in values:
            value = np.asarray(value)
            if value.dtype.kind not in "fc":
                continue
            for name, test in self.checks:
                if test(value).any():
                    raise AssertionError("NanGuardMode: %s detected in %s" % (name, where))

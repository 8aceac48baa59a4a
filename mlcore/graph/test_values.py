"""Theano's test values: with config.compute_test_value set, each node is computed as the graph is
built, from its inputs' test values (x.tag.test_value = an array), so that an error in shapes
stops at the line that builds the faulty node, not later when the compiled function runs.

The setting is Theano's: "off" (the default), "raise" (an input without a test value is an
error), "warn" (it is a warning, and the node gets none), "ignore" (it is skipped silently).
Constants and shared variables are their own test values.  The values come from the numpy
reference kernels.
"""
import warnings

import numpy as np

from mlcore import config
from mlcore.graph.basic import Constant, SharedVariable

SETTINGS = ("off", "raise", "warn", "ignore")


def setting():
    value = getattr(config, "compute_test_value", "off")
    if value not in SETTINGS:
        raise ValueError("config.compute_test_value must be one of %s, got %r" % (SETTINGS, value))
    return value


def get_test_value(var):
    """var's test value as an array of its type (Theano's theano.gof.op.get_test_value); an
    AttributeError naming var when it has none."""
    if isinstance(var, Constant):
        return var.data
    if isinstance(var, SharedVariable):
        return np.asarray(var.get_value(borrow=True))       # a random stream's key, not its RandomState view
    if "test_value" not in var.tag:
        raise AttributeError("%s has no test value (set its tag.test_value, or config.compute_test_value"
                             " = 'off')" % (var,))
    return var.type.filter(var.tag["test_value"], var, allow_downcast=True)


def compute(node):
    """Give node's outputs their test values, as the current setting says."""
    mode = setting()
    if mode == "off":
        return
    try:
        values = [get_test_value(v) for v in node.inputs]
    except AttributeError as missing:
        if mode == "raise":
            raise ValueError("compute_test_value='raise': %s (building %s)" % (missing, node.op)) from None
        if mode == "warn":
            warnings.warn("%s; %s gets no test value" % (missing, node.op), stacklevel=3)
        return
    from backends.numpy.interpreter import evaluate_node
    for out, value in zip(node.outputs, evaluate_node(node, values)):
        out.tag["test_value"] = value

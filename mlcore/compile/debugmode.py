"""Theano's DebugMode: a compiled function that checks, on every call, each node's outputs against
a reference before returning its results (theano.compile.debugmode).

    f = theano.function([x], y, mode=DebugMode())     # raises BadThunkOutput naming the node that differs

Theano compared each op's C code with its Python code; here the reference is the numpy backend, as
everywhere in mlcore.  The function's backend computes every variable of the graph it runs, and
each node's numpy kernel is run again on the values the backend gave its inputs, so a difference
is pinned on the one node that made it, not on those after it.  Random draws are not compared (each
backend draws its own numbers).
"""
import numpy as np

from mlcore.compile.mode import Mode
from mlcore.compile.wrapped import WrappedFunction
from mlcore.graph.basic import Constant
from mlcore.graph.ops.random import RandomVariable

# Theano's tolerances of TensorType.values_eq_approx, by dtype: (rtol, atol)
TOLERANCES = {"float16": (1e-3, 1e-3), "float32": (1e-5, 1e-5), "float64": (1e-5, 1e-8),
              "complex64": (1e-5, 1e-5), "complex128": (1e-5, 1e-8)}


class DebugModeError(Exception):
    """A check of DebugMode failed."""


class BadThunkOutput(DebugModeError):
    """A node's output on the function's backend differs from the numpy reference's on the same inputs."""

    def __init__(self, r, backend, val1, val2, inputs_val=()):
        self.r, self.val1, self.val2, self.inputs_val = r, val1, val2, inputs_val
        difference = np.abs(np.asarray(val1, "complex128") - np.asarray(val2, "complex128")).max() \
            if np.shape(val1) == np.shape(val2) and np.size(val1) else "shapes %s and %s" % (np.shape(val1),
                                                                                            np.shape(val2))
        super().__init__("BadThunkOutput: the output %s of %s computed by the %s backend differs from the numpy "
                         "reference's (largest difference %s)\n  %s: %r\n  numpy: %r"
                         % (r.index, r.owner, backend, difference, backend, val1, val2))


class InvalidValueError(DebugModeError):
    """A node's output does not fit its type (dtype, number of dims, known sizes), or holds a NaN or
    an infinity where check_isfinite asks for finite values."""

    def __init__(self, r, v, hint):
        self.r, self.v, self.hint = r, v, hint
        super().__init__("InvalidValueError: the output %s of %s (type %s) %s: %r"
                         % (r.index, r.owner, r.type, hint, v))


class DebugMode(Mode):
    """A Mode whose functions check every node on each call (see the module's docstring).
    check_isfinite (Theano's default: on) refuses NaN and infinite float outputs; the other
    arguments are accepted for Theano's signature (there is no C code to compare here)."""

    def __init__(self, optimizer="fast_run", stability_patience=None, check_c_code=None, check_py_code=None,
                 check_isfinite=None, check_preallocated_output=None, require_matching_strides=None, linker=None):
        super().__init__(linker, optimizer)
        self.check_isfinite = True if check_isfinite is None else bool(check_isfinite)

    def attach(self, fn):
        return CheckedFunction(fn, self.check_isfinite)


class CheckedFunction(WrappedFunction):
    """A compiled Function whose every call first runs the checks; everything else is the Function's."""

    def __init__(self, fn, check_isfinite):
        super().__init__(fn)
        self.check_isfinite = check_isfinite
        self.nodes = fn.fgraph.toposort()
        self.variables = list(fn.inputs) + list(fn.shared) + [o for node in self.nodes for o in node.outputs]
        self.probe = None

    def __call__(self, *args, **kwargs):
        from mlcore.function import Function
        fn = self.function
        if self.probe is None:        # every variable, on the function's backend, without updates
            self.probe = Function(fn.inputs, self.variables, backend=fn.backend.name, device=fn.device,
                                  rewrites="none", on_unused_input="ignore", no_default_updates=True)
        self.check(dict(zip(map(id, self.variables), self.probe(*args, **kwargs))))
        return fn(*args, **kwargs)

    def check(self, values):
        """Each node's outputs (values, by id) against its numpy kernel on the same inputs."""
        from backends.numpy.interpreter import evaluate_node
        backend = self.function.backend.name
        for node in self.nodes:
            inputs = [i.data if isinstance(i, Constant) else values[id(i)] for i in node.inputs]
            for out in node.outputs:
                self.check_value(out, values[id(out)])
            if isinstance(node.op, RandomVariable):
                continue
            for out, expected in zip(node.outputs, evaluate_node(node, inputs)):
                if not _close(values[id(out)], expected):
                    raise BadThunkOutput(out, backend, values[id(out)], expected, inputs)

    def check_value(self, r, v):
        v = np.asarray(v)
        if v.dtype != np.dtype(r.dtype) or v.ndim != r.ndim:
            raise InvalidValueError(r, v, "is a %d-d %s array" % (v.ndim, v.dtype))
        if any(n is not None and n != m for n, m in zip(r.type.shape, v.shape)):
            raise InvalidValueError(r, v, "has shape %s" % (v.shape,))
        if self.check_isfinite and v.dtype.kind in "fc" and not np.isfinite(v).all():
            raise InvalidValueError(r, v, "holds a NaN or an infinity (DebugMode(check_isfinite=False) allows them)")


def _close(value, expected):
    value, expected = np.asarray(value), np.asarray(expected)
    if value.shape != expected.shape:
        return False
    if value.dtype.kind not in "fc":
        return np.array_equal(value, expected)
    rtol, atol = TOLERANCES.get(value.dtype.name, TOLERANCES["float64"])
    return np.allclose(value, expected, rtol=rtol, atol=atol, equal_nan=True)

"""theano.gradient: grad and its relatives, grad_clip, grad_scale, consider_constant, undefined_grad,
subgraph_grad (backpropagation part by part), and verify_grad, Theano's check of a symbolic gradient
against numeric_grad's finite differences (what tests of a new op call)."""
import numpy as np

from mlcore.graph.basic import TensorType
from mlcore.graph.gradient import (DisconnectedInputError, DisconnectedType, Lop, NullGradient,  # noqa: F401
                                   NullType, NullTypeGradError, Rop, disconnected_grad, disconnected_type, grad,
                                   grad_clip, grad_not_implemented, grad_undefined, hessian, jacobian,
                                   undefined_grad, zero_grad)
from mlcore.compile.builders import OpFromGraph
from mlcore.graph.ops.common import as_tensor_variable, constant
from mlcore.graph.ops.reduce import sum_

STEP = {"float64": 1e-7, "float32": 3e-4}           # Theano's finite-difference steps by dtype
TOLERANCE = {"float64": 1e-4, "float32": 1e-2}      # and its default absolute and relative tolerances


def grad_scale(x, multiplier):
    """x itself, whose gradient is multiplied by multiplier (Theano's grad_scale)."""
    x = as_tensor_variable(x)
    inner = x.type()
    scaled = OpFromGraph([inner], [inner], grad_overrides=lambda inputs, grads: [grads[0] * multiplier],
                         name="GradScale")
    return scaled(x)


def consider_constant(x):
    """x, treated as a constant by grad: its gradient is zero (Theano's older name for zero_grad)."""
    return zero_grad(x)


class GradientError(Exception):
    """verify_grad found a symbolic gradient that differs from the finite differences."""

    def __init__(self, arg, err_pos, shape, val1, val2, abs_err, rel_err, abs_tol, rel_tol):
        super().__init__(
            "GradientError: numeric gradient and analytic gradient exceed tolerance: at input %d, entry %d of "
            "shape %s: analytic %r, numeric %r, absolute error %.3g (tolerance %.3g), relative error %.3g "
            "(tolerance %.3g)" % (arg, err_pos, shape, val1, val2, abs_err, abs_tol, rel_err, rel_tol))
        self.arg, self.err_pos, self.shape, self.val1, self.val2 = arg, err_pos, shape, val1, val2
        self.abs_err, self.rel_err, self.abs_tol, self.rel_tol = abs_err, rel_err, abs_tol, rel_tol


class numeric_grad:
    """The gradient of f at pt by finite differences, as Theano's numeric_grad (what verify_grad
    compares grad() with): f(*pt) is a scalar, pt an array or a list of them; gf is the gradient,
    an array or a list like pt.  Each entry is moved by eps both ways (central differences: their
    error shrinks as eps squared where Theano's one-sided ones shrink as eps), eps by default the
    step in type_eps for the widest float dtype of pt."""

    type_eps = dict(STEP, float16=1e-1)

    def __init__(self, f, pt, eps=None, out_type=None):
        packed = isinstance(pt, (list, tuple))
        points = [np.array(p) for p in (pt if packed else [pt])]
        if any(p.dtype.kind not in "fc" for p in points):
            raise TypeError("numeric_grad: pt must hold float arrays, got %s" % [p.dtype.name for p in points])
        widest = max((p.dtype for p in points), key=lambda d: d.itemsize).name
        eps = self.type_eps.get(widest, STEP["float64"]) if eps is None else eps
        grads = [self._differences(f, points, k, eps) for k in range(len(points))]
        self.gf = grads if packed else grads[0]

    @staticmethod
    def _differences(f, points, k, eps):
        point = points[k]
        gradient = np.zeros(point.shape, dtype="float64")
        for index in np.ndindex(point.shape):
            values = []
            for step in (eps, -eps):
                moved = point.copy()
                moved[index] += step
                values.append(float(np.asarray(f(*points[:k], moved, *points[k + 1:]))))
            gradient[index] = (values[0] - values[1]) / (2 * eps)
        return gradient

    @staticmethod
    def abs_rel_err(a, b):
        """|a - b| and |a - b| / (|a| + |b|) (the latter at most |a - b| / 1e-8)."""
        abs_err = np.abs(np.asarray(a, "float64") - np.asarray(b, "float64"))
        return abs_err, abs_err / np.maximum(np.abs(a) + np.abs(b), 1e-8)

    def abs_rel_errors(self, g_pt):
        """(absolute, relative) errors of the gradients g_pt, one pair per input."""
        gf = self.gf if isinstance(self.gf, list) else [self.gf]
        g_pt = list(g_pt) if isinstance(g_pt, (list, tuple)) else [g_pt]
        if len(g_pt) != len(gf):
            raise ValueError("numeric_grad: %d gradients given for %d inputs" % (len(g_pt), len(gf)))
        for k, (a, b) in enumerate(zip(g_pt, gf)):
            if np.shape(a) != b.shape:
                raise ValueError("numeric_grad: the gradient of input %d has shape %s, the input %s"
                                 % (k, np.shape(a), b.shape))
        return [self.abs_rel_err(a, b) for a, b in zip(g_pt, gf)]

    def max_err(self, g_pt, abs_tol, rel_tol):
        """(input, flat position, absolute error, relative error) of the worst entry of g_pt, each
        entry's error being the smaller of abs_err / abs_tol and rel_err / rel_tol."""
        worst = []
        for abs_err, rel_err in self.abs_rel_errors(g_pt):
            if not (np.all(np.isfinite(abs_err)) and np.all(np.isfinite(rel_err))):
                raise ValueError("numeric_grad: the errors are not finite: %r" % (abs_err,))
            scaled = np.minimum(abs_err / abs_tol, rel_err / rel_tol).ravel()
            if not scaled.size:         # an empty input: nothing to be wrong
                worst.append((0.0, 0, 0.0, 0.0))
                continue
            pos = int(np.argmax(scaled))
            worst.append((scaled[pos], pos, abs_err.ravel()[pos], rel_err.ravel()[pos]))
        arg = int(np.argmax([w[0] for w in worst]))
        return (arg,) + worst[arg][1:]


def verify_grad(fun, pt, n_tests=2, rng=None, eps=None, out_type=None, abs_tol=None, rel_tol=None, mode=None,
                cast_to_output_type=False, no_debug_ref=True):
    """Check grad() of fun at the point pt (a list of float arrays, one per argument of fun), as
    Theano's verify_grad: fun's output is projected on a random tensor to a scalar cost, whose
    symbolic gradient is compared with numeric_grad's, of step eps.  Raises GradientError
    where an entry is off by more than abs_tol and rel_tol both.  out_type, mode,
    cast_to_output_type and no_debug_ref are accepted for Theano's signature."""
    from mlcore.function import function
    pt = [np.array(p) for p in pt]
    if any(p.dtype.kind != "f" for p in pt):
        raise TypeError("verify_grad can work only with floating point inputs, got %s" % [p.dtype.name for p in pt])
    rng = rng if rng is not None else np.random.default_rng(0)
    widest = "float64" if any(p.dtype == np.float64 for p in pt) else "float32"
    eps = STEP[widest] if eps is None else eps
    abs_tol = TOLERANCE[widest] if abs_tol is None else abs_tol
    rel_tol = TOLERANCE[widest] if rel_tol is None else rel_tol
    inputs = [TensorType(p.dtype, (None,) * p.ndim)("input_%d" % k) for k, p in enumerate(pt)]
    output = fun(*inputs)
    shape = np.shape(function(inputs, output, on_unused_input="ignore")(*pt))
    for _ in range(n_tests):
        # an int output (argsort, searchsorted) is projected on floats, as Theano does: its gradient is zero
        projection = constant(rng.random(shape).astype(output.dtype if output.dtype.startswith("float") else widest))
        cost = sum_(output * projection)
        cost_at = function(inputs, cost, on_unused_input="ignore")
        analytic = function(inputs, grad(cost, inputs), on_unused_input="ignore")(*pt)
        numeric = numeric_grad(cost_at, pt, eps)
        arg, pos, abs_err, rel_err = numeric.max_err(analytic, abs_tol, rel_tol)
        if abs_err > abs_tol and rel_err > rel_tol:
            raise GradientError(arg, pos, analytic[arg].shape, np.ravel(analytic[arg])[pos],
                                numeric.gf[arg].ravel()[pos], abs_err, rel_err, abs_tol, rel_tol)


def subgraph_grad(wrt, end, start=None, cost=None, details=False):
    """Backpropagation through one part of a graph, as Theano's subgraph_grad: the gradients wrt
    the variables wrt and end, from start (a dict {variable: its known gradient}) and/or a cost,
    with the variables in end taken as constants, so that end's gradients can seed the next part
    down (its start).  Returns (wrt_grads, end_grads), with details also the gradients from start
    and from cost separately."""
    if cost is None and start is None:
        raise ValueError("subgraph_grad: give a cost, a start dict of known gradients, or both")
    if not isinstance(wrt, list) or not isinstance(end, list):
        raise TypeError("subgraph_grad: wrt and end must be lists of variables, got %r and %r" % (wrt, end))
    if start is not None and not isinstance(start, dict):
        raise TypeError("subgraph_grad: start must be a dict {variable: gradient}, got %r" % (start,))
    start_grads = None if start is None else _part_grads(None, start, wrt + end, end)
    cost_grads = None if cost is None else _part_grads(cost, None, wrt + end, end)
    grads = cost_grads if start_grads is None else start_grads if cost_grads is None else [
        a + b for a, b in zip(start_grads, cost_grads)]
    wrt_grads, end_grads = grads[:len(wrt)], grads[len(wrt):]
    return (wrt_grads, end_grads, start_grads, cost_grads) if details else (wrt_grads, end_grads)


def _part_grads(cost, known_grads, targets, end):
    """The gradients of targets from cost or known_grads, none flowing through end to what is
    below it (consider_constant: each variable of end gets its own gradient, passes none on)."""
    return grad(cost, targets, consider_constant=end, disconnected_inputs="ignore", known_grads=known_grads)


verify_grad.E_grad = GradientError      # Theano's spelling in tests: pytest.raises(verify_grad.E_grad)

"""theano.gradient: grad and its relatives, grad_clip, grad_scale, consider_constant, undefined_grad, and
verify_grad, Theano's check of a symbolic gradient against finite differences (what tests of a new op call)."""
import numpy as np

from mlcore.graph.basic import TensorType
from mlcore.graph.gradient import (Lop, NullTypeGradError, Rop, disconnected_grad, grad, grad_clip,  # noqa: F401
                                   hessian, jacobian, undefined_grad, zero_grad)
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


def verify_grad(fun, pt, n_tests=2, rng=None, eps=None, out_type=None, abs_tol=None, rel_tol=None, mode=None,
                cast_to_output_type=False, no_debug_ref=True):
    """Check grad() of fun at the point pt (a list of float arrays, one per argument of fun), as
    Theano's verify_grad: fun's output is projected on a random tensor to a scalar cost, whose
    symbolic gradient is compared with central differences of step eps.  Raises GradientError
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
        projection = constant(rng.random(shape).astype(output.dtype))
        cost = sum_(output * projection)
        cost_at = function(inputs, cost, on_unused_input="ignore")
        analytic = function(inputs, grad(cost, inputs), on_unused_input="ignore")(*pt)
        for k, (point, symbolic) in enumerate(zip(pt, analytic)):
            _compare(k, symbolic, _central_differences(cost_at, pt, k, eps), abs_tol, rel_tol)


def _central_differences(cost_at, pt, k, eps):
    """d cost / d pt[k], entry by entry, as (cost(x + eps) - cost(x - eps)) / (2 eps)."""
    point = pt[k]
    numeric = np.zeros(point.shape, dtype="float64")
    for index in np.ndindex(point.shape):
        values = []
        for step in (eps, -eps):
            moved = point.copy()
            moved[index] += step
            values.append(float(cost_at(*pt[:k], moved, *pt[k + 1:])))
        numeric[index] = (values[0] - values[1]) / (2 * eps)
    return numeric


def _compare(k, analytic, numeric, abs_tol, rel_tol):
    analytic = np.asarray(analytic, dtype="float64")
    abs_err = np.abs(analytic - numeric)
    rel_err = abs_err / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-8)
    failing = (abs_err > abs_tol) & (rel_err > rel_tol)
    if failing.any():
        pos = int(np.argmax(failing.ravel()))
        raise GradientError(k, pos, analytic.shape, analytic.ravel()[pos], numeric.ravel()[pos],
                            abs_err.ravel()[pos], rel_err.ravel()[pos], abs_tol, rel_tol)


verify_grad.E_grad = GradientError      # Theano's spelling in tests: pytest.raises(verify_grad.E_grad)

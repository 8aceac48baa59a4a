"""The numpy backend: a plain interpreter that runs one numpy kernel per node.

It is the reference every other backend is tested against, so it favours
clarity; its speed comes from good kernels (BLAS, im2col, blocked fusion).
"""
import numpy as np

from backends import array_api as xk
from backends.base import Backend, Plan
from backends.numpy.kernels import lower
from mlcore.graph.ops.elemwise import Elemwise


def _as_array(value, dtype):
    """Kernels may return numpy scalars or a wider dtype; give the graph's declared dtype."""
    value = np.asarray(value)
    return value if value.dtype == dtype else value.astype(dtype)


def checked(kernel, node):
    dtypes = [np.dtype(o.dtype) for o in node.outputs]
    if len(dtypes) == 1:
        return lambda *args: _as_array(kernel(*args), dtypes[0])
    return lambda *args: [_as_array(v, d) for v, d in zip(kernel(*args), dtypes)]


class NumpyLowering:
    """The kernel table with each kernel's results coerced to the node's dtype, and elementwise
    kernels refusing to broadcast where the types do not say so."""

    backend_name = "numpy"

    def kernel(self, node):
        kernel = checked(lower.kernel(node), node)
        return xk.broadcast_checked(kernel, node) if isinstance(node.op, Elemwise) else kernel


def evaluate_node(node, values):
    """Run one node on concrete values (constant folding uses this); returns a list."""
    result = NumpyLowering().kernel(node)(*values)
    return result if len(node.outputs) > 1 else [result]


class NumpyBackend(Backend):
    name = "numpy"
    lowering = lower
    description = "numpy calls, one kernel per node (BLAS, im2col, blocked fusion)"

    def compile(self, fgraph, device=None, profile=None, donate=()):
        self.check_device(device)
        plan = Plan(fgraph, NumpyLowering())
        constants = [c.data for c in plan.constants]
        timer = profile.timer if profile is not None else None

        def run(*inputs):
            return plan.run([np.asarray(v) for v in inputs], constants, timer)
        run.plan = plan
        return run

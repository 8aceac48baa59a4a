"""The numpy backend: one numpy kernel per node, called in order by a straight-line Python
function written from the graph (straight_line.py).

It is the reference every other backend is tested against, so it favours
clarity; its speed comes from good kernels (BLAS, im2col, blocked fusion).
"""
import numpy as np

from backends import array_api as xk
from backends.base import Backend, Plan, as_array_of
from backends.numpy import inplace, patches
from backends.numpy.kernels import lower
from backends.numpy.straight_line import straight_line
from mlcore.graph.ops.elemwise import Elemwise


class NumpyLowering:
    """The kernel table, with elementwise kernels refusing to broadcast where the types do not say
    so.  The numpy backend's plan coerces each result to its node's dtype (Plan coerce_results);
    coerced_kernel does it for a kernel run on its own.  The bare kernels are kept by node
    (raw_kernels), for the in-place analysis.  Given the nodes of a whole plan, in order,
    convolutions lend their patch matrices to their filter gradients (patches.py)."""

    backend_name = "numpy"

    def __init__(self, nodes=()):
        self.raw_kernels = {}
        self.lending = patches.lending_pairs(nodes)

    def kernel(self, node):
        memo = self.lending.get(node)
        raw = self.raw_kernels[node] = lower.kernel(node) if memo is None else patches.lending_kernel(node, memo)
        return xk.broadcast_checked(raw, node) if isinstance(node.op, Elemwise) else raw

    def coerced_kernel(self, node):
        """The kernel, its results arrays of the node's dtypes (a numpy scalar, a wider dtype)."""
        kernel, dtypes = self.kernel(node), [np.dtype(o.dtype) for o in node.outputs]
        if len(dtypes) == 1:
            return lambda *args: as_array_of(kernel(*args), dtypes[0])
        return lambda *args: [as_array_of(v, d) for v, d in zip(kernel(*args), dtypes)]


def evaluate_node(node, values):
    """Run one node on concrete values (constant folding uses this); returns a list."""
    result = NumpyLowering().coerced_kernel(node)(*values)
    return result if len(node.outputs) > 1 else [result]


class NumpyBackend(Backend):
    name = "numpy"
    lowering = lower
    description = "numpy calls, one kernel per node (BLAS, im2col, blocked fusion)"

    def compile(self, fgraph, device=None, profile=None, donate=()):
        """donate: the shared inputs this function replaces; their buffers may be overwritten."""
        self.check_device(device)
        lowering = NumpyLowering(fgraph.toposort())
        plan = Plan(fgraph, lowering, coerce_results=True)
        write_in_place(plan, donate, lowering.raw_kernels)
        constants = [c.data for c in plan.constants]
        constant_owners = {id(owner(c)) for c in constants}
        donated = set(donate)
        if profile is None:
            steps = straight_line(plan, constants)
        else:   # each kernel called through the profile's timer
            steps = lambda *inputs: plan.run(list(inputs), constants, profile.timer)

        def run(*inputs):
            inputs = [np.asarray(v) for v in inputs]
            outputs = steps(*inputs)
            held = constant_owners | {id(owner(v)) for k, v in enumerate(inputs) if k not in donated}
            return [own_copy(v, held) for v in outputs]
        run.plan, run.source = plan, getattr(steps, "source", None)
        return run


def owner(array):
    """The array that owns array's memory."""
    return array if array.base is None else array.base


def own_copy(value, held):
    """value, copied if its memory belongs to an input, a constant or an earlier output, so that no
    two results, and no result and input, share memory (Theano copies such outputs too)."""
    key = id(owner(value))
    if key in held:
        return value.copy()
    held.add(key)
    return value


def write_in_place(plan, donate, raw_kernels):
    """Let the steps that may overwrite an input do so (backends/numpy/inplace.py)."""
    raw = [raw_kernels[node] for _, _, _, node in plan.steps]
    protected = set(range(plan.n_inputs, plan.n_inputs + len(plan.constants))) | set(plan.output_slots)
    targets = inplace.inplace_targets(plan, raw, set(donate), protected)
    for k, position in targets.items():
        kernel, ins, outs, node = plan.steps[k]
        write_into = inplace.out_kernel(node, raw[k])
        check = xk.broadcast_checked(lambda *args: None, node) if isinstance(node.op, Elemwise) else (lambda *args: None)
        plan.steps[k] = (inplace.inplace_step(kernel, write_into, position, check), ins, outs, node)

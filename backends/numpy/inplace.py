"""In-place evaluation for the numpy interpreter, as Theano's inplace rewrites and XLA's donation do.

An elementwise node may write its result into the buffer of one of its inputs
when nothing reads that buffer afterwards: a temporary at its last use, or a
donated shared value (a weight that this very step replaces, W - lr * g).
This saves the allocation and, above all, the first touch of fresh memory.

The analysis is static.  A buffer may be overwritten at step k when
  - it was made fresh by a node known never to return a view (a ufunc, a fused
    program ending in one, a matrix product) or it is a donated input;
  - no step after k reads it, it is not an output, and no value that may view
    it (any other node's result derived from it) is read at step k or later.
At run time the buffer must still be a writeable, contiguous array that owns
its memory; otherwise the node runs as usual.
"""
import numpy as np

from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops import linalg


def writes_fresh(node, kernel):
    """Whether node's result is always a new array (never a view of an input)."""
    if isinstance(node.op, (linalg.Matmul, linalg.Gemm)):
        return True
    return isinstance(kernel, np.ufunc) or getattr(kernel, "writes_fresh", False)


def out_kernel(node, raw_kernel):
    """fn(*args, out) computing node into out, or None where the node cannot write in place."""
    if isinstance(node.op, linalg.Gemm):
        return raw_kernel.into
    if not isinstance(node.op, ew.Elemwise) or len(node.outputs) != 1:
        return None
    if isinstance(node.op, ew.Composite):
        return raw_kernel
    if isinstance(raw_kernel, np.ufunc):
        return lambda *args, out: raw_kernel(*args, out=out)
    return None


def writable_positions(node, ins):
    """The inputs a node may write its result into: any of an elementwise node's (a ufunc reads
    each element before it writes it), but only a Gemm's c, and only if c is not also a or b
    (BLAS reads those while it writes c)."""
    if isinstance(node.op, linalg.Gemm):
        return (0,) if ins.count(ins[0]) == 1 else ()
    return range(len(ins))


def same_layout(var, out):
    """var has out's dtype and the same static broadcast pattern, so its runtime shape is out's."""
    return var.dtype == out.dtype and var.ndim == out.ndim and all(
        (a == 1) == (b == 1) for a, b in zip(var.type.shape, out.type.shape))


def inplace_targets(plan, raw_kernels, donated, protected):
    """{step index: input position} for the steps that may overwrite one of their inputs.

    raw_kernels[k]: step k's kernel before dtype checks; donated: input slots whose
    buffers may be overwritten; protected: slots that must never be (constants,
    outputs)."""
    last_read = {}
    for k, (_, ins, _, _) in enumerate(plan.steps):
        for s in ins:
            last_read[s] = k
    views_of = {s: {s} for s in donated}   # buffer slot -> slots whose value may view it
    fresh = set(donated)
    targets = {}
    for k, (_, ins, outs, node) in enumerate(plan.steps):
        if out_kernel(node, raw_kernels[k]) is not None and not isinstance(node.op, ew.Cast):
            writable = writable_positions(node, ins)
            candidates = [position for position, s in enumerate(ins)
                          if position in writable
                          and s in fresh and s not in protected and last_read[s] == k
                          and same_layout(node.inputs[position], node.outputs[0])
                          and all(v == s or (v not in protected and last_read.get(v, -1) < k)
                                  for v in views_of[s])]
            if candidates:   # a donated weight first: it then keeps its buffer from step to step
                targets[k] = min(candidates, key=lambda position: ins[position] not in donated)
        if writes_fresh(node, raw_kernels[k]):
            for s in outs:
                fresh.add(s)
                views_of[s] = {s}
        else:   # its result may view any buffer its inputs view
            for buffer, viewers in views_of.items():
                if viewers.intersection(ins):
                    viewers.update(outs)
    return targets


def inplace_step(kernel, write_into, position, check_inputs):
    """kernel, except that it writes into its input at `position` when that array allows it.
    check_inputs raises where kernel's own checks would (Theano's broadcasting rule)."""
    def run(*args):
        target = args[position]
        flags = target.flags
        if flags.owndata and flags.writeable and flags.c_contiguous:
            check_inputs(*args)
            return write_into(*args, out=target)
        return kernel(*args)
    return run

"""Blocked evaluation of fused elementwise programs, as numexpr does.

Plain numpy computes a**2 + b**2 + 2*a*b with one full-size temporary per step,
each written to and read back from memory.  Here the program runs on blocks of
a few thousand elements with preallocated out= buffers that stay in cache, so
the arrays are streamed once.
"""
import numpy as np

from backends import array_api as xk

BLOCK = 16384   # elements: a float64 buffer per step is 128 KiB, and they all fit in L2


def blocked_composite(op, node, elemwise):
    kernels = [elemwise(step_op) for step_op, _ in op.program]
    dtypes = [i.dtype for i in node.inputs]
    for step_op, args in op.program:
        dtypes.append(step_op.output_dtype([dtypes[a] for a in args]))
    step_dtypes = dtypes[op.nin:]
    out_dtype = node.outputs[0].dtype
    last = len(op.program) - 1

    def run(*inputs):
        inputs = [np.asarray(x) for x in inputs]
        shape = np.broadcast_shapes(*(x.shape for x in inputs))
        size = int(np.prod(shape))
        whole = [x.size == size and x.flags.c_contiguous for x in inputs]
        if size < 2 * BLOCK or not all(w or x.size == 1 for w, x in zip(whole, inputs)):
            return np.asarray(xk.run_program(op, kernels, inputs), dtype=out_dtype)
        out = np.empty(size, dtype=out_dtype)
        buffers = [np.empty(BLOCK, dtype=d) for d in step_dtypes]
        flat = [x.reshape(-1) if w else x.reshape(()) for w, x in zip(whole, inputs)]
        sliced = [k for k, w in enumerate(whole) if w]
        for start in range(0, size, BLOCK):
            stop = min(start + BLOCK, size)
            n = stop - start
            values = list(flat)
            for k in sliced:
                values[k] = flat[k][start:stop]
            for k, ((_, args), fn) in enumerate(zip(op.program, kernels)):
                target = out[start:stop] if k == last else buffers[k][:n]
                if isinstance(fn, np.ufunc):
                    fn(*[values[a] for a in args], out=target)
                else:
                    target[...] = fn(*[values[a] for a in args])
                values.append(target)
        return out.reshape(shape)
    return run

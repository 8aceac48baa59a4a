"""Blocked evaluation of fused elementwise programs, as numexpr does.

Plain numpy computes a**2 + b**2 + 2*a*b with one full-size temporary per step,
each written to and read back from memory.  Here the program runs on blocks of
a few thousand elements in out= buffers that stay in cache, so the arrays are
streamed once.  The buffers are few (a step reuses the buffer of a value no
later step reads) and kept from call to call: fresh memory costs a page fault
per 4 KiB on first touch, which on a virtual machine costs more than the math.
Large programs of arithmetic steps go to one compiled C loop first (c_loops.py);
this is the path for the rest, and for every program where there is no compiler.
"""
import math
import threading

import numpy as np

BLOCK = 65536   # elements: fewer blocks, less Python per element; a float64 buffer is 512 KiB (L2)
SMALL = 8192    # elements: inputs this small are evaluated whole, their temporaries stay in cache anyway


def buffer_plan(op, step_dtypes):
    """For each step but the last, the index of the scratch buffer it writes, and each buffer's dtype.

    A buffer is free again once the value in it has had its last reader; the last
    step writes the output array itself."""
    last_read = {}
    for k, (_, args) in enumerate(op.program):
        for a in args:
            last_read[a] = k
    slots, dtypes, holder, free = [], [], {}, []
    for k in range(len(op.program) - 1):
        for value, buffer in list(holder.items()):
            if last_read.get(value, -1) < k:   # read by no step from this one on
                free.append(buffer)
                del holder[value]
        reusable = [b for b in free if dtypes[b] == step_dtypes[k]]
        if reusable:
            buffer = reusable[0]
            free.remove(buffer)
        else:
            buffer = len(dtypes)
            dtypes.append(step_dtypes[k])
        holder[op.nin + k] = buffer
        slots.append(buffer)
    return slots, dtypes


class ScratchBuffers:
    """Block buffers kept between calls; a call that finds them in use (another thread) makes its own."""

    def __init__(self, dtypes):
        self.dtypes = dtypes
        self.kept = None
        self.lock = threading.Lock()

    def take(self):
        if not self.lock.acquire(blocking=False):
            return [np.empty(BLOCK, d) for d in self.dtypes], False
        if self.kept is None:
            self.kept = [np.empty(BLOCK, d) for d in self.dtypes]
        return self.kept, True

    def give_back(self, owned):
        if owned:
            self.lock.release()


def broadcast_shape(arrays):
    """The shape the arrays broadcast to.  The usual case, arrays of one shape and scalars (a
    learning rate), is read off directly: np.broadcast_shapes builds an array per input, and its
    ~10 us were a sixth of a 48,000-element weight update."""
    shapes = {x.shape for x in arrays if x.size != 1}
    if len(shapes) == 1:
        (shape,) = shapes
        if all(x.ndim <= len(shape) for x in arrays):
            return shape
    return np.broadcast_shapes(*(x.shape for x in arrays))


def blocked_composite(op, node, elemwise):
    """The kernel of a Composite node: run(*inputs, out=None).  out, when given, is an array of the
    output's shape and dtype that the result may be written into (the interpreter passes a dying
    input: in-place evaluation)."""
    kernels = [elemwise(step_op) for step_op, _ in op.program]
    dtypes = [i.dtype for i in node.inputs]
    for step_op, args in op.program:
        dtypes.append(step_op.output_dtype([dtypes[a] for a in args]))
    buffer_of, buffer_dtypes = buffer_plan(op, dtypes[op.nin:])
    scratch = ScratchBuffers(buffer_dtypes)
    out_dtype = node.outputs[0].dtype
    last = len(op.program) - 1
    steps = [(fn, args, isinstance(fn, np.ufunc)) for fn, (_, args) in zip(kernels, op.program)]
    into_out = steps[last][2] and op.outputs[0] == op.nin + last   # the last step is a ufunc giving the result
    # With two steps numpy's own way has one temporary, which a block buffer saves less than the
    # blocks cost: SGD's w - lr * g on a 784x500 weight took 130-166 us in blocks, 98-101 us whole.
    two_steps = len(steps) <= 2

    whole_arrays = whole_array_function(op, kernels, out_dtype, into_out)

    def run_blocks(inputs, result, size):
        flat_out = result.reshape(-1)
        whole = [x.size == size for x in inputs]
        flat = [x.reshape(-1) if w else x.reshape(()) for w, x in zip(whole, inputs)]
        buffers, owned = scratch.take()
        try:
            for start in range(0, size, BLOCK):
                stop = min(start + BLOCK, size)
                targets = [b[:stop - start] for b in buffers] if stop - start < BLOCK else buffers
                values = [x[start:stop] if w else x for w, x in zip(whole, flat)]
                for k, (fn, args, is_ufunc) in enumerate(steps):
                    target = flat_out[start:stop] if k == last else targets[buffer_of[k]]
                    if is_ufunc:
                        fn(*[values[a] for a in args], out=target)
                    else:
                        target[...] = fn(*[values[a] for a in args])
                    values.append(target)
        finally:
            scratch.give_back(owned)
        return result

    def run(*inputs, out=None):
        if two_steps or all(x.size <= SMALL for x in inputs):   # blocking would only add cost
            return whole_arrays(*inputs, out=out)
        shape = broadcast_shape(inputs)
        size = math.prod(shape)
        if not all((x.size == size and x.flags.c_contiguous) or x.size == 1 for x in inputs):
            return whole_arrays(*inputs, out=out)
        return run_blocks(inputs, np.empty(shape, dtype=out_dtype) if out is None else out, size)
    run.writes_fresh = isinstance(kernels[last], np.ufunc)   # never a view of an input (see inplace.py)
    return run


def whole_array_function(op, kernels, out_dtype, into_out):
    """The program for small, broadcasting or strided inputs: one numpy call per step on whole
    arrays, written out as a Python function (as backends/numpy/straight_line.py writes a plan), the
    last step straight into out where there is one.  A small weight update is two numpy calls of a
    microsecond, and a loop interpreting the steps took as long again.  For w - lr * g:

        def whole(v0, v1, v2, out=None):
            v3 = f0(v0, v1)
            if out is not None: return f1(v2, v3, out=out)
            v4 = f1(v2, v3)
            return asarray(v4, dtype=dtype)
    """
    names = {f"f{k}": fn for k, fn in enumerate(kernels)}
    names.update(asarray=np.asarray, dtype=np.dtype(out_dtype))
    lines = []
    for k, (_, args) in enumerate(op.program):
        arguments = ", ".join(f"v{a}" for a in args)
        if k == len(op.program) - 1 and into_out:
            lines.append(f"if out is not None: return f{k}({arguments}, out=out)")
        lines.append(f"v{op.nin + k} = f{k}({arguments})")
    lines.append(f"return asarray(v{op.outputs[0]}, dtype=dtype)")
    source = (f"def whole({''.join(f'v{i}, ' for i in range(op.nin))}out=None):\n"
              + "".join(f"    {line}\n" for line in lines))
    exec(compile(source, "<fused program>", "exec"), names)
    whole = names["whole"]
    whole.source = source   # for reading, as a plan's
    return whole

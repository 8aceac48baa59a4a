"""Fused elementwise programs as one compiled C loop, the way Theano ran its Composites.

NumPy evaluates a**2 + b**2 + 2*a*b as six whole-array passes, each a call with
its own temporary; numpy blocks (fused.py) keep those temporaries in cache but
still pay six calls a block.  Here the program becomes the body of one C loop,

    for (i = 0; i < n; i++) { v0 = in0[i]; v1 = in1[i]; v3 = v0 * v0; ...; out[i] = v8; }

which reads each input once and keeps every intermediate in a register.  The
system C compiler builds it once per program into a cache under $MLCORE_HOME
(the source sits beside the library, to be read), and ctypes calls it with the
arrays' addresses.  Flags keep the results NumPy's: no -ffast-math, and no
contraction of a*b + c into one fused multiply-add (NumPy rounds twice), so
the results agree with NumPy's to the bit.  Only float32 and float64 programs of
the ops in C_OPS are compiled; everything else, and any call without a
compiler, runs in numpy blocks.

The compiler is $MLCORE_CC, else $CC, else the first of cc, gcc, clang on PATH;
MLCORE_CC set to nothing turns the loops off.
"""
import ctypes
import hashlib
import os
import platform
import shlex
import shutil
import subprocess
import tempfile
import threading
import warnings

import numpy as np

from mlcore import config

MIN_SIZE = 8192   # elements: below this a few numpy calls cost no more than one ctypes call
FLAGS = ("-O3", "-shared", "-fPIC", "-fno-math-errno", "-ffp-contract=off")

# Each op as C, from its arguments' variable names.  Only ops the compiler turns into SIMD
# instructions without -ffast-math: library functions (exp, tanh, pow...) would be called one
# element at a time, where NumPy's own SIMD kernels are 2-5x faster (float32 tanh: 1.68 ms vs
# 0.35 ms for 1e5), so programs with them stay in numpy blocks.
C_OPS = {
    "neg": "-{0}", "abs": "fabs{f}({0})", "sqr": "{0} * {0}", "sqrt": "sqrt{f}({0})",
    "add": "{0} + {1}", "sub": "{0} - {1}", "mul": "{0} * {1}", "truediv": "{0} / {1}",
    # NaN in either argument gives NaN, as np.maximum/np.minimum (C's fmax would drop it).
    "maximum": "({0} > {1} || {0} != {0}) ? {0} : {1}",
    "minimum": "({0} < {1} || {0} != {0}) ? {0} : {1}",
    "relu": "({0} > 0 || {0} != {0}) ? {0} : 0",
    "second": "{1}",
}
C_TYPES = {"float32": ("float", "f"), "float64": ("double", "")}   # {f}: fabsf for float, fabs for double


def c_source(op, dtype, scalar_inputs):
    """C for `op`'s program on arrays of `dtype`: void loop(long n, const T *in0, ..., T *out).
    Inputs in scalar_inputs are read once, before the loop."""
    ctype, suffix = C_TYPES[dtype]
    params = ["long n"] + ["const %s *in%d" % (ctype, k) for k in range(op.nin)] + ["%s *out" % ctype]
    lines = ["#include <math.h>", "", "void loop(%s)" % ", ".join(params), "{"]
    lines += ["    const %s v%d = in%d[0];" % (ctype, k, k) for k in sorted(scalar_inputs)]
    lines.append("    for (long i = 0; i < n; i++) {")
    lines += ["        const %s v%d = in%d[i];" % (ctype, k, k) for k in range(op.nin) if k not in scalar_inputs]
    for k, (step_op, args) in enumerate(op.program):
        expression = C_OPS[step_op.name].format(*["v%d" % a for a in args], f=suffix)
        lines.append("        const %s v%d = %s;" % (ctype, op.nin + k, expression))
    lines += ["        out[i] = v%d;" % op.outputs[0], "    }", "}", ""]
    return "\n".join(lines)


def compiler():
    """The C compiler's command line, or None where there is none or the user turned it off."""
    chosen = os.environ.get("MLCORE_CC", os.environ.get("CC"))
    if chosen is not None:
        return shlex.split(chosen) or None
    for name in ("cc", "gcc", "clang"):
        if shutil.which(name):
            return [name]
    return None


_libraries = {}   # cache path -> loaded loop function
_lock = threading.Lock()
_warned = set()


def _warn_once(message):
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, RuntimeWarning, stacklevel=3)


def library_path(source, command):
    """Where the library of `source` built by `command` is kept: named by a hash of everything
    that shapes the machine code, so a changed compiler or flag builds anew."""
    key = hashlib.sha256("\0".join([source, *command, *FLAGS, platform.machine()]).encode()).hexdigest()[:24]
    return os.path.join(config.home(), "c_loops", key + ".so")


def build(source, nin):
    """The loop function of `source`, compiled once into $MLCORE_HOME/c_loops and loaded; None
    (with one warning) where no compiler works.  The library is written under a temporary name
    and renamed into place, so a reader never loads half a file."""
    command = compiler()
    if command is None:
        return None
    path = library_path(source, command)
    folder = os.path.dirname(path)
    with _lock:
        if path in _libraries:
            return _libraries[path]
        try:
            if not os.path.exists(path):
                _compile(command, source, folder, path)
            try:
                loop = ctypes.CDLL(path).loop
            except OSError:   # a kept library that will not load (cut short, or another machine's): built anew
                _compile(command, source, folder, path)
                loop = ctypes.CDLL(path).loop
        except (OSError, AttributeError, subprocess.CalledProcessError) as error:   # no compiler, or a bad library
            detail = getattr(error, "stderr", None) or error
            _warn_once("mlcore's numpy backend could not compile or load its fused loops with %r (%s); they "
                       "run as numpy blocks instead. Install a C compiler or set MLCORE_CC."
                       % (" ".join(command), str(detail).strip()[:500]))
            return None
        loop.restype = None
        loop.argtypes = [ctypes.c_long] + [ctypes.c_void_p] * (nin + 1)
        _libraries[path] = loop
        return loop


def _compile(command, source, folder, path):
    """Compile source in a temporary folder beside the cache, then move the .c and the .so in."""
    os.makedirs(folder, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as work:
        c_file = os.path.join(work, "loop.c")
        with open(c_file, "w") as f:
            f.write(source)
        built = os.path.join(work, "loop.so")
        subprocess.run([*command, *FLAGS, "-o", built, c_file, "-lm"], check=True, capture_output=True, text=True)
        os.replace(c_file, path[:-3] + ".c")
        os.replace(built, path)


def address(x):
    """Where x's first element lies: through the buffer protocol (0.4 us), or numpy's ctypes view
    (1.4 us, but it takes read-only arrays too); a call passes three or four of them."""
    try:
        return ctypes.addressof(ctypes.c_char.from_buffer(x))
    except TypeError:
        return x.ctypes.data


class CompiledLoop:
    """A Composite node's program as a C loop, built on the first call large enough to use it.

    takes(inputs) says whether a call can go to C: every input of the node's float dtype, those
    its type makes size 1 read as scalars, the others C-contiguous and all of one shape."""

    def __init__(self, op, node):
        self.dtype = np.dtype(node.outputs[0].dtype)
        self.nin = op.nin
        self.scalars = {k for k, x in enumerate(node.inputs) if all(d == 1 for d in x.type.shape)}
        self.arrays = [k for k in range(op.nin) if k not in self.scalars]
        self.source = c_source(op, self.dtype.name, self.scalars)
        self.loop = None
        self.unbuildable = False

    @classmethod
    def of(cls, op, node):
        """The loop for the node, or None where C cannot run its program."""
        dtypes = {x.dtype for x in node.inputs} | set(op.dtypes)
        if len(op.outputs) != 1 or dtypes != {node.outputs[0].dtype} or node.outputs[0].dtype not in C_TYPES:
            return None
        if not all(step_op.name in C_OPS for step_op, _ in op.program):
            return None
        loop = cls(op, node)
        return loop if loop.arrays else None   # a program of scalars only has nothing to loop over

    def takes(self, inputs):
        first = inputs[self.arrays[0]]
        if first.size < MIN_SIZE or self.unbuildable:
            return False
        shape, dtype = first.shape, self.dtype
        for k in self.arrays:
            x = inputs[k]
            if x.dtype != dtype or x.shape != shape or not x.flags.c_contiguous:
                return False
        for k in self.scalars:
            x = inputs[k]
            if x.dtype != dtype or x.size != 1 or x.ndim > len(shape):
                return False
        return True

    def __call__(self, inputs, out=None):
        """The result, in `out` where it is given and C-contiguous (it may be one of the inputs:
        each element is read before it is written), else in a new array; None where the loop
        cannot be built, and the caller runs its numpy path."""
        if self.loop is None:
            self.loop = build(self.source, self.nin)
            if self.loop is None:
                self.unbuildable = True
                return None
        first = inputs[self.arrays[0]]
        if out is None or not out.flags.c_contiguous:
            out = np.empty(first.shape, dtype=self.dtype)
        self.loop(first.size, *[address(x) for x in inputs], address(out))
        return out


def preferring_c(loop, numpy_run):
    """numpy_run(*inputs, out=None), with the calls the loop takes sent to C instead."""
    def run(*inputs, out=None):
        if loop.takes(inputs):
            result = loop(inputs, out)
            if result is not None:
                return result
        return numpy_run(*inputs, out=out)
    run.writes_fresh = numpy_run.writes_fresh
    return run

"""keras.backend.result_type: the dtype Keras 3 promotes a mix of dtypes to, by the least upper bound on
JAX's type-promotion lattice, with Python's int and float as "weak" types that take the other
operand's precision (int8 + int stays int8; float16 + float stays float16).

Keras's jax, torch and numpy backends then squash 64-bit results to 32 bits (jax runs without x64);
its TensorFlow backend keeps them, and so does mlcore, whose tensors hold int64 and float64 faithfully:
result_type("float64") is "float64", and a Python int alone is int64, as on Keras's TensorFlow.

keras.ops' own rules for a few op families are here too (INDEX_DTYPE, accumulation_dtype): the graph's
ops keep Theano's (argmax is int64, a sum of int8 is int64), keras.ops casts to Keras's.
"""
import functools

import numpy as np

from mlcore import config

BOOL, INTS = "bool", ("uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64")
FLOATS, COMPLEX, WEAK = ("bfloat16", "float16", "float32", "float64"), ("complex64", "complex128"), ("int", "float")
FLOAT8 = ("float8_e4m3fn", "float8_e5m2")
PYTHON_TYPES = {bool: "bool", int: "int64", float: "float32", complex: "complex128", "int": "int64"}


def _lattice():
    """Each type's immediate successors (jax.numpy's lattice, as Keras writes it)."""
    u1, u2, u4, u8, i1, i2, i4, i8 = INTS
    bf, f2, f4, f8 = FLOATS
    c64, c128 = COMPLEX
    i_, f_ = WEAK
    return {BOOL: [i_], u1: [i2, u2], u2: [i4, u4], u4: [i8, u8], u8: [f_], i_: [u1, i1, c64], i1: [i2],
            i2: [i4], i4: [i8], i8: [f_], f_: [bf, f2], bf: [f4], f2: [f4], f4: [f8, c64], f8: [c128],
            c64: [c128], c128: []}


def _upper_bounds():
    """Each type with every type above it (itself included)."""
    lattice = _lattice()
    bounds = {node: {node} for node in lattice}
    for node in lattice:
        while True:
            grown = bounds[node].union(*(lattice[b] for b in bounds[node]))
            if grown == bounds[node]:
                break
            bounds[node] = grown
    return bounds


UPPER_BOUNDS = _upper_bounds()


@functools.lru_cache(512)
def _least_upper_bound(*nodes):
    unknown = [n for n in nodes if n not in UPPER_BOUNDS]
    if unknown:
        raise ValueError("dtype=%r is not a valid dtype for Keras type promotion." % (unknown[0],))
    common = set.intersection(*(UPPER_BOUNDS[n] for n in nodes))
    least = (common & set(nodes)) or {c for c in common if common <= UPPER_BOUNDS[c]}
    if len(least) != 1:
        raise ValueError("Input dtypes %s have no available implicit dtype promotion path. Try explicitly casting "
                         "inputs to the desired output type." % (tuple(str(n) for n in nodes),))
    return least.pop()


def _name_and_weakness(dtype):
    """(the dtype's name, whether it is a weak Python int or float)."""
    if dtype is None:
        return config.floatx(), False
    weak = dtype is int or dtype is float
    if dtype in PYTHON_TYPES:
        return PYTHON_TYPES[dtype], weak
    name = dtype if isinstance(dtype, str) else np.dtype(getattr(dtype, "name", dtype)).name
    return name, weak


def _as_weak(name):
    return "float" if "float" in name else "int" if "int" in name else "complex" if "complex" in name else name


def _resolve_weak(kind):
    """A weak type as a concrete one at floatx's precision (int32 / float32 by default)."""
    precision = config.floatx()[-2:]
    return ("int" if kind.startswith("i") else "uint" if kind.startswith("u") else "float") + precision


def result_type(*dtypes):
    """The dtype an operation on tensors of these dtypes (and Python int / float: weak) gives; floatx
    for none."""
    if not dtypes:
        return config.floatx()
    if any(d in FLOAT8 for d in dtypes):
        raise ValueError("There is no implicit conversions from float8 dtypes to others. You must cast it "
                         "internally. Received: %s" % (dtypes,))
    names, weak = zip(*(_name_and_weakness(d) for d in dtypes))
    if len(set(names)) == 1 and not all(weak) or len(names) == 1:
        return names[0] if not (all(weak) and names[0] != BOOL) else _resolve_weak(names[0])
    if all(weak):
        return _resolve_weak(_least_upper_bound(*set(names)))
    out = _least_upper_bound(*{_as_weak(n) if w else n for n, w in zip(names, weak)})
    return _resolve_weak(out) if out in WEAK else out


INDEX_DTYPE = "int32"     # keras.ops' indices and counts (argmax, argsort, nonzero, count_nonzero...), as jax's


def accumulation_dtype(dtype):
    """The dtype keras.ops' sums and products (sum, prod, trace, nansum, nanprod) of `dtype` give: bools and
    8- and 16-bit ints widen to 32 bits, unsigned staying unsigned (jax's rule, which Keras's backends
    follow); other dtypes keep theirs, where numpy would widen every int to 64 bits."""
    return {BOOL: "int32", "int8": "int32", "int16": "int32", "uint8": "uint32", "uint16": "uint32"}.get(dtype, dtype)

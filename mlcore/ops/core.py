"""Tensors in and out (keras.ops' core): converting values to graph variables and back,
casting, shapes, and cutting the gradient."""
import numpy as np

from mlcore import config
from mlcore.graph.basic import Variable
from mlcore.graph.gradient import zero_grad
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.bitcast import bitcast
from mlcore.graph.ops.common import as_tensor_variable, constant, is_inexact
from mlcore.graph.ops.extra_ops import dims


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """x as a graph variable; numbers and lists of floats become floatx, as Keras converts them
    (a numpy array keeps its dtype).  mlcore.ops.convert_to_tensor, run at once (mlcore.ops.eager),
    gives values a numpy array, as Keras's gives an array outside a traced function."""
    if sparse or ragged:
        raise ValueError("mlcore tensors are dense: sparse=True and ragged=True are not supported")
    if isinstance(x, Variable) or isinstance(x, (list, tuple)) and any(isinstance(e, Variable) for e in x):
        x = as_tensor_variable(x)
        return x if dtype is None else ew.cast(x, dtype)
    data = np.asarray(x, dtype=dtype)
    if dtype is None and data.dtype == np.float64 and not isinstance(x, np.ndarray):
        data = data.astype(config.floatx())
    return constant(data)


def as_tensor(x):
    """An op's argument as a graph variable: a bare Python number stays "weak", so that
    2 * x keeps x's dtype; anything else as convert_to_tensor makes it."""
    if isinstance(x, (bool, int, float)) and not isinstance(x, np.generic):
        return as_tensor_variable(x)
    return convert_to_tensor(x)


def as_float(x):
    """x as a tensor of floats: ints and bools become floatx, as Keras's float-valued ops give them
    (bfloat16 and complex dtypes stay theirs)."""
    x = as_tensor(x)
    return x if is_inexact(x.dtype) else ew.cast(x, config.floatx())


def of_one_tensor(fn, name, doc):
    """fn as a keras.ops function of one argument x, which may be any value convertible to a tensor."""
    def op(x):
        return fn(as_tensor(x))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def convert_to_numpy(x):
    """The value of x: a variable that depends on no graph input is compiled and run."""
    return x.eval() if isinstance(x, Variable) else np.asarray(x)


def is_tensor(x):
    return isinstance(x, Variable)


def cast(x, dtype):
    return ew.cast(as_tensor(x), dtype)


def view(x, dtype=None):
    """x's bytes read as dtype, as numpy's x.view(dtype): the same shape for the same item size, else the
    last axis rescaled (four uint8 per int32); dtype None keeps x's own."""
    x = as_tensor(x)
    return x if dtype is None else bitcast(x, dtype)


def dtype(x):
    """x's dtype as a string, e.g. "float32"."""
    return as_tensor(x).dtype


def shape(x):
    """x's shape as a tuple: ints where the graph knows them, symbolic int64 scalars where only
    the run does (what Keras's jax backend gives inside a traced function).  Either kind can be
    passed back to reshape, zeros, full..."""
    return tuple(dims(as_tensor(x)))


def stop_gradient(variable):
    """variable itself, but differentiated as a constant (its gradient is zero)."""
    return zero_grad(as_tensor(variable))


def _limits(dtype):
    """The lowest and highest values of a dtype (0 and 1 for bool; ml_dtypes knows bfloat16's too)."""
    if dtype == "bool":
        return 0, 1
    import ml_dtypes
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else ml_dtypes.finfo(dtype)
    return info.min, info.max


def saturate_cast(x, dtype):
    """x cast to dtype, clipped first to the range dtype can hold (so 300 as uint8 is 255, not 44,
    and inf as int32 is int32's max).  Where a limit rounds outside that range in x's dtype (int32's
    max as a float32 is 2**31), x is clipped one step inside it and what lies beyond gets the limit.
    dtype None is floatx, as Keras standardizes it."""
    x = as_tensor(x)
    dtype = config.floatx() if dtype is None else np.dtype(dtype).name
    (in_min, in_max), (out_min, out_max) = _limits(x.dtype), _limits(dtype)

    def in_x(value):     # a 0-d array of x's dtype: a numpy scalar would enter the graph as a weak float
        return np.asarray(value, x.dtype)
    low, high = in_x(np.maximum(in_min, out_min)), in_x(np.minimum(in_max, out_max))
    beyond = []
    if low.item() < out_min:       # compared exactly, as Python compares ints with floats
        low = in_x(np.nextafter(low, in_x(0)))
        beyond.append((ew.lt(x, low), out_min))
    if high.item() > out_max:
        high = in_x(np.nextafter(high, in_x(0)))
        beyond.append((ew.gt(x, high), out_max))
    out = ew.cast(ew.clip(x, low, high), dtype)
    for outside, limit in beyond:
        out = ew.switch(outside, np.array(limit, dtype), out)
    return out

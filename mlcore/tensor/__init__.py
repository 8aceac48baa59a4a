"""The Theano-style front end: `import mlcore.tensor as T`.

Theano's names and semantics: T.matrix(), T.exp, T.dot, T.grad, T.nnet.*,
T.signal.pool.pool_2d, T.random.RandomStreams.
"""
from mlcore import config
from mlcore.graph.basic import TensorType
from mlcore.graph.gradient import disconnected_grad, grad, zero_grad  # noqa: F401
from mlcore.graph.ops import as_tensor_variable, constant  # noqa: F401
from mlcore.graph.ops.elemwise import (abs_, and_, cast, ceil, clip, cos, eq, exp, expm1, floor, ge, gt,  # noqa: F401
                                       int_div, le, log, log1p, lt, maximum, minimum, mod, neg, neq,
                                       ones_like, or_, round_, second, sigmoid, sign, sin, softplus,
                                       sqr, sqrt, switch, tanh, true_div, zeros_like)
from mlcore.graph.ops.linalg import batched_dot, dot, gemm, matmul, outer, tensordot  # noqa: F401
from mlcore.graph.ops.reduce import argmax, argmin, mean, prod, std, var  # noqa: F401
from mlcore.graph.ops.reduce import max_ as max  # noqa: F401
from mlcore.graph.ops.reduce import min_ as min  # noqa: F401
from mlcore.graph.ops.reduce import sum_ as sum  # noqa: F401
from mlcore.graph.ops.shape import (alloc, arange, concatenate, dimshuffle, flatten, inc_subtensor,  # noqa: F401
                                    ones, pad, reshape, set_subtensor, shape, stack, transpose, zeros)
from mlcore.tensor import nnet, random, signal  # noqa: F401

abs = abs_  # noqa: A001
round = round_  # noqa: A001
where = switch
fill = second
pow = power = lambda x, y: as_tensor_variable(x) ** y  # noqa: A001,E731
sub = lambda x, y: as_tensor_variable(x) - y  # noqa: E731
mul = lambda x, y: as_tensor_variable(x) * y  # noqa: E731
add = lambda x, y: as_tensor_variable(x) + y  # noqa: E731
concat = concatenate


def tensor(dtype=None, shape=None, name=None, broadcastable=None):
    """A symbolic input.  shape has None for unknown dims; Theano's broadcastable pattern
    (True, False), given as shape or broadcastable=, also works."""
    return TensorType(dtype or config.floatx(), shape, broadcastable)(name)


def _maker(ndim, dtype=None, pattern=None):
    def make(name=None, dtype=dtype, shape=None):
        dims = shape if shape is not None else (pattern or (None,) * ndim)
        return TensorType(dtype or config.floatx(), dims)(name)
    return make


scalar, vector, matrix, tensor3, tensor4 = (_maker(n) for n in range(5))
row, col = _maker(2, pattern=(1, None)), _maker(2, pattern=(None, 1))
for _prefix, _dtype in (("f", "float32"), ("d", "float64"), ("i", "int32"), ("l", "int64"), ("b", "int8")):
    for _ndim, _kind in enumerate(("scalar", "vector", "matrix", "tensor3", "tensor4")):
        globals()[_prefix + _kind] = _maker(_ndim, _dtype)
    globals()[_prefix + "row"] = _maker(2, _dtype, (1, None))
    globals()[_prefix + "col"] = _maker(2, _dtype, (None, 1))

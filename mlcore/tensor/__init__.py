"""The Theano-style front end: `import mlcore.tensor as T`.

Theano's names and semantics: T.matrix(), T.exp, T.dot, T.grad, T.nnet.*,
T.signal.pool.pool_2d, T.random.RandomStreams.
"""
from mlcore import config
from mlcore.graph.basic import Constant as TensorConstant, SharedVariable as TensorSharedVariable  # noqa: F401
from mlcore.graph.basic import TensorType, Variable as TensorVariable  # noqa: F401
from mlcore.graph.gradient import (Lop, Rop, disconnected_grad, grad, hessian, jacobian,  # noqa: F401
                                   zero_grad)
from mlcore.gradient import grad_clip, verify_grad  # noqa: F401
from mlcore.graph.ops import as_tensor_variable, constant  # noqa: F401
from mlcore.graph.ops.shape import addbroadcast, patternbroadcast, unbroadcast  # noqa: F401
from mlcore.graph.ops import elemwise as _ew, reduce as _reduce, shape as _shape
from mlcore.graph.ops.elemwise import Elemwise  # noqa: F401  (f.maker.fgraph's ops are checked against it)
from mlcore.graph.ops.elemwise import (abs_, and_, cast, ceil, clip, cos, eq, exp, expm1, floor, ge, gt,  # noqa: F401
                                       int_div, le, log, log1p, lt, maximum, minimum, mod, neg, neq,
                                       or_, round_, second, sigmoid, sign, sin, softplus,
                                       sqr, sqrt, switch, tanh, true_div)
from mlcore.graph.ops.elemwise_math import (arccos, arccosh, arcsin, arcsinh, arctan, arctan2,  # noqa: F401
                                            arctanh, cosh, deg2rad, erf, erfc, erfinv, exp2, gammaln, invert,
                                            isinf, isnan, log2, log10, psi, rad2deg, reciprocal, sinh, tan,
                                            tri_gamma, xor)
from mlcore.graph.ops.elemwise_math import erfcinv, erfcx, gamma, i0, i1, trunc  # noqa: F401
from mlcore.graph.ops.along_axis import argsort, cumprod, cumsum, sort  # noqa: F401
from mlcore.graph.ops.extra_ops import (allclose, diag, diagonal, eye, identity_like, isclose, isfinite,  # noqa: F401
                                        repeat, roll, squeeze, tile, tri, tril, triu)
from mlcore.graph.ops.extra_ops import all_ as all, any_ as any  # noqa: F401
from mlcore.graph.ops.linalg import batched_dot, batched_tensordot, dot, gemm, matmul, outer, tensordot  # noqa: F401
from mlcore.graph.ops.reduce import argmax, argmin, prod, std, var  # noqa: F401
from mlcore.graph.ops.reduce import max_ as max  # noqa: F401
from mlcore.graph.ops.reduce import min_ as min  # noqa: F401
from mlcore.graph.ops.indexing import inc_subtensor, set_subtensor  # noqa: F401
from mlcore.graph.ops.shape import (alloc, arange, concatenate, dimshuffle, flatten, ones, pad, reshape,  # noqa: F401
                                    shape, specify_shape, transpose, zeros)
from mlcore.tensor import extra_ops, nlinalg, nnet, random, signal, slinalg, xlogx  # noqa: F401
from mlcore.tensor.basic import NotScalarConstantError, get_scalar_constant_value  # noqa: F401
from mlcore.tensor.basic import (choose, horizontal_stack, iround, join, largest, mgrid, ogrid, ptp,  # noqa: F401
                                 round, shape_padaxis, shape_padleft, shape_padright, smallest, split,
                                 stacklists, swapaxes, tensor_copy, vertical_stack)
from mlcore.tensor.extra_ops import bincount, diff, fill_diagonal, fill_diagonal_offset, to_one_hot  # noqa: F401
from mlcore.tensor.nlinalg import extract_diag, trace  # noqa: F401

abs = abs_  # noqa: A001
floor_div = int_div
where = switch
sgn = sign
inv = reciprocal
bitwise_xor = xor
bitwise_not = invert
fill = second
pow = power = lambda x, y: as_tensor_variable(x) ** y  # noqa: A001,E731
sub = lambda x, y: as_tensor_variable(x) - y  # noqa: E731
mul = lambda x, y: as_tensor_variable(x) * y  # noqa: E731
add = lambda x, y: as_tensor_variable(x) + y  # noqa: E731
concat = concatenate
as_tensor = as_tensor_variable


def sum(input, axis=None, dtype=None, keepdims=False):  # noqa: A001
    """Theano's sum: dtype= casts the input first (an int8 sum that must not wrap, say)."""
    return _reduce.sum_(input if dtype is None else cast(input, dtype), axis, keepdims)


def mean(input, axis=None, dtype=None, keepdims=False):
    return _reduce.mean(input if dtype is None else cast(input, dtype), axis, keepdims)


def max_and_argmax(a, axis=None, keepdims=False):
    """(max, argmax) along axis, as Theano's max_and_argmax."""
    return max(a, axis, keepdims), argmax(a, axis, keepdims)


def zeros_like(model, dtype=None):
    """Zeros of model's shape, in model's dtype or dtype."""
    return _ew.zeros_like(model if dtype is None else cast(model, dtype))


def ones_like(model, dtype=None):
    return _ew.ones_like(model if dtype is None else cast(model, dtype))


def stack(*tensors, axis=0):
    """Join tensors along a new axis: stack([a, b], axis=0), or Theano's older stack(a, b, c)."""
    return _shape.stack(tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors, axis)


def tensor(dtype=None, shape=None, name=None, broadcastable=None):
    """A symbolic input.  shape has None for unknown dims; Theano's broadcastable pattern
    (True, False), given as shape or broadcastable=, also works."""
    return TensorType(dtype or config.floatx(), shape, broadcastable)(name)


def _maker(ndim, dtype=None, pattern=None):
    def make(name=None, dtype=dtype, shape=None):
        dims = shape if shape is not None else (pattern or (None,) * ndim)
        return TensorType(dtype or config.floatx(), dims)(name)
    return make


def _plural(make):
    """Theano's dmatrices('a', 'b'): one variable per name (one name: the variable itself;
    an int n: n unnamed ones)."""
    def make_all(*names):
        if len(names) == 1 and isinstance(names[0], int):
            return [make() for _ in range(names[0])]
        return make(names[0]) if len(names) == 1 else [make(n) for n in names]
    return make_all


_KINDS = (("scalar", 0, None), ("vector", 1, None), ("matrix", 2, None), ("tensor3", 3, None),
          ("tensor4", 4, None), ("tensor5", 5, None), ("tensor6", 6, None), ("tensor7", 7, None),
          ("row", 2, (1, None)), ("col", 2, (None, 1)))
for _prefix, _dtype in (("", None), ("f", "float32"), ("d", "float64"), ("b", "int8"), ("w", "int16"),
                        ("i", "int32"), ("l", "int64")):
    for _kind, _ndim, _pattern in _KINDS:
        globals()[_prefix + _kind] = _maker(_ndim, _dtype, _pattern)
        globals()[_prefix + ("matrices" if _kind == "matrix" else _kind + "s")] = _plural(globals()[_prefix + _kind])

"""The Theano-style front end: `import mlcore.tensor as T`.

Theano's names and semantics: T.matrix(), T.exp, T.dot, T.grad, T.nnet.*,
T.signal.pool.pool_2d, T.random.RandomStreams.
"""
import functools

from mlcore import config
from mlcore.graph.basic import Constant as TensorConstant, SharedVariable as TensorSharedVariable  # noqa: F401
from mlcore.graph.basic import TensorType, Variable, Variable as TensorVariable  # noqa: F401
from mlcore.graph.gradient import (Lop, Rop, disconnected_grad, grad, hessian, jacobian,  # noqa: F401
                                   zero_grad)
from mlcore.gradient import consider_constant, grad_clip, verify_grad  # noqa: F401
from mlcore.graph.ops import as_tensor_variable  # noqa: F401
from mlcore.graph.ops.shape import addbroadcast, patternbroadcast, unbroadcast  # noqa: F401
from mlcore.graph.ops import elemwise as _ew, elemwise_math as _em, reduce as _reduce, shape as _shape
from mlcore.tensor.elemwise import CAReduce, Elemwise  # noqa: F401  (f.maker.fgraph's ops are checked against them)
from mlcore.scalar.basic import scalar_from_tensor, tensor_from_scalar  # noqa: F401
from mlcore.graph.ops.elemwise import (abs_, ceil, clip, cos, eq, exp, expm1, floor, ge, gt,  # noqa: F401
                                       int_div, le, log, log1p, lt, maximum, minimum, mod, neg, neq,
                                       round_, second, sigmoid, sign, sin, softplus,
                                       sqr, sqrt, switch, tanh, true_div)
from mlcore.graph.ops.elemwise_math import (arccos, arccosh, arcsin, arcsinh, arctan, arctan2,  # noqa: F401
                                            arctanh, cosh, deg2rad, erf, erfc, erfinv, exp2, gammaln, invert,
                                            isinf, isnan, log2, log10, psi, rad2deg, reciprocal, sinh, tan,
                                            tri_gamma, xor)
from mlcore.graph.ops.elemwise_math import chi2sf, erfcinv, erfcx, gamma, i0, i1, polygamma, trunc  # noqa: F401
from mlcore.graph.ops.elemwise_math import iv, j0, j1, jv  # noqa: F401
from mlcore.graph.ops.elemwise_complex import angle, complex_ as complex, complex_from_polar, conj, imag, real  # noqa: F401,A004,E501
from mlcore.graph.ops.along_axis import argsort, cumprod, cumsum, sort  # noqa: F401
from mlcore.graph.ops.extra_ops import (allclose, diag, diagonal, eye, identity_like, isclose, isfinite,  # noqa: F401
                                        repeat, roll, squeeze, tile, tri, tril, triu)
from mlcore.graph.ops.extra_ops import all_ as all, any_ as any  # noqa: F401
from mlcore.graph.ops.linalg import batched_dot, batched_tensordot, dot, gemm, matmul, outer, tensordot  # noqa: F401
from mlcore.graph.ops.reduce import max_ as max  # noqa: F401
from mlcore.graph.ops.reduce import min_ as min  # noqa: F401
from mlcore.graph.ops.shape import (alloc, concatenate, dimshuffle, ones, pad, reshape,  # noqa: F401
                                    shape, specify_shape, transpose, zeros)
# Theano's op classes, for code that looks for them among a compiled graph's nodes
# (f.maker.fgraph.toposort()); one Subtensor indexes by slices and integer arrays alike.
from mlcore.graph.ops.indexing import IncSubtensor, Subtensor  # noqa: F401,E402
from mlcore.graph.ops.linalg import Matmul as Dot  # noqa: F401,E402
from mlcore.graph.ops.reduce import Prod, Sum  # noqa: F401,E402
from mlcore.graph.ops.shape import (Alloc, Concatenate as Join, DimShuffle, Reshape, Shape,  # noqa: F401,E402
                                    SpecifyShape)
AdvancedSubtensor = AdvancedSubtensor1 = Subtensor
AdvancedIncSubtensor = AdvancedIncSubtensor1 = IncSubtensor

from mlcore.tensor import (elemwise, extra_ops, fft, fourier, nlinalg, nnet, random, shared_randomstreams,  # noqa: F401
                           sharedvar, signal, slinalg, subtensor, xlogx)
# the module theano.tensor.var, loaded now: loading it later would set T.var to it; T.var is bound to
# the function just below, as T.sort is further down
from mlcore.tensor import var  # noqa: F401,E402
from mlcore.tensor.basic import NotScalarConstantError, get_scalar_constant_value  # noqa: F401
from mlcore.tensor.basic import (arange, argmax, argmin, cast, constant, default, max_and_argmax, std,  # noqa: F401
                                 var)
from mlcore.tensor.basic import _converters
globals().update(_converters)     # _convert_to_int8, ..., _convert_to_complex128
from mlcore.tensor.basic import (extract_constant, get_vector_length, inverse_permutation,  # noqa: F401
                                 permute_row_elements)
from mlcore.tensor.basic import (choose, horizontal_stack, iround, join, largest, mgrid, ogrid, ptp,  # noqa: F401
                                 round, shape_padaxis, shape_padleft, shape_padright, smallest, split,
                                 stacklists, swapaxes, tensor_copy, vertical_stack)
from mlcore.tensor.basic import (ceil_intdiv, cov, divmod, flatnonzero, nonzero, nonzero_values,  # noqa: F401,A004
                                 round_half_away_from_zero, round_half_to_even)
from mlcore.tensor.basic import (all_dtypes, complex_dtypes, continuous_dtypes, discrete_dtypes,  # noqa: F401
                                 float_dtypes, int_dtypes, integer_dtypes, uint_dtypes)
from mlcore.tensor.extra_ops import bincount, diff, fill_diagonal, fill_diagonal_offset, to_one_hot  # noqa: F401
from mlcore.tensor.extra_ops import bartlett  # noqa: F401
from mlcore.tensor.subtensor import inc_subtensor, set_subtensor, take  # noqa: F401
from mlcore.tensor.nlinalg import extract_diag, trace  # noqa: F401
# loading the module mlcore.tensor.sort sets T.sort to it: the import binds T.sort back to the function, as Theano's
from mlcore.tensor.sort import argsort, argtopk, sort, topk, topk_and_argtopk  # noqa: F401,E402

abs = abs_  # noqa: A001
NoneConst = None   # Theano's constant for an absent optional input (eigvalsh(A, NoneConst)): None here
floor_div = intdiv = int_div
square = sqr
Tensor = TensorType
truediv = true_div
and_ = bitwise_and = _em.bitwise_and     # bitwise on ints, logical on bools, as Theano's and numpy's &
or_ = bitwise_or = _em.bitwise_or
where = switch
sgn = sign
inv = reciprocal
bitwise_xor = xor
bitwise_not = invert
fill = second
pow = power = lambda x, y: as_tensor_variable(x) ** y  # noqa: A001,E731
sub = lambda x, y: as_tensor_variable(x) - y  # noqa: E731


def add(*terms):
    """The sum of any number of tensors, broadcast together (Theano's add is variadic)."""
    return functools.reduce(lambda total, term: total + term, terms[1:], as_tensor_variable(terms[0]))


def mul(*factors):
    """The product of any number of tensors, broadcast together (Theano's mul is variadic)."""
    return functools.reduce(lambda product, factor: product * factor, factors[1:], as_tensor_variable(factors[0]))


concat = concatenate
as_tensor = as_tensor_variable


sum = _reduce.theano_sum  # noqa: A001  (dtype=, acc_dtype=: an int8 sum that must not wrap, say)
mean = _reduce.theano_mean
prod = _reduce.theano_prod


def flatten(x, ndim=1, outdim=None):
    """x with its first ndim-1 dims kept and the rest flattened into one; outdim is Theano's
    older name of ndim."""
    return _shape.flatten(x, ndim if outdim is None else outdim)


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


class _TypedConstructor(TensorType):
    """Theano's T.dmatrix, T.fvector, ...: a TensorType (x.type is T.dmatrix, and
    TensorType("float64", (False, False)) == T.dmatrix) that makes a variable when called.
    shape=, mlcore's, gives the variable static sizes: T.dmatrix("x", shape=(None, 3))."""

    __slots__ = ()

    def __call__(self, name=None, shape=None):
        return Variable(self if shape is None else TensorType(self.dtype, shape), name=name)


def _plural(make):
    """Theano's plurals: dmatrices('a', 'b') and dmatrices('ab') give one variable per name (per
    letter of one string), dmatrices('a') the variable itself, dmatrices(3) three unnamed ones."""
    def make_all(*names):
        if len(names) == 1 and isinstance(names[0], int):
            return [make() for _ in range(names[0])]
        if len(names) == 1:
            names = names[0]
        return make(names) if len(names) == 1 else [make(n) for n in names]
    return make_all


_KINDS = (("scalar", 0, None), ("vector", 1, None), ("matrix", 2, None), ("tensor3", 3, None),
          ("tensor4", 4, None), ("tensor5", 5, None), ("tensor6", 6, None), ("tensor7", 7, None),
          ("row", 2, (1, None)), ("col", 2, (None, 1)))
for _prefix, _dtype in (("", None), ("f", "float32"), ("d", "float64"), ("b", "int8"), ("w", "int16"),
                        ("i", "int32"), ("l", "int64"), ("c", "complex64"), ("z", "complex128")):
    for _kind, _ndim, _pattern in _KINDS:
        _make = _TypedConstructor(_dtype, _pattern or (None,) * _ndim) if _dtype else _maker(_ndim, None, _pattern)
        globals()[_prefix + _kind] = _make
        globals()[_prefix + ("matrices" if _kind == "matrix" else _kind + "s")] = _plural(_make)

# Theano's groups of types, by kind and dtype: `x.type in T.float_vector_types`
for _kind in ("scalar", "vector", "matrix"):
    for _group, _prefixes in (("int", "bwil"), ("float", "fd"), ("complex", "cz")):
        globals()["%s_%s_types" % (_group, _kind)] = tuple(globals()[p + _kind] for p in _prefixes)
for _group in ("int", "float", "complex"):
    globals()[_group + "_types"] = globals()[_group + "_scalar_types"]

from mlcore.tensor import inplace  # noqa: F401,E402  (its names are this module's: it comes last)

"""The op families: one module each.  Import the functions from here."""
from mlcore.graph.ops.along_axis import argsort, cumprod, cumsum, sort  # noqa: F401
from mlcore.graph.ops.common import as_tensor_variable, constant  # noqa: F401
from mlcore.graph.ops.elemwise import (abs_, add, and_, cast, ceil, clip, cos, eq, exp, expm1,  # noqa: F401
                                       floor, ge, gt, int_div, le, log, log1p, lt, maximum, minimum,
                                       mod, mul, neg, neq, ones_like, or_, pow_, relu, round_, second,
                                       sigmoid, sign, sin, softplus, sqr, sqrt, sub, switch, tanh,
                                       true_div, zeros_like)
from mlcore.graph.ops.elemwise_math import (arccos, arccosh, arcsin, arcsinh, arctan, arctan2,  # noqa: F401
                                            arctanh, cosh, deg2rad, erf, erfc, erfinv, exp2, gammaln, invert,
                                            isinf, isnan, log2, log10, psi, rad2deg, reciprocal, sinh, tan,
                                            tri_gamma, xor)
from mlcore.graph.ops.extra_ops import (all_, allclose, any_, diag, eye, identity_like, isclose,  # noqa: F401
                                        repeat, roll, squeeze, tile)
from mlcore.graph.ops.linalg import batched_dot, dot, einsum, gemm, matmul, outer, tensordot  # noqa: F401
from mlcore.graph.ops.linalg_decompositions import eig, eigh, qr, svd  # noqa: F401
from mlcore.graph.ops.nlinalg import det, matrix_inverse, pinv  # noqa: F401
from mlcore.graph.ops.nn import conv2d, log_softmax, pool2d, pool3d, softmax  # noqa: F401
from mlcore.graph.ops.reduce import (argmax, argmin, max_, mean, min_, prod, std,  # noqa: F401
                                     sum_, var)
from mlcore.graph.ops.indexing import inc_subtensor, set_subtensor, subtensor  # noqa: F401
from mlcore.graph.ops.scatter import scatter_reduce  # noqa: F401
from mlcore.graph.ops.shape import (alloc, arange, concatenate, dimshuffle, flatten, ones, pad, reshape,  # noqa: F401
                                    stack, transpose, zeros)
from mlcore.graph.ops.slinalg import cholesky, expm, solve, solve_triangular  # noqa: F401

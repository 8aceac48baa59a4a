"""keras.ops for mlcore's symbolic tensors: numpy-style math and keras's nn functions, with
Keras 3's names, arguments and defaults, for custom layers, Lambda layers, losses and metrics.

On graph variables they build graph nodes (as Keras's ops inside a traced function); on values
only (numpy arrays, lists, numbers, convert_to_tensor's constants) they run at once and return
numpy arrays, as Keras's eager ops return arrays (mlcore.ops.eager).  One module per family:
core (conversion, cast, shape), elementwise, reductions (with matmul/dot/tensordot), arrays
(making and reshaping), along_axis (cumsum, sort, take_along_axis), nn (activations, losses,
normalization, convolution, pooling), sequences (attention, framing).  Where the graph has an op
with the same math, the function here is a thin wrapper that gives it Keras's arguments.
"""
from mlcore.ops.along_axis import argsort, cumprod, cumsum, sort, take_along_axis  # noqa: F401
from mlcore.ops.arrays import (arange, broadcast_to, concatenate, diag, diagonal, empty,  # noqa: F401
                               empty_like, expand_dims, eye, flip, full, full_like, get_item, identity,
                               linspace, moveaxis, ndim, ones, ones_like, pad, ravel, repeat, reshape, roll,
                               size, split, squeeze, stack, swapaxes, take, tile, transpose, tri, tril, triu,
                               unstack, zeros, zeros_like)
from mlcore.ops.arrays import array, diagflat, fliplr, flipud, kron, meshgrid, rot90, vander  # noqa: F401
from mlcore.ops.eager import on_values
from mlcore.ops.control_flow import cond, custom_gradient, fori_loop, map, scan  # noqa: F401
from mlcore.ops.core import (cast, convert_to_numpy, convert_to_tensor, dtype, is_tensor, shape,  # noqa: F401
                             stop_gradient)
from mlcore.ops.elementwise import (abs, absolute, add, arccos, arccosh, arcsin, arcsinh, arctan,  # noqa: F401
                                    arctan2, arctanh, bitwise_invert, bitwise_not, bitwise_xor, ceil, clip,
                                    cos, cosh, deg2rad, divide, divide_no_nan, equal, erf, erfc, erfinv, exp,
                                    exp2, expm1, floor, floor_divide, greater, greater_equal, isclose,
                                    isfinite, isinf, isnan, isneginf, isposinf, less, less_equal, log, log1p,
                                    log2, log10, logaddexp, logical_and, logical_not, logical_or,
                                    logical_xor, maximum, minimum, mod, multiply, negative, not_equal, power,
                                    rad2deg, reciprocal, round, rsqrt, sign, sin, sinh, sqrt, square,
                                    subtract, tan, tanh, true_divide, trunc, where)
from mlcore.ops.fourier import fft, fft2, ifft2, irfft, istft, rfft, stft  # noqa: F401
from mlcore.ops.windows import bartlett, blackman, hamming, hanning, kaiser  # noqa: F401
from mlcore.ops.elementwise import (cbrt, copy, fabs, fmax, fmin, fmod, heaviside, hypot, i0,  # noqa: F401
                                    ldexp, logaddexp2, nan_to_num, signbit, sinc)
from mlcore.ops.indices import (digitize, in_top_k, scatter, scatter_update, searchsorted,  # noqa: F401
                                segment_max, segment_sum, select, slice, slice_update, top_k, unravel_index)
from mlcore.ops import linalg, nn
from mlcore.ops.linalg import (cholesky, det, eig, eigh, inv, logdet, lstsq, norm, pinv, qr,  # noqa: F401
                               slogdet, solve, solve_triangular, svd)
from mlcore.ops.nn import (average_pool, avg_pool2d, batch_normalization, binary_crossentropy,  # noqa: F401
                           categorical_crossentropy, conv, conv2d, elu, gelu, hard_sigmoid, hard_silu,
                           hard_swish, hard_tanh, leaky_relu, log_sigmoid, log_softmax, max_pool, max_pool2d,
                           moments, multi_hot, one_hot, relu, relu6, selu, sigmoid, silu, softmax, softplus,
                           softsign, sparse_categorical_crossentropy, swish)
from mlcore.ops.nn import (celu, glu, hard_shrink, soft_shrink, sparse_plus, sparse_sigmoid,  # noqa: F401
                           sparsemax, squareplus, tanh_shrink, threshold)
from mlcore.ops.nn import (conv_transpose, depth_to_space, depthwise_conv, layer_normalization,  # noqa: F401
                           normalize, psnr, rms_normalization, separable_conv, space_to_depth)
from mlcore.ops.sequences import dot_product_attention, extract_sequences  # noqa: F401
from mlcore.ops.reductions import (all, allclose, amax, amin, any, argmax, argmin, average,  # noqa: F401
                                   count_nonzero, dot, inner, logsumexp, matmul, max, mean, min, outer, prod,
                                   ptp, std, sum, tensordot, trace, var, vdot)
from mlcore.ops.reductions import einsum  # noqa: F401
from mlcore.ops.stacking import (append, array_split, dsplit, dstack, hsplit, hstack, vsplit,  # noqa: F401
                                 vstack)
from mlcore.ops.statistics import (corrcoef, diff, median, nanargmax, nanargmin, nancumprod,  # noqa: F401
                                   nancumsum, nanmax, nanmean, nanmedian, nanmin, nanpercentile, nanprod,
                                   nanquantile, nanstd, nansum, nanvar, percentile, quantile, trapezoid)
from mlcore.ops.arrays import geomspace, logspace  # noqa: F401
from mlcore.ops.control_flow import associative_scan, switch, vectorize, vectorized_map, while_loop  # noqa: F401
from mlcore.ops.core import saturate_cast, view  # noqa: F401
from mlcore.ops.einops import rearrange  # noqa: F401
from mlcore.ops.counting import argpartition, bincount, histogram, isin, nonzero, unique  # noqa: F401
from mlcore.ops.elementwise import nextafter  # noqa: F401
from mlcore.ops.complex_numbers import (angle, conj, conjugate, imag, isreal, polar, real,  # noqa: F401
                                        view_as_complex, view_as_real)
from mlcore.ops.indices import segment_min, segment_prod  # noqa: F401
from mlcore.ops.integers import (bitwise_and, bitwise_left_shift, bitwise_or, bitwise_right_shift,  # noqa: F401
                                 gcd, lcm, left_shift, right_shift)
from mlcore.ops.linalg import cholesky_inverse, jvp, lu_factor, matrix_rank  # noqa: F401
from mlcore.ops.patches import adaptive_average_pool, adaptive_max_pool, fold, unfold  # noqa: F401
from mlcore.ops.products import cdist, correlate, cross  # noqa: F401

from mlcore.ops.ctc import ctc_decode, ctc_loss  # noqa: F401  (Connectionist Temporal Classification)

# keras.ops run at once on values (mlcore.ops.eager); those that call functions give what the functions
# build, which may use graph variables the arguments do not show
_CONVERSIONS = {"convert_to_numpy", "is_tensor", "dtype", "on_values",
                "cond", "custom_gradient", "fori_loop", "map", "scan", "switch"}
_CONVERSIONS |= {"associative_scan", "vectorize", "vectorized_map", "while_loop", "jvp"}   # at once by themselves
_wrapped = {}                # one wrapper per function, so that aliases (max_pool2d, max_pool) stay one
for _name, _op in list(globals().items()):
    if callable(_op) and not isinstance(_op, type) and not _name.startswith("_") and _name not in _CONVERSIONS:
        globals()[_name] = _wrapped.setdefault(id(_op), on_values(_op))
for _name in ("adaptive_average_pool", "adaptive_max_pool", "ctc_decode", "ctc_loss",   # keras.ops.nn has
              "dot_product_attention", "fold", "polar", "unfold"):                             # these too
    setattr(nn, _name, globals()[_name])
for _module in (linalg, nn):     # keras.ops.linalg.<name> and keras.ops.nn.<name> are keras.ops.<name>
    for _name, _op in vars(_module).copy().items():   # (by identity: nn's activations are made in core)
        if _name[0] != "_" and id(_op) in _wrapped:
            setattr(_module, _name, _wrapped[id(_op)])

# The graph's own (Theano-style) names, always symbolic, which code written before keras.ops existed calls
from mlcore.graph.ops import (abs_, alloc, and_, as_tensor_variable, batched_dot, constant,  # noqa: E402,F401
                              dimshuffle, eq, flatten, ge, gemm, gt, inc_subtensor, int_div, le, lt,
                              max_, min_, mul, neg, neq, or_, pool2d, pow_, round_, second, set_subtensor,
                              sqr, sub, subtensor, sum_, true_div)

# keras.ops.image and keras.ops.numpy, their functions run at once on values as the ones above
from mlcore.ops import image, numpy  # noqa: E402
for _name in image.__all__:
    setattr(image, _name, on_values(getattr(image, _name)))

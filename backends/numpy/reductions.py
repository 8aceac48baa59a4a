"""Sum, product, max and min in numpy, with two shapes that numpy's own reduce walks slowly.

numpy reduces by stepping along the reduced axes for each position of the kept ones, vectorised
along the innermost kept axis: quick when that axis is long, slow when it is short.  A training
step has two such shapes:
- max-pooling written as a reshape and a max over two axes of length 2 (Theano users' idiom, and
  benchmark B's): the reduced axes are tiny, so their few slices are combined with np.maximum,
  one vectorised pass each (a batch-10 32x32 net's first pooling: 444 us -> 74 us);
- a bias gradient, the sum of an (N, H, W, C) gradient over N, H and W for a few channels: a
  product with a vector of ones, which BLAS does at memory speed (47,040 elements: 167 us -> 18 us).
Below LARGE elements numpy's reduce is quick anyway; integers keep it (their sums widen).
"""
import itertools
import math

import numpy as np

UFUNCS = {"sum": np.add, "prod": np.multiply, "max": np.maximum, "min": np.minimum}
LARGE = 4096       # elements of the input below which numpy's own reduce is used
FEW_TERMS = 8      # reduced elements per result at most, for combining slices
BLAS_DTYPES = (np.dtype("float32"), np.dtype("float64"))


def reduction(name, axis, keepdims):
    """The kernel of one reduction node: x -> its reduction over `axis` (None: all axes)."""
    ufunc = UFUNCS[name]
    exact = name in ("max", "min")      # no rounding, so no dtype restriction

    def run(x):
        axes = tuple(range(x.ndim)) if axis is None else axis
        if x.size >= LARGE and len(axes) < x.ndim and (exact or x.dtype.kind == "f"):
            terms = math.prod(x.shape[a] for a in axes)
            if 1 < terms <= FEW_TERMS:
                return combine_slices(ufunc, x, axes, keepdims)
            if name == "sum" and axes == tuple(range(len(axes))) and x.dtype in BLAS_DTYPES:
                return sum_leading_axes(x, len(axes), keepdims)
        return ufunc.reduce(x, axis=axis, keepdims=keepdims)
    return run


def combine_slices(ufunc, x, axes, keepdims):
    """ufunc over the slices of x at each position of the (short) reduced axes."""
    index, result = [slice(None)] * x.ndim, None
    for position in itertools.product(*(range(x.shape[a]) for a in axes)):
        for a, i in zip(axes, position):
            index[a] = i
        part = x[tuple(index)]
        result = part.copy() if result is None else ufunc(result, part, out=result)
    return np.expand_dims(result, axes) if keepdims else result


def sum_leading_axes(x, count, keepdims):
    """The sum over the first `count` axes as ones @ x (rows: the reduced positions)."""
    kept = x.shape[count:]
    rows = np.ascontiguousarray(x).reshape(-1, math.prod(kept))
    total = np.ones(len(rows), x.dtype) @ rows
    return total.reshape((1,) * count + kept if keepdims else kept)

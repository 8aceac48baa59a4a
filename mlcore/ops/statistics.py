"""keras.ops' statistics: order statistics (quantile, percentile, median), the nan* reductions
that skip NaNs, corrcoef, and the differences and trapezoid sums along an axis.  Order statistics
sort the reduced axes as one last axis and read the entries on either side of each position;
the nan* versions count only the numbers of each slice (NaNs sort last)."""
import numpy as np

from mlcore.dtype_promotion import INDEX_DTYPE
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops import elemwise_math as em
from mlcore.graph.ops import reduce as red
from mlcore.graph.ops import shape as sh
from mlcore.graph.ops.along_axis import sort
from mlcore.graph.ops.common import is_float_dtype, normalize_axis
from mlcore.graph.ops import linalg
from mlcore.graph.ops.extra_ops import all_, any_, diagonal, dims
from mlcore.graph.ops.indexing import subtensor
from mlcore.ops.along_axis import cumprod, cumsum, take_along_axis
from mlcore.ops.core import as_tensor
from mlcore.ops.elementwise import as_float
from mlcore.ops.reductions import accumulated

_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _reduced_last(x, axis):
    """x with the axes `axis` (None: all) merged into one last axis, and the kept axes' order."""
    axes = normalize_axis(axis, x.ndim, "quantile")
    kept = [d for d in range(x.ndim) if d not in axes]
    sizes = dims(x)
    return sh.reshape(sh.transpose(x, kept + list(axes)), [sizes[d] for d in kept] + [-1]), axes


def _lerp(low, high, t):
    """low + (high - low) * t, from the nearer end as numpy's quantile does: between -inf and 2 the
    midpoint is -inf (from low's side it would be -inf + inf, NaN)."""
    step = high - low
    return ew.switch(ew.ge(t, 0.5), high - step * (1 - t), low + step * t)


def _quantile(x, q, axis, method, keepdims, skip_nan):
    if method not in _METHODS + ("middle",):
        raise ValueError("quantile: method must be one of %s, got %r" % (", ".join(_METHODS), method))
    x, q = as_float(x), ew.cast(as_tensor(q), as_float(x).dtype)
    rows, axes = _reduced_last(x, axis)
    nan = em.isnan(rows)
    ordered = sort(rows, -1)                                  # NaNs last
    count = red.sum_(ew.eq(nan, False), -1, keepdims=True) if skip_nan else dims(rows)[-1]
    position = ew.cast(count - 1, x.dtype) * sh.pad_left(sh.flatten(q), rows.ndim)
    lower, upper = ew.floor(position), ew.ceil(position)
    low = take_along_axis(ordered, ew.cast(ew.maximum(lower, 0), "int64"), -1)
    high = take_along_axis(ordered, ew.cast(ew.maximum(upper, 0), "int64"), -1)
    out = {"linear": lambda: _lerp(low, high, position - lower), "lower": lambda: low, "higher": lambda: high,
           "midpoint": lambda: (low + high) / 2,
           "nearest": lambda: ew.switch(ew.eq(ew.round_(position), lower), low, high),
           "middle": lambda: ew.switch(ew.eq(lower, upper), low, (low + high) / 2)}[method]()
    if not skip_nan:
        out = ew.switch(any_(nan, -1, keepdims=True), np.nan, out)
    kept = iter(range(rows.ndim - 1))                         # out: (kept axes..., q), q to the front
    out = sh.dimshuffle(out, [rows.ndim - 1] + ["x" if d in axes else next(kept)
                                                for d in range(x.ndim) if keepdims or d not in axes])
    return out if as_tensor(q).ndim else subtensor(out, 0)


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The q-th quantiles (q in [0, 1], a number or a vector, whose axis comes first) of x over axis
    (None: all of x), between neighbouring sorted values as `method` says; NaN where a slice has one."""
    return _quantile(x, q, axis, method, keepdims, skip_nan=False)


def percentile(x, q, axis=None, method="linear", keepdims=False):
    """quantile with q in percent."""
    return quantile(x, ew.true_div(as_tensor(q), 100), axis, method, keepdims)


def median(x, axis=None, keepdims=False):
    """The middle value, or the mean of the two middle values, as numpy's (so a median between -inf
    and 2 is -inf, and one of inf, inf and 1 is inf, where interpolating gives NaN)."""
    return _quantile(x, 0.5, axis, "middle", keepdims, skip_nan=False)


def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """quantile of the numbers of each slice, NaNs left out."""
    return _quantile(x, q, axis, method, keepdims, skip_nan=True)


def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    return nanquantile(x, ew.true_div(as_tensor(q), 100), axis, method, keepdims)


def nanmedian(x, axis=None, keepdims=False):
    return _quantile(x, 0.5, axis, "middle", keepdims, skip_nan=True)


# --- reductions that skip NaNs -------------------------------------------------------------------
def _without_nan(x, value):
    """x with its NaNs as value (ints and bools have none)."""
    x = as_tensor(x)
    return ew.switch(em.isnan(x), value, x) if is_float_dtype(x.dtype) else x


def nansum(x, axis=None, keepdims=False):
    return accumulated(red.sum_, _without_nan(x, 0), axis, keepdims)


def nanprod(x, axis=None, keepdims=False):
    return accumulated(red.prod, _without_nan(x, 1), axis, keepdims)


def nanmean(x, axis=None, keepdims=False):
    """The mean of the numbers (NaN where a slice has none)."""
    x = as_float(x)
    return nansum(x, axis, keepdims) / ew.cast(red.sum_(ew.eq(em.isnan(x), False), axis, keepdims), x.dtype)


def nanvar(x, axis=None, keepdims=False):
    x = as_float(x)
    return nanmean(ew.sqr(x - nanmean(x, axis, keepdims=True)), axis, keepdims)


def nanstd(x, axis=None, keepdims=False):
    return ew.sqrt(nanvar(x, axis, keepdims))


def _over_numbers(reduce, x, axis, keepdims, fill, all_nan):
    """reduce over the numbers only (NaNs taken as fill), all_nan where a slice is all NaN."""
    x = as_tensor(x)
    out = reduce(_without_nan(x, fill), axis, keepdims)
    if not is_float_dtype(x.dtype):
        return out
    return ew.switch(all_(em.isnan(x), axis, keepdims), all_nan, out)


def nanmax(x, axis=None, keepdims=False):
    """The largest number (NaN where a slice is all NaN)."""
    return _over_numbers(red.max_, x, axis, keepdims, -np.inf, np.nan)


def nanmin(x, axis=None, keepdims=False):
    return _over_numbers(red.min_, x, axis, keepdims, np.inf, np.nan)


def _index_of(arg):
    """arg (the graph's argmax or argmin) giving int32, keras.ops' index dtype."""
    return lambda *args: ew.cast(arg(*args), INDEX_DTYPE)


def nanargmax(x, axis=None, keepdims=False):
    """argmax of the numbers (NaNs taken as -inf), as int32; -1 where a slice is all NaN (jax's)."""
    return _over_numbers(_index_of(red.argmax), x, axis, keepdims, -np.inf, np.int32(-1))


def nanargmin(x, axis=None, keepdims=False):
    return _over_numbers(_index_of(red.argmin), x, axis, keepdims, np.inf, np.int32(-1))


def nancumsum(x, axis=None, dtype=None):
    """cumsum with NaNs counted as 0."""
    return cumsum(_without_nan(x, 0), axis, dtype)


def nancumprod(x, axis=None, dtype=None):
    return cumprod(_without_nan(x, 1), axis, dtype)


# --- along an axis -------------------------------------------------------------------------------
def _shifted(a, axis):
    """(a without its first, a without its last entry along axis)."""
    lead = (slice(None),) * axis
    return subtensor(a, lead + (slice(1, None),)), subtensor(a, lead + (slice(None, -1),))


def diff(a, n=1, axis=-1):
    """The n-th differences along axis: a[1:] - a[:-1], n times (of bools, a[1:] != a[:-1])."""
    a = as_tensor(a)
    axis = normalize_axis(axis, a.ndim, "diff")[0]
    for _ in range(n):
        later, earlier = _shifted(a, axis)
        a = ew.neq(later, earlier) if a.dtype == "bool" else later - earlier
    return a


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The integral of y along axis by the trapezoidal rule, at sample points x (a vector along
    axis, or y's shape) or spaced dx."""
    y = as_float(y)
    axis = normalize_axis(axis, y.ndim, "trapezoid")[0]
    later, earlier = _shifted(y, axis)
    if x is None:
        widths = dx
    else:
        widths = diff(as_tensor(x), axis=-1 if as_tensor(x).ndim == 1 else axis)
        if widths.ndim == 1:
            widths = sh.dimshuffle(widths, [0 if d == axis else "x" for d in range(y.ndim)])
    return red.sum_(widths * (later + earlier) / 2, axis)


def corrcoef(x):
    """The correlation coefficients of the rows of x (each a variable, its columns observations)."""
    x = as_float(x)
    if x.ndim == 1:                                   # one variable: correlated with itself
        return subtensor(corrcoef(sh.dimshuffle(x, "x", 0)), (0, 0))
    centred = x - red.mean(x, 1, keepdims=True)
    products = linalg.dot(centred, sh.transpose(centred))
    scale = ew.sqrt(diagonal(products))
    return ew.clip(products / sh.dimshuffle(scale, 0, "x") / sh.dimshuffle(scale, "x", 0), -1, 1)

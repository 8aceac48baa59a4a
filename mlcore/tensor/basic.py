"""The rest of theano.tensor.basic: padding, joining and splitting helpers, grids, the small
math functions (largest, smallest, ptp, round with a mode, iround, divmod, ceil_intdiv, cov,
choose), the positions of nonzero entries, permuting rows, what is known of a variable while
building (get_scalar_constant_value, extract_constant, get_vector_length) and Theano's lists of
dtypes, each written with the graph's ops, so every backend runs them and their gradients come
from those ops'."""
import functools

import numpy as np

from mlcore import config
from mlcore.graph.basic import Constant, Variable
from mlcore.graph.ops import common, reduce as _reduce
from mlcore.graph.ops.common import as_tensor_variable, normalize_axis
from mlcore.graph.ops.elemwise import cast as _cast
from mlcore.graph.ops.elemwise import (Elemwise, abs_, clip, eq, floor, int_div, maximum, minimum, mod, neq,
                                       round_, second, sign, sqrt, switch)
from mlcore.graph.ops.along_axis import along_axis_key, argsort
from mlcore.graph.ops.extra_ops import Nonzero, broadcast_dims, dims
from mlcore.graph.ops.linalg import dot
from mlcore.graph.ops.shape import DimShuffle, Shape, alloc, concatenate, flatten, pad_left, stack
from mlcore.graph.ops.shape import arange as _arange


# --- constants and casts with Theano's signatures ------------------------------------------------
def constant(x, name=None, ndim=None, dtype=None):
    """A constant tensor of x's value, with Theano's argument order (x, name, ndim, dtype): ndim
    pads x with broadcastable dims in front, or drops leading dims of length 1, to that many."""
    var = common.constant(x, dtype=None if dtype is None else _dtype(dtype), name=name)
    return var if ndim is None else as_tensor_variable(var, ndim=ndim)


def _dtype(dtype):
    """dtype as numpy names it; Theano code writes "floatX" for config.floatX."""
    return config.floatx() if dtype == "floatX" else dtype


def cast(x, dtype):
    """x converted to dtype ("floatX" is config.floatX, as in Theano)."""
    return _cast(x, _dtype(dtype))


def default(x, default):
    """x, or default where x is None (Theano's default()); both must have one type, as there."""
    x, default = (None if x is None else as_tensor_variable(x)), as_tensor_variable(default)
    if x is not None and x.type != default.type:
        raise TypeError("default: both arguments must have the same type, got %s and %s" % (x.type, default.type))
    return default if x is None else x


def _converter(dtype):
    def convert(x):
        return cast(x, dtype)
    convert.__name__ = "_convert_to_" + dtype
    convert.__doc__ = "x cast to %s (Theano's _convert_to_%s)." % (dtype, dtype)
    return convert


_converters = {"_convert_to_" + d: _converter(d) for d in (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128")}
globals().update(_converters)


def arange(start, stop=None, step=1, dtype=None):
    """numpy's arange with Theano's dtype rule: integer bounds give int64 (uint64 if unsigned),
    whatever their own width, so a range from int8 or int32 values cannot overflow; float bounds
    keep their common dtype (a Python float is floatX)."""
    if dtype is None:
        bounds = [as_tensor_variable(b) for b in (start, stop, step) if b is not None]
        kind = np.dtype(common.common_dtype(bounds)).kind
        dtype = {"i": "int64", "u": "uint64"}.get(kind)
    return _arange(start, stop, step, dtype=None if dtype is None else _dtype(dtype))


# --- reductions with Theano's signatures ---------------------------------------------------------
def var(input, axis=None, ddof=0, keepdims=False, corrected=False):
    """The variance along axis, with Theano's argument order (ddof before keepdims).  corrected
    uses the corrected two-pass algorithm: it subtracts the square of the centred values' sum,
    which rounding leaves nonzero, so the result is more accurate (the same in exact arithmetic)."""
    if isinstance(ddof, bool):
        raise ValueError("var: ddof must be a number; keepdims comes after it: "
                         "var(input, axis=None, ddof=0, keepdims=False, corrected=False)")
    x = as_tensor_variable(input)
    v = _reduce.var(x, axis, keepdims, ddof)
    if not corrected:
        return v
    centred = x - _reduce.mean(x, axis, keepdims=True)      # the graph's merge pass shares it with var's
    n = _reduce.count(x, axis)
    return v - _reduce.sum_(centred, axis, keepdims) ** 2 / (n * (n - ddof))


def std(input, axis=None, ddof=0, keepdims=False, corrected=False):
    """The standard deviation along axis: the square root of var(input, axis, ddof, keepdims, corrected)."""
    return sqrt(var(input, axis, ddof, keepdims, corrected))


def _over_axes(arg_reduce, name):
    """Theano's argmax/argmin: over one axis, all (None), or several, whose positions count in C
    order over the sub-array they span (Theano moves them to the end and flattens them)."""
    def reduced(x, axis=None, keepdims=False):
        x = as_tensor_variable(x)
        axes = None if axis is None else normalize_axis(axis, x.ndim, name)
        if axes is None or len(axes) == x.ndim or len(axes) == 1:
            return arg_reduce(x, None if axes is None or len(axes) == x.ndim else axes[0], keepdims)
        kept = [d for d in range(x.ndim) if d not in axes]
        moved = DimShuffle(kept + list(axes))(x)
        index = arg_reduce(flatten(moved, len(kept) + 1), len(kept))
        if keepdims:
            index = DimShuffle([kept.index(d) if d in kept else "x" for d in range(x.ndim)])(index)
        return index
    reduced.__name__ = name
    reduced.__doc__ = "The position of the %s along axis: an int, a list of ints, or None (all)." % name[3:]
    return reduced


argmax = _over_axes(_reduce.argmax, "argmax")
argmin = _over_axes(_reduce.argmin, "argmin")


def max_and_argmax(a, axis=None, keepdims=False):
    """(max, argmax) along axis (an int, a list of ints or None), as Theano's max_and_argmax."""
    return _reduce.max_(a, axis, keepdims), argmax(a, axis, keepdims)


# --- adding broadcastable dims -------------------------------------------------------------------
def shape_padleft(t, n_ones=1):
    """t with n_ones broadcastable dims added in front."""
    t = as_tensor_variable(t)
    return DimShuffle(["x"] * n_ones + list(range(t.ndim)))(t)


def shape_padright(t, n_ones=1):
    """t with n_ones broadcastable dims added at the end."""
    t = as_tensor_variable(t)
    return DimShuffle(list(range(t.ndim)) + ["x"] * n_ones)(t)


def shape_padaxis(t, axis):
    """t with a broadcastable dim inserted at axis (negative: counted from the result's end)."""
    t = as_tensor_variable(t)
    order = list(range(t.ndim))
    order.insert(normalize_axis(axis, t.ndim + 1, "shape_padaxis")[0], "x")
    return DimShuffle(order)(t)


def tensor_copy(x):
    """A new variable with x's value (Theano's elementwise identity)."""
    x = as_tensor_variable(x)
    return DimShuffle(list(range(x.ndim)))(x)


def swapaxes(y, axis1, axis2):
    """y with axes axis1 and axis2 interchanged, as numpy's swapaxes."""
    return as_tensor_variable(y).swapaxes(axis1, axis2)


# --- joining and splitting -----------------------------------------------------------------------
def join(axis, *tensors_list):
    """The tensors concatenated along an existing axis, which comes first, as Theano's join."""
    if isinstance(axis, Variable):
        raise TypeError("join: the axis must be an int, got the symbolic %s; mlcore needs the result's "
                        "number of dims and which dim grows when the graph is built" % (axis,))
    return concatenate(tensors_list, axis)


def _stack_2d(name, axis, args):
    args = [as_tensor_variable(a) for a in args]
    if len(args) < 2 or any(a.ndim != 2 for a in args):
        raise ValueError("%s: takes two or more matrices, got %s" % (name, [a.type for a in args]))
    return concatenate(args, axis)


def horizontal_stack(*args):
    """Matrices side by side (along their columns), as numpy's hstack of matrices."""
    return _stack_2d("horizontal_stack", 1, args)


def vertical_stack(*args):
    """Matrices one above the other (along their rows), as numpy's vstack of matrices."""
    return _stack_2d("vertical_stack", 0, args)


def stacklists(arg):
    """Nested lists of scalars or tensors stacked into one tensor, a new dim per level of nesting:
    stacklists([[a, b], [c, d]]) of scalars is a 2 x 2 matrix."""
    if isinstance(arg, (tuple, list)):
        return stack([stacklists(a) for a in arg])
    return as_tensor_variable(arg)


def split(x, splits_size, n_splits, axis=0):
    """x cut along axis into n_splits pieces of the lengths in splits_size (a list, or a symbolic
    int vector), as Theano's split: a list of n_splits variables."""
    x = as_tensor_variable(x)
    axis = normalize_axis(axis, x.ndim, "split")[0]
    if isinstance(splits_size, Variable):
        if splits_size.ndim != 1 or splits_size.type.shape[0] not in (None, n_splits):
            raise ValueError("split: splits_size must be a vector of n_splits=%d lengths, got %s"
                             % (n_splits, splits_size.type))
    elif len(splits_size) != n_splits:
        raise ValueError("split: %d lengths in splits_size for n_splits=%d" % (len(splits_size), n_splits))
    sizes = [splits_size[k] for k in range(n_splits)]
    length = x.type.shape[axis]
    if length is not None and not any(isinstance(s, Variable) for s in sizes) and sum(sizes) != length:
        raise ValueError("split: lengths %s do not add up to %d, the length of axis %d of %s"
                         % (list(sizes), length, axis, x.type))
    pieces, start = [], 0
    for size in sizes:
        pieces.append(x[(slice(None),) * axis + (slice(start, start + size),)])
        start = start + size
    return pieces


# --- grids ---------------------------------------------------------------------------------------
class _nd_grid:
    """T.mgrid[0:5, 0:3] (dense) and T.ogrid[...] (sparse, broadcastable): one tensor per slice,
    each slice's arange laid along its own dim, as numpy's grids but as a list of tensors."""

    def __init__(self, sparse=False):
        self.sparse = sparse

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        ranges = [arange(k.start or 0, k.stop, k.step or 1) for k in key]
        ndim = len(ranges)
        grids = [DimShuffle([0 if d == j else "x" for d in range(ndim)])(r) for j, r in enumerate(ranges)]
        if self.sparse:
            return grids
        lengths = [dims(r)[0] for r in ranges]
        return [alloc(g, *lengths) for g in grids]


mgrid = _nd_grid()
ogrid = _nd_grid(sparse=True)


# --- math ----------------------------------------------------------------------------------------
def largest(*args):
    """The elementwise largest of its arguments, which broadcast together (Python's max of tensors)."""
    return functools.reduce(maximum, args)


def smallest(*args):
    """The elementwise smallest of its arguments, which broadcast together (Python's min of tensors)."""
    return functools.reduce(minimum, args)


def ptp(a, axis=None):
    """The range (maximum - minimum) of the values along axis (None: all)."""
    return as_tensor_variable(a).ptp(axis)


round_half_to_even = round_


def round_half_away_from_zero(a):
    """a rounded to the nearest integer, ties away from zero (2.5 -> 3, -2.5 -> -3)."""
    a = as_tensor_variable(a)
    return sign(a) * floor(abs_(a) + 0.5)


def round(a, mode=None):  # noqa: A001
    """a rounded to the nearest integer: ties to even (mode None or "half_to_even", numpy's and
    Theano's default) or away from zero ("half_away_from_zero")."""
    if mode in (None, "half_to_even"):
        return round_half_to_even(a)
    if mode == "half_away_from_zero":
        return round_half_away_from_zero(a)
    raise ValueError('round: mode must be "half_to_even" or "half_away_from_zero", got %r' % (mode,))


def iround(a, mode=None):
    """round(a, mode) as int64."""
    return cast(round(a, mode), "int64")


def divmod(x, y):  # noqa: A001
    """(floor_div(x, y), mod(x, y)) elementwise, as Python's divmod; complex inputs are refused."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if any(v.dtype.startswith("complex") for v in (x, y)):
        raise TypeError("divmod: the floor and modulo of complex numbers are undefined, got %s and %s"
                        % (x.type, y.type))
    return int_div(x, y), mod(x, y)


def ceil_intdiv(a, b):
    """ceil(a / b) without going through floats (exact for int64): a // b, plus one where the
    division leaves a remainder."""
    quotient = int_div(a, b)
    return quotient + cast(neq(mod(a, b), 0), quotient.dtype)


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None):
    """The covariance matrix of the variables in the rows of m (its columns if not rowvar), the
    rows of y appended, as numpy's cov: normalized by N - 1, by N if bias, by N - ddof if ddof is
    given; squeezed, so one variable gives a scalar.  Weights are not supported, as in Theano."""
    if fweights is not None or aweights is not None:
        raise NotImplementedError("cov: fweights and aweights are not supported (nor are they in Theano)")
    variables = [as_tensor_variable(v) for v in ((m,) if y is None else (m, y))]
    for v in variables:
        if v.ndim not in (1, 2):
            raise ValueError("cov: m and y must be vectors or matrices, got %s" % v.type)
    rows = [shape_padleft(v) if v.ndim == 1 else v if rowvar else v.T for v in variables]
    m = rows[0] if len(rows) == 1 else concatenate(rows, 0)
    ddof = (0 if bias else 1) if ddof is None else ddof
    centered = m - m.mean(axis=1, keepdims=True)
    return (dot(centered, centered.T.conj()) / (dims(m)[1] - ddof)).squeeze()


def choose(a, choices, out=None, mode="raise"):
    """choices[a[i]][i] for each index i of the int tensor a, broadcast together, as numpy's
    choose.  choices is a list of tensors or a tensor whose first dim enumerates them (its length
    known).  mode "wrap" takes a modulo the number of choices, "clip" clips it; "raise" cannot
    stop a compiled graph, so there an a out of range is the caller's error (it picks the last)."""
    if out is not None:
        raise TypeError("choose: out= writes into an array; a symbolic result is a new tensor")
    a = as_tensor_variable(a)
    if isinstance(choices, Variable):
        count = choices.type.shape[0] if choices.ndim else None
        if count is None:
            raise ValueError("choose: the number of choices (the first dim of %s) must be known" % choices.type)
        choices = [choices[k] for k in range(count)]
    if not np.issubdtype(a.dtype, np.integer):
        raise TypeError("choose: a must be an int tensor, got %s" % a.type)
    if mode == "wrap":
        a = mod(a, len(choices))
    elif mode == "clip":
        a = clip(a, 0, len(choices) - 1)
    elif mode != "raise":
        raise ValueError('choose: mode must be "raise", "wrap" or "clip", got %r' % (mode,))
    if len(choices) == 1:
        return second(a, choices[0])
    picked = choices[-1]
    for k in range(len(choices) - 2, -1, -1):
        picked = switch(eq(a, k), choices[k], picked)
    return picked



# --- positions of nonzero entries ---------------------------------------------------------------
def nonzero(a, return_matrix=False):
    """The positions of a's nonzero entries: one int64 vector per dim (numpy's nonzero), or with
    return_matrix the (a.ndim, count) matrix of them (Theano's Nonzero op)."""
    a = as_tensor_variable(a)
    positions = Nonzero()(a)
    return positions if return_matrix else tuple(positions[d] for d in range(a.ndim))


def flatnonzero(a):
    """The positions of a's nonzero entries in a flattened, as numpy's flatnonzero."""
    a = as_tensor_variable(a)
    if a.ndim == 0:
        raise ValueError("flatnonzero: a must have at least one dim, got the scalar %s" % (a,))
    return Nonzero()(a.flatten())[0]


def nonzero_values(a):
    """a's nonzero entries in C order: Theano's spelling of numpy's a[a.nonzero()], which a
    symbolic a cannot be indexed with."""
    a = as_tensor_variable(a)
    return a.flatten()[flatnonzero(a)]


class NotScalarConstantError(Exception):
    """Raised by get_scalar_constant_value for a variable whose value is not known while building."""


def get_scalar_constant_value(orig_v, elemwise=True, only_process_constants=False, max_recur=10):
    """The value of a scalar known while the graph is built, as a 0-d array (Theano's): a number, a
    constant, or (unless only_process_constants) a graph of at most max_recur ops deep on constants
    only, through elementwise ops when elemwise.  Code uses it to specialise on a size known early;
    anything depending on an input or a shared variable raises NotScalarConstantError."""
    def constant_leaves(v, depth):
        if isinstance(v, Constant):
            return True
        if v.owner is None or only_process_constants or depth >= max_recur or (
                not elemwise and isinstance(v.owner.op, Elemwise)):
            return False
        return all(constant_leaves(i, depth + 1) for i in v.owner.inputs)

    if isinstance(orig_v, Variable):
        if not constant_leaves(orig_v, 0):
            raise NotScalarConstantError("%s is not a constant: its value depends on %s"
                                         % (orig_v, "an input or a shared variable" if orig_v.owner else "itself"))
        from mlcore.ops.eager import evaluate
        value = orig_v.data if isinstance(orig_v, Constant) else evaluate(orig_v)
    else:
        value = np.asarray(orig_v)
    if np.size(value) != 1:
        raise NotScalarConstantError("%s holds %d values, not one" % (orig_v, np.size(value)))
    return np.asarray(value).reshape(())


def extract_constant(x, elemwise=True, only_process_constants=False):
    """get_scalar_constant_value(x), or x itself where its value is not known while building."""
    try:
        return get_scalar_constant_value(x, elemwise, only_process_constants)
    except NotScalarConstantError:
        return x


def get_vector_length(v):
    """The length of the vector v, where it is known while building (from its type, a constant's
    value, or a shape's number of dims); else a ValueError, as Theano's."""
    v = as_tensor_variable(v)
    if v.ndim != 1:
        raise TypeError("get_vector_length: argument must be a symbolic vector, got %s" % (v.type,))
    if v.type.shape[0] is not None:
        return v.type.shape[0]
    if isinstance(v, Constant):
        return len(v.data)
    if v.owner is not None and isinstance(v.owner.op, Shape):
        return v.owner.inputs[0].ndim
    raise ValueError("get_vector_length: length not known while building: %s (its type is %s)" % (v, v.type))


# --- permuting rows ------------------------------------------------------------------------------
def permute_row_elements(x, y, inverse=0):
    """Each row (last dim) of x reordered by the permutation in the matching row of y, out[..., i]
    = x[..., y[..., i]] (inverse: out[..., y[..., i]] = x[..., i]), as Theano's: x and y get leading
    dims to the same number and broadcast over all but the last, so one permutation may reorder
    every row, or every permutation one vector."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError("permute_row_elements: y must hold int permutations, got %s" % (y.type,))
    if x.ndim == 0 or y.ndim == 0:
        raise TypeError("permute_row_elements: x and y need at least one dim, got %s and %s" % (x.type, y.type))
    ndim = max(x.ndim, y.ndim)
    x, y = pad_left(x, ndim), pad_left(y, ndim)
    lead = broadcast_dims(dims(x)[:-1], dims(y)[:-1])
    x, y = alloc(x, *lead, dims(x)[-1]), alloc(y, *lead, dims(y)[-1])
    if inverse:
        y = argsort(y, axis=-1)
    return x[along_axis_key(y, ndim - 1)]


def inverse_permutation(perm):
    """The inverse of each permutation in the last dim of the int tensor perm (its argsort), in
    perm's dtype: inverse_permutation(p)[p[i]] = i."""
    perm = as_tensor_variable(perm)
    if not np.issubdtype(perm.dtype, np.integer):
        raise TypeError("inverse_permutation: perm must hold int permutations, got %s" % (perm.type,))
    return cast(argsort(perm, axis=-1), perm.dtype)


# --- Theano's groups of dtypes (code tests x.dtype in T.float_dtypes) --------------------------
float_dtypes = ["float16", "float32", "float64"]
complex_dtypes = ["complex64", "complex128"]
int_dtypes = ["int8", "int16", "int32", "int64"]
uint_dtypes = ["uint8", "uint16", "uint32", "uint64"]
integer_dtypes = int_dtypes + uint_dtypes
discrete_dtypes = ["bool"] + integer_dtypes
continuous_dtypes = float_dtypes + complex_dtypes
all_dtypes = discrete_dtypes + continuous_dtypes

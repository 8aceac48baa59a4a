"""keras.ops' array making and reshaping, as numpy names it: ones/zeros/full/arange/linspace/eye,
reshape, expand_dims, squeeze, transpose, concatenate, stack, split, take, tile, repeat, pad...

Sizes may be ints or symbolic scalars (the unknown entries of ops.shape(x)); numbers of outputs
(split, unstack) must be known when the graph is built.  Where the graph has the op (Theano's
eye, tri, tile, repeat, squeeze, roll, diag...), the function here only passes Keras's arguments on."""
import numpy as np

from mlcore import config
from mlcore.graph.basic import Variable
from mlcore.graph.ops import indexing
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops import elemwise_math as em
from mlcore.graph.ops import extra_ops
from mlcore.graph.ops import shape as sh
from mlcore.graph.ops.common import is_float_dtype, normalize_axis
from mlcore.graph.ops.extra_ops import as_list
from mlcore.ops.core import as_tensor, convert_to_tensor
from mlcore.ops.elementwise import promoted


# --- making arrays -------------------------------------------------------------------------------
def integer_size(value, op, what="a size"):
    """value as is, checked to be an int (a Python or numpy int, or a tensor of an integer dtype):
    numpy, jax and TensorFlow refuse a float where a length is asked for, with a TypeError."""
    if isinstance(value, (int, np.integer)):
        return value
    dtype = str(value.dtype if hasattr(value, "dtype") else np.asarray(value).dtype)
    if not dtype.startswith(("int", "uint")):
        raise TypeError("%s: %s must be an integer, got %r (dtype %s)" % (op, what, value, dtype))
    return value


def full(shape, fill_value, dtype=None):
    value = as_tensor(fill_value)
    return sh.alloc(ew.cast(value, dtype or config.floatx()), *as_list(shape, "full"))


def ones(shape, dtype=None):
    return full(shape, 1, dtype)


def zeros(shape, dtype=None):
    return full(shape, 0, dtype)


empty = zeros


def full_like(x, fill_value, dtype=None):
    """fill_value broadcast to x's shape, in x's dtype or dtype."""
    x = as_tensor(x)
    return ew.second(x, ew.cast(as_tensor(fill_value), dtype or x.dtype))


def ones_like(x, dtype=None):
    return full_like(x, 1, dtype)


def zeros_like(x, dtype=None):
    return full_like(x, 0, dtype)


empty_like = zeros_like


def arange(start, stop=None, step=None, dtype=None):
    """start, start + step, ... below stop; ints give int64, floats floatx."""
    return sh.arange(start, stop, 1 if step is None else step, dtype)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """num evenly spaced values from start to stop (stop included if endpoint); array start and
    stop give one such run per entry, along `axis`.  Computed in a float dtype `dtype` asks for, else in
    Keras's result_type(start, stop, float): floatx for numbers and ints, float64 for float64 ends."""
    start, stop = promoted(start, stop, floating=True)
    if dtype is not None and is_float_dtype(dtype):
        start, stop = ew.cast(start, dtype), ew.cast(stop, dtype)
    num = integer_size(num, "linspace", "num")
    intervals = num - 1 if endpoint else num     # num may be a symbolic int scalar
    step = (stop - start) / (ew.maximum(intervals, 1) if isinstance(intervals, Variable) else max(intervals, 1))
    ndim = max(start.ndim, stop.ndim)
    ticks = sh.dimshuffle(sh.arange(num, dtype=start.dtype), [0] + ["x"] * ndim)
    out = moveaxis(start + ticks * step, 0, axis)
    if dtype is not None:
        out = ew.cast(out, dtype)
    return (out, step) if retstep else out


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """base ** each of linspace(start, stop): num values evenly spaced on a log scale."""
    out = ew.pow_(ew.cast(as_tensor(base), config.floatx()), linspace(start, stop, num, endpoint, axis=axis))
    return out if dtype is None else ew.cast(out, dtype)


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """num values from start to stop, each a constant factor from the last (start and stop of
    one sign, not 0); the ends are start and stop exactly."""
    start, stop = ew.cast(as_tensor(start), config.floatx()), ew.cast(as_tensor(stop), config.floatx())
    out = ew.sign(start) * logspace(em.log10(ew.abs_(start)), em.log10(ew.abs_(stop)), num, endpoint)
    if num > 0:     # the ends exactly, broadcast as the runs between them are
        first, last = start + ew.zeros_like(stop), stop + ew.zeros_like(start)
        pieces = [sh.dimshuffle(first, ["x"] + list(range(first.ndim))), out[1:]]
        if endpoint and num > 1:
            pieces[1:] = [out[1:num - 1], sh.dimshuffle(last, ["x"] + list(range(last.ndim)))]
        out = sh.concatenate(pieces, 0)
    out = moveaxis(out, 0, axis)
    return out if dtype is None else ew.cast(out, dtype)


def eye(N, M=None, k=0, dtype=None):
    """Ones on the k-th diagonal of an N x M matrix."""
    return extra_ops.eye(*_matrix_size("eye", N, M), k, dtype)


def identity(n, dtype=None):
    return extra_ops.eye(integer_size(n, "identity", "n"), dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    """Ones on and below the k-th diagonal."""
    return extra_ops.tri(*_matrix_size("tri", N, M), k, dtype)


def _matrix_size(op, N, M):
    return integer_size(N, op, "N"), None if M is None else integer_size(M, op, "M")


def tril(x, k=0):
    """x with the entries above the k-th diagonal of its last two axes set to zero."""
    return extra_ops.tril(as_tensor(x), k)


def triu(x, k=0):
    return extra_ops.triu(as_tensor(x), k)


def diag(x, k=0):
    """A vector as the matrix with it on the k-th diagonal; a matrix's k-th diagonal."""
    return extra_ops.diag(as_tensor(x), k)


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The diagonal of axes axis1 and axis2, as a last axis."""
    return extra_ops.diagonal(as_tensor(x), offset, axis1, axis2)


def array(x, dtype=None):
    return convert_to_tensor(x, dtype)


def diagflat(x, k=0):
    """x flattened, on the k-th diagonal of a square matrix."""
    return extra_ops.diag(sh.flatten(as_tensor(x)), k)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the vector x: columns x**(N-1), ..., x**0 (reversed if increasing)."""
    x = as_tensor(x)
    if x.ndim != 1:
        raise ValueError("vander: x must be a one-dimensional tensor, got shape %s" % (x.type.shape,))
    powers = sh.arange(extra_ops.dims(x)[0] if N is None else N, dtype=x.dtype)
    if not increasing:
        powers = powers[::-1]
    powers = sh.dimshuffle(powers, "x", 0)
    # x**0 as 1**0, so that its gradient is 0 (not 0 * x**-1, NaN at x = 0)
    return ew.pow_(ew.switch(ew.eq(powers, 0), ew.ones_like(x)[:, None], x[:, None]), powers)


def meshgrid(*x, indexing="xy"):
    """Coordinate grids from 1-d tensors: the k-th output varies along axis k ("ij"), or with the
    first two axes swapped ("xy", numpy's default, for x then y on a picture)."""
    if indexing not in ("xy", "ij"):
        raise ValueError("meshgrid: indexing must be 'xy' or 'ij', got %r" % (indexing,))
    xs = [sh.flatten(as_tensor(v)) for v in x]
    axes = list(range(len(xs)))
    if indexing == "xy" and len(xs) > 1:
        axes[0], axes[1] = 1, 0
    sizes = [None] * len(xs)
    for v, a in zip(xs, axes):
        sizes[a] = extra_ops.dims(v)[0]
    return [sh.alloc(sh.dimshuffle(v, [0 if d == a else "x" for d in range(len(xs))]), *sizes)
            for v, a in zip(xs, axes)]


def kron(x1, x2):
    """The Kronecker product: each entry of x1 times the whole of x2, the blocks laid out as x1's
    entries are (the lower-dimensional argument given leading size-1 axes)."""
    x1, x2 = as_tensor(x1), as_tensor(x2)
    ndim = max(x1.ndim, x2.ndim)
    x1, x2 = sh.pad_left(x1, ndim), sh.pad_left(x2, ndim)
    blocks = (sh.dimshuffle(x1, [k // 2 if k % 2 == 0 else "x" for k in range(2 * ndim)])
              * sh.dimshuffle(x2, ["x" if k % 2 == 0 else k // 2 for k in range(2 * ndim)]))
    return sh.reshape(blocks, [a * b for a, b in zip(extra_ops.dims(x1), extra_ops.dims(x2))])


# --- reshaping -----------------------------------------------------------------------------------
def reshape(x, newshape):
    """x with a new shape; one entry may be -1 or None (inferred), others symbolic scalars."""
    newshape = [-1 if d is None else d for d in as_list(newshape, "reshape")]
    return sh.reshape(as_tensor(x), newshape)


def ravel(x):
    return sh.flatten(as_tensor(x))


def transpose(x, axes=None):
    return sh.transpose(as_tensor(x), axes)


def expand_dims(x, axis):
    """x with size-1 axes inserted at `axis` (an int or a tuple), as numpy numbers them in the result."""
    x = as_tensor(x)
    new = normalize_axis(axis, x.ndim + len(as_list(axis, "expand_dims")), "expand_dims")
    kept = iter(range(x.ndim))
    return sh.dimshuffle(x, ["x" if d in new else next(kept) for d in range(x.ndim + len(new))])


def squeeze(x, axis=None):
    """x without its size-1 axes (axis=None: all those known to be 1).  An axis whose size only the
    run knows goes by a reshape, which fails at run time if it is not 1."""
    return extra_ops.squeeze(as_tensor(x), axis)


def moveaxis(x, source, destination):
    """x with the axes `source` moved to positions `destination`, the others in their order."""
    x = as_tensor(x)
    source, destination = ([normalize_axis(a, x.ndim, "moveaxis")[0] for a in as_list(axes, "moveaxis")]
                           for axes in (source, destination))
    if len(source) != len(destination) or len(set(source)) != len(source) or len(set(destination)) != len(source):
        raise ValueError("moveaxis: source and destination must be distinct axes, as many of each; got %r and %r"
                         % (source, destination))
    order = [d for d in range(x.ndim) if d not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return sh.transpose(x, order)


def swapaxes(x, axis1, axis2):
    x = as_tensor(x)
    axis1, axis2 = (normalize_axis(a, x.ndim, "swapaxes")[0] for a in (axis1, axis2))
    order = list(range(x.ndim))
    order[axis1], order[axis2] = order[axis2], order[axis1]
    return sh.transpose(x, order)


def broadcast_to(x, shape):
    return sh.alloc(as_tensor(x), *as_list(shape, "broadcast_to"))


# --- joining and splitting -----------------------------------------------------------------------
def concatenate(xs, axis=0):
    """The tensors joined along an existing axis (which Keras's Concatenate requires: not None)."""
    if axis is None:
        raise ValueError("concatenate: `axis` cannot be None for `concatenate`; flatten the tensors first")
    xs = [as_tensor(x) for x in xs]
    return sh.concatenate(xs, normalize_axis(axis, xs[0].ndim, "concatenate")[0])


def stack(x, axis=0):
    """The tensors of the sequence x joined along a new axis."""
    x = [as_tensor(t) for t in x]
    return sh.stack(x, normalize_axis(axis, x[0].ndim + 1, "stack")[0])


def unstack(x, num=None, axis=0):
    """The slices of x along axis, as a list; their number must be known (static, or num)."""
    x = as_tensor(x)
    axis = normalize_axis(axis, x.ndim, "unstack")[0]
    num = x.type.shape[axis] if num is None else num
    if num is None:
        raise ValueError("unstack: Cannot infer argument `num` from shape %s: the size of axis %d is unknown; "
                         "pass num=" % (x.type, axis))
    return [indexing.subtensor(x, (slice(None),) * axis + (i,)) for i in range(num)]


def split(x, indices_or_sections, axis=0):
    """x cut along axis into equal sections (an int) or at the given indices, as a list.  Where the
    axis's length is known only when the graph runs, equal sections are cut by a reshape, which then
    fails if they cannot be equal (as numpy's split)."""
    x = as_tensor(x)
    axis = normalize_axis(axis, x.ndim, "split")[0]
    if not isinstance(indices_or_sections, (int, np.integer)):
        return slices_at(x, axis, [None] + as_list(indices_or_sections, "split") + [None])
    sections, size = int(indices_or_sections), x.type.shape[axis]
    if sections <= 0:
        raise ValueError("split: the number of sections must be a positive int, got %d" % sections)
    if size is None:
        sizes = extra_ops.dims(x)
        rows = sh.reshape(x, sizes[:axis] + [sections, -1] + sizes[axis + 1:])
        return [indexing.subtensor(rows, (slice(None),) * axis + (k,)) for k in range(sections)]
    if size % sections:
        raise ValueError("split: axis %d of %s cannot be cut into %d equal sections (`x` size on given `axis` "
                         "must be divisible by `indices_or_sections`)" % (axis, x.type, sections))
    return slices_at(x, axis, [k * size // sections for k in range(sections + 1)])


def slices_at(x, axis, bounds):
    """The pieces x[..., bounds[k]:bounds[k + 1], ...] along axis (a bound None: an end)."""
    return [indexing.subtensor(x, (slice(None),) * axis + (slice(lo, hi),)) for lo, hi in zip(bounds, bounds[1:])]


def take(x, indices, axis=None):
    """The entries of x at integer `indices` along axis (None: of x flattened)."""
    x, indices = as_tensor(x), as_tensor(indices)
    if axis is None:
        return indexing.subtensor(sh.flatten(x), indices)
    return indexing.subtensor(x, (slice(None),) * normalize_axis(axis, x.ndim, "take")[0] + (indices,))


def get_item(x, key):
    """x[key], numpy's basic and advanced indexing; a list key is a tuple of indices, as Keras's GetItem
    reads the key a saved model's node gives as a JSON list."""
    return indexing.subtensor(as_tensor(x), tuple(key) if isinstance(key, list) else key)


def flip(x, axis=None):
    x = as_tensor(x)
    axes = normalize_axis(axis, x.ndim, "flip")
    return indexing.subtensor(x, tuple(slice(None, None, -1) if d in axes else slice(None) for d in range(x.ndim)))


def fliplr(x):
    return flip(x, 1)


def flipud(x):
    return flip(x, 0)


def rot90(array, k=1, axes=(0, 1)):
    """array turned k quarter-turns in the plane of axes, from the first axis towards the second."""
    array = as_tensor(array)
    first, second = (normalize_axis(a, array.ndim, "rot90")[0] for a in axes) if len(axes) == 2 else (0, 0)
    if first == second:
        raise ValueError("rot90: axes must be two different axes, got %r for shape %s" % (axes, array.type.shape))
    k %= 4
    if k == 2:
        return flip(array, (first, second))
    if k == 0:
        return array
    if k == 1:
        array = flip(array, second)
    array = swapaxes(array, first, second)
    return flip(array, second) if k == 3 else array


def tile(x, repeats):
    """x repeated `repeats` times along each axis (numpy's tile: leading axes added as needed)."""
    return extra_ops.tile(as_tensor(x), repeats)


def repeat(x, repeats, axis=None):
    """Each entry of x repeated `repeats` times (an int, or one count per entry) along axis
    (None: of x flattened)."""
    return extra_ops.repeat(as_tensor(x), repeats, axis)


def roll(x, shift, axis=None):
    """x's entries moved `shift` places along axis (None: of x flattened, the shape kept), those
    pushed off the end coming back at the start."""
    return extra_ops.roll(as_tensor(x), shift, axis)


def pad(x, pad_width, mode="constant", constant_values=None):
    """x with pad_width = ((before, after), ...) entries around each axis (one pair, or one int,
    applies to every axis): constant_values (0) in mode "constant"; in the other modes, entries of
    x itself, as numpy's pad takes them (_mirrored)."""
    if constant_values is not None and mode != "constant":
        raise ValueError("pad: Argument `constant_values` can only be provided when `mode == 'constant'`. "
                         "Received: mode=%s" % (mode,))
    x = as_tensor(x)
    widths = np.broadcast_to(np.asarray(pad_width, dtype="int64"), (x.ndim, 2)).tolist()
    if mode == "constant":
        return sh.pad(x, widths, 0 if constant_values is None else constant_values)
    if mode not in _MIRRORS:
        raise ValueError("pad: mode %r is not supported; mlcore pads in the modes 'constant', %s"
                         % (mode, ", ".join(map(repr, _MIRRORS))))
    for axis, (before, after) in enumerate(widths):
        if before or after:
            x = indexing.subtensor(x, (slice(None),) * axis + (_mirrored(x, axis, before, after, mode),))
    return x


# where numpy's pad modes take position i of an axis of length n from (i from -before to n + after)
_MIRRORS = {
    "edge": lambda i, n: ew.minimum(ew.maximum(i, 0), n - 1),
    "wrap": lambda i, n: i % n,
    "reflect": lambda i, n: _fold(i % ew.maximum(2 * n - 2, 1), 2 * n - 2),    # d c b | a b c d | c b a
    "symmetric": lambda i, n: _fold(i % (2 * n), 2 * n - 1),                  # b a | a b c d | d c
}


def _fold(j, top):
    """j where j lies in the first half of a period, else its mirror image top - j."""
    return ew.minimum(j, top - j)


def _mirrored(x, axis, before, after, mode):
    """The positions (an int vector) of x's entries along axis that pad(..., mode) puts there."""
    n = extra_ops.dims(x)[axis]
    if n == 0:
        raise ValueError("pad: mode %r cannot pad the empty axis %d of %s" % (mode, axis, x.type))
    return _MIRRORS[mode](sh.arange(-before, n + after, 1, "int64"), n)


# --- sizes ---------------------------------------------------------------------------------------
def ndim(x):
    return as_tensor(x).ndim


def size(x):
    """The number of entries: an int when the shape is known, else a symbolic scalar."""
    x = as_tensor(x)
    return int(np.prod(x.type.shape)) if None not in x.type.shape else x.size

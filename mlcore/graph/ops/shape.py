"""Ops that move or reshape elements, or make arrays: dimshuffle, reshape, shape, specify_shape,
concatenate, pad, arange, alloc.  Indexing (basic and advanced) is in indexing.py."""
import numpy as np

from mlcore.graph.basic import Apply, Constant, Op, TensorType, Variable
from mlcore.graph.ops.common import as_tensor_variable, common_dtype, constant, normalize_axis, with_dtype


class DimShuffle(Op):
    """Theano's dimshuffle: permute dims, insert broadcastable dims ('x'), drop size-1 dims."""
    __props__ = ("order",)

    def __init__(self, order):
        self.order = tuple(o if o == "x" else int(o) for o in order)

    def make_node(self, x):
        x = as_tensor_variable(x)
        kept = [o for o in self.order if o != "x"]
        if len(set(kept)) != len(kept) or any(not 0 <= o < x.ndim for o in kept):
            raise ValueError("dimshuffle%s is invalid for a %d-d input" % (self.order, x.ndim))
        for d in set(range(x.ndim)) - set(kept):
            if x.type.shape[d] != 1:
                raise ValueError("dimshuffle%s drops dim %d of %s, which is not statically 1"
                                 % (self.order, d, x.type))
        shape = [1 if o == "x" else x.type.shape[o] for o in self.order]
        return Apply(self, [x], [TensorType(x.dtype, shape)])

    def pullback(self, inputs, outputs, output_grads):
        (x,), (g,) = inputs, output_grads
        kept = [o for o in self.order if o != "x"]
        new_axes = [i for i, o in enumerate(self.order) if o == "x"]
        if new_axes:
            from mlcore.graph.ops.reduce import Sum
            g = Sum(tuple(new_axes), keepdims=False)(g)
        inverse = [kept.index(d) if d in kept else "x" for d in range(x.ndim)]
        return [DimShuffle(inverse)(g)]

    def __str__(self):
        return "DimShuffle{%s}" % ",".join(map(str, self.order))


def pad_left(x, ndim):
    """Add broadcastable leading dims so x has ndim dims (how elementwise ops align shapes)."""
    if x.ndim == ndim:
        return x
    return DimShuffle(["x"] * (ndim - x.ndim) + list(range(x.ndim)))(x)


def dimshuffle(x, *order):
    if len(order) == 1 and isinstance(order[0], (list, tuple)):
        order = order[0]
    return DimShuffle(order)(x)


def transpose(x, axes=None):
    """x with its dims in the order axes (a permutation, negative axes counting from the end;
    None: reversed), with Keras's messages for axes that are not one."""
    x = as_tensor_variable(x)
    if axes is None:
        axes = tuple(reversed(range(x.ndim)))
    elif len(axes) != x.ndim:
        raise ValueError("transpose: axes must be a list of the same length as the input shape: %d for %s. "
                         "Received: axes=%s" % (x.ndim, x.type, list(axes)))
    elif any(not -x.ndim <= int(a) < x.ndim for a in axes):
        raise ValueError("transpose: Each axis in `axes` must be an integer in [-%d, %d) for %s. "
                         "Received: axes=%s" % (x.ndim, x.ndim, x.type, list(axes)))
    elif len({int(a) % x.ndim for a in axes}) != x.ndim:
        raise ValueError("transpose: `axes` must be a valid permutation of the input dimensions (no duplicates). "
                         "Received: axes=%s for %s" % (list(axes), x.type))
    axes = tuple(int(a) % x.ndim for a in axes)
    return x if axes == tuple(range(x.ndim)) else DimShuffle(axes)(x)


class Shape(Op):
    """The runtime shape of x as an int64 vector."""

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType("int64", (x.ndim,))])

    def pullback(self, inputs, outputs, output_grads):
        return [None]


def shape(x):
    x = as_tensor_variable(x)
    if all(s is not None for s in x.type.shape):
        return constant(np.array(x.type.shape, dtype="int64"))
    return Shape()(x)


class SpecifyShape(Op):
    """x itself, its type given the static shape `shape` (None: any length there), checked when
    run (Theano's specify_shape): the shape later ops see, and a clear error where x disagrees."""
    __props__ = ("shape",)

    def __init__(self, shape):
        self.shape = tuple(None if d is None else int(d) for d in shape)

    def make_node(self, x):
        x = as_tensor_variable(x)
        if len(self.shape) != x.ndim or any(None not in (d, k) and d != k for d, k in zip(self.shape, x.type.shape)):
            raise ValueError("specify_shape: %s cannot have shape %s" % (x.type, self.shape))
        known = [k if d is None else d for d, k in zip(self.shape, x.type.shape)]
        return Apply(self, [x], [TensorType(x.dtype, known)])

    def check(self, x):
        if len(x.shape) != len(self.shape) or any(d not in (None, n) for d, n in zip(self.shape, x.shape)):
            raise ValueError("specify_shape: got an array of shape %s where %s was specified"
                             % (tuple(x.shape), self.shape))
        return x

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0]]


def specify_shape(x, shape):
    """x with the static shape `shape`: ints (or None for a length left open), as Theano's."""
    if isinstance(shape, Variable) or any(isinstance(d, Variable) for d in shape):
        raise TypeError("specify_shape: the shape must be ints (or None), got %s; a symbolic length "
                        "is known only when the graph runs" % (shape,))
    return SpecifyShape(shape)(x)


class Unbroadcast(Op):
    """x itself, with the static length of `axes` forgotten (Theano's unbroadcast): a dim of
    size 1 may then be any length as far as later ops know, as a scan's carried state must be when
    its first value is an (1, n) alloc but later ones are not."""
    __props__ = ("axes",)

    def __init__(self, axes):
        self.axes = tuple(sorted({int(a) for a in axes}))

    def make_node(self, x):
        x = as_tensor_variable(x)
        if any(not -x.ndim <= a < x.ndim for a in self.axes):
            raise ValueError("unbroadcast: axes %s out of range for %s" % (self.axes, x.type))
        forget = {a % x.ndim for a in self.axes}
        return Apply(self, [x], [TensorType(x.dtype, [None if a in forget else d for a, d in enumerate(x.type.shape)])])

    def pullback(self, inputs, outputs, output_grads):
        return [SpecifyShape(inputs[0].type.shape)(output_grads[0])]


def unbroadcast(x, *axes):
    """x with the given axes no longer known to be of length 1 (theano.tensor.unbroadcast)."""
    return Unbroadcast(axes)(x) if axes else as_tensor_variable(x)


def addbroadcast(x, *axes):
    """x with the given axes declared of length 1, checked when run (theano.tensor.addbroadcast)."""
    x = as_tensor_variable(x)
    axes = {a % x.ndim for a in axes}
    return specify_shape(x, [1 if a in axes else None for a in range(x.ndim)]) if axes else x


def patternbroadcast(x, broadcastable):
    """x with Theano's broadcastable pattern: True axes declared of length 1, False axes left open."""
    x = as_tensor_variable(x)
    if len(broadcastable) != x.ndim:
        raise ValueError("patternbroadcast: a pattern of %d entries for %s" % (len(broadcastable), x.type))
    kept = addbroadcast(x, *[a for a, b in enumerate(broadcastable) if b])
    return unbroadcast(kept, *[a for a, b in enumerate(broadcastable) if not b and x.type.shape[a] == 1])


class Reshape(Op):
    """x with a new shape given as an int vector (a -1 entry is inferred)."""
    __props__ = ("ndim",)

    def __init__(self, ndim):
        self.ndim = ndim

    def make_node(self, x, new_shape):
        x, new_shape = as_tensor_variable(x), as_tensor_variable(new_shape)
        entries = static_entries(new_shape, self.ndim)
        check_new_shape(entries)
        out_shape = [None if d == -1 else d for d in entries]
        if isinstance(new_shape, Constant):
            dims = [int(d) for d in new_shape.data]
            if None not in x.type.shape:
                size = int(np.prod(x.type.shape))
                known = int(np.prod([d for d in dims if d != -1]))
                if -1 in dims:
                    if known == 0 or size % known:
                        raise ValueError("Reshape: cannot reshape %s to %s" % (x.type, tuple(dims)))
                    dims[dims.index(-1)] = size // known
                elif known != size:
                    raise ValueError("Reshape: cannot reshape %s (size %d) to %s (size %d)"
                                     % (x.type, size, tuple(dims), known))
            out_shape = [None if d == -1 else d for d in dims]
        return Apply(self, [x, new_shape], [TensorType(x.dtype, out_shape)])

    def pullback(self, inputs, outputs, output_grads):
        return [reshape(output_grads[0], shape(inputs[0])), None]


def check_new_shape(entries):
    """Refuse a new shape with an entry below -1 or more than one -1 (None: known when run), in
    Keras's words."""
    shown = "newshape=%s" % (tuple("?" if d is None else d for d in entries),)
    if any(d is not None and d < -1 for d in entries):
        raise ValueError("reshape: Each dimension in `newshape` must be a non-negative integer, or `-1` for a "
                         "single unknown dimension. Received: %s" % shown)
    if entries.count(-1) > 1:
        raise ValueError("reshape: There must be at most one unknown dimension (-1) in `newshape`. Received: %s"
                         % shown)


def static_entries(vector, n):
    """The n entries of an int vector known when the graph is built, None where not: a constant's,
    or the constants among those stack() joined, so that, as in Theano, T.zeros((k, 1)) and
    x.reshape((k, 1)) are statically 1 (broadcastable) along their last dim; x.shape's are x's
    static dims, so zeros(x.shape) (a slice's gradient) has x's static shape."""
    if isinstance(vector, Constant):
        return [int(d) for d in vector.data]
    node = vector.owner
    if node is not None and isinstance(node.op, Shape):
        return list(node.inputs[0].type.shape)
    if node is not None and isinstance(node.op, Concatenate) and all(i.type.shape == (1,) for i in node.inputs):
        return [int(i.data[0]) if isinstance(i, Constant) else None for i in node.inputs]
    return [None] * n


def reshape(x, new_shape, ndim=None):
    x = as_tensor_variable(x)
    new_shape = cast_int(_shape_vector(new_shape))
    ndim = new_shape.type.shape[0] if ndim is None else ndim
    if ndim is None:
        raise ValueError("reshape: the length of the new shape must be known; pass ndim=")
    return Reshape(ndim)(x, new_shape)


def cast_int(v):
    from mlcore.graph.ops.elemwise import cast
    return v if v.dtype == "int64" else cast(v, "int64")


def flatten(x, ndim=1):
    """Keep the first ndim-1 dims and flatten the rest into one (Theano's flatten)."""
    x = as_tensor_variable(x)
    known = x.type.shape
    if None not in known[1:] and 0 not in known:  # a constant target keeps the static shape (Dense needs it)
        lead, rest = [-1 if d is None else d for d in known[:ndim - 1]], known[ndim - 1:]
        return reshape(x, lead + [-1 if None in rest else int(np.prod(rest))], ndim=ndim)
    from mlcore.graph.ops.reduce import prod
    s = shape(x)
    lead = [s[i] for i in range(ndim - 1)]
    return reshape(x, stack(lead + [prod(s[ndim - 1:])]) if lead else stack([prod(s)]), ndim=ndim)


def axis_or_flattened(x, axis, op="op"):
    """(x, axis as a non-negative int) for an op along one axis, where axis=None means numpy's
    "along the flattened x": (flatten(x), 0)."""
    x = as_tensor_variable(x)
    if axis is None:
        return (x if x.ndim == 1 else flatten(x)), 0
    return x, normalize_axis(axis, x.ndim, op)[0]


# --- joining, padding, creating ------------------------------------------------------------------
class Concatenate(Op):
    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = axis

    def make_node(self, *xs):
        xs = [as_tensor_variable(x) for x in xs]
        ndim = xs[0].ndim
        if any(x.ndim != ndim for x in xs):
            raise ValueError("concatenate: all inputs need the same number of dims, got %s"
                             % [x.type for x in xs])
        dtype = common_dtype(xs)
        xs = [with_dtype(x, dtype) for x in xs]
        shape = []
        for d in range(ndim):
            dims = [x.type.shape[d] for x in xs]
            if d == self.axis:
                shape.append(None if None in dims else sum(dims))
            else:
                known = {s for s in dims if s is not None}
                if len(known) > 1:
                    raise ValueError("concatenate on axis %d: shapes %s differ on axis %d"
                                     % (self.axis, " and ".join(str(x.type) for x in xs), d))
                shape.append(known.pop() if known else None)
        return Apply(self, xs, [TensorType(dtype, shape)])

    def pullback(self, inputs, outputs, output_grads):
        (g,) = output_grads
        grads, start = [], 0
        for x in inputs:
            size = x.type.shape[self.axis]
            size = shape(x)[self.axis] if size is None else size
            stop = start + size
            key = (slice(None),) * self.axis + (slice(start, stop),)
            grads.append(g[key])
            start = stop
        return grads


def concatenate(xs, axis=0):
    xs = [as_tensor_variable(x) for x in xs]
    return xs[0] if len(xs) == 1 else Concatenate(normalize_axis(axis, xs[0].ndim)[0])(*xs)


def stack(xs, axis=0):
    xs = [as_tensor_variable(x) for x in xs]
    dtype = common_dtype(xs)
    xs = [with_dtype(x, dtype) for x in xs]      # before the dimshuffles make Python scalars constants
    axis = axis % (xs[0].ndim + 1)
    order = list(range(xs[0].ndim))
    order.insert(axis, "x")
    return Concatenate(axis)(*[DimShuffle(order)(x) for x in xs])


class Pad(Op):
    """Constant padding: pad_width is ((before, after), ...) per dim, static."""
    __props__ = ("pad_width", "value")

    def __init__(self, pad_width, value=0.0):
        self.pad_width = tuple((int(a), int(b)) for a, b in pad_width)
        self.value = value

    def make_node(self, x):
        x = as_tensor_variable(x)
        if len(self.pad_width) != x.ndim:
            raise ValueError("pad: pad_width has %d entries for a %d-d input %s"
                             % (len(self.pad_width), x.ndim, x.type))
        shape = [None if s is None else s + a + b for s, (a, b) in zip(x.type.shape, self.pad_width)]
        return Apply(self, [x], [TensorType(x.dtype, shape)])

    def pullback(self, inputs, outputs, output_grads):
        key = tuple(slice(a, -b if b else None) for a, b in self.pad_width)
        return [output_grads[0][key]]


def pad(x, pad_width, value=0.0):
    x = as_tensor_variable(x)
    if isinstance(pad_width, int):
        pad_width = [(pad_width, pad_width)] * x.ndim
    return Pad(tuple(tuple(p) for p in pad_width), value)(x)


class Arange(Op):
    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype

    def make_node(self, start, stop, step):
        start, stop, step = (as_tensor_variable(v) for v in (start, stop, step))
        length = None
        if all(isinstance(v, Constant) for v in (start, stop, step)):
            length = len(np.arange(start.data, stop.data, step.data))
        return Apply(self, [start, stop, step], [TensorType(self.dtype, (length,))])

    def pullback(self, inputs, outputs, output_grads):
        return [None, None, None]


def arange(start, stop=None, step=1, dtype=None):
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        dtype = common_dtype([as_tensor_variable(v) for v in (start, stop, step)])
    return Arange(dtype)(start, stop, step)


class Alloc(Op):
    """A tensor of the given shape filled with value, which broadcasts to it (usually a scalar)."""

    def make_node(self, value, shape_vector):
        value, shape_vector = as_tensor_variable(value), cast_int(as_tensor_variable(shape_vector))
        value = with_dtype(value, common_dtype([value]))     # a Python float fills with floatx
        ndim = shape_vector.type.shape[0]
        dims = static_entries(shape_vector, ndim)
        if value.ndim > ndim or any(v not in (None, 1) and d is not None and v != d for v, d in
                                    zip(value.type.shape, dims[ndim - value.ndim:])):
            raise ValueError("alloc: a value of %s cannot fill a tensor of shape %s" % (value.type, dims))
        return Apply(self, [value, shape_vector], [TensorType(value.dtype, dims)])

    def pullback(self, inputs, outputs, output_grads):
        from mlcore.graph.ops.elemwise import unbroadcast
        from mlcore.graph.ops.reduce import Sum
        value, (g,) = inputs[0], output_grads
        lead = tuple(range(g.ndim - value.ndim))
        return [unbroadcast(Sum(lead)(g) if lead else g, value), None]


def _shape_vector(shape_):
    if isinstance(shape_, (int, np.integer)):
        shape_ = (shape_,)
    if isinstance(shape_, (list, tuple)):
        if any(isinstance(d, Variable) for d in shape_):
            return stack([cast_int(as_tensor_variable(d)) if isinstance(d, Variable) else constant(d, dtype="int64")
                          for d in shape_])
        return constant(np.array(shape_, dtype="int64").reshape(-1))
    return as_tensor_variable(shape_)


def alloc(value, *shape_):
    return Alloc()(value, _shape_vector(shape_))


def zeros(shape_, dtype=None):
    from mlcore import config
    return Alloc()(constant(0, dtype=dtype or config.floatx()), _shape_vector(shape_))


def ones(shape_, dtype=None):
    from mlcore import config
    return Alloc()(constant(1, dtype=dtype or config.floatx()), _shape_vector(shape_))

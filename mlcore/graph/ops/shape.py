"""Ops that move, select or reshape elements: dimshuffle, reshape, shape,
indexing (basic and advanced), concatenate, pad, arange, alloc."""
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
    x = as_tensor_variable(x)
    axes = tuple(reversed(range(x.ndim))) if axes is None else tuple(a % x.ndim for a in axes)
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


class Reshape(Op):
    """x with a new shape given as an int vector (a -1 entry is inferred)."""
    __props__ = ("ndim",)

    def __init__(self, ndim):
        self.ndim = ndim

    def make_node(self, x, new_shape):
        x, new_shape = as_tensor_variable(x), as_tensor_variable(new_shape)
        out_shape = [None if d == -1 else d for d in static_entries(new_shape, self.ndim)]
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


def static_entries(vector, n):
    """The n entries of an int vector known when the graph is built, None where not: a constant's,
    or the constants among those stack() joined, so that, as in Theano, T.zeros((k, 1)) and
    x.reshape((k, 1)) are statically 1 (broadcastable) along their last dim."""
    if isinstance(vector, Constant):
        return [int(d) for d in vector.data]
    node = vector.owner
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


# --- indexing ------------------------------------------------------------------------------------
class Slot(tuple):
    """Marks a place in an index spec filled by the op's k-th extra input."""

    def __new__(cls, k):
        return super().__new__(cls, ("$", k))

    def __getnewargs__(self):
        return (self[1],)           # unpickled as Slot(k), not Slot(("$", k))


def _split_key(key):
    """A Python index key -> (hashable spec, list of symbolic index inputs)."""
    if not isinstance(key, tuple):
        key = (key,)
    spec, extra = [], []

    def part(v):
        if v is None or isinstance(v, (int, np.integer)) and not isinstance(v, bool):
            return None if v is None else int(v)
        var = as_tensor_variable(v)
        if not var.dtype.startswith(("int", "uint")):
            raise TypeError("Index %s must be integer, got %s" % (var, var.dtype))
        extra.append(var)
        return Slot(len(extra))

    for k in key:
        if k is Ellipsis:
            spec.append("...")
        elif isinstance(k, slice):
            spec.append(("slice", part(k.start), part(k.stop), part(k.step)))
        else:
            spec.append(part(k))
    return tuple(spec), extra


def expand_spec(spec, ndim):
    """Replace Ellipsis and pad with full slices so there is one entry per indexed dim."""
    full = ("slice", None, None, None)
    if "..." in spec:
        i = spec.index("...")
        spec = spec[:i] + (full,) * (ndim - len(spec) + 1) + spec[i + 1:]
    if len(spec) > ndim:
        raise IndexError("too many indices (%d) for a %d-d tensor" % (len(spec), ndim))
    return spec + (full,) * (ndim - len(spec))


def build_key(spec, index_values):
    """The concrete key a backend uses: slots replaced by the runtime index values."""
    def fill(v):
        return index_values[v[1] - 1] if isinstance(v, tuple) and v and v[0] == "$" else v
    return tuple(slice(fill(e[1]), fill(e[2]), fill(e[3])) if isinstance(e, tuple) and e[0] == "slice"
                 else fill(e) for e in spec)


def _is_slot(e):
    return isinstance(e, tuple) and len(e) == 2 and e[0] == "$"


def _static_len(dim, e):
    if dim is None or any(_is_slot(v) for v in e[1:]):
        return dim if e[1:] == (None, None, None) else None
    return len(range(*slice(*e[1:]).indices(dim)))


def index_shape(x_shape, spec, slot_types):
    """Static output shape of x[key], following numpy's basic and advanced indexing rules."""
    adv_pos, adv_shapes, out, first_adv = [], [], [], None
    has_array = any(_is_slot(e) and slot_types[e[1] - 1].ndim > 0 for e in spec)
    for i, (dim, e) in enumerate(zip(x_shape, spec)):
        if isinstance(e, tuple) and e[0] == "slice":
            out.append(_static_len(dim, e))
        elif has_array:
            shp = slot_types[e[1] - 1].shape if _is_slot(e) else ()
            adv_pos.append(i)
            adv_shapes.append(shp)
            if first_adv is None:
                first_adv = len(out)
    if not adv_pos:
        return tuple(out)
    ndim = max(len(s) for s in adv_shapes)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in adv_shapes]
    adv = []
    for dims in zip(*padded):
        known = {d for d in dims if d is not None and d != 1}
        adv.append(known.pop() if known else (None if None in dims else 1))
    contiguous = adv_pos == list(range(adv_pos[0], adv_pos[0] + len(adv_pos)))
    where = first_adv if contiguous else 0
    return tuple(out[:where]) + tuple(adv) + tuple(out[where:])


class Subtensor(Op):
    """x[key] for any mix of ints, slices and integer arrays (static or symbolic)."""
    __props__ = ("spec",)

    def __init__(self, spec):
        self.spec = spec

    def make_node(self, x, *indices):
        x = as_tensor_variable(x)
        indices = [as_tensor_variable(i) for i in indices]
        shape = index_shape(x.type.shape, self.spec, [i.type for i in indices])
        return Apply(self, [x] + indices, [TensorType(x.dtype, shape)])

    def pullback(self, inputs, outputs, output_grads):
        x, indices = inputs[0], inputs[1:]
        gx = IncSubtensor(self.spec)(zeros(shape(x), x.dtype), output_grads[0], *indices)
        return [gx] + [None] * len(indices)

    def __str__(self):
        return "Subtensor{%s}" % _spec_str(self.spec)


class IncSubtensor(Op):
    """x with y added at x[key] (or written there, when set_instead_of_inc), as a new tensor.
    Repeated advanced indices accumulate, as np.add.at does."""
    __props__ = ("spec", "set_instead_of_inc")

    def __init__(self, spec, set_instead_of_inc=False):
        self.spec = spec
        self.set_instead_of_inc = set_instead_of_inc

    def make_node(self, x, y, *indices):
        x, y = as_tensor_variable(x), as_tensor_variable(y)
        if common_dtype([x, y]) != x.dtype and not np.can_cast(y.dtype, x.dtype, "same_kind"):
            raise TypeError("%s: cannot write %s values into a %s tensor" % (self, y.dtype, x.dtype))
        y = with_dtype(y, x.dtype)     # y is written into x, so it takes x's dtype
        indices = [as_tensor_variable(i) for i in indices]
        return Apply(self, [x, y] + indices, [TensorType(x.dtype, x.type.shape)])

    def pullback(self, inputs, outputs, output_grads):
        y, indices = inputs[1], inputs[2:]
        (g,) = output_grads
        gx = IncSubtensor(self.spec, True)(g, 0.0, *indices) if self.set_instead_of_inc else g
        from mlcore.graph.ops.elemwise import unbroadcast
        gy = Subtensor(self.spec)(g, *indices)
        gy = pad_left(gy, y.ndim) if gy.ndim < y.ndim else gy
        if gy.ndim > y.ndim:
            from mlcore.graph.ops.reduce import Sum
            gy = Sum(tuple(range(gy.ndim - y.ndim)))(gy)
        return [gx, unbroadcast(gy, y)] + [None] * len(indices)

    def __str__(self):
        return "%s{%s}" % ("SetSubtensor" if self.set_instead_of_inc else "IncSubtensor", _spec_str(self.spec))


def _spec_str(spec):
    def one(v):
        return "i%d" % (v[1] - 1) if _is_slot(v) else ("" if v is None else str(v))
    parts = []
    for e in spec:
        if isinstance(e, tuple) and e and e[0] == "slice":
            parts.append(":".join(one(v) for v in e[1:]).rstrip(":") or ":")
        else:
            parts.append(one(e))
    return ", ".join(parts)


def subtensor(x, key):
    x = as_tensor_variable(x)
    if isinstance(key, tuple) and any(k is None for k in key) or key is None:
        return _with_new_axes(x, key if isinstance(key, tuple) else (key,))
    spec, extra = _split_key(key)
    spec = expand_spec(spec, x.ndim)
    if all(e == ("slice", None, None, None) for e in spec):
        return x
    return Subtensor(spec)(x, *extra)


def _with_new_axes(x, key):
    """x[key] where key holds None (numpy.newaxis) among ints and slices: x indexed without
    them, then a DimShuffle putting the new dims where numpy does."""
    if any(not (k is None or k is Ellipsis or isinstance(k, (slice, int, np.integer))
                or isinstance(k, Variable) and k.ndim == 0) for k in key):
        raise IndexError("None (numpy.newaxis) is supported among ints and slices only, got %r" % (key,))
    covered = x.ndim - sum(k is not None and k is not Ellipsis for k in key)
    entries = [e for k in key for e in ([slice(None)] * covered if k is Ellipsis else [k])]
    indexed = subtensor(x, tuple(e for e in entries if e is not None))
    order, kept = [], 0
    for e in entries:
        if e is None:
            order.append("x")
        elif isinstance(e, slice):
            order.append(kept)
            kept += 1
    return DimShuffle(order + list(range(kept, indexed.ndim)))(indexed)


def _inc_or_set(x, key, y, set_):
    x = as_tensor_variable(x)
    spec, extra = _split_key(key)
    return IncSubtensor(expand_spec(spec, x.ndim), set_)(x, y, *extra)


def inc_subtensor(target, y):
    """Theano's inc_subtensor(x[key], y): x with y added at key."""
    node = target.owner
    if node is None or not isinstance(node.op, Subtensor):
        raise TypeError("inc_subtensor expects an indexed tensor such as x[1:3], got %s" % (target,))
    return IncSubtensor(node.op.spec)(node.inputs[0], y, *node.inputs[1:])


def set_subtensor(target, y):
    """Theano's set_subtensor(x[key], y): x with y written at key."""
    node = target.owner
    if node is None or not isinstance(node.op, Subtensor):
        raise TypeError("set_subtensor expects an indexed tensor such as x[1:3], got %s" % (target,))
    return IncSubtensor(node.op.spec, True)(node.inputs[0], y, *node.inputs[1:])


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
            grads.append(subtensor(g, key))
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
        return [subtensor(output_grads[0], key)]


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

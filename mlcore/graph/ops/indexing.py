"""Indexing, as Theano's Subtensor and IncSubtensor: x[ints, slices, integer arrays, symbolic
indices, boolean masks], and set_subtensor/inc_subtensor writing through an indexed view.  An index
spec is a hashable description of the key, with a Slot where a symbolic index comes in as an extra
input; a boolean mask comes in as the positions of its True entries, as numpy reads x[mask]."""
import numpy as np

from mlcore.graph.basic import Apply, Op, TensorType, Variable
from mlcore.graph.ops.common import as_tensor_variable, common_dtype, with_dtype
from mlcore.graph.ops.shape import DimShuffle, pad_left, shape, zeros


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


class BadIndex(IndexError, ValueError):
    """A key that cannot index the tensor: numpy's IndexError, and the ValueError Keras's ops raise for it."""


def mask_mismatch(axis, size, mask_size):
    """numpy's error for a boolean mask whose length differs from the dim it indexes."""
    return BadIndex("boolean index did not match indexed array along axis %d; size of axis is %d but size "
                    "of corresponding boolean axis is %d" % (axis, size, mask_size))


class MaskPositions(Op):
    """The positions of a boolean mask's True entries, one row per dim of the mask (Nonzero's
    matrix), for x[mask]: the mask covers x's dims from first_axis on, and x_shape (x's shape) is an
    input so that a mask of another size than those dims is refused when run, as numpy refuses it.
    How many positions there are is known only from the values, as for Nonzero."""
    __props__ = ("first_axis",)

    def __init__(self, first_axis):
        self.first_axis = int(first_axis)

    def make_node(self, mask, x_shape):
        mask, x_shape = as_tensor_variable(mask), as_tensor_variable(x_shape)
        return Apply(self, [mask, x_shape], [TensorType("int64", (mask.ndim, None))])

    def pullback(self, inputs, outputs, output_grads):
        return [None, None]      # integer positions: no gradient


def _as_mask(k):
    """k as a boolean tensor of at least one dim when it is a mask (a bool tensor, array or list), else None."""
    if isinstance(k, Variable):
        return k if k.dtype == "bool" and k.ndim > 0 else None
    if isinstance(k, (list, np.ndarray)):
        try:
            values = np.asarray(k)
        except (TypeError, ValueError):
            return None
        return as_tensor_variable(values) if values.dtype == bool and values.ndim > 0 else None
    return None


def _masks_as_positions(x, key):
    """key with each boolean mask replaced by the positions of its True entries, one integer vector per
    dim it covers (numpy's x[mask] is x[mask.nonzero()]); a mask whose static shape differs from the
    dims of x it covers is refused here, one of unknown size when run."""
    key = key if isinstance(key, tuple) else (key,)
    masks = [_as_mask(k) for k in key]
    if not any(m is not None for m in masks):
        return key
    covers = [0 if k is None else m.ndim if m is not None else 1 for k, m in zip(key, masks)]
    for i, k in enumerate(key):
        if k is Ellipsis:
            covers[i] = max(x.ndim - sum(covers) + 1, 0)
    expanded, axis = [], 0
    for k, mask, width in zip(key, masks, covers):
        if mask is None:
            expanded.append(k)
        else:
            if axis + width > x.ndim:
                raise BadIndex("too many indices for a %d-d tensor: a %d-d boolean mask at axis %d"
                               % (x.ndim, width, axis))
            for d, (size, mask_size) in enumerate(zip(x.type.shape[axis:], mask.type.shape)):
                if None not in (size, mask_size) and size != mask_size:
                    raise mask_mismatch(axis + d, size, mask_size)
            positions = MaskPositions(axis)(mask, shape(x))
            expanded.extend(subtensor(positions, d) for d in range(width))
        axis += width
    return tuple(expanded)


def expand_spec(spec, ndim):
    """Replace Ellipsis and pad with full slices so there is one entry per indexed dim."""
    full = ("slice", None, None, None)
    if spec.count("...") > 1:
        raise BadIndex("an index can only have a single ellipsis ('...')")
    if "..." in spec:
        i = spec.index("...")
        spec = spec[:i] + (full,) * (ndim - len(spec) + 1) + spec[i + 1:]
    if len(spec) > ndim:
        raise BadIndex("too many indices (%d) for a %d-d tensor" % (len(spec), ndim))
    return spec + (full,) * (ndim - len(spec))


def _check_static_bounds(spec, shape):
    """An integer index outside a dim of known size is refused when the graph is built, as numpy refuses it."""
    for axis, (entry, size) in enumerate(zip(spec, shape)):
        if isinstance(entry, int) and size is not None and not -size <= entry < size:
            raise BadIndex("index %d is out of bounds for axis %d with size %d" % (entry, axis, size))


def build_key(spec, index_values):
    """The concrete key a backend uses: slots replaced by the runtime index values."""
    def fill(v):
        return index_values[v[1] - 1] if isinstance(v, tuple) and v and v[0] == "$" else v
    return tuple(slice(fill(e[1]), fill(e[2]), fill(e[3])) if isinstance(e, tuple) and e[0] == "slice"
                 else fill(e) for e in spec)


def _reverses_only(spec, ndim):
    """Whether x[spec] keeps every entry, only reversing some axes (x[::-1], x[:, ::-1])."""
    return "..." not in spec and len(spec) <= ndim and all(
        isinstance(e, tuple) and e[1] is None and e[2] is None and e[3] in (None, 1, -1) for e in spec)


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
        if _reverses_only(self.spec, x.ndim):
            # x[::-1] (an RNN's go_backwards) is its own inverse: its gradient needs no scatter into
            # zeros, which costs a pass, and as a whole-array scatter-add trips XLA's simplifier.
            return [self(output_grads[0])]
        gx = IncSubtensor(self.spec)(zeros(shape(x), x.dtype), output_grads[0], *indices)
        return [gx] + [None] * len(indices)

    def __str__(self):
        return "Subtensor{%s}" % _spec_str(self.spec)


def as_written_into(x, y, op):
    """y in x's dtype, as it is written into x; an error for op where that changes its kind (floats into
    an integer x)."""
    if common_dtype([x, y]) != x.dtype and not np.can_cast(y.dtype, x.dtype, "same_kind"):
        raise TypeError("%s: cannot write %s values into a %s tensor" % (op, y.dtype, x.dtype))
    return with_dtype(y, x.dtype)


class IncSubtensor(Op):
    """x with y added at x[key] (or written there, when set_instead_of_inc), as a new tensor.
    Repeated advanced indices accumulate, as np.add.at does."""
    __props__ = ("spec", "set_instead_of_inc")

    def __init__(self, spec, set_instead_of_inc=False):
        self.spec = spec
        self.set_instead_of_inc = set_instead_of_inc

    def make_node(self, x, y, *indices):
        x = as_tensor_variable(x)
        y = as_written_into(x, as_tensor_variable(y), self)
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
    key = _masks_as_positions(x, key)
    if isinstance(key, tuple) and any(k is None for k in key) or key is None:
        return _with_new_axes(x, key if isinstance(key, tuple) else (key,))
    spec, extra = _split_key(key)
    spec = expand_spec(spec, x.ndim)
    _check_static_bounds(spec, x.type.shape)
    if all(e == ("slice", None, None, None) for e in spec):
        return x
    return Subtensor(spec)(x, *extra)


def _with_new_axes(x, key):
    """x[key] where key holds None (numpy.newaxis): among ints and slices, x indexed without them,
    then a DimShuffle putting the new dims where numpy does; among integer arrays, see below."""
    covered = x.ndim - sum(k is not None and k is not Ellipsis for k in key)
    entries = [e for k in key for e in ([slice(None)] * covered if k is Ellipsis else [k])]
    if any(not (k is None or isinstance(k, (slice, int, np.integer)) or isinstance(k, Variable) and k.ndim == 0)
           for k in entries):
        return _new_axes_among_arrays(x, entries)
    indexed = subtensor(x, tuple(e for e in entries if e is not None))
    order, kept = [], 0
    for e in entries:
        if e is None:
            order.append("x")
        elif isinstance(e, slice):
            order.append(kept)
            kept += 1
    return DimShuffle(order + list(range(kept, indexed.ndim)))(indexed)


def _new_axes_among_arrays(x, entries):
    """x[entries] with None among integer arrays: each None a length-1 dim of x, then taken whole
    by a slice.  A slice stands where the None stood, so it separates the arrays as the None did,
    and numpy puts the arrays' dims where it would have (first when they are not adjacent)."""
    order, dim = [], 0
    for e in entries:
        if e is None:
            order.append("x")
        else:
            order.append(dim)
            dim += 1
    widened = DimShuffle(order + list(range(dim, x.ndim)))(x)
    return subtensor(widened, tuple(slice(None) if e is None else e for e in entries))


def _inc_or_set(x, key, y, set_):
    x = as_tensor_variable(x)
    key = _masks_as_positions(x, key)
    spec, extra = _split_key(key)
    spec = expand_spec(spec, x.ndim)
    _check_static_bounds(spec, x.type.shape)
    return IncSubtensor(spec, set_)(x, y, *extra)


def _indexing_node(target, caller):
    """The Subtensor node that made target (x[key]), also where x and key were small constants and
    x[key] was folded to a constant while the graph was built."""
    node = target.owner or getattr(target, "tag", {}).get("folded_from")
    if node is None or not isinstance(node.op, Subtensor):
        raise TypeError("%s expects an indexed tensor such as x[1:3], got %s" % (caller, target))
    return node


def inc_subtensor(target, y):
    """Theano's inc_subtensor(x[key], y): x with y added at key."""
    node = _indexing_node(target, "inc_subtensor")
    return IncSubtensor(node.op.spec)(node.inputs[0], y, *node.inputs[1:])


def set_subtensor(target, y):
    """Theano's set_subtensor(x[key], y): x with y written at key."""
    node = _indexing_node(target, "set_subtensor")
    return IncSubtensor(node.op.spec, True)(node.inputs[0], y, *node.inputs[1:])

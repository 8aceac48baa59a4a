"""Local rewrite rules, as small functions in tables (tinygrad's style).

A rule looks at one node and returns replacements for its outputs, or None.
canonicalize: simpler equivalent forms; stabilize: forms that do not overflow;
specialize: cheaper forms of the same math.
"""
import numpy as np

from mlcore.graph import ops
from mlcore.graph.basic import Constant
from mlcore.graph.gradient import GradientBlock, GradientClip
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.linalg import Matmul, gemm
from mlcore.graph.ops.nn import LogSoftmax, Softmax
from mlcore.graph.ops.reduce import Max, Min, Prod, Sum
from mlcore.graph.ops.indexing import IncSubtensor, Subtensor, expand_spec
from mlcore.graph.ops.shape import Alloc, DimShuffle, Shape, _shape_vector, cast_int


def op_of(var, cls):
    """var's op if var is computed by an op of class cls, else None."""
    return var.owner.op if var.owner is not None and type(var.owner.op) is cls else None


def const_value(var):
    """The single value of a constant filled with one number, else None."""
    if isinstance(var, Constant) and var.data.size and np.all(var.data == var.data.flat[0]):
        return var.data.flat[0].item()
    return None


def keep(node, var):
    """[var] as the replacement of node's single output, if it has the same dtype and shape
    (a dim statically 1 must not stand for one that broadcasting made larger)."""
    out = node.outputs[0]
    if var.dtype != out.dtype or var.ndim != out.ndim:
        return None
    for v, o in zip(var.type.shape, out.type.shape):
        if (v == 1 and o != 1) or (v is not None and o is not None and v != o):
            return None
    return [var]


# --- canonicalize --------------------------------------------------------------------------------
def neutral_element(node):
    """x * 1, 1 * x, x + 0, 0 + x, x - 0, x / 1, x ** 1 -> x."""
    op = type(node.op)
    neutral = {ew.Mul: (1, (0, 1)), ew.Add: (0, (0, 1)), ew.Sub: (0, (1,)),
               ew.TrueDiv: (1, (1,)), ew.Pow: (1, (1,))}.get(op)
    if neutral is None:
        return None
    value, positions = neutral
    for pos in positions:
        if const_value(node.inputs[pos]) == value:
            return keep(node, node.inputs[1 - pos])
    return None


def double_negation(node):
    inner = node.inputs[0] if type(node.op) is ew.Neg else None
    if inner is not None and op_of(inner, ew.Neg):
        return [inner.owner.inputs[0]]
    return None


def inverse_pairs(node):
    """exp(log(x)) -> x and log(exp(x)) -> x."""
    pairs = {ew.Exp: ew.Log, ew.Log: ew.Exp}
    inner_cls = pairs.get(type(node.op))
    if inner_cls and op_of(node.inputs[0], inner_cls):
        return keep(node, node.inputs[0].owner.inputs[0])
    return None


def merge_dimshuffles(node):
    """DimShuffle of DimShuffle is one DimShuffle; an identity DimShuffle is dropped."""
    if type(node.op) is not DimShuffle:
        return None
    order, x = node.op.order, node.inputs[0]
    if order == tuple(range(x.ndim)):
        return [x]
    inner = op_of(x, DimShuffle)
    if inner is None:
        return None
    composed = tuple("x" if o == "x" else inner.order[o] for o in order)
    return [DimShuffle(composed)(x.owner.inputs[0])]


def useless_cast(node):
    if type(node.op) is ew.Cast and node.inputs[0].dtype == node.op.dtype:
        return [node.inputs[0]]
    return None


def remove_gradient_blocks(node):
    """zero_grad / disconnected_grad / grad_clip matter only to grad(); compiled graphs drop them."""
    return [node.inputs[0]] if type(node.op) in (GradientBlock, GradientClip) else None


def static_shape_entry(node):
    """x.shape[i] is a constant when dim i of x is statically known."""
    if type(node.op) is not Subtensor or not op_of(node.inputs[0], Shape) or len(node.inputs) > 1:
        return None
    (index,) = node.op.spec
    if not isinstance(index, int):
        return None
    dim = node.inputs[0].owner.inputs[0].type.shape[index]
    return None if dim is None else [ops.constant(np.int64(dim))]


def shape_without_value(node):
    """Shape(x) without computing x, as Theano's shape inference: a constant when x's shape is
    static, else the shape of the input of the elementwise op computing x whose shape x has (the
    others statically 1 in every dim): function([x], (x ** 2).shape) runs no power."""
    if type(node.op) is not Shape:
        return None
    x = node.inputs[0]
    if None not in x.type.shape:
        return [ops.constant(np.array(x.type.shape, dtype="int64"))]
    if x.owner is None or not isinstance(x.owner.op, ew.Elemwise):
        return None
    full = [i for i in x.owner.inputs if any(d != 1 for d in i.type.shape)]
    if len(full) == 1 and full[0].ndim == x.ndim:
        return [Shape()(full[0])]
    return None


def shape_by_infer_shape(node):
    """Shape(x) of an op's output, from the op's infer_shape where it has one (an op written as
    Theano's, an as_op with infer_shape), as Theano's shape feature: the op itself need not run."""
    x = node.inputs[0]
    if type(node.op) is not Shape or x.owner is None or not callable(getattr(x.owner.op, "infer_shape", None)):
        return None          # (checked first: the inputs' shape graphs are built only for such an op)
    from mlcore.compile.ops import inferred_shapes
    from mlcore.graph.ops.extra_ops import dims
    shapes = inferred_shapes(x.owner.op, x.owner, [tuple(dims(i)) for i in x.owner.inputs])
    return [cast_int(_shape_vector(tuple(shapes[x.index])))]


def useless_second(node):
    """second(x, y) is y when y already has the output's shape."""
    if type(node.op) is ew.Second:
        return keep(node, node.inputs[1])
    return None


def increment_of_fill(node):
    """x[key] += second(s, v) -> x[key] += v: the increment broadcasts to x[key] anyway (Theano's
    local_useless_inc_subtensor_alloc); the gradient of a mean over picked entries has one."""
    if type(node.op) is IncSubtensor and op_of(node.inputs[1], ew.Second):
        v = node.inputs[1].owner.inputs[1]
        return keep(node, node.op(node.inputs[0], v, *node.inputs[2:]))
    return None


def static_fill(node):
    """zeros_like(x) / ones_like(x) of a small static shape is a constant: grad's seed
    ones_like(cost) then no longer needs the cost computed."""
    if type(node.op) not in (ew.ZerosLike, ew.OnesLike):
        return None
    out = node.outputs[0]
    if None in out.type.shape or np.prod(out.type.shape) > 64:
        return None
    return [ops.constant(np.full(out.type.shape, int(type(node.op) is ew.OnesLike), dtype=out.dtype))]


def reduce_over_unit_dims(node):
    """A sum, product, max or min over dims that are statically 1 reduces nothing: it is x, or x
    with those dims dropped (Theano's local_reduce_broadcastable).  grad makes these for every
    broadcast bias: Sum{0,1,2}(Sum{0,1,2, keepdims}(dy)), whose outer sum only drops dims."""
    if type(node.op) not in (Sum, Prod, Max, Min):
        return None
    x = node.inputs[0]
    axes = node.op.axes(x.ndim)
    if node.outputs[0].dtype != x.dtype or any(x.type.shape[a] != 1 for a in axes):
        return None
    return [x if node.op.keepdims else DimShuffle(tuple(d for d in range(x.ndim) if d not in axes))(x)]


CANONICALIZE = [neutral_element, double_negation, inverse_pairs, merge_dimshuffles, useless_cast,
                remove_gradient_blocks, static_shape_entry, shape_without_value, shape_by_infer_shape,
                useless_second, increment_of_fill, static_fill, reduce_over_unit_dims]


# --- stabilize -----------------------------------------------------------------------------------
def log_of_softmax(node):
    """log(softmax(x)) -> log_softmax(x), also through indexing (log(softmax(x)[i, t]))."""
    if type(node.op) is not ew.Log:
        return None
    (p,) = node.inputs
    sm = op_of(p, Softmax)
    if sm is not None:
        return [LogSoftmax(sm.axis)(p.owner.inputs[0])]
    sub = op_of(p, Subtensor)
    if sub is not None and op_of(p.owner.inputs[0], Softmax):
        inner = p.owner.inputs[0].owner
        return [sub(LogSoftmax(inner.op.axis)(inner.inputs[0]), *p.owner.inputs[1:])]
    return None


def _single_axis_keepdims(var, cls):
    """(x, axis) when var is cls(axis, keepdims=True)(x) over one axis, else None."""
    op = op_of(var, cls)
    if op is not None and op.keepdims and op.axis is not None and len(op.axis) == 1:
        return var.owner.inputs[0], op.axis[0]
    return None


def written_log_softmax(node):
    """s - log(sum(exp(s), axis, keepdims)) -> log_softmax(s), and with s = x - max(x, axis,
    keepdims) -> log_softmax(x): the log-softmax written out, as hand-written programs have it.
    One node then, and grad (which stabilizes the cost first) uses its short pullback
    g - exp(out) * sum(g) instead of differentiating five nodes and the max."""
    if type(node.op) is not ew.Sub or not op_of(node.inputs[1], ew.Log):
        return None
    s = node.inputs[0]
    summed = _single_axis_keepdims(node.inputs[1].owner.inputs[0], Sum)
    if summed is None or not op_of(summed[0], ew.Exp) or summed[0].owner.inputs[0] is not s:
        return None
    axis = summed[1]
    x = s
    if op_of(s, ew.Sub):   # s = z - max(z) over the same axis: log_softmax(z), which shifts itself
        z, peak = s.owner.inputs
        peak_of = _single_axis_keepdims(peak, Max)
        if peak_of is not None and peak_of[0] is z and peak_of[1] == axis:
            x = z
    return keep(node, LogSoftmax(axis)(x))


def _one_minus(var):
    """x when var is 1 - x, else None."""
    if op_of(var, ew.Sub) and const_value(var.owner.inputs[0]) == 1:
        return var.owner.inputs[1]
    return None


def _negated(var):
    """y such that var == -y, seen through -y, (-a) - b and constants; else None."""
    if op_of(var, ew.Neg):
        return var.owner.inputs[0]
    if op_of(var, ew.Sub) and op_of(var.owner.inputs[0], ew.Neg):
        return var.owner.inputs[0].owner.inputs[0] + var.owner.inputs[1]
    if isinstance(var, Constant):
        return ops.constant(-var.data)
    return None


def _as_sigmoid_argument(var):
    """x when var computes sigmoid(x), written directly or as 1 / (1 + exp(-x))."""
    if op_of(var, ew.Sigmoid):
        return var.owner.inputs[0]
    if op_of(var, ew.TrueDiv) and const_value(var.owner.inputs[0]) == 1:
        den = var.owner.inputs[1]
        if op_of(den, ew.Add):
            a, b = den.owner.inputs
            e = b if const_value(a) == 1 else a if const_value(b) == 1 else None
            if e is not None and op_of(e, ew.Exp):
                return _negated(e.owner.inputs[0])
    return None


def logistic_form(node):
    """1 / (1 + exp(-x)) -> sigmoid(x), so the log rules below can see it."""
    x = _as_sigmoid_argument(node.outputs[0]) if type(node.op) is ew.TrueDiv else None
    return keep(node, ew.sigmoid(x)) if x is not None else None


def log_of_sigmoid(node):
    """log(sigmoid(x)) -> -softplus(-x); log(1 - sigmoid(x)) -> -softplus(x)."""
    if type(node.op) is not ew.Log:
        return None
    (p,) = node.inputs
    x = _as_sigmoid_argument(p)
    if x is not None:
        return keep(node, -ew.softplus(-x))
    q = _one_minus(p)
    x = _as_sigmoid_argument(q) if q is not None else None
    if x is not None:
        return keep(node, -ew.softplus(x))
    return None


def log_one_plus(node):
    """log(1 + x) -> log1p(x)."""
    if type(node.op) is ew.Log and op_of(node.inputs[0], ew.Add):
        a, b = node.inputs[0].owner.inputs
        if const_value(a) == 1:
            return keep(node, ew.log1p(b))
        if const_value(b) == 1:
            return keep(node, ew.log1p(a))
    return None


def log1p_of_exp(node):
    """log1p(exp(x)) -> softplus(x), which does not overflow (log(1 + exp(x)) is log1p's by now)."""
    if type(node.op) is ew.Log1p and op_of(node.inputs[0], ew.Exp):
        return keep(node, ew.softplus(node.inputs[0].owner.inputs[0]))
    return None


def exp_minus_one(node):
    """exp(x) - 1 -> expm1(x)."""
    if type(node.op) is ew.Sub and const_value(node.inputs[1]) == 1 and op_of(node.inputs[0], ew.Exp):
        return keep(node, ew.expm1(node.inputs[0].owner.inputs[0]))
    return None


STABILIZE = [logistic_form, log_of_softmax, written_log_softmax, log_of_sigmoid, log_one_plus, log1p_of_exp,
             exp_minus_one]


# --- specialize ----------------------------------------------------------------------------------
def power_by_squaring(x, n):
    """x ** n for a positive int n with about log2(n) multiplications (b**10: 4 instead of a pow)."""
    result, square = None, x
    while n:
        if n & 1:
            result = square if result is None else result * square
        n >>= 1
        if n:
            square = ew.sqr(square)
    return result


def small_integer_power(node):
    """x ** k for constant k in {-1, 0.5, 2..64}: multiplications, sqrt or reciprocal instead of pow."""
    if type(node.op) is not ew.Pow:
        return None
    x, k = node.inputs[0], const_value(node.inputs[1])
    if isinstance(k, complex):      # z ** 2 on complex z meets the exponent as 2 + 0j
        k = k.real if k.imag == 0 else None
    if k is None:
        return None
    if k == 0.5:
        return keep(node, ew.sqrt(x))
    if k == -1 and np.dtype(x.dtype).kind == "f":
        return keep(node, 1 / x)
    if float(k).is_integer() and 2 <= k <= 64:
        return keep(node, power_by_squaring(x, int(k)))
    return None


def mul_self(node):
    """x * x -> sqr(x)."""
    if type(node.op) is ew.Mul and node.inputs[0] is node.inputs[1]:
        return [ew.sqr(node.inputs[0])]
    return None


def _scalar_factor(var, dtype):
    """var as a 0-d tensor of dtype if it holds one number (a constant, or a 0-d value broadcast
    by DimShuffle), else None."""
    value = const_value(var)
    if value is not None and var.data.size == 1:
        return ops.constant(np.asarray(value, dtype))
    shuffle = op_of(var, DimShuffle)
    if shuffle is not None and all(o == "x" for o in shuffle.order) and var.owner.inputs[0].dtype == dtype:
        return var.owner.inputs[0]
    return None


def _scaled_product(var, dtype):
    """(k, a, b) where var is k * (a @ b) or (a @ b) * k for matrices a, b and a scalar k (k = 1 for
    a @ b alone), else None."""
    if op_of(var, Matmul) and all(i.ndim == 2 for i in var.owner.inputs):
        return (ops.constant(np.asarray(1, dtype)),) + tuple(var.owner.inputs)
    if op_of(var, ew.Mul):
        for k, product in (var.owner.inputs, var.owner.inputs[::-1]):
            scale = _scalar_factor(k, dtype)
            if scale is not None and op_of(product, Matmul) and all(i.ndim == 2 for i in product.owner.inputs):
                return (scale,) + tuple(product.owner.inputs)
    return None


def gemm_of_update(node):
    """c - k * (a @ b) and c + k * (a @ b) -> gemm(c, -+k, a, b, 1): an SGD update of a weight
    (w - lr * x.T @ g), which BLAS then computes in one pass over w (Theano's local_gemm)."""
    if type(node.op) not in (ew.Add, ew.Sub) or node.outputs[0].ndim != 2:
        return None
    out = node.outputs[0]
    dtype = out.dtype
    if np.dtype(dtype).kind != "f":     # bfloat16 (ml_dtypes's kind "V"): no gemm kernel takes it
        return None

    def unbroadcast(var):   # BLAS adds whole matrices: neither c nor the product may broadcast
        return var.ndim == 2 and var.dtype == dtype and all((v == 1) == (o == 1) for v, o in zip(var.type.shape,
                                                                                                  out.type.shape))
    sides = [node.inputs] if type(node.op) is ew.Sub else [node.inputs, node.inputs[::-1]]
    for c, other in sides:
        found = _scaled_product(other, dtype) if unbroadcast(c) and unbroadcast(other) else None
        if found is not None:
            k, a, b = found
            alpha = -k if type(node.op) is ew.Sub else k
            return keep(node, gemm(c, alpha, a, b, ops.constant(np.asarray(1, dtype))))
    return None


def _summands(var):
    """The terms of a sum of binary adds, var itself when it is no add."""
    if op_of(var, ew.Add):
        return [t for i in var.owner.inputs for t in _summands(i)]
    return [var]


def _increment_of_zeros(var):
    """(axis, start, stop, increment) when var is zeros whose entries start:stop of one axis are
    increased by increment, of that slice's own shape (the gradient of x[:, start:stop]); else None."""
    op = op_of(var, IncSubtensor)
    if op is None or op.set_instead_of_inc or len(var.owner.inputs) != 2:
        return None
    zeros, increment = var.owner.inputs
    if not op_of(zeros, Alloc) or const_value(zeros.owner.inputs[0]) != 0 or increment.dtype != var.dtype:
        return None
    cut = [(axis, e) for axis, e in enumerate(expand_spec(op.spec, var.ndim)) if e != ("slice", None, None, None)]
    if len(cut) != 1 or not isinstance(cut[0][1], tuple) or cut[0][1][3] not in (None, 1):
        return None
    axis, (_, start, stop, _) = cut[0]
    size = var.type.shape[axis]
    if size is None or any(not isinstance(v, (int, type(None))) for v in (start, stop)):
        return None
    start, stop, _ = slice(start, stop).indices(size)
    piece = var.type.shape[:axis] + (stop - start,) + var.type.shape[axis + 1:]
    if increment.type.shape != piece:    # a broadcast increment: its shape is not the slice's
        return None
    return axis, start, stop, increment


def slice_gradients_as_concatenate(node):
    """zeros[a:b] += ga, plus zeros[b:c] += gb, ... over slices tiling one axis -> concatenate of
    ga, gb, ...: the gradient of an LSTM's or GRU's gates, sliced from one projection, in one pass
    (the sum of increments pads every gate's gradient to the full width and adds them up)."""
    if type(node.op) is not ew.Add:
        return None
    pieces = [_increment_of_zeros(t) for t in _summands(node.outputs[0])]
    if None in pieces or len({axis for axis, _, _, _ in pieces}) != 1:
        return None
    pieces.sort(key=lambda p: p[1])
    axis = pieces[0][0]
    bounds = [0] + [stop for _, _, stop, _ in pieces]
    if [start for _, start, _, _ in pieces] != bounds[:-1] or bounds[-1] != node.outputs[0].type.shape[axis]:
        return None
    return keep(node, ops.concatenate([increment for _, _, _, increment in pieces], axis))


SPECIALIZE = [small_integer_power, mul_self, gemm_of_update, slice_gradients_as_concatenate]

"""Kernels written once against the numpy API, shared by the numpy, jax and theano backends.

Each function takes the array module `xp` (numpy, jax.numpy or pytensor.tensor), so
the backends differ only where their libraries truly differ (in-place updates,
random numbers, convolution primitives, blocked evaluation).
"""
import math

import numpy as np

from mlcore.graph.gradient import GradientBlock, GradientClip
from mlcore.graph.ops.barrier import OptimizationBarrier
from mlcore.graph.ops import indexing
from mlcore.graph.ops import along_axis, elemwise as ew, extra_ops, nlinalg
from mlcore.graph.ops import nn as nn_ops, reduce, shape
from mlcore.graph.ops.nn import dilated, resolve_padding
from mlcore.graph.ops.indexing import build_key

ELEMWISE_NAMES = {  # op name -> name of the same function in numpy and jax.numpy
    "neg": "negative", "abs": "abs", "sign": "sign", "floor": "floor", "ceil": "ceil", "round": "round",
    "sqr": "square", "exp": "exp", "log": "log", "log1p": "log1p", "expm1": "expm1", "sqrt": "sqrt",
    "tanh": "tanh", "sin": "sin", "cos": "cos", "zeroslike": "zeros_like", "oneslike": "ones_like",
    "add": "add", "sub": "subtract", "mul": "multiply", "truediv": "divide", "intdiv": "floor_divide",
    "mod": "mod", "pow": "power", "maximum": "maximum", "minimum": "minimum", "eq": "equal",
    "neq": "not_equal", "lt": "less", "le": "less_equal", "gt": "greater", "ge": "greater_equal",
    "and": "logical_and", "or": "logical_or", "switch": "where",
    "tan": "tan", "arcsin": "arcsin", "arccos": "arccos", "arctan": "arctan", "arctan2": "arctan2",
    "sinh": "sinh", "cosh": "cosh", "arcsinh": "arcsinh", "arccosh": "arccosh", "arctanh": "arctanh",
    "log2": "log2", "log10": "log10", "exp2": "exp2", "reciprocal": "reciprocal", "deg2rad": "deg2rad",
    "rad2deg": "rad2deg", "isnan": "isnan", "isinf": "isinf", "xor": "bitwise_xor", "invert": "invert",
    "trunc": "trunc", "bitand": "bitwise_and", "bitor": "bitwise_or", "leftshift": "left_shift",
    "rightshift": "right_shift", "real": "real", "imag": "imag", "conj": "conj",
}
SQRT_HALF = math.sqrt(0.5)
SPECIAL_FUNCTION_NAMES = {  # op name -> its name in scipy.special, jax.scipy.special and pytensor.tensor
    "erf": "erf", "erfc": "erfc", "erfinv": "erfinv", "gammaln": "gammaln", "psi": "digamma",
    "erfcx": "erfcx", "gamma": "gamma", "i0": "i0", "i1": "i1",
}
BESSEL_FUNCTIONS = ("j0", "j1", "jv", "iv")   # in scipy.special and pytensor.tensor; not in jax.scipy.special


def elemwise_kernel(xp, op, special):
    """The function computing elementwise `op`; `special` holds the backend's own ones."""
    if isinstance(op, ew.Cast):
        return lambda x: x.astype(op.dtype)
    if op.name in special:
        return special[op.name]
    return getattr(xp, ELEMWISE_NAMES[op.name])


def special_functions(module):
    """The error and gamma functions of `module` (scipy.special, jax.scipy.special, pytensor.tensor)
    by op name, for a backend's table of its own kernels."""
    table = {name: getattr(module, function) for name, function in SPECIAL_FUNCTION_NAMES.items()}
    table["trigamma"] = lambda x: module.polygamma(1, x).astype(x.dtype)   # scipy's is float64 for float32
    table["polygamma"] = lambda n, x: module.polygamma(n, x).astype(x.dtype)
    table["chi2sf"] = lambda x, k: module.gammaincc(k / 2, x / 2)     # Q(k/2, x/2), in all three modules
    # jax.scipy.special has no erfcinv: erfc(z) = 2 ndtr(-z sqrt(2)) inverted, exact where erfinv(1 - x) rounds
    table["erfcinv"] = getattr(module, "erfcinv", None) or (lambda x: module.ndtri(x / 2) * -SQRT_HALF)
    table.update({name: getattr(module, name) for name in BESSEL_FUNCTIONS if hasattr(module, name)})
    return table


def broadcast_checked(kernel, node):
    """kernel, checking first that no input broadcasts along a dim its type does not declare 1:
    Theano's elementwise rule (PyTensor enforces it too), which keeps gradients the inputs' shapes.
    Only dims that the static shapes leave open are checked, so most nodes need no check."""
    types = [i.type.shape for i in node.inputs]
    dims = [d for d in range(node.outputs[0].ndim)
            if sum(s[d] != 1 for s in types) > 1 and any(s[d] is None for s in types)]
    if not dims:
        return kernel

    def run(*arrays):
        for d in dims:
            if len({a.shape[d] for a, s in zip(arrays, types) if s[d] != 1}) > 1:
                raise ValueError("%s: inputs of shapes %s would broadcast along dim %d, which their types "
                                 "%s do not declare as 1; give the broadcasting input a static 1 there "
                                 "(shape=(1, ...), T.row, dimshuffle('x', ...))"
                                 % (node.op, ", ".join(str(a.shape) for a in arrays), d,
                                    ", ".join(str(i.type) for i in node.inputs)))
        return kernel(*arrays)
    return run


MAX_DRAWS = 2 ** 31 - 1      # numbers one random draw may make (Theano's MRG limit): a larger size is a typo


def check_draw_shape(op, size, params):
    """The size of a random draw and its parameters' shapes checked before drawing, as Theano's
    raw_random checked them: the parameters must broadcast to the size (numpy's rule; jax would fail
    obscurely or broadcast otherwise), and the size must stay under MAX_DRAWS."""
    shapes = [tuple(np.shape(p)) for p in params]
    try:
        fits = np.broadcast_shapes(tuple(size), *shapes) == tuple(size)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError("random %s: parameters of shapes %s do not broadcast to the size %s"
                         % (op.dist, ", ".join(map(str, shapes)), tuple(size)))
    if math.prod(size) > MAX_DRAWS or min(size, default=0) < 0:
        raise ValueError("random %s: cannot draw an array of size %s (at most %d numbers at once)"
                         % (op.dist, tuple(size), MAX_DRAWS))


def check_gemm_shapes(c, a, b):
    """Gemm adds whole matrices: where the sum it replaced would have refused to broadcast, so does it."""
    if a.shape[1] != b.shape[0] or c.shape != (a.shape[0], b.shape[1]):
        raise ValueError("Gemm: c of shape %s, a of shape %s and b of shape %s do not make c + a @ b without "
                         "broadcasting" % (c.shape, a.shape, b.shape))


def second(xp):
    """y broadcast to the shape of x and y together (fill): mostly y already has it, or x's."""
    def fill(x, y):
        if x.shape == y.shape:
            return y
        shape = x.shape if y.ndim <= x.ndim and all(
            b in (1, a) for a, b in zip(x.shape[x.ndim - y.ndim:], y.shape)) else xp.broadcast_shapes(x.shape, y.shape)
        return xp.broadcast_to(y, shape)
    return fill


def run_program(op, kernels, inputs):
    """Evaluate a Composite's program on whole arrays (used where no blocking is needed)."""
    values = list(inputs)
    for (_, args), fn in zip(op.program, kernels):
        values.append(fn(*(values[a] for a in args)))
    return values[op.outputs[0]]


def composite_kernel(op, elemwise):
    """A Composite as one function of whole arrays, for backends whose compiler fuses it again."""
    kernels = [elemwise(step) for step, _ in op.program]
    return lambda *xs: run_program(op, kernels, xs)


def dimshuffle_kernel(order, ndim):
    """DimShuffle as one transpose and one index, both worked out here rather than per call (in
    the numpy interpreter a small array's squeeze/transpose/expand_dims cost 8 us, this 0.5 us).
    The transpose puts the kept axes in their new order and the dropped (broadcastable, length 1)
    ones last; the index then takes element 0 of each dropped axis and inserts None for each "x"."""
    kept = [o for o in order if o != "x"]
    dropped = [d for d in range(ndim) if d not in kept]
    permutation = tuple(kept + dropped)
    key = tuple(None if o == "x" else slice(None) for o in order) + (0,) * len(dropped)
    moves = permutation != tuple(range(ndim))
    indexes = bool(dropped) or "x" in order

    def shuffle(x):
        if moves:
            x = x.transpose(permutation)
        return x[key] if indexes else x
    return shuffle


def index_key(spec, index_values):
    """A concrete indexing key; slice bounds must be Python ints."""
    def as_int(v):
        return v if v is None else int(v)
    key = build_key(spec, index_values)
    return tuple(slice(as_int(k.start), as_int(k.stop), as_int(k.step)) if isinstance(k, slice) else k
                 for k in key)


# The arrays' own max and sum methods: numpy's np.max and np.sum functions add ~2 us of dispatch
# each, which on a batch-1 loss is most of the time.
def softmax(xp, x, axis):
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(xp, x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


REDUCTIONS = {reduce.Sum: "sum", reduce.Prod: "prod", reduce.Max: "max", reduce.Min: "min",
              reduce.Argmax: "argmax", reduce.Argmin: "argmin"}  # op class -> its name in numpy's API


def reduce_kernel(xp, op, name):
    """xp's reduction `name` over op's axes (the numpy backend has its own: backends/numpy/reductions.py)."""
    fn = getattr(xp, name)
    if name in ("argmax", "argmin"):
        (axis,) = op.axis
        return lambda x: fn(x, axis=axis, keepdims=op.keepdims)
    return lambda x: fn(x, axis=op.axis, keepdims=op.keepdims)


def cumulative_kernel(xp, op, dtype):
    """cumsum or cumprod accumulating in the output's dtype (PyTensor's would sum bools as bools)."""
    running = xp.cumsum if op.mode == "add" else xp.cumprod
    return lambda x: running(x if x.dtype == dtype else x.astype(dtype), axis=op.axis)


def nonzero(a):
    """Nonzero's kernel, on values: the number of columns is the data's."""
    return np.stack(np.nonzero(np.asarray(a))).astype("int64")


def mask_positions(op):
    """MaskPositions' kernel, on values: numpy's error where the mask's shape is not that of the dims it indexes."""
    def run(mask, x_shape):
        covered = x_shape[op.first_axis:op.first_axis + np.ndim(mask)]
        for d, (size, mask_size) in enumerate(zip(covered, np.shape(mask))):
            if size != mask_size:
                raise indexing.mask_mismatch(op.first_axis + d, size, mask_size)
        return nonzero(mask)
    return run


def unique(op):
    """Unique's kernel, on values: numpy.unique, its inverse flattened (numpy 2 shapes it as x)."""
    def run(x):
        results = np.unique(np.asarray(x), op.return_index, op.return_inverse, op.return_counts, op.axis)
        if not isinstance(results, tuple):
            return results
        values, *positions = results
        return [values] + [p.reshape(-1).astype("int64") for p in positions]
    return run


def lstsq(a, b, rcond):
    """Lstsq's kernel, on values: numpy.linalg.lstsq; the residuals' length is the data's."""
    x, residuals, rank, singular_values = np.linalg.lstsq(np.asarray(a), np.asarray(b), rcond=float(rcond))
    return [x, residuals, np.asarray(rank, "int64"), singular_values]


# The ops whose output lengths follow the input values, by their kernels on values: the jax
# backend runs them on its static (concrete) inputs, the theano backend through numpy.
VALUE_SHAPED = {extra_ops.Nonzero: lambda op: nonzero, indexing.MaskPositions: mask_positions,
                extra_ops.Unique: unique, nlinalg.Lstsq: lambda op: lstsq}
VALUE_SHAPED_COUNTS = {extra_ops.Nonzero: "nonzero: the number of nonzero entries",   # for errors
                       indexing.MaskPositions: "x[mask]: the number of True entries of the mask",
                       extra_ops.Unique: "unique: the number of distinct values",
                       nlinalg.Lstsq: "lstsq: the number of residuals"}


def passed_through(*values):
    """The values as they are (one alone, several as a tuple): a kernel for the identity on several."""
    return values if len(values) > 1 else values[0]


def register_common(lower, xp, elemwise):
    """Register the kernels that read the same in every backend's array module `xp` (numpy,
    jax.numpy, pytensor.tensor); `elemwise(op)` is the backend's own elementwise kernel.
    A backend registering one of these Ops again afterwards replaces the shared kernel."""
    lower.register(ew.Elemwise)(lambda op, node: elemwise(op))
    lower.register(GradientBlock, GradientClip, shape.Unbroadcast)(lambda op, node: lambda x: x)
    lower.register(OptimizationBarrier)(lambda op, node: passed_through)    # jax's kernel is its barrier
    lower.register(shape.Concatenate)(lambda op, node: lambda *xs: xp.concatenate(xs, axis=op.axis))
    lower.register(*REDUCTIONS)(lambda op, node: reduce_kernel(xp, op, REDUCTIONS[type(op)]))
    lower.register(nn_ops.Softmax)(lambda op, node: lambda x: softmax(xp, x, op.axis))
    lower.register(nn_ops.LogSoftmax)(lambda op, node: lambda x: log_softmax(xp, x, op.axis))
    lower.register(along_axis.CumOp)(lambda op, node: cumulative_kernel(xp, op, node.outputs[0].dtype))
    lower.register(along_axis.Sort)(lambda op, node: lambda x: xp.sort(x, axis=op.axis))
    lower.register(along_axis.Argsort)(lambda op, node: lambda x: xp.argsort(x, axis=op.axis, stable=True))
    lower.register(along_axis.SearchSorted)(
        lambda op, node: lambda x, v: xp.searchsorted(x, v, side=op.side).astype("int64"))   # jax's are int32


def register_array_ops(lower, xp):
    """Register the shape kernels of backends that run on concrete arrays (numpy, jax); theano's
    kernels build PyTensor graphs and use its own DimShuffle, indexing and padding."""
    lower.register(shape.DimShuffle)(lambda op, node: dimshuffle_kernel(op.order, node.inputs[0].ndim))
    lower.register(indexing.Subtensor)(lambda op, node: lambda x, *idx: x[index_key(op.spec, idx)])
    lower.register(shape.Pad)(lambda op, node: lambda x: xp.pad(x, op.pad_width, constant_values=op.value))
    lower.register(shape.SpecifyShape)(lambda op, node: op.check)     # jax traces with the shapes known


# --- convolution gradients as convolutions (the recipe JAX's conv_general_dilated uses) ----------
def conv_padding(op, x_shape, w_shape):
    return resolve_padding(op.padding, [dilated(n, d) for n, d in zip(x_shape[1:3], op.lhs_dilation)],
                           w_shape[:2], op.strides, op.rhs_dilation)


def conv_forward(conv, op, x, w):
    return conv(x, w, op.strides, conv_padding(op, x.shape, w.shape), op.lhs_dilation, op.rhs_dilation,
                groups=op.groups)


def conv_grad_sizes(op, x, w, g):
    """Per spatial dim (pad_before, input, kernel, output): the forward padding before the data and
    the three sizes once dilated, from which both gradients compute their padding."""
    pads = conv_padding(op, x.shape, w.shape)
    return [(pads[i][0], dilated(x.shape[1 + i], op.lhs_dilation[i]), dilated(w.shape[i], op.rhs_dilation[i]),
             dilated(g.shape[1 + i], op.strides[i])) for i in range(2)]


# The gradients are convolutions of the same arrays read in other layouts (jax's transposition rules
# for conv_general_dilated): each string names the axes of an array as it is stored (N batch, C
# channels; a kernel's I and O), so no array is transposed in the graph.  XLA takes the layouts
# themselves and lets cuDNN choose its own; numpy transposes around its NHWC kernel (transposing).
FORWARD_LAYOUTS = ("NHWC", "HWIO", "NHWC")
INPUT_GRAD_LAYOUTS = ("NHWC", "HWOI", "NHWC")    # g as the image, the flipped w with in and out swapped
FILTER_GRAD_LAYOUTS = ("CHWN", "IHWO", "HWNC")   # x's batch as its channels, g as the kernel; dw in HWIO


def permutation(source, target):
    """The transpose that turns an array whose axes are named by `source` into one named by `target`."""
    return tuple(source.index(axis) for axis in target)


def transposing(conv):
    """conv (NHWC data, HWIO kernels) as a convolution taking arrays in any layouts: transposes around it."""
    def conv_in_layouts(x, w, strides, padding, lhs_dilation, rhs_dilation, layouts=FORWARD_LAYOUTS, groups=1):
        data, kernel, out = layouts
        y = conv(x.transpose(permutation(data, "NHWC")), w.transpose(permutation(kernel, "HWIO")),
                 strides, padding, lhs_dilation, rhs_dilation, groups=groups)
        return y.transpose(permutation("NHWC", out))
    return conv_in_layouts


def groups_into_inputs(w, groups):
    """A (KH, KW, C // groups, O) grouped kernel as (KH, KW, C, O // groups): each group's filters
    moved from the output axis into the input axis, group-major, so that read with in and out
    swapped (INPUT_GRAD_LAYOUTS) it is the kernel of the input gradient, again in `groups` groups."""
    if groups == 1:
        return w
    kh, kw, group_channels, filters = w.shape
    w = w.reshape(kh, kw, group_channels, groups, filters // groups).transpose(0, 1, 3, 2, 4)
    return w.reshape(kh, kw, groups * group_channels, filters // groups)


def conv_grad_input(conv_in_layouts, op, x, w, g):
    """dx: convolve g (dilated by the strides) with the flipped, in/out-swapped kernel (group by group)."""
    pad = []
    for lo, in_d, k_d, out_d in conv_grad_sizes(op, x, w, g):
        before = k_d - lo - 1
        pad.append((before, in_d + k_d - 1 - out_d - before))
    kernel = groups_into_inputs(w[::-1, ::-1], op.groups)
    return conv_in_layouts(g, kernel, op.lhs_dilation, tuple(pad), op.strides, op.rhs_dilation,
                           layouts=INPUT_GRAD_LAYOUTS, groups=op.groups)


def conv_grad_filter(conv_in_layouts, op, x, w, g):
    """dw: convolve x (batch and channels swapped) with g as the kernel, strides as dilation."""
    pad = tuple((lo, out_d - in_d + k_d - lo - 1) for lo, in_d, k_d, out_d in conv_grad_sizes(op, x, w, g))
    return conv_in_layouts(x, g, op.rhs_dilation, pad, op.lhs_dilation, op.strides, layouts=FILTER_GRAD_LAYOUTS)


def pool_padding(op, x_shape):
    return resolve_padding(op.padding, x_shape[1:3], op.ws, op.strides)


def grouped_conv_grad_filter(nn, op, x, w, g):
    """dw of a grouped convolution, by the backend's own kernel (see its nn.grouped_conv2d_grad_filter)."""
    return nn.grouped_conv2d_grad_filter(x, w.shape, g, op.strides, conv_padding(op, x.shape, w.shape),
                                         op.lhs_dilation, op.rhs_dilation, op.groups)


def register_windowed_ops(lower, nn, conv_in_layouts):
    """Convolution, its two gradients, pooling and its gradient, for a backend whose `nn`
    module has the kernels of backends/numpy/nn.py (conv2d, grouped_conv2d_grad_filter, pool2d,
    pool2d_grad) and whose conv_in_layouts convolves arrays in the layouts above, in groups."""
    lower.register(nn_ops.Conv2D)(lambda op, node: lambda x, w: conv_forward(nn.conv2d, op, x, w))
    lower.register(nn_ops.Conv2DGradInput)(
        lambda op, node: lambda x, w, g: conv_grad_input(conv_in_layouts, op, x, w, g))

    @lower.register(nn_ops.Conv2DGradFilter)
    def _(op, node):
        if op.groups > 1:
            return lambda x, w, g: grouped_conv_grad_filter(nn, op, x, w, g)
        return lambda x, w, g: conv_grad_filter(conv_in_layouts, op, x, w, g)
    lower.register(nn_ops.Pool2D)(lambda op, node: lambda x: nn.pool2d(
        x, op.ws, op.strides, pool_padding(op, x.shape), op.mode, op.count_include_pad))
    lower.register(nn_ops.Pool2DGrad)(lambda op, node: lambda x, y, g: nn.pool2d_grad(
        x, y, g, op.ws, op.strides, pool_padding(op, x.shape), op.mode, op.count_include_pad))

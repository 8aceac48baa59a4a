"""The table of op cases shared by test_ops_forward, test_gradients and test_conformance.

A case is a small graph exercising one op, a plain numpy expression computing the same
thing, and how to draw its inputs.  Input shapes are patterns such as "ab" or "1b": a
letter is a random size (the same letter, the same size), "1" a dim of size 1, which is
also statically 1 in the input's type, so it broadcasts as in Theano.
"""
import itertools
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
import scipy.special
from scipy import signal

import mlcore.tensor as T
from mlcore.graph import ops
from mlcore.graph.ops import fourier
from mlcore.graph.basic import TensorType, Variable
from mlcore.graph.gradient import disconnected_grad, grad_clip, zero_grad
from mlcore.graph.ops.barrier import optimization_barrier
from mlcore.graph.ops.scatter import scatter_reduce
from mlcore.graph.ops import elemwise_math as em, slinalg as graph_slinalg
from mlcore.graph.ops.scan import apply_while
from mlcore.graph.scan import scan
from mlcore.ifelse import ifelse

FLOAT_KINDS = ("normal", "positive", "unit", "prob", "away", "frac")


@dataclass
class Case:
    name: str
    build: object                 # symbolic inputs -> output variable
    ref: object                   # numpy arrays -> expected output
    inputs: tuple                 # (kind, pattern) per input; kinds: FLOAT_KINDS, "int", "bool", "labelsN"
    grad: bool = True             # whether the pullback is checked (float inputs, float output)
    rtol32: float = 1e-6          # float32 tolerance of a backend against the float64 reference
    static: bool = False          # inputs' types carry their full shapes
    patterns: tuple = field(default=())   # more shape patterns for the same case (broadcasting)

    def __repr__(self):
        return self.name


def draw(rng, kind, shape, dtype="float64"):
    """An input of the given kind: values kept away from each op's kinks and poles."""
    return np.asarray(_draw(rng, kind, shape, dtype))


def _draw(rng, kind, shape, dtype):
    if kind == "normal":
        return rng.normal(size=shape).astype(dtype)
    if kind == "positive":
        return rng.uniform(0.5, 2.0, size=shape).astype(dtype)
    if kind == "unit":
        return rng.uniform(-0.8, 0.8, size=shape).astype(dtype)
    if kind == "prob":
        return rng.uniform(0.05, 0.95, size=shape).astype(dtype)
    if kind == "away":       # |x| >= 0.2, for abs, relu, sign, max
        return (rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.2, 2.0, size=shape)).astype(dtype)
    if kind == "frac":       # away from integers, for floor, ceil, round, mod
        return (rng.integers(-3, 3, size=shape) + rng.uniform(0.1, 0.4, size=shape)).astype(dtype)
    if kind == "int":
        return rng.integers(1, 6, size=shape).astype("int64")
    if kind == "bool":
        return rng.random(size=shape) < 0.5
    if kind.startswith("labels"):
        return rng.integers(0, int(kind[6:]), size=shape).astype("int64")
    raise ValueError(kind)


def concrete_shapes(rng, patterns):
    sizes = {}
    return [tuple(1 if c == "1" else int(c) if c.isdigit() else sizes.setdefault(c, int(rng.integers(2, 5)))
                  for c in p) for p in patterns]


def symbolic_inputs(case, shapes, dtype):
    out = []
    for (kind, _), shp in zip(case.inputs, shapes):
        dt = dtype if kind in FLOAT_KINDS else ("bool" if kind == "bool" else "int64")
        static = shp if case.static else tuple(1 if s == 1 else None for s in shp)
        out.append(T.tensor(dt, shape=static))
    return out


def make_inputs(case, rng, dtype="float64", patterns=None):
    """(symbolic inputs, numpy values) for one draw of the case."""
    shapes = concrete_shapes(rng, patterns or [p for _, p in case.inputs])
    values = [draw(rng, kind, s, dtype) for (kind, _), s in zip(case.inputs, shapes)]
    return symbolic_inputs(case, shapes, dtype), values


def float_positions(case):
    return [k for k, (kind, _) in enumerate(case.inputs) if kind in FLOAT_KINDS]


# --- references for the nn ops ---------------------------------------------------------------
def softmax_ref(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def conv_nhwc_ref(x, w, strides=(1, 1), padding="valid", dilation=(1, 1), groups=1):
    """Cross-correlation with scipy.signal.correlate2d, one (image, in, out) triple at a time; with
    groups, output o sums over the cin input channels of its group, o // (cout // groups)."""
    kh, kw, cin, cout = w.shape
    first = [o // (cout // groups) * cin for o in range(cout)]     # output o's first input channel
    wd = np.zeros(((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1, cin, cout), w.dtype)
    wd[::dilation[0], ::dilation[1]] = w
    if padding == "same":
        pads = []
        for n, k, s in zip(x.shape[1:3], wd.shape[:2], strides):
            total = max((-(-n // s) - 1) * s + k - n, 0)
            pads.append((total // 2, total - total // 2))
        x = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    out = np.stack([np.stack([sum(signal.correlate2d(x[n, :, :, first[o] + c], wd[:, :, c, o], mode="valid")
                                  for c in range(cin)) for o in range(cout)], -1) for n in range(x.shape[0])])
    return out[:, ::strides[0], ::strides[1]]


def conv_theano_ref(x, w, border_mode="valid", subsample=(1, 1)):
    """Theano's conv2d (a true convolution, NCHW) with scipy.signal.convolve2d."""
    if border_mode == "half":
        ph, pw = w.shape[2] // 2, w.shape[3] // 2
        x, border_mode = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))), "valid"
    out = np.array([[sum(signal.convolve2d(x[n, c], w[o, c], mode=border_mode) for c in range(x.shape[1]))
                     for o in range(w.shape[0])] for n in range(x.shape[0])])
    return out[:, :, ::subsample[0], ::subsample[1]]


def pool_ref(x, ws, ignore_border=True, stride=None, pad=None, mode="max"):
    """Theano's pool_2d (pool_3d) over the last len(ws) dims, one window at a time."""
    nd = len(ws)
    stride, pad = stride or ws, pad or (0,) * nd
    spatial = x.shape[-nd:]
    inner = tuple(slice(p, p + n) for p, n in zip(pad, spatial))
    padded = tuple(n + 2 * p for n, p in zip(spatial, pad))
    xp = np.zeros(x.shape[:-nd] + padded)
    xp[(Ellipsis,) + inner] = x
    real = np.zeros(padded, bool)
    real[inner] = True

    def n_out(n, k, s):
        if ignore_border:
            return (n - k) // s + 1
        return (n - 1) // s + 1 if s >= k else max(0, (n - 1 - k + s) // s) + 1
    outs = tuple(n_out(n, k, s) for n, k, s in zip(padded, ws, stride))
    out = np.zeros(x.shape[:-nd] + outs)
    axes = tuple(range(-nd, 0))
    for index in itertools.product(*map(range, outs)):
        box = tuple(slice(i * s, min(i * s + k, n)) for i, s, k, n in zip(index, stride, ws, padded))
        win, mask = xp[(Ellipsis,) + box], real[box]
        if mode == "max":
            out[(Ellipsis,) + index] = np.where(mask, win, -np.inf).max(axis=axes)
        elif mode == "sum":
            out[(Ellipsis,) + index] = win.sum(axis=axes)
        elif mode == "average_inc_pad":
            out[(Ellipsis,) + index] = win.sum(axis=axes) / (np.prod(ws) if ignore_border else mask.size)
        else:
            out[(Ellipsis,) + index] = win.sum(axis=axes) / mask.sum()
    return out


def _take_rows(p, t):
    return p[np.arange(len(t)), t]


# --- the cases ---------------------------------------------------------------------------------
UNARY = ("", "a", "ab1", "1bc")
BINARY = (("ab", "ab"), ("ab", "1b"), ("a1", "1b"), ("abc", "c"), ("", "ab"), ("1", "ab"))


def complex_parts(module, z):
    """A real function of complex z through each complex op (T's and numpy's share the names)."""
    return abs(z * (0.5 - 1j)) + module.angle(z) + module.real(module.conj(z) * z) - module.imag(z * z)


def unary(name, fn, ref, kind="normal", grad=True, rtol32=1e-6):
    return Case(name, fn, ref, ((kind, "ab"),), grad, rtol32, patterns=tuple((p,) for p in UNARY))


def binary(name, fn, ref, kinds=("normal", "normal"), grad=True, rtol32=1e-6):
    return Case(name, fn, ref, ((kinds[0], "ab"), (kinds[1], "ab")), grad, rtol32, patterns=BINARY)


CASES = [
    unary("neg", lambda x: -x, np.negative),
    unary("abs", abs, np.abs, "away"),
    unary("sign", T.sign, np.sign, "away"),
    unary("floor", T.floor, np.floor, "frac"),
    unary("ceil", T.ceil, np.ceil, "frac"),
    unary("round", T.round, np.round, "frac"),
    unary("sqr", T.sqr, np.square),
    unary("exp", T.exp, np.exp, rtol32=2e-6),
    unary("log", T.log, np.log, "positive", rtol32=2e-6),
    unary("log1p", T.log1p, np.log1p, "unit", rtol32=2e-6),
    unary("expm1", T.expm1, np.expm1, rtol32=2e-6),
    unary("sqrt", T.sqrt, np.sqrt, "positive"),
    unary("tanh", T.tanh, np.tanh, rtol32=2e-6),
    unary("sin", T.sin, np.sin, rtol32=2e-6),
    unary("cos", T.cos, np.cos, rtol32=2e-6),
    unary("sigmoid", T.nnet.sigmoid, scipy.special.expit, rtol32=2e-6),
    unary("softplus", T.nnet.softplus, lambda x: np.logaddexp(0, x), rtol32=2e-6),
    unary("relu", T.nnet.relu, lambda x: np.maximum(x, 0), "away"),
    unary("leaky_relu", lambda x: T.nnet.relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x), "away"),
    unary("zeros_like", lambda x: T.zeros_like(x) + x, lambda x: x),
    unary("ones_like", lambda x: T.ones_like(x) * x, lambda x: x),
    unary("cast", lambda x: T.cast(T.cast(x, "float64") * 2, x.dtype), lambda x: 2 * x),
    unary("cast_int", lambda x: T.cast(x, "int32"), lambda x: x.astype("int32"), "frac", grad=False),
    unary("clip", lambda x: T.clip(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7), "away"),
    binary("add", lambda x, y: x + y, np.add),
    binary("sub", lambda x, y: x - y, np.subtract),
    binary("mul", lambda x, y: x * y, np.multiply),
    binary("true_div", lambda x, y: x / y, np.divide, ("normal", "positive"), rtol32=2e-6),
    binary("int_div", lambda x, y: x // y, np.floor_divide, ("int", "int"), grad=False),
    binary("mod", lambda x, y: x % y, np.mod, ("frac", "positive"), rtol32=2e-6),
    binary("pow", lambda x, y: x ** y, np.power, ("positive", "normal"), rtol32=4e-6),
    binary("maximum", T.maximum, np.maximum, ("away", "normal")),
    binary("minimum", T.minimum, np.minimum, ("away", "normal")),
    binary("fill", T.fill, lambda x, y: np.broadcast_to(y, np.broadcast_shapes(x.shape, y.shape))),
    binary("eq", T.eq, np.equal, ("int", "int"), grad=False),
    binary("neq", T.neq, np.not_equal, ("int", "int"), grad=False),
    binary("lt", lambda x, y: x < y, np.less, grad=False),
    binary("le", lambda x, y: x <= y, np.less_equal, grad=False),
    binary("gt", lambda x, y: x > y, np.greater, grad=False),
    binary("ge", lambda x, y: x >= y, np.greater_equal, grad=False),
    binary("and", lambda x, y: x & y, np.logical_and, ("bool", "bool"), grad=False),
    binary("or", lambda x, y: x | y, np.logical_or, ("bool", "bool"), grad=False),
    Case("switch", lambda c, x, y: T.switch(c, x, y), np.where, (("bool", "ab"), ("normal", "ab"), ("normal", "1b")),
         patterns=(("ab", "ab", "1b"), ("a1", "1b", "ab"))),
    # the rarer elementwise math (mlcore/graph/ops/elemwise_math.py)
    unary("tan", T.tan, np.tan, "unit", rtol32=2e-6),
    unary("arcsin", T.arcsin, np.arcsin, "unit", rtol32=2e-6),
    unary("arccos", T.arccos, np.arccos, "unit", rtol32=2e-6),
    unary("arctan", T.arctan, np.arctan, rtol32=2e-6),
    binary("arctan2", T.arctan2, np.arctan2, ("normal", "away"), rtol32=2e-6),
    unary("sinh", T.sinh, np.sinh, rtol32=2e-6),
    unary("cosh", T.cosh, np.cosh, rtol32=2e-6),
    unary("arcsinh", T.arcsinh, np.arcsinh, rtol32=2e-6),
    unary("arccosh", lambda x: T.arccosh(1 + x), lambda x: np.arccosh(1 + x), "positive", rtol32=2e-6),
    unary("arctanh", T.arctanh, np.arctanh, "unit", rtol32=2e-6),
    unary("log2", T.log2, np.log2, "positive", rtol32=2e-6),
    unary("log10", T.log10, np.log10, "positive", rtol32=2e-6),
    unary("exp2", T.exp2, np.exp2, rtol32=2e-6),
    unary("erf", T.erf, scipy.special.erf, rtol32=2e-6),
    unary("erfc", T.erfc, scipy.special.erfc, rtol32=2e-6),
    unary("erfinv", T.erfinv, scipy.special.erfinv, "unit", rtol32=2e-6),
    unary("gammaln", T.gammaln, scipy.special.gammaln, "positive", rtol32=2e-6),
    unary("psi", T.psi, scipy.special.psi, "positive", rtol32=2e-6),
    unary("tri_gamma", T.tri_gamma, lambda x: scipy.special.polygamma(1, x), "positive", grad=False, rtol32=2e-6),
    unary("gamma", T.gamma, scipy.special.gamma, "positive", rtol32=4e-6),
    unary("erfcx", T.erfcx, scipy.special.erfcx, rtol32=4e-6),
    unary("erfcinv", lambda x: T.erfcinv(x + 1), lambda x: scipy.special.erfcinv(x + 1), "unit", rtol32=4e-6),
    unary("polygamma", lambda x: T.polygamma(2, x), lambda x: scipy.special.polygamma(2, x), "positive",
          rtol32=4e-6),
    unary("chi2sf", lambda x: T.chi2sf(x, 3), lambda x: scipy.special.chdtrc(3, x), "positive", rtol32=4e-6),
    binary("complex_parts", lambda x, y: complex_parts(T, T.complex(x, y)), lambda x, y: complex_parts(np, x + 1j * y),
           ("normal", "away"), rtol32=4e-6),
    unary("i0", T.i0, scipy.special.i0, rtol32=4e-6),
    unary("i1", T.i1, scipy.special.i1, rtol32=4e-6),
    unary("j0", T.j0, scipy.special.j0, rtol32=4e-6),
    unary("j1", T.j1, scipy.special.j1, rtol32=4e-6),
    unary("jv", lambda x: T.jv(1.5, x), lambda x: scipy.special.jv(1.5, x), "positive", rtol32=4e-6),
    unary("iv", lambda x: T.iv(0.5, x), lambda x: scipy.special.iv(0.5, x), "positive", rtol32=4e-6),
    unary("trunc", T.trunc, np.trunc, "frac"),
    unary("reciprocal", T.reciprocal, np.reciprocal, "positive", rtol32=2e-6),
    unary("deg2rad", T.deg2rad, np.deg2rad),
    unary("rad2deg", T.rad2deg, np.rad2deg),
    unary("isnan", T.isnan, np.isnan, grad=False),
    unary("isinf", T.isinf, np.isinf, grad=False),
    binary("xor", T.xor, np.bitwise_xor, ("int", "int"), grad=False),
    binary("xor_bool", T.xor, np.logical_xor, ("bool", "bool"), grad=False),
    unary("invert", T.invert, np.invert, "int", grad=False),
    binary("bitwise_and", em.bitwise_and, np.bitwise_and, ("int", "int"), grad=False),
    binary("bitwise_or", em.bitwise_or, np.bitwise_or, ("int", "int"), grad=False),
    binary("left_shift", em.left_shift, np.left_shift, ("int", "int"), grad=False),
    binary("right_shift", lambda x, y: em.right_shift(x * 40, y), lambda x, y: np.right_shift(x * 40, y),
           ("int", "int"), grad=False),
    binary("gcd", lambda x, y: em.gcd(x * 6, y * 4), lambda x, y: np.gcd(x * 6, y * 4), ("int", "int"), grad=False),
    binary("lcm", em.lcm, np.lcm, ("int", "int"), grad=False),
    binary("nextafter", em.nextafter, np.nextafter, grad=False),
    # reductions
    Case("sum", lambda x: x.sum(axis=1), lambda x: x.sum(axis=1), (("normal", "abc"),), rtol32=1e-5),
    Case("sum_all", lambda x: x.sum(), np.sum, (("normal", "abc"),), rtol32=1e-5),
    Case("sum_keepdims", lambda x: T.sum(x, axis=(0, 2), keepdims=True),
         lambda x: x.sum(axis=(0, 2), keepdims=True), (("normal", "abc"),), rtol32=1e-5),
    Case("sum_int", lambda i: i.sum(axis=0) + (i > 2).sum(), lambda i: i.sum(axis=0) + (i > 2).sum(),
         (("int", "ab"),), grad=False),
    Case("prod", lambda x: x.prod(axis=0), lambda x: x.prod(axis=0), (("positive", "ab"),), rtol32=1e-5),
    Case("max", lambda x: x.max(axis=-1), lambda x: x.max(axis=-1), (("normal", "ab"),)),
    Case("max_keepdims", lambda x: T.max(x, axis=0, keepdims=True), lambda x: x.max(axis=0, keepdims=True),
         (("normal", "ab"),)),
    Case("min", lambda x: x.min(axis=0), lambda x: x.min(axis=0), (("normal", "ab"),)),
    Case("argmax", lambda x: T.argmax(x, axis=1), lambda x: x.argmax(axis=1), (("normal", "ab"),), grad=False),
    Case("argmax_all", lambda x: T.argmax(x), np.argmax, (("normal", "ab"),), grad=False),
    Case("argmin", lambda x: T.argmin(x, axis=0, keepdims=True), lambda x: x.argmin(axis=0, keepdims=True),
         (("normal", "ab"),), grad=False),
    Case("mean", lambda x: x.mean(axis=0), lambda x: x.mean(axis=0), (("normal", "ab"),), rtol32=1e-5),
    Case("var", lambda x: T.var(x, axis=1), lambda x: x.var(axis=1), (("normal", "ab"),), rtol32=1e-5),
    Case("std", lambda x: x.std(), np.std, (("normal", "ab"),), rtol32=1e-5),
    # shapes and indexing
    Case("dimshuffle", lambda x: x.dimshuffle(1, "x", 0), lambda x: x.T[:, None], (("normal", "ab"),)),
    Case("drop_dim", lambda x: x.dimshuffle(0, 2), lambda x: x[:, 0], (("normal", "a1b"),)),
    Case("transpose", lambda x: T.transpose(x, (2, 0, 1)), lambda x: x.transpose(2, 0, 1),
         (("normal", "abc"),)),
    Case("reshape", lambda x: x.reshape((-1,)), lambda x: x.reshape(-1), (("normal", "ab"),)),
    Case("reshape_symbolic", lambda x: x.reshape((x.shape[1], x.shape[0] * x.shape[2])),
         lambda x: x.reshape(x.shape[1], -1), (("normal", "abc"),)),
    Case("flatten", lambda x: T.flatten(x, 2), lambda x: x.reshape(x.shape[0], -1), (("normal", "abc"),)),
    Case("shape", lambda x: T.cast(x.shape, x.dtype) * x.sum(), lambda x: np.array(x.shape) * x.sum(),
         (("normal", "ab"),), rtol32=1e-5),
    Case("subtensor", lambda x: x[1, ::-2], lambda x: x[1, ::-2], (("normal", "ab"),)),
    Case("newaxis", lambda x: x[None, 1:, None], lambda x: x[None, 1:, None], (("normal", "ab"),)),
    Case("subtensor_symbolic", lambda x, i: x[i:, i], lambda x, i: x[i:, i], (("normal", "ab"), ("labels2", ""))),
    Case("advanced_subtensor", lambda x, i: x[i], lambda x, i: x[i], (("normal", "ab"), ("labels2", "c"))),
    Case("advanced_2d", lambda x, i, j: x[i, j], lambda x, i, j: x[i, j],
         (("normal", "ab"), ("labels2", "c"), ("labels2", "c"))),
    Case("newaxis_between_arrays", lambda x, i, j: x[i, None, j], lambda x, i, j: x[i, None, j],
         (("normal", "ab"), ("labels2", "c"), ("labels2", "c"))),
    Case("newaxis_beside_arrays", lambda x, i: x[None, :, i, None], lambda x, i: x[None, :, i, None],
         (("normal", "ab"), ("labels2", "c"))),
    Case("inc_subtensor", lambda x, y: T.inc_subtensor(x[1:, 0], y), lambda x, y: _inc(x, (slice(1, None), 0), y),
         (("normal", "ab"), ("normal", "1"))),
    Case("set_subtensor", lambda x, y: T.set_subtensor(x[:, 1], y), lambda x, y: _set(x, (slice(None), 1), y),
         (("normal", "ab"), ("normal", "a"))),
    Case("inc_advanced", lambda x, y, i: T.inc_subtensor(x[i], y), lambda x, y, i: _inc_at(x, i, y),
         (("normal", "ab"), ("normal", "cb"), ("labels2", "c"))),
    Case("scatter_max", lambda x, i, y: scatter_reduce(x, i, y, "max"), lambda x, i, y: _fold_at(np.maximum, x, i, y),
         (("normal", "ab"), ("labels2", "c1"), ("normal", "cb"))),
    Case("scatter_min", lambda x, i, y: scatter_reduce(x, i, y, "min"), lambda x, i, y: _fold_at(np.minimum, x, i, y),
         (("normal", "ab"), ("labels2", "c2"), ("normal", "c"))),
    Case("scatter_mul", lambda x, i, y: scatter_reduce(x, i, y, "mul"), lambda x, i, y: _fold_at(np.multiply, x, i, y),
         (("normal", "ab"), ("labels2", "c1"), ("normal", "cb")), rtol32=1e-5),
    Case("concatenate", lambda x, y: T.concatenate([x, y], axis=1), lambda x, y: np.concatenate([x, y], 1),
         (("normal", "ab"), ("normal", "ac"))),
    Case("stack", lambda x, y: T.stack([x, y], axis=1), lambda x, y: np.stack([x, y], 1),
         (("normal", "ab"), ("normal", "ab"))),
    Case("specify_shape", lambda x: T.specify_shape(x, (None, 3)) * 2, lambda x: 2 * x, (("normal", "a3"),)),
    Case("unbroadcast", lambda x: T.unbroadcast(x, 0) * 2, lambda x: 2 * x, (("normal", "1b"),)),
    Case("pad", lambda x: T.pad(x, ((1, 0), (2, 1))), lambda x: np.pad(x, ((1, 0), (2, 1))), (("normal", "ab"),)),
    Case("arange", lambda x: T.arange(x.shape[0]) * x, lambda x: np.arange(len(x)) * x, (("normal", "a"),)),
    Case("alloc", lambda x: T.alloc(x, 2, 3) * 1, lambda x: np.full((2, 3), x), (("normal", ""),)),
    Case("zeros_ones", lambda x: T.zeros((2,), x.dtype) + T.ones((2,), x.dtype) * x,
         lambda x: np.ones(2) * x, (("normal", ""),)),
    # along one axis (along_axis.py), and the array helpers built from other ops (extra_ops.py)
    Case("cumsum", lambda x: T.cumsum(x, axis=1), lambda x: np.cumsum(x, 1), (("normal", "abc"),), rtol32=1e-5),
    Case("cumsum_flat", T.cumsum, np.cumsum, (("normal", "ab"),), rtol32=1e-5),
    Case("cumsum_int", lambda i: T.cumsum(i, axis=0), lambda i: np.cumsum(i, 0), (("int", "ab"),), grad=False),
    Case("cumprod", lambda x: T.cumprod(x, axis=0), lambda x: np.cumprod(x, 0), (("positive", "ab"),), rtol32=1e-5),
    Case("sort", T.sort, np.sort, (("normal", "abc"),)),
    Case("sort_axis0", lambda x: T.sort(x, axis=0), lambda x: np.sort(x, 0), (("normal", "ab"),)),
    Case("sort_flat", lambda x: T.sort(x, axis=None), lambda x: np.sort(x, None), (("normal", "ab"),)),
    Case("nonzero", lambda x: T.nonzero(x > 0, return_matrix=True), lambda x: np.stack(np.nonzero(x > 0)),
         (("normal", "ab"),), grad=False),
    Case("nonzero_values", lambda x: T.nonzero_values(T.switch(x > 0, x, 0)), lambda x: x[x > 0],
         (("away", "ab"),)),
    Case("boolean_mask", lambda x: x[x > 0], lambda x: x[x > 0], (("away", "ab"),)),
    Case("boolean_mask_rows", lambda x: x[:, T.gt(x[0], 0)] * 2, lambda x: x[:, x[0] > 0] * 2, (("away", "abc"),)),
    Case("unique", T.extra_ops.unique, np.unique, (("normal", "ab"),), grad=False),
    Case("lstsq", lambda a, b: T.nlinalg.lstsq(a, b)[0], lambda a, b: np.linalg.lstsq(a, b, rcond=-1)[0],
         (("normal", "53"), ("normal", "52")), grad=False, rtol32=1e-4),
    Case("searchsorted", lambda x, v: T.extra_ops.searchsorted(T.sort(x), v, side="right"),
         lambda x, v: np.searchsorted(np.sort(x), v, side="right"), (("normal", "a"), ("normal", "bc")), grad=False),
    Case("argsort", lambda x: T.argsort(x, axis=0), lambda x: np.argsort(x, 0), (("normal", "ab"),), grad=False),
    Case("eye", lambda x: T.eye(3, 4, 1, x.dtype) * x, lambda x: np.eye(3, 4, 1) * x, (("normal", "34"),)),
    Case("identity_like", lambda x: T.identity_like(x) * x, lambda x: np.eye(*x.shape) * x, (("normal", "ab"),)),
    Case("diag_of_vector", lambda x: T.diag(x, -1), lambda x: np.diag(x, -1), (("normal", "a"),)),
    Case("diag_of_matrix", lambda x: T.diag(x, 1), lambda x: np.diag(x, 1), (("normal", "ab"),)),
    Case("tile", lambda x: T.tile(x, (2, 1, 3)), lambda x: np.tile(x, (2, 1, 3)), (("normal", "ab"),)),
    Case("repeat", lambda x: T.repeat(x, 3, axis=1), lambda x: np.repeat(x, 3, 1), (("normal", "ab"),)),
    Case("repeat_counts", lambda x: T.repeat(x, [2, 0, 1]), lambda x: np.repeat(x, [2, 0, 1]), (("normal", "3"),)),
    Case("squeeze", lambda x: T.squeeze(x), lambda x: x[:, 0], (("normal", "a1"),)),
    Case("squeeze_axis", lambda x: T.squeeze(x.dimshuffle(0, "x", 1), axis=1), lambda x: x, (("normal", "ab"),)),
    Case("roll", lambda x: T.roll(x, -1, axis=1), lambda x: np.roll(x, -1, 1), (("normal", "ab"),)),
    Case("roll_flat", lambda x: T.roll(x, 5), lambda x: np.roll(x, 5), (("normal", "ab"),)),
    Case("all_any", lambda x: T.all(x > 0, axis=0) | T.any(x > 1), lambda x: (x > 0).all(0) | (x > 1).any(),
         (("normal", "ab"),), grad=False),
    Case("isclose", lambda x, y: T.isclose(x, x + y * 1e-2, rtol=0.1), lambda x, y: np.isclose(x, x + y * 1e-2, 0.1),
         (("normal", "ab"), ("normal", "ab")), grad=False),
    Case("ifelse", lambda c, x, y: ifelse(c, x, y), lambda c, x, y: x if c else y,
         (("bool", ""), ("normal", "ab"), ("normal", "ab"))),
    # products
    Case("dot_mm", T.dot, np.dot, (("normal", "ab"), ("normal", "bc")), rtol32=1e-5),
    Case("dot_mv", T.dot, np.dot, (("normal", "ab"), ("normal", "b")), rtol32=1e-5),
    Case("dot_vv", T.dot, np.dot, (("normal", "a"), ("normal", "a")), rtol32=1e-5),
    Case("matmul_batch", lambda x, y: x @ y, np.matmul, (("normal", "1ab"), ("normal", "dbc")), rtol32=1e-5),
    Case("dot_3d", T.dot, np.dot, (("normal", "abc"), ("normal", "dce")), rtol32=1e-5),
    # one matrix times each of a batch: its gradient is one product of the stacked rows (linalg.Matmul)
    Case("dot_3d_kernel", T.dot, np.dot, (("normal", "dab"), ("normal", "bc")), rtol32=1e-5),
    Case("matmul_shared_kernel", lambda x, y: x @ y, np.matmul, (("normal", "deab"), ("normal", "11bc")),
         rtol32=1e-5),
    Case("matmul_shared_left", lambda x, y: x @ y, np.matmul, (("normal", "ab"), ("normal", "dbc")), rtol32=1e-5),
    Case("tensordot", lambda x, y: T.tensordot(x, y, axes=[[1, 2], [0, 1]]),
         lambda x, y: np.tensordot(x, y, axes=[[1, 2], [0, 1]]), (("normal", "abc"), ("normal", "bcd")),
         rtol32=1e-5),
    Case("outer", T.outer, np.outer, (("normal", "a"), ("normal", "b"))),
    Case("gemm", lambda c, a, b: T.gemm(c, -0.5, a, b, 2.0), lambda c, a, b: 2 * c - 0.5 * (a @ b),
         (("normal", "ac"), ("normal", "ab"), ("normal", "bc")), rtol32=1e-5),
    Case("batched_dot", T.batched_dot, np.matmul, (("normal", "abc"), ("normal", "acd")), rtol32=1e-5),
    # linear algebra (nlinalg.py, linalg_decompositions.py, slinalg.py): inputs made well conditioned;
    # eigen- and singular vectors squared, which their sign (each library's own choice) leaves alone
    Case("matrix_inverse", lambda x: T.nlinalg.matrix_inverse(_dominant(x)), lambda x: np.linalg.inv(_dominant(x)),
         (("normal", "aa"),), rtol32=2e-5),
    Case("matrix_inverse_stack", lambda x: T.nlinalg.matrix_inverse(_dominant(x)),
         lambda x: np.linalg.inv(_dominant(x)), (("normal", "baa"),), rtol32=2e-5),
    Case("det", lambda x: T.nlinalg.det(_dominant(x)), lambda x: np.linalg.det(_dominant(x)), (("normal", "aa"),),
         rtol32=2e-5),
    Case("pinv", T.nlinalg.pinv, np.linalg.pinv, (("normal", "43"),), rtol32=1e-4),
    Case("eig", lambda x: T.sort(T.nlinalg.eig(x + x.T)[0]), lambda x: np.sort(np.linalg.eigvalsh(x + x.T)),
         (("normal", "aa"),), grad=False, rtol32=2e-5),
    Case("eigh", lambda x: T.nlinalg.eigh(x)[0], lambda x: np.linalg.eigvalsh(np.tril(x) + np.tril(x, -1).T),
         (("normal", "aa"),), rtol32=2e-5),
    Case("eigh_vectors", lambda x: T.nlinalg.eigh(x, "U")[1] ** 2, lambda x: np.linalg.eigh(x, "U")[1] ** 2,
         (("normal", "baa"),), rtol32=1e-4),
    Case("svd_values", lambda x: T.nlinalg.svd(x, compute_uv=False), lambda x: np.linalg.svd(x, compute_uv=False),
         (("normal", "bac"),), rtol32=2e-5),
    Case("svd_vectors", lambda x: _svd_squares(T.nlinalg.svd(x, full_matrices=False), T.concatenate),
         lambda x: _svd_squares(np.linalg.svd(x, full_matrices=False), np.concatenate), (("normal", "53"),),
         rtol32=1e-4),
    Case("qr", lambda x: T.concatenate([q ** 2 for q in T.nlinalg.qr(x)], axis=0),
         lambda x: np.concatenate([q ** 2 for q in np.linalg.qr(x)], axis=0), (("normal", "43"),), rtol32=2e-5),
    Case("cholesky", lambda x: T.slinalg.cholesky(_spd(x)), lambda x: np.linalg.cholesky(_spd(x)),
         (("normal", "ab"),), rtol32=2e-5),
    Case("cholesky_upper", lambda x: T.slinalg.cholesky(_dominant(x), lower=False),
         lambda x: scipy.linalg.cholesky(_dominant(x), lower=False), (("unit", "aa"),), rtol32=2e-5),
    Case("solve", lambda a, b: T.slinalg.solve(_dominant(a), b), lambda a, b: np.linalg.solve(_dominant(a), b),
         (("normal", "aa"), ("normal", "ab")), rtol32=2e-5),
    Case("solve_vector_sym", lambda a, b: T.slinalg.solve(_dominant(a), b, assume_a="sym"),
         lambda a, b: scipy.linalg.solve(_dominant(a), b, assume_a="sym"), (("normal", "aa"), ("normal", "a")),
         rtol32=2e-5),
    Case("solve_triangular", lambda a, b: T.slinalg.solve_triangular(_dominant(a), b, lower=True),
         lambda a, b: scipy.linalg.solve_triangular(_dominant(a), b, lower=True), (("normal", "aa"), ("normal", "ab")),
         rtol32=2e-5),
    Case("solve_triangular_trans", lambda a, b: T.slinalg.solve_triangular(a, b, trans=1, unit_diagonal=True),
         lambda a, b: scipy.linalg.solve_triangular(a, b, trans=1, unit_diagonal=True),
         (("unit", "aa"), ("normal", "a")), rtol32=2e-5),
    Case("expm", T.slinalg.expm, scipy.linalg.expm, (("unit", "aa"),), rtol32=2e-5),
    Case("lu_factor", lambda x: graph_slinalg.lu_factor(_dominant(x))[0],
         lambda x: scipy.linalg.lu_factor(_dominant(x))[0], (("normal", "aa"),), grad=False, rtol32=2e-5),
    # Fourier transforms (fourier.py): complex values as (real, imag), stacked along a new first axis
    Case("fft", lambda a, b: T.stack(fourier.dft(a, b)), lambda a, b: _parts(np.fft.fft(a + 1j * b)),
         (("normal", "ab"), ("normal", "ab")), rtol32=1e-5, static=True),
    Case("ifft2", lambda a, b: T.stack(fourier.dft(a, b, axes=2, inverse=True)),
         lambda a, b: _parts(np.fft.ifft2(a + 1j * b)), (("normal", "abc"), ("normal", "abc")), rtol32=1e-5,
         static=True),
    Case("rfft", lambda x: T.stack(fourier.rfft(x)), lambda x: _parts(np.fft.rfft(x)), (("normal", "ab"),),
         rtol32=1e-5, static=True),
    Case("irfft_odd", lambda a, b: fourier.irfft(a, b, 2 * a.type.shape[-1] - 1),
         lambda a, b: np.fft.irfft(a + 1j * b, 2 * a.shape[-1] - 1), (("normal", "ab"), ("normal", "ab")),
         rtol32=1e-5, static=True),
    # neural-network ops
    Case("softmax", T.nnet.softmax, softmax_ref, (("normal", "ab"),), rtol32=2e-6),
    Case("softmax_axis0", lambda x: ops.softmax(x, axis=0), lambda x: softmax_ref(x, 0), (("normal", "ab"),),
         rtol32=2e-6),
    Case("log_softmax", T.nnet.logsoftmax, lambda x: np.log(softmax_ref(x)), (("normal", "ab"),), rtol32=2e-6),
    Case("crossentropy", lambda z, t: T.nnet.categorical_crossentropy(T.nnet.softmax(z), t),
         lambda z, t: -np.log(_take_rows(softmax_ref(z), t)), (("normal", "ab"), ("labels2", "a")), rtol32=2e-6),
    Case("crossentropy_onehot", lambda z, t: T.nnet.categorical_crossentropy(T.nnet.softmax(z), t),
         lambda z, t: -(t * np.log(softmax_ref(z))).sum(-1), (("normal", "ab"), ("positive", "ab")), rtol32=5e-6),
    Case("binary_crossentropy", lambda z, t: T.nnet.binary_crossentropy(T.nnet.sigmoid(z), t),
         lambda z, t: -(t * np.log(scipy.special.expit(z)) + (1 - t) * np.log(1 - scipy.special.expit(z))),
         (("normal", "ab"), ("prob", "ab")), rtol32=5e-6),
    Case("conv2d", lambda x, w: ops.conv2d(x, w), conv_nhwc_ref, (("normal", "2563"), ("normal", "3232")),
         rtol32=1e-5, static=True),
    Case("conv2d_same_strided", lambda x, w: ops.conv2d(x, w, strides=(2, 1), padding="same", dilation=(1, 2)),
         lambda x, w: conv_nhwc_ref(x, w, (2, 1), "same", (1, 2)), (("normal", "2763"), ("normal", "3232")),
         rtol32=1e-5, static=True),
    Case("conv2d_grouped", lambda x, w: ops.conv2d(x, w, strides=(2, 1), groups=2),
         lambda x, w: conv_nhwc_ref(x, w, (2, 1), groups=2), (("normal", "2764"), ("normal", "3226")),
         rtol32=1e-5, static=True),
    Case("conv2d_depthwise", lambda x, w: ops.conv2d(x, w, padding="same", dilation=(1, 2), groups=3),
         lambda x, w: conv_nhwc_ref(x, w, padding="same", dilation=(1, 2), groups=3),
         (("normal", "2653"), ("normal", "3216")), rtol32=1e-5, static=True),
    Case("conv2d_theano", lambda x, w: T.nnet.conv2d(x, w, border_mode="full", subsample=(1, 2)),
         lambda x, w: conv_theano_ref(x, w, "full", (1, 2)), (("normal", "2356"), ("normal", "4332")),
         rtol32=1e-5, static=True),
    Case("conv2d_theano_half", lambda x, w: T.nnet.conv2d(x, w, border_mode="half"),
         lambda x, w: conv_theano_ref(x, w, "half"), (("normal", "1265"), ("normal", "3233")),
         rtol32=1e-5, static=True),
    Case("pool_max", lambda x: T.signal.pool.pool_2d(x, (2, 2), ignore_border=True),
         lambda x: pool_ref(x, (2, 2)), (("normal", "2354"),)),
    Case("pool_max_partial", lambda x: T.signal.pool.pool_2d(x, (3, 2), ignore_border=False, stride=(2, 1)),
         lambda x: pool_ref(x, (3, 2), False, (2, 1)), (("normal", "2376"),), static=True),
    Case("pool_sum_pad", lambda x: T.signal.pool.pool_2d(x, (2, 3), True, (1, 2), (1, 1), "sum"),
         lambda x: pool_ref(x, (2, 3), True, (1, 2), (1, 1), "sum"), (("normal", "2256"),), rtol32=2e-6),
    Case("pool_avg_inc", lambda x: T.signal.pool.pool_2d(x, (2, 2), True, None, (1, 1), "average_inc_pad"),
         lambda x: pool_ref(x, (2, 2), True, None, (1, 1), "average_inc_pad"), (("normal", "2255"),),
         rtol32=2e-6),
    Case("pool_avg_exc", lambda x: T.signal.pool.pool_2d(x, (3, 3), True, (2, 2), (1, 1), "average_exc_pad"),
         lambda x: pool_ref(x, (3, 3), True, (2, 2), (1, 1), "average_exc_pad"), (("normal", "1276"),),
         rtol32=2e-6),
    Case("pool_avg_partial", lambda x: T.signal.pool.pool_2d(x, (2, 2), False, None, (0, 0), "average_inc_pad"),
         lambda x: pool_ref(x, (2, 2), False, None, (0, 0), "average_inc_pad"), (("normal", "2355"),),
         rtol32=2e-6, static=True),
    Case("pool2d_nhwc_same", lambda x: ops.pool2d(x, (3, 3), (2, 2), "same", "average", False),
         lambda x: pool_ref(x.transpose(0, 3, 1, 2), (3, 3), True, (2, 2), (1, 1),
                            "average_exc_pad").transpose(0, 2, 3, 1),
         (("normal", "2553"),), rtol32=2e-6),
    Case("pool3d_max_partial", lambda x: T.signal.pool.pool_3d(x, (2, 3, 2), ignore_border=False, stride=(2, 2, 1)),
         lambda x: pool_ref(x, (2, 3, 2), False, (2, 2, 1)), (("normal", "12545"),)),
    Case("pool3d_avg_exc_pad", lambda x: T.signal.pool.pool_3d(x, (3, 2, 2), True, (2, 1, 2), (1, 1, 0),
                                                               "average_exc_pad"),
         lambda x: pool_ref(x, (3, 2, 2), True, (2, 1, 2), (1, 1, 0), "average_exc_pad"), (("normal", "21545"),),
         rtol32=2e-6),
    Case("pool3d_avg_inc_partial", lambda x: T.signal.pool.pool_3d(x, (2, 2, 3), False, None, (0, 0, 0),
                                                                   "average_inc_pad"),
         lambda x: pool_ref(x, (2, 2, 3), False, None, (0, 0, 0), "average_inc_pad"), (("normal", "3545"),),
         rtol32=2e-6, static=True),
    Case("scan", lambda x, h0, w: scan(lambda x_t, h, w: T.tanh(x_t * w + h), sequences=x, outputs_info=h0,
                                       non_sequences=w)[0],
         lambda x, h0, w: _recurrence(x, h0[None], lambda x_t, h: np.tanh(x_t * w + h[-1])),
         (("normal", "ab"), ("unit", "b"), ("normal", "b")), rtol32=4e-6),
    Case("scan_taps", lambda x, y0: scan(lambda x_t, a, b: T.tanh(x_t + a) * 0.5 + b * 0.25, sequences=x,
                                         outputs_info=dict(initial=y0, taps=[-2, -1]))[0],
         lambda x, y0: _recurrence(x, y0, lambda x_t, y: np.tanh(x_t + y[-2]) * 0.5 + y[-1] * 0.25),
         (("normal", "ab"), ("unit", "2b")), rtol32=4e-6),
    Case("while", lambda x: _halved_while_large(x), lambda x: _halved_while_large_ref(x), (("normal", "ab"),),
         grad=False),
    # the gradient of x * block(x) is block(x), not 2x, and grad_clip's is clipped: finite differences
    # cannot check these
    Case("zero_grad", lambda x: x * zero_grad(x), np.square, (("normal", "ab"),)),
    Case("disconnected_grad", lambda x: x * disconnected_grad(x), np.square, (("normal", "ab"),)),
    Case("grad_clip", lambda x: grad_clip(x, -0.5, 0.5) * 3.0, lambda x: x * 3.0, (("normal", "ab"),)),
    # keras.remat's barrier: the identity on both values at once, and on their gradients
    Case("optimization_barrier", lambda x, y: _barrier_product(x, y), lambda x, y: x * np.tanh(y),
         (("normal", "ab"), ("normal", "ab"))),
]
BLOCKED = {"zero_grad", "disconnected_grad", "grad_clip"}


def _barrier_product(x, y):
    x, y = optimization_barrier(x, y)
    return x * T.tanh(y)


def _eye(x):
    """The identity matching the last dim of x, symbolic or numpy as x is."""
    return T.eye(x.shape[-1], dtype=x.dtype) if isinstance(x, Variable) else np.eye(x.shape[-1])


def _dominant(x):
    """x (one or a stack of square matrices) plus 4 I: far from singular."""
    return x + 4 * _eye(x)


def _spd(x):
    """x x^T + I: symmetric positive definite."""
    gram = T.dot(x, x.T) if isinstance(x, Variable) else x @ x.T
    return gram + _eye(gram)


def _parts(z):
    """A complex array as its real and imaginary parts, stacked along a new first axis."""
    return np.stack([z.real, z.imag])


def _svd_squares(usv, concatenate):
    u, s, vt = usv
    return concatenate([u ** 2, vt.T ** 2 * s], axis=0)


def _halved_while_large(x):
    """x halved (and a count of steps kept) while its squares sum past 0.01: a While loop."""
    given = [x.type(), TensorType("int64", ())()]
    out, steps = apply_while(T.sum(T.sqr(given[0])) > 0.01, [given[0] * 0.5, given[1] + 1], [x, 0], given)
    return out + steps


def _halved_while_large_ref(x):
    steps = 0
    while np.sum(x * x) > 0.01:
        x, steps = x * 0.5, steps + 1
    return x + steps


def _recurrence(x, initial, step):
    """The rows step(x[t], past) for each t, past holding every row before t (initial's first)."""
    rows = list(initial)
    for x_t in x:
        rows.append(step(x_t, rows))
    return np.stack(rows[len(initial):])


def _inc(x, key, y):
    out = x.copy()
    out[key] += y
    return out


def _set(x, key, y):
    out = x.copy()
    out[key] = y
    return out


def _inc_at(x, i, y):
    out = x.copy()
    np.add.at(out, i, y)
    return out


def _fold_at(ufunc, x, i, y):
    """x with y folded in by ufunc at the rows of the index matrix i, repeats taking every y."""
    out = x.copy()
    ufunc.at(out, tuple(i.T), y)
    return out


BY_NAME = {c.name: c for c in CASES}

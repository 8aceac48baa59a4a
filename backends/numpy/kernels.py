"""The numpy backend's kernel table: one entry per Op class, plain numpy."""
import numpy as np
import scipy.linalg
import scipy.special

from backends import array_api as xk
from backends.base import Lowering
from backends.fourier_kernels import register_fourier
from backends.linalg_kernels import register_linalg
from backends.numpy import blas, c_loops, fused, nn, reductions
from backends.numpy.scan import scan_kernel, while_kernel
from mlcore.graph.ops import indexing
from mlcore.graph.ops import elemwise as ew, elemwise_math
from mlcore.graph.ops import bitcast, linalg, random, reduce, scatter, shape
from mlcore.graph.ops import nn as nn_ops
from mlcore.compile.jax_function import JaxFunctionOp, as_kernel
from mlcore.compile.ops import run_perform
from mlcore.utils.rng import uniform
from mlcore.graph.ops.scan import Scan, While

lower = Lowering("numpy")


def make_complex(real, imag):
    """real + 1j * imag, except that an infinite imag leaves real as it is (1j * inf is nan + inf j)."""
    out = np.empty(np.broadcast_shapes(real.shape, imag.shape), np.result_type(real, imag, np.complex64))
    out.real, out.imag = real, imag
    return out


SPECIAL = {
    "sigmoid": scipy.special.expit,
    "softplus": lambda x: np.logaddexp(x, 0),
    "relu": lambda x: np.maximum(x, 0),
    "second": xk.second(np),
    "complex": make_complex,
    **xk.special_functions(scipy.special),
}


def elemwise(op):
    return xk.elemwise_kernel(np, op, SPECIAL)


xk.register_common(lower, np, elemwise)
xk.register_array_ops(lower, np)
xk.register_windowed_ops(lower, nn, nn.conv2d_in_layouts)


@lower.register(nn_ops.Conv2DGradInput)
def _(op, node):
    def grad_input(x, w, g):
        padding = xk.conv_padding(op, x.shape, w.shape)
        if op.groups == 1 and nn.taps_pay(x.shape, w, g, padding, op.lhs_dilation):
            return nn.conv2d_grad_input_by_taps(w, g, x.shape, op.strides, padding, op.rhs_dilation)
        return xk.conv_grad_input(nn.conv2d_in_layouts, op, x, w, g)
    return grad_input


@lower.register(ew.Composite)
def _(op, node):
    blocked = fused.blocked_composite(op, node, elemwise)
    loop = c_loops.CompiledLoop.of(op, node)
    return blocked if loop is None else c_loops.preferring_c(loop, blocked)


@lower.register(reduce.Sum, reduce.Prod, reduce.Max, reduce.Min)
def _(op, node):
    return reductions.reduction(xk.REDUCTIONS[type(op)], op.axis, op.keepdims)


@lower.register(shape.Shape)
def _(op, node):
    return lambda x: np.array(x.shape, dtype="int64")


@lower.register(shape.Reshape)
def _(op, node):
    return lambda x, s: x.reshape(s.tolist())   # tolist: Python ints at once (3 us -> 0.6 us a call)


@lower.register(bitcast.Bitcast)
def _(op, node):
    return lambda x: (x if x.flags.c_contiguous else x.copy()).view(op.dtype)   # numpy views a contiguous x


@lower.register(indexing.IncSubtensor)
def _(op, node):
    def inc(x, y, *idx):
        key = xk.index_key(op.spec, idx)
        out = x.copy()
        if op.set_instead_of_inc:
            out[key] = y
        elif any(isinstance(k, np.ndarray) and k.ndim for k in key):
            np.add.at(out, key, y)      # repeated indices accumulate
        else:
            out[key] += y
        return out
    return inc


@lower.register(scatter.ScatterReduce)
def _(op, node):
    fold = {"max": np.maximum, "min": np.minimum, "mul": np.multiply}[op.reduction]

    def scatter_reduce(x, indices, updates):
        out = x.copy()
        fold.at(out, tuple(indices.T), updates)     # .at: an entry given twice takes every update
        return out
    return scatter_reduce


@lower.register(shape.Arange)
def _(op, node):
    return lambda a, b, c: np.arange(a, b, c, dtype=op.dtype)


@lower.register(shape.Alloc)
def _(op, node):
    return lambda v, s: np.full(s.tolist(), v, dtype=node.outputs[0].dtype)


@lower.register(linalg.Matmul)
def _(op, node):
    """np.dot for matrices: np.matmul skips BLAS for an outer product (x.T @ delta at batch 1, ~6x slower)."""
    if all(i.ndim == 2 for i in node.inputs):
        return np.dot
    if linalg.times_one_matrix(node):    # the stacked rows in one BLAS call: 1.5-2x np.matmul's broadcast
        return lambda a, b: np.dot(a.reshape(-1, a.shape[-1]), b.reshape(b.shape[-2:])).reshape(
            a.shape[:-1] + b.shape[-1:])
    return np.matmul


@lower.register(linalg.Gemm)
def _(op, node):
    def gemm(c, alpha, a, b, beta):
        return gemm_into(c, alpha, a, b, beta, out=np.array(c, order="C"))
    gemm.into = gemm_into      # in place into c, where c dies here (inplace.py)
    return gemm


def gemm_into(c, alpha, a, b, beta, out):
    """out = beta * c + alpha * a @ b, out being c itself or a C-ordered copy of it: one call of
    numpy's own BLAS (blas.py), else numpy's product and arithmetic."""
    xk.check_gemm_shapes(c, a, b)
    if out is not c:
        out[...] = c
    if blas.gemm(alpha, a, b, beta, out) is None:
        out[...] = beta * out + alpha * np.dot(a, b)
    return out


@lower.register(random.RandomVariable)
def _(op, node):
    def draw(key, size, *params):
        rng = np.random.default_rng([int(k) for k in key])
        next_key = rng.integers(0, 2 ** 32, size=2, dtype=np.uint32)
        size = tuple(int(s) for s in size)
        xk.check_draw_shape(op, size, params)
        if op.dist == "uniform":
            return next_key, uniform(rng, *params, size, op.dtype)
        return next_key, np.asarray(SAMPLERS[op.dist](rng, *params, size)).astype(op.dtype)
    return draw


SAMPLERS = {"normal": lambda rng, mean, std, size: rng.normal(mean, std, size),
            "binomial": lambda rng, n, p, size: rng.binomial(np.asarray(n).astype(np.int64), p, size),  # n: a float too
            "gamma": lambda rng, k, theta, size: rng.gamma(k, theta, size),
            "poisson": lambda rng, lam, size: rng.poisson(lam, size),
            "randint": lambda rng, low, high, size: rng.integers(low, high, size)}


register_linalg(lower, np, np.linalg, scipy.linalg)
register_fourier(lower, np.fft)
lower.register(*elemwise_math.UFUNCS)(lambda op, node: getattr(np, op.name))
lower.register(While)(while_kernel)
lower.register(Scan)(scan_kernel)   # a Python loop over the step graph, compiled by this backend
lower.register_host(lambda op, node: lambda *arrays: run_perform(op, node, arrays))   # as_op, Theano ops
for _op_class, _kernel in xk.VALUE_SHAPED.items():
    lower.register(_op_class)(lambda op, node, kernel=_kernel: kernel(op))


@lower.register(JaxFunctionOp)
def _(op, node):
    """The jax function, jitted, run by jax on the host's arrays (jax exists where such an op does)."""
    import jax
    return as_kernel(jax.jit(op.fn), convert=np.asarray)

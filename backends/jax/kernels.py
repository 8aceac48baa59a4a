"""The jax backend's kernel table: jax.numpy and jax.lax, traced once under jax.jit."""
import jax
import jax.numpy as jnp
import jax.scipy.linalg
import jax.scipy.special
import numpy as np
import scipy.special

from backends import array_api as xk
from backends.base import Lowering
from backends.jax import nn
from backends.jax.scan import scan_kernel, while_kernel
from backends.fourier_kernels import register_fourier
from backends.linalg_kernels import register_linalg
from mlcore.compile.jax_function import JaxFunctionOp, as_kernel
from mlcore.compile.ops import host_output_shapes, run_perform
from mlcore.graph.basic import Constant
from mlcore.graph.ops import indexing
from mlcore.graph.ops import elemwise as ew, elemwise_math
from mlcore.graph.ops import barrier, bitcast, linalg, nn as nn_ops, random, scatter, shape
from mlcore.graph.ops.scan import Scan, While

lower = Lowering("jax")

def _floats_only(fn):
    """jax.nn's functions refuse ints and bools: those are computed in float64, as numpy does."""
    return lambda x: fn(x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype("float64"))


SPECIAL = {
    "sigmoid": _floats_only(jax.nn.sigmoid),
    "softplus": _floats_only(jax.nn.softplus),
    "relu": lambda x: jnp.maximum(x, 0),
    "second": xk.second(jnp),
    "complex": lambda real, imag: jax.lax.complex(*jnp.broadcast_arrays(real, imag)),
    **xk.special_functions(jax.scipy.special),
}


def _on_host(name):
    """scipy.special's `name`, called back on the host: jax has no Bessel function of real order
    (bessel_jn takes integer orders only), so the values come from the same code as numpy's."""
    fn = getattr(scipy.special, name)

    def call(*arrays):
        dtype = jnp.result_type(*arrays)
        result = jax.ShapeDtypeStruct(jnp.broadcast_shapes(*(a.shape for a in arrays)), dtype)
        host = lambda *values: np.asarray(fn(*values), dtype)   # noqa: E731
        return jax.pure_callback(host, result, *arrays, vmap_method="broadcast_all")
    return call


SPECIAL.update({name: _on_host(name) for name in xk.BESSEL_FUNCTIONS})


def elemwise(op):
    return xk.elemwise_kernel(jnp, op, SPECIAL)


xk.register_common(lower, jnp, elemwise)
xk.register_array_ops(lower, jnp)
xk.register_windowed_ops(lower, nn, nn.conv2d)


@lower.register(ew.Composite)
def _(op, node):
    return xk.composite_kernel(op, elemwise)   # XLA fuses it itself


@lower.register(shape.Shape)
def _(op, node):
    return lambda x: np.array(x.shape, dtype="int64")  # static under jit: shape arithmetic stays concrete


@lower.register(shape.Reshape)
def _(op, node):
    return lambda x, s: jnp.reshape(x, tuple(int(d) for d in np.asarray(s)))


@lower.register(barrier.OptimizationBarrier)
def _(op, node):
    """XLA's barrier, as jax.checkpoint puts around a recomputed forward pass (mlcore/graph/ops/barrier.py)."""
    def run(*values):
        values = jax.lax.optimization_barrier(values)
        return values if len(values) > 1 else values[0]
    return run


@lower.register(bitcast.Bitcast)
def _(op, node):
    return lambda x: x.view(op.dtype)     # lax.bitcast_convert_type, the last axis rescaled as numpy does


@lower.register(indexing.Subtensor)
def _(op, node):
    return lambda x, *idx: jnp.asarray(x)[xk.index_key(op.spec, idx)]     # x may be a numpy constant


@lower.register(indexing.IncSubtensor)
def _(op, node):
    def inc(x, y, *idx):
        x = jnp.asarray(x)      # x may be a numpy constant
        key = xk.index_key(op.spec, idx)
        window = _contiguous_window(key, x.shape)
        if window is None:
            at = x.at[key]
            return at.set(y) if op.set_instead_of_inc else at.add(y)
        starts, sizes = window
        y = jnp.broadcast_to(jnp.asarray(y, x.dtype), sizes)
        if not op.set_instead_of_inc:
            y = jax.lax.dynamic_slice(x, starts, sizes) + y
        return jax.lax.dynamic_update_slice(x, y, starts)
    return inc


def _contiguous_window(key, shape):
    """(starts, sizes) of a key of step-1 slices (x[2:5, :]), else None.  Writing such a block is a
    dynamic_update_slice: cheaper than the scatter .at[] makes, and a scatter over the whole array
    trips XLA's simplifier (the gradient of an RNN's go_backwards loop)."""
    if len(key) > len(shape) or not all(isinstance(k, slice) for k in key):
        return None
    starts, sizes = [], []
    for k, n in zip(tuple(key) + (slice(None),) * (len(shape) - len(key)), shape):
        start, stop, step = k.indices(n)
        if step != 1:
            return None
        starts.append(start)
        sizes.append(max(stop - start, 0))
    return starts, sizes


@lower.register(scatter.ScatterReduce)
def _(op, node):
    method = {"max": "max", "min": "min", "mul": "multiply"}[op.reduction]
    return lambda x, indices, updates: getattr(jnp.asarray(x).at[tuple(jnp.asarray(indices).T)], method)(updates)


@lower.register(shape.Arange)
def _(op, node):
    return lambda a, b, c: jnp.arange(int(a) if op.dtype.startswith("int") else a, b, c, dtype=op.dtype)


@lower.register(shape.Alloc)
def _(op, node):
    return lambda v, s: jnp.full(tuple(int(d) for d in np.asarray(s)), v, dtype=node.outputs[0].dtype)


@lower.register(linalg.Matmul)
def _(op, node):
    return lambda a, b: jnp.matmul(a, b, precision=nn.FLOAT32_PRODUCTS)


@lower.register(linalg.Gemm)   # XLA fuses the scaling and the sum into the product
def _(op, node):
    def gemm(c, alpha, a, b, beta):
        xk.check_gemm_shapes(c, a, b)     # shapes are static when jit traces: free at run time
        return beta * c + alpha * jnp.matmul(a, b, precision=nn.FLOAT32_PRODUCTS)
    return gemm


@lower.register(nn_ops.Softmax)   # jax.nn's own, in place of the shared kernel
def _(op, node):
    return lambda x: jax.nn.softmax(x, axis=op.axis)


@lower.register(nn_ops.LogSoftmax)
def _(op, node):
    return lambda x: jax.nn.log_softmax(x, axis=op.axis)


@lower.register(random.RandomVariable)
def _(op, node):
    # one trial is a Bernoulli draw: chosen from the graph, not from the value, which jit traces, so
    # that a graph draws the same numbers whether or not the caller jits it (Keras's stateless steps)
    sample = _bernoulli if op.dist == "binomial" and _is_one(node.inputs[2]) else SAMPLERS[op.dist]

    def draw(key, size, *params):
        next_key, sub = jax.random.split(key)
        size = tuple(int(s) for s in np.asarray(size))
        xk.check_draw_shape(op, size, params)
        return next_key, sample(sub, *params, size).astype(op.dtype)
    return draw


SAMPLERS = {"uniform": lambda key, low, high, size: jax.random.uniform(key, size, minval=low, maxval=high),
            "normal": lambda key, mean, std, size: mean + std * jax.random.normal(key, size),
            "binomial": lambda key, n, p, size: jax.random.binomial(key, n, p, size),
            "gamma": lambda key, k, theta, size: theta * jax.random.gamma(key, k, size),
            "randint": lambda key, low, high, size: jax.random.randint(key, size, low, high),
            "poisson": lambda key, lam, size: jax.random.poisson(key, lam, size)}


register_linalg(lower, jnp, jnp.linalg, jax.scipy.linalg)
register_fourier(lower, jnp.fft)
lower.register(*elemwise_math.UFUNCS)(lambda op, node: getattr(jnp, op.name))
lower.register(While)(while_kernel)
lower.register(Scan)(scan_kernel)   # jax.lax.scan of the step graph


def concrete_inputs(node):
    """Input positions whose values jax needs as Python numbers while tracing, because they
    decide a shape: reshape targets, alloc and random sizes, arange bounds, slice bounds, a scan's number of
    steps."""
    op = node.op
    if isinstance(op, Scan):
        return tuple(range(len(node.inputs))) if op.until else (0,)    # until: the loop runs on the host
    if isinstance(op, (shape.Reshape, shape.Alloc, random.RandomVariable)):
        return (1,)
    if isinstance(op, tuple(xk.VALUE_SHAPED)):
        return tuple(range(len(node.inputs)))
    if isinstance(op, shape.Arange):
        return (0, 1, 2)
    if isinstance(op, (indexing.Subtensor, indexing.IncSubtensor)):
        first = 1 if isinstance(op, indexing.Subtensor) else 2
        slots = [v[1] for e in op.spec if isinstance(e, tuple) and e[0] == "slice" for v in e[1:]
                 if isinstance(v, tuple)]
        return tuple(first + k - 1 for k in slots)
    return ()


def _is_one(variable):
    """Whether a graph variable is the constant 1."""
    return isinstance(variable, Constant) and variable.data.size == 1 and variable.data.item() == 1


def _bernoulli(key, n, p, size):
    return jax.random.bernoulli(key, p, size)


@lower.register(*xk.VALUE_SHAPED)
def _(op, node):
    """Under jit the inputs are static (concrete_inputs) and the numpy kernel runs; a tracer gets here
    only inside a traced loop, where the output's length cannot be known."""
    kernel = xk.VALUE_SHAPED[type(op)](op)

    def on_values(*args):
        traced = [a for a in args if isinstance(a, jax.core.Tracer)]
        if traced:
            raise ValueError("%s is known only from the values of %s, which jax traces without here (inside "
                             "a scan loop); use the numpy or theano backend"
                             % (xk.VALUE_SHAPED_COUNTS[type(op)], traced[0].aval))
        return kernel(*args)
    return on_values


@lower.register_host
def _(op, node):
    """An op's Python perform (as_op's, a Theano op's), called back on the host with the arrays copied there."""
    def call_on_host(*arrays):
        if not any(isinstance(a, jax.core.Tracer) for a in arrays):   # run op by op: the values are here
            return run_perform(op, node, map(np.asarray, arrays))
        shapes = host_output_shapes(op, node, [a.shape for a in arrays])
        results = [jax.ShapeDtypeStruct(s, o.dtype) for s, o in zip(shapes, node.outputs)]
        host = lambda *values: run_perform(op, node, map(np.asarray, values))   # noqa: E731
        return jax.pure_callback(host, results[0] if len(results) == 1 else tuple(results), *arrays)
    return call_on_host


@lower.register(JaxFunctionOp)
def _(op, node):
    """The jax function inline: jax.jit fuses it with the graph around it."""
    return as_kernel(op.fn)

"""The theano backend: the graph lowered to PyTensor and compiled by PyTensor.

On CPU PyTensor's C linker ("cvm") runs the rewritten graph as generated C code
with BLAS; on a GPU its JAX linker hands the graph to XLA, compiled once per
input shape because JAX needs static shapes.  Shared values are ordinary inputs,
so a shared variable keeps one logical value across backends.
"""
import io

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.compile.debug.profiling import ProfileStats
from pytensor.compile.mode import Mode, get_mode
from pytensor.graph.rewriting.basic import dfs_rewriter, node_rewriter
from pytensor.tensor.math import Prod, Sum

from backends import get_backend, installed
from backends.base import Backend, Plan
from backends.theano import blas
from backends.theano.kernels import SPECIFY_SHAPE_LIFT, conform, lower
from backends.theano.reference import register_jax
from mlcore import config


def configure():
    """PyTensor settings for mlcore, applied before anything compiles.

    BLAS for Gemm, the module cache under mlcore's home, and the C linker as the
    default for graphs PyTensor compiles on its own (an OpFromGraph's inner graph):
    PyTensor 3 defaults to Numba, whose first call can take minutes for a convnet.
    """
    blas.configure_blas()
    blas.configure_cache(config.home())
    if pytensor.config.linker == "auto":
        pytensor.config.linker = "cvm"


configure()


@node_rewriter([Sum, Prod])
def accumulate_in_output_dtype(fgraph, node):
    """PyTensor's JAX CAReduce returns its accumulator's dtype (float64 by default for a float32 sum),
    which then spreads through the graph; accumulating in the output's dtype avoids it, as XLA does."""
    (x,), (out,) = node.inputs, node.outputs
    if node.op.acc_dtype == out.dtype:
        return False
    return [node.op.clone(acc_dtype=out.dtype)(x)]


# local_reshape_lift moves an elementwise op below a Reshape (tanh(reshape(x)) for reshape(tanh(x))):
# a convnet's tanh, reshaped for pooling and read again by its gradient (1 - tanh^2), was then computed
# twice, once per form, and PyTensor's C tanh is scalar code (2.6 ms for the batch-60 32x32 net's first layer).
# SPECIFY_SHAPE_LIFT (kernels.py) fails on the SpecifyShapes conform() makes of partly known shapes.
C_MODE = Mode(linker="cvm", optimizer="fast_run").excluding("local_reshape_lift", SPECIFY_SHAPE_LIFT)
# PyTensor's BLAS has no float16: its rewrite of a float16 dot into gemv or ger fails (printing a traceback)
# and is skipped; a graph with float16 values (a mixed-precision model's) is compiled without it.
C_MODE_FLOAT16 = C_MODE.excluding("local_gemm_to_gemv")
JAX_MODE = get_mode("JAX").register((dfs_rewriter(accumulate_in_output_dtype), 100))


class ConformingLowering:
    """The kernel table with each result given the node's exact dtype and known static shape."""

    def kernel(self, node):
        kernel = lower.kernel(node)
        if len(node.outputs) == 1:
            return lambda *args: conform(kernel(*args), node.outputs[0].type)
        return lambda *args: [conform(r, o.type) for r, o in zip(kernel(*args), node.outputs)]


def pytensor_function(plan, fgraph, shapes, mode, profile=None, fixed=None, donate=()):
    """Run the plan on PyTensor inputs of the given static shapes and compile the result.

    fixed: values, by input position, compiled in as constants (the input is then ignored).
    donate: input positions PyTensor may overwrite (In(mutable=True)), so that its inplace
    rewrites update a weight in its own buffer, as its own shared-variable updates do.
    """
    inputs = [pt.tensor(dtype=v.dtype, shape=s) for v, s in zip(fgraph.inputs, shapes)]
    for tensor, v in zip(inputs, fgraph.inputs):   # set after: pt.tensor refuses a name like "half" or "int8"
        tensor.name = v.name
    fixed = fixed or {}
    values = [pt.constant(fixed[k]) if k in fixed else v for k, v in enumerate(inputs)]
    outputs = plan.run(values, [pt.constant(c.data, name=c.name) for c in plan.constants])
    ins = [pytensor.In(v, mutable=k in donate) for k, v in enumerate(inputs)]
    fn = pytensor.function(ins, outputs, mode=mode, profile=profile, on_unused_input="ignore")
    fn.trust_input = True   # mlcore.Function has checked dtypes and shapes; jax arrays then stay on the device
    return fn


class TheanoBackend(Backend):
    name = "theano"
    lowering = lower
    description = "PyTensor: its graph rewrites, then its C linker (cvm, BLAS) on CPU, its JAX linker on GPU"

    def devices(self):
        if installed("jax") and "gpu" in get_backend("jax").devices():
            return ["cpu", "gpu"]
        return ["cpu"]

    def compiles_per_shape(self, device):
        return device == "gpu"   # the JAX linker: XLA, static shapes

    def native_arrays_on(self, device):
        """On the GPU the JAX linker's functions take jax arrays where they are, on the device."""
        return get_backend("jax").native_arrays if device == "gpu" else ()

    def adopt(self, value, device):
        if device == "gpu":
            return get_backend("jax").adopt(value, device)
        return np.asarray(value)

    def compile(self, fgraph, device=None, profile=None, donate=()):
        """donate: shared inputs this function replaces; on the CPU PyTensor may overwrite them
        (mlcore.Function keeps every shared variable in a buffer of its own)."""
        device = self.check_device(device)
        dtypes = _dtypes(fgraph)
        missing = sorted(dtypes & {"bfloat16", "float8_e4m3fn", "float8_e5m2"})
        if missing:     # PyTensor's tensors have none: say so before its lowering fails deep inside
            raise TypeError("The theano backend cannot compute in %s: PyTensor has no %s dtype. Use the jax or "
                            "numpy backend%s" % (missing[0], missing[0],
                                                 ", or the mixed_float16 policy" * (missing[0] == "bfloat16")))
        return compile_graph(fgraph, "JAX" if device == "gpu" else "C", profile, donate,
                             C_MODE_FLOAT16 if "float16" in dtypes else C_MODE)


def _dtypes(fgraph):
    """The dtypes of the graph's values."""
    return {v.dtype for v in fgraph.inputs} | _node_dtypes(fgraph.toposort())


def _node_dtypes(nodes):
    """The dtypes the nodes compute, inside fused composites and OpFromGraph's graphs (custom gradients) too."""
    from mlcore.compile.builders import OpFromGraph
    from mlcore.graph.basic import toposort
    found = set()
    for node in nodes:
        found |= {out.dtype for out in node.outputs} | set(getattr(node.op, "dtypes", ()))
        found |= {getattr(step, "dtype", None) for step, _ in getattr(node.op, "program", ())}     # a Composite's
        if isinstance(node.op, OpFromGraph):
            found |= _node_dtypes(toposort(node.op.outputs))
    return found


def compile_graph(fgraph, linker="C", profile=None, donate=(), c_mode=C_MODE):
    """fgraph as a PyTensor function, with PyTensor's "C" linker (in c_mode) or its "JAX" linker."""
    plan = Plan(fgraph, ConformingLowering())
    stats = None
    if profile is not None:
        stats = ProfileStats(atexit_print=False, name=profile.name)
        profile.extra = lambda: _summary(stats)
    if linker == "JAX":
        return per_shape(plan, fgraph, stats)
    return pytensor_function(plan, fgraph, [v.type.shape for v in fgraph.inputs], c_mode, stats, donate=donate)


def per_shape(plan, fgraph, stats=None):
    """The graph under PyTensor's JAX linker, compiled for each new set of input shapes and of the
    input values that decide shapes (slice bounds, reshape targets): XLA needs them all static."""
    from backends.jax.compiler import static_positions
    register_jax()
    static = static_positions(fgraph)
    dtypes = [v.dtype for v in fgraph.outputs]
    compiled = {}

    def run(*inputs):
        key = tuple(np.shape(v) for v in inputs), tuple(np.asarray(inputs[k]).tobytes() for k in static)
        if key not in compiled:
            fixed = {k: np.asarray(inputs[k]) for k in static}
            compiled[key] = pytensor_function(plan, fgraph, key[0], JAX_MODE, stats, fixed=fixed)
        with float32_products():   # PyTensor's jax dots and convolutions in float32, as mlcore's own
            results = compiled[key](*inputs)
        # The JAX linker makes 0-d constants Python scalars, so an Alloc of one comes back float64.
        return [v if v.dtype == d else v.astype(d) for v, d in zip(results, dtypes)]
    return run


def float32_products():
    """jax's matmul-precision setting for the calls of PyTensor's JAX linker (it passes none itself),
    read when jax traces and part of its cache key."""
    import jax
    from backends.jax.nn import FLOAT32_PRODUCTS
    return jax.default_matmul_precision(FLOAT32_PRODUCTS.name.lower())


def _summary(stats):
    text = io.StringIO()
    stats.summary(file=text)
    return text.getvalue()

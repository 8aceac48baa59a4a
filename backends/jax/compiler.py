"""The jax backend: the graph is traced once into one jax.jit function.

Shared variables live on the device as jax arrays between calls; the buffers
of the shared variables a function updates are donated to it, so XLA can write
the new values in place.

Shapes must be concrete while jax traces.  Shape arithmetic (x.shape[0] * 2)
therefore runs on numpy values during tracing, and the inputs that decide a
shape (a symbolic slice bound, a reshape target) are static arguments of the
jit: it retraces for each new value, as jax.jit's static_argnums does.
"""
import functools
import math
import operator
import os
from functools import partial

import jax
import numpy as np

from backends import array_api as xk
from backends.base import Backend, Plan
from backends.jax import sharding
from backends.jax.kernels import concrete_inputs, lower
from backends.numpy.interpreter import NumpyLowering
from mlcore import config, distribution
from mlcore.compile.ops import output_shapes_known_when_traced
from mlcore.graph.basic import SharedVariable
from mlcore.graph.ops.elemwise import Elemwise
from mlcore.graph.ops.scan import Scan, While
from mlcore.graph.ops.shape import Shape

jax.config.update("jax_enable_x64", True)  # float64 graphs stay float64; float32 ones keep explicit dtypes

MIN_CACHED_COMPILE_SECONDS = 0.1   # a faster compilation is not worth a file


def configure_cache(home):
    """Keep XLA's compiled programs on disk in <home>/jax, as the theano backend keeps PyTensor's C
    modules in <home>/pytensor (Theano's compiledir): a process that compiles a graph an earlier one
    compiled (a script run again, a model fitted again) loads it instead.  The user's own choice
    (JAX_COMPILATION_CACHE_DIR, jax.config, JAX_ENABLE_COMPILATION_CACHE=false) wins."""
    if jax.config.jax_compilation_cache_dir is None:
        jax.config.update("jax_compilation_cache_dir", os.path.join(home, "jax"))
        if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:   # jax's default: 1 s
            jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_CACHED_COMPILE_SECONDS)


configure_cache(config.home())


def typed(kernel, node):
    """kernel with its results in the node's dtypes: jnp promotes otherwise than mlcore's types
    (float32 * int64 is float64 in jax with x64); converting is free where they agree."""
    dtypes = [np.dtype(o.dtype) for o in node.outputs]

    def run(*args):
        results = kernel(*args)
        results = [results] if len(dtypes) == 1 else results
        results = [r if r.dtype == d else r.astype(d) for r, d in zip(results, dtypes)]
        return results[0] if len(dtypes) == 1 else results
    return run


class ConcreteFirst:
    """The jax kernels, except that a node whose inputs are all numpy arrays runs its numpy
    kernel, so that shape arithmetic stays concrete under jit (jnp would stage it out)."""

    def __init__(self):
        self.numpy = NumpyLowering()

    def kernel(self, node):
        traced, concrete = typed(lower.kernel(node), node), self.numpy.coerced_kernel(node)
        if isinstance(node.op, Elemwise):
            traced = xk.broadcast_checked(traced, node)     # at trace time: free under jit

        def run(*args):
            return concrete(*args) if all(isinstance(a, np.ndarray) for a in args) else traced(*args)
        return run


def traceable(nodes):
    """Whether jit can trace these nodes: not when an op run on the host (as_op's, a Theano op's
    perform) gives outputs whose shapes neither its infer_shape nor its types tell; the graph then
    runs op by op, as Theano's own linker runs a perform, each jax kernel dispatched alone."""
    return all(lower.lookup(type(node.op)) is not lower.host_factory
               or output_shapes_known_when_traced(node.op, node) for node in nodes)


def static_positions(fgraph):
    """Positions of fgraph.inputs whose values flow into a shape (seen through any op but Shape)."""
    position = {id(v): k for k, v in enumerate(fgraph.inputs)}
    pending = [node.inputs[k] for node in fgraph.toposort() for k in concrete_inputs(node)]
    found, seen = set(), set()
    while pending:
        var = pending.pop()
        if id(var) in seen:
            continue
        seen.add(id(var))
        if id(var) in position:
            found.add(position[id(var)])
        elif var.owner is not None and not isinstance(var.owner.op, Shape):
            pending.extend(var.owner.inputs)
    return tuple(sorted(found))


class Static:
    """A numpy value as a jit static argument: hashed and compared by content."""

    def __init__(self, value):
        self.value = np.asarray(value)
        self.key = (self.value.dtype.str, self.value.shape, self.value.tobytes())

    def __hash__(self):
        return hash(self.key)

    def __eq__(self, other):
        return isinstance(other, Static) and self.key == other.key


# XLA's CPU backend hands dots and the ops around them to YNNPACK "library fusions".  Behind a
# huge weight they can go badly wrong: VGG16's classifier (a 25088x4096 weight, fc2, fc3, softmax) took
# 846 ms at batch 8 with them and 15 ms without (the same chain without the softmax, or with a
# 512x4096 first weight, runs as fast either way).  A program holding an array of more than
# HUGE_ARRAY_ELEMENTS turns them off; any other keeps XLA's defaults, under which YNNPACK multiplies
# faster than XLA's own dot: measured against Keras 3 on jax (same weights, CPU), a 28x28 convnet's
# inference ran 0.49x of Keras's speed with them off and 1.00x with them on, a small transformer
# block's training step 1.16x and 1.46x, an LSTM(256)'s 0.57x and 1.03x.
HUGE_ARRAY_ELEMENTS = 1 << 24
CPU_COMPILER_OPTIONS = {"xla_cpu_experimental_ynn_fusion_type": ""}   # "": no library fusions


# XLA's CPU fusion emitters (its default) take about twice the compile time of its older loop
# emitters.  In a loop over small arrays (a recurrent layer's step) the loop emitters' code also runs
# faster: paired with Keras 3 on jax (benchmarks/recurrent.py), LSTM(64) inference 0.95x of Keras's speed
# with them and 0.88x with the fusion emitters, two stacked LSTMs 0.96x and 0.88x.  Elsewhere the fusion
# emitters pay: a Conv1D net's training step ran 0.76x of Keras's with loop emitters, 1.06x without, and
# the 784-500-10 MLP's step 1.4x slower with loop emitters at every batch size; the Sonar example 0.1 s
# slower to compile with the fusion emitters (0.7 s instead of 0.6 s for its whole fit).
SMALL_PROGRAM_OPTIONS = {"xla_cpu_use_fusion_emitters": False}
SMALL_ARRAY_ELEMENTS = 16384


# XLA's GPU backend records runs of kernels as CUDA graphs ("command buffers"), one launch each, but
# leaves a run shorter than 5 thunks to launch kernel by kernel, each a few microseconds of the host.
# A small training step is such a chain of short runs between cuDNN convolutions: measured on an H100
# (paired rounds, benchmarks/results/gpu-h100/paired-ab.md), every run as a graph made the 32x32 net's
# batch-1 step 8% faster and ConvLarge's 5%, and left the MLP's steps as they were.
GPU_COMPILER_OPTIONS = {"xla_gpu_graph_min_graph_size": 1}


@functools.lru_cache(maxsize=None)
def compiler_options(device, small=False):
    """The options for mlcore's jits on device (small: a program of small arrays only), or None
    where this XLA does not know them."""
    if device != "cpu":
        if small:   # the GPU's options are the same for every program: one probe, not one per size
            return compiler_options(device)
        return GPU_COMPILER_OPTIONS if xla_knows(device, GPU_COMPILER_OPTIONS) else None
    options = SMALL_PROGRAM_OPTIONS if small else CPU_COMPILER_OPTIONS
    if xla_knows(device, options):
        return options
    return compiler_options(device) if small else None   # an XLA without the option: its defaults


def xla_knows(device, options):
    """Whether this XLA compiles a program for device with options (an unknown option fails)."""
    probe = jax.device_put(np.float32(0), jax.local_devices(backend=device)[0])   # not the default device
    try:
        compile_always_cached(jax.jit(lambda x: x + 1, compiler_options=options), probe)
    except Exception:
        return False
    return True


def program_options(device, nodes):
    """The compiler options for the jit of a program made of these nodes: on the CPU, YNNPACK fusions
    off behind a huge array, XLA's loop emitters for a loop over small arrays, XLA's defaults otherwise;
    the device's own on a GPU."""
    largest = largest_array(nodes)
    if device != "cpu" or largest > HUGE_ARRAY_ELEMENTS:
        return compiler_options(device)
    if largest <= SMALL_ARRAY_ELEMENTS and any(isinstance(node.op, (Scan, While)) for node in nodes):
        return compiler_options(device, small=True)
    return None


def largest_array(nodes):
    """The most elements of an array the nodes read or make, counting an unknown (batch) dim as 1: the
    weights (a shared variable's value, whose dims Theano-style code leaves free) and one sample's
    activations decide."""
    return max((math.prod(d or 1 for d in _known_shape(v)) for node in nodes for v in node.inputs + node.outputs),
               default=0)


def _known_shape(variable):
    if isinstance(variable, SharedVariable):
        return np.shape(variable.container_value)
    return getattr(variable.type, "shape", ())


def compile_always_cached(jitted, *args):
    """Call jitted once, its compilation kept in the persistent cache however quick it was: the
    options probe above takes 0.07 s, which every process would pay again (its own cache lookup
    takes a few ms)."""
    minimum = jax.config.jax_persistent_cache_min_compile_time_secs
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    try:
        return jitted(*args)
    finally:
        jax.config.update("jax_persistent_cache_min_compile_time_secs", minimum)


def default_device():
    """The device jit puts numpy arrays on: jax's default (the GPU wherever there is one)."""
    chosen = jax.config.jax_default_device
    if chosen is None:
        return jax.devices()[0]
    return jax.devices(chosen)[0] if isinstance(chosen, str) else chosen


def on_device(value, target):
    """A numpy input put on target, for a function whose device is not jax's default (a CPU function
    on a GPU machine).  jax arrays are left alone: device_put costs tens of microseconds even when
    they are already there, and one elsewhere makes jit raise rather than copy behind the caller's back."""
    return jax.device_put(value, target) if isinstance(value, np.ndarray) else value


class JaxBackend(Backend):
    name = "jax"
    lowering = lower
    native_arrays = (jax.Array,)   # inputs already on the device stay there
    description = "one jax.jit per function (XLA), shared values on the device, donated buffers"

    def compiles_per_shape(self, device):
        return True

    def devices(self):
        kinds = ["cpu"]
        try:
            if jax.devices("gpu"):
                kinds.append("gpu")
        except RuntimeError:
            pass
        return kinds

    @functools.lru_cache(maxsize=None)
    def jax_device(self, device):
        return jax.local_devices(backend=device or "cpu")[0]  # this process's own, also on several hosts

    def adopt(self, value, device):
        mesh = sharding.active_mesh()
        if mesh is not None:  # a distribution: as its layout put it, else replicated (sharding.py)
            return sharding.on_mesh(value, mesh)
        target = self.jax_device(device)
        if isinstance(value, jax.Array) and not value.is_deleted() and value.devices() == {target}:
            return value  # already there: the common case, once per shared variable per call
        return jax.device_put(np.asarray(value), target)

    def compile(self, fgraph, device=None, profile=None, donate=()):
        device = self.check_device(device)
        plan = Plan(fgraph, ConcreteFirst())
        constants = [c.data for c in plan.constants]
        target = self.jax_device(device)
        static = static_positions(fgraph)
        batched = sharding.batch_inputs(fgraph)
        single = len(fgraph.outputs) == 1

        op_by_op = profile is not None or not traceable(plan.nodes)
        if op_by_op:   # inputs on the device, so jax's kernels run; each node timed when profiled
            timer = None
            if profile is not None:
                profile.block, timer = jax.block_until_ready, profile.timer

            def run_graph(*inputs):
                inputs = [jax.device_put(v, target) if isinstance(v, np.ndarray) and k not in static else v
                          for k, v in enumerate(inputs)]
                return plan.run(inputs, constants, timer)
        else:
            checks = [(k, var) for k, var in enumerate(fgraph.inputs) if k not in static]
            downcast = getattr(fgraph, "allow_input_downcast", False)   # set by mlcore.function

            def traced(*inputs):
                inputs = [v.value if isinstance(v, Static) else v for v in inputs]
                for k, var in checks:   # once per new signature: jit traces only then
                    target = var.type.check_abstract(inputs[k].dtype, inputs[k].shape, var, downcast)
                    if target is not None:
                        inputs[k] = inputs[k].astype(target)
                outputs = plan.run(inputs, constants)
                return outputs[0] if single else outputs   # one array: no list for jit to build
            options = program_options(device, plan.nodes)
            jitted = jax.jit(traced, static_argnums=static, compiler_options=options,
                             donate_argnums=tuple(d for d in donate if d not in static))

            def run_graph(*inputs):
                results = jitted(*(Static(v) if k in static else v for k, v in enumerate(inputs)))
                return [results] if single else results
            if not static and not single:
                run_graph = jitted

        moves_inputs = target != default_device()

        def run_elsewhere(inputs):
            mesh = sharding.active_mesh()
            if mesh is not None:  # a distribution: inputs sharded or replicated over the mesh (sharding.py)
                return run_graph(*sharding.place(inputs, mesh, batched, static))
            return run_graph(*[v if k in static else on_device(v, target) for k, v in enumerate(inputs)])

        def run(*inputs):
            if distribution._active is None and not moves_inputs:   # then straight to jit's C++ path
                return run_graph(*inputs)
            return run_elsewhere(inputs)
        run.plan, run.moves_inputs = plan, moves_inputs
        run.jitted = None if op_by_op else jitted
        # a single output straight from jit's C++ dispatch (Backend.array_call)
        run.single_output_jit = jitted if not op_by_op and single and not static and not moves_inputs else None
        run.checks_inputs = not op_by_op and not static   # numpy arrays may come in unchecked
        return run

    def trace_function(self, fgraph):
        """The graph as a plain function of jax values (inputs, then shared values), without jit:
        jax transformations of the caller's code (jax.grad, jax.jit) trace through it.  Keras's
        stateless API runs on it (mlcore/stateless.py)."""
        plan = Plan(fgraph, ConcreteFirst())
        constants = [c.data for c in plan.constants]
        return lambda *values: plan.run(list(values), constants)

    def compile_steps(self, fgraph, n_inputs, carried, device=None, step=None):
        """The steps as one jax.lax.scan: shared values are the carry, inputs are scanned over."""
        device = self.check_device(device)
        batched = sharding.batch_inputs(fgraph)
        plan = Plan(fgraph, ConcreteFirst())
        constants = [c.data for c in plan.constants]

        def body(shared, inputs):
            outputs = plan.run(list(inputs) + list(shared), constants)
            n = len(outputs) - len(carried)
            shared = list(shared)
            for position, value in zip(carried, outputs[n:]):
                shared[position] = value
            return tuple(shared), tuple(outputs[:n])

        @partial(jax.jit, donate_argnums=(1,), compiler_options=program_options(device, plan.nodes))
        def run_scan(stacked, shared):
            final, outputs = jax.lax.scan(body, tuple(shared), tuple(stacked))
            return list(outputs), list(final)

        target = self.jax_device(device)
        moves_inputs = target != default_device()

        def run(stacked, shared):
            mesh = sharding.active_mesh()
            if mesh is not None:  # a distribution: the batch is axis 1 of the stacked inputs (sharding.py)
                stacked = sharding.place(stacked, mesh, batched, batch_axis=1)
            elif moves_inputs:
                stacked = [on_device(v, target) for v in stacked]
            return run_scan(tuple(stacked), tuple(shared))
        return run

    def host_copier(self, device):
        """A function's outputs as numpy arrays of their own, writable as Theano's were (code writes
        into them: `pred[pred > 0.5] = 1`).  np.asarray would read a jax array on the CPU in place,
        read-only, so np.array copies it.  An array on a GPU refuses the buffer protocol by raising
        an error, which costs more than the copy of a small result (about 15 us on an H100's host):
        its __array__(copy=True) copies it at once, and its host copy is read-only too."""
        return np.array if device == "cpu" else operator.methodcaller("__array__", copy=True)

    def to_numpy(self, value, host_copy=np.asarray):
        if distribution._active is None:
            return host_copy(value)
        return sharding.to_numpy(value)   # this process's rows of an array spread over hosts

    def outputs_to_numpy(self, results, n, host_copy):
        if distribution._active is None:
            return [host_copy(r) for r in results[:n]]
        return [sharding.to_numpy(r) for r in results[:n]]

    def array_call(self, fn):
        return fn.single_output_jit

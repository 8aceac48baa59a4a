"""What a backend is, and the pieces every backend shares.

A backend has a name, devices(), and compile(fgraph, device) -> a callable that
maps input arrays (explicit inputs, then shared values) to output arrays (the
outputs, then the new shared values).  It finds the numeric side of each Op in
its own Lowering table, by Op class, as PyTensor's funcify and JAX's side
tables do.
"""
import numpy as np

from mlcore.graph.basic import Constant


class Lowering:
    """A table from Op classes to kernel factories: factory(op, node) -> fn(*arrays)."""

    def __init__(self, backend_name):
        self.backend_name = backend_name
        self.table = {}
        self.host_factory = None      # for ops written as Theano's, with a Python perform()

    def register(self, *op_classes):
        def decorate(factory):
            for cls in op_classes:
                self.table[cls] = factory
            return factory
        return decorate

    def register_host(self, factory):
        """The factory for any op class without an entry that has Theano's perform(node, inputs,
        output_storage): a user's op, or as_op's, run on the host (mlcore/compile/ops.py)."""
        self.host_factory = factory
        return factory

    def lookup(self, op_class):
        """The factory for op_class or its nearest base class, else the host factory for an op
        with a perform(), or None."""
        for cls in op_class.__mro__:
            if cls in self.table:
                return self.table[cls]
        return self.host_factory if callable(getattr(op_class, "perform", None)) else None

    def kernel(self, node):
        factory = self.lookup(type(node.op))
        if factory is None:
            raise NotImplementedError("The %s backend has no kernel for %s" % (self.backend_name, node.op))
        return factory(node.op, node)


def as_array_of(value, dtype):
    """A kernel's result as an array of the graph's declared dtype."""
    value = np.asarray(value)
    return value if value.dtype == dtype else value.astype(dtype)


class Plan:
    """A graph flattened for execution: value slots, steps and when each slot dies.

    Slots hold the inputs first, then constants, then each node's outputs.  A
    value is dropped after its last use, which keeps the memory of big models
    (VGG16's activations) down in interpreters.
    """

    def __init__(self, fgraph, lowering, coerce_results=False):
        self.nodes = fgraph.toposort()
        slot = {}
        for var in fgraph.inputs:
            slot.setdefault(id(var), len(slot))
        self.n_inputs = len(fgraph.inputs)
        self.constants = []
        for node in self.nodes:
            for var in node.inputs:
                if id(var) not in slot and var.owner is None:
                    if not isinstance(var, Constant):
                        raise ValueError("The graph needs %s, which is not among the function's inputs; "
                                         "add it to inputs or givens" % (var,))
                    slot[id(var)] = len(slot)
                    self.constants.append(var)
        for var in fgraph.outputs:
            if id(var) not in slot and isinstance(var, Constant):
                slot[id(var)] = len(slot)
                self.constants.append(var)
            elif id(var) not in slot and var.owner is None:
                raise ValueError("Output %s is not computed from the function's inputs" % (var,))
        self.steps = []
        for node in self.nodes:
            for out in node.outputs:
                slot[id(out)] = len(slot)
            self.steps.append((lowering.kernel(node), [slot[id(i)] for i in node.inputs],
                               [slot[id(o)] for o in node.outputs], node))
        self.n_slots = len(slot)
        self.output_slots = [slot[id(o)] for o in fgraph.outputs]
        keep = set(self.output_slots) | set(range(self.n_inputs))
        last_use = {}
        for k, (_, ins, _, _) in enumerate(self.steps):
            for s in ins:
                last_use[s] = k
        self.free_after = [[s for s in set(ins) if last_use[s] == k and s not in keep]
                           for k, (_, ins, _, _) in enumerate(self.steps)]
        # coerce_results (numpy kernels, which may return numpy scalars or a wider dtype): each result
        # made an array of its node's dtype here in the loop, not by a wrapper per kernel (two frames)
        self.result_dtypes = [[np.dtype(o.dtype) for o in node.outputs] if coerce_results else None
                              for node in self.nodes]

    def run(self, inputs, constant_values, timer=None):
        """Execute the steps on concrete or traced values; returns the output values."""
        values = [None] * self.n_slots
        values[:self.n_inputs] = inputs
        values[self.n_inputs:self.n_inputs + len(constant_values)] = constant_values
        for (kernel, ins, outs, node), dead, dtypes in zip(self.steps, self.free_after, self.result_dtypes):
            args = [values[s] for s in ins]
            result = kernel(*args) if timer is None else timer(node, kernel, args)
            if len(outs) == 1:
                if dtypes is not None and (type(result) is not np.ndarray or result.dtype is not dtypes[0]):
                    result = as_array_of(result, dtypes[0])
                values[outs[0]] = result
            else:
                if dtypes is not None:
                    result = [as_array_of(r, d) for r, d in zip(result, dtypes)]
                for s, r in zip(outs, result):
                    values[s] = r
            for s in dead:
                values[s] = None
        return [values[s] for s in self.output_slots]


class Backend:
    """Base class: subclasses set name and lowering, and implement compile()."""

    name = None
    lowering = None
    native_arrays = ()   # array classes a compiled function takes as they are, besides numpy's

    def devices(self):
        return ["cpu"]

    def native_arrays_on(self, device):
        """The array classes a function compiled for device takes as they are."""
        return self.native_arrays

    def compiles_per_shape(self, device):
        """Whether each new input shape costs a compilation (XLA: fit then pads a short batch)."""
        return False

    def check_device(self, device):
        device = device or "cpu"
        if device not in self.devices():
            raise RuntimeError("The %s backend has no %r device here; devices: %s"
                               % (self.name, device, ", ".join(self.devices())))
        return device

    def compile(self, fgraph, device=None, profile=None, donate=()):
        """A callable for fgraph.  donate: input positions whose buffers the callable may reuse
        (shared values that it also returns updated).  profile: a mlcore.profiling.Profile."""
        raise NotImplementedError

    def compile_steps(self, fgraph, n_inputs, carried, device=None, step=None):
        """A callable (stacked inputs, shared values) -> (stacked outputs, final shared values)
        running fgraph once per leading index; carried[k] is the shared position that the
        k-th update output replaces.  Here a Python loop over `step`, the function already
        compiled for fgraph (compiled now if not given)."""
        step = step or self.compile(fgraph, device)

        def run(stacked, shared):
            shared, collected = list(shared), []
            for i in range(len(stacked[0])):
                outputs = step(*[s[i] for s in stacked], *shared)
                n = len(outputs) - len(carried)
                for position, value in zip(carried, outputs[n:]):
                    shared[position] = value
                collected.append([self.to_numpy(o) for o in outputs[:n]])
            return [np.stack(column) for column in zip(*collected)], shared
        return run

    def adopt(self, value, device):
        """A shared variable's stored value in this backend's own array type."""
        return np.asarray(value)

    def host_copier(self, device):
        """A callable copying one of this backend's arrays, computed on device, into a numpy array.
        A C callable where one serves, so that Function.__call__'s fast path adds no Python frame."""
        return np.asarray

    def to_numpy(self, value, host_copy=np.asarray):
        return host_copy(value)

    def outputs_to_numpy(self, results, n, host_copy):
        """The first n results as numpy arrays (the rest are new shared values, kept as they are)."""
        return [host_copy(r) for r in results[:n]]

    def array_call(self, fn):
        """The compiled code's own callable, inputs -> its one output as an array the host copier
        reads, where a call can go straight to it (jax's jit, outside a distribution); else None."""
        return None

    def numpy_call(self, fn, n_outputs, single, host_copy):
        """The whole call of a compiled function without shared values: the inputs (a sequence)
        -> its n_outputs outputs as numpy arrays, or the first alone where single."""
        to_numpy, outputs_to_numpy = self.to_numpy, self.outputs_to_numpy
        if single:
            return lambda inputs: to_numpy(fn(*inputs)[0], host_copy)
        return lambda inputs: outputs_to_numpy(fn(*inputs), n_outputs, host_copy)

    def copy(self, value):
        return np.array(value, copy=True)

    def __repr__(self):
        return "<backend %s>" % self.name

"""A pure jax function as one graph op: how opaque jax code (keras.layers.JaxLayer's call_fn) sits in
an mlcore graph that every backend runs.

    op = JaxFunctionOp(lambda w, x: (jnp.tanh(x @ w),))
    y = op(w, x)                  # fn(*arrays) -> a tuple of arrays; one output comes back alone

The output types come from jax.eval_shape on the inputs' types.  A dim the inputs leave unknown (the
batch) is traced twice, at two sizes, and an output dim that follows it is unknown too, as Keras's jax
backend infers a layer's output spec.  The jax backend calls fn inline, so jax.jit fuses it with the
rest of the graph; the numpy backend runs it jitted on the host; the theano backend wraps that numpy
kernel in a PyTensor Op.  The gradient is another JaxFunctionOp, of jax.vjp of fn, so every backend
differentiates fn as jax does, and again for second derivatives.  jax is imported only when an op is
made, as mlcore's import does not need it.
"""
import numpy as np

from mlcore.graph.basic import Apply, Op, TensorType
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.elemwise import zeros_like

PROBE_SIZES = (83, 89)   # two sizes for an unknown dim: an output dim that differs between them is unknown


def import_jax():
    """jax, set up as mlcore's graphs need it (64-bit types on), which eval_shape must agree with."""
    from mlcore.stateless import jax_numpy
    jax_numpy()
    import jax
    return jax


def _differentiable(variable):
    return np.dtype(variable.dtype).kind == "f"


def as_kernel(fn, convert=None):
    """fn as a backend kernel: its one output alone, else a list; each converted (to numpy) if asked."""
    def kernel(*arrays):
        results = fn(*arrays)
        if convert is not None:
            results = [convert(r) for r in results]
        return results[0] if len(results) == 1 else list(results)
    return kernel


class JaxFunctionOp(Op):
    """fn(*arrays) -> a tuple of arrays, as an op: fn must be pure (jax traces it)."""

    __props__ = ("fn",)

    def __init__(self, fn, name=None):
        if not callable(fn):
            raise TypeError("JaxFunctionOp needs a function of arrays, not %r" % (fn,))
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "jax_function")

    def make_node(self, *inputs):
        inputs = [as_tensor_variable(x) for x in inputs]
        return Apply(self, inputs, self.output_types([x.type for x in inputs]))

    def output_types(self, input_types):
        """The outputs' types, from fn traced on arrays of these types (twice where a dim is unknown)."""
        unknown = any(d is None for t in input_types for d in t.shape)
        probes = [self._trace(input_types, size) for size in (PROBE_SIZES if unknown else PROBE_SIZES[:1])]
        types = []
        for outs in zip(*probes):
            if len({o.dtype for o in outs}) != 1 or len({len(o.shape) for o in outs}) != 1:
                raise ValueError("%s: its outputs' dtypes or ranks change with the size of the inputs' unknown "
                                 "dims (%s); a graph needs them fixed" % (self.name, [o for o in outs]))
            types.append(TensorType(outs[0].dtype, [d[0] if len(set(d)) == 1 else None
                                                    for d in zip(*(o.shape for o in outs))]))
        return types

    def _trace(self, input_types, size):
        jax = import_jax()
        specs = [jax.ShapeDtypeStruct(tuple(size if d is None else d for d in t.shape), t.dtype)
                 for t in input_types]
        try:
            outputs = jax.eval_shape(self.fn, *specs)
        except Exception as error:
            raise ValueError("%s could not be traced on inputs of shapes and dtypes %s (an unknown dim tried as "
                             "%d): %s: %s" % (self.name, [(s.shape, str(s.dtype)) for s in specs], size,
                                              type(error).__name__, error)) from error
        if not isinstance(outputs, (tuple, list)) or not all(hasattr(o, "shape") for o in outputs):
            raise TypeError("%s must return a tuple of arrays, not %r" % (self.name, outputs))
        return outputs

    def pullback(self, inputs, outputs, output_grads):
        """jax.vjp of fn, wrt its float inputs, given the gradients of its float outputs."""
        wrt = tuple(k for k, x in enumerate(inputs) if _differentiable(x))
        seeded = tuple(k for k, o in enumerate(outputs) if _differentiable(o))
        if not wrt or all(output_grads[k] is None for k in seeded):
            return [None] * len(inputs)
        cotangents = [zeros_like(outputs[k]) if output_grads[k] is None else output_grads[k] for k in seeded]
        grads = GradientOp(VectorJacobianProduct(self.fn, len(inputs), wrt, seeded))(*inputs, *cotangents)
        found = dict(zip(wrt, grads if isinstance(grads, list) else [grads]))
        return [found.get(k) for k in range(len(inputs))]


class VectorJacobianProduct:
    """fn's inputs and the cotangents of its outputs at positions `seeded` -> the gradients of its
    inputs at positions `wrt` (jax.vjp); equal for equal arguments, so merge shares it."""

    def __init__(self, fn, n_inputs, wrt, seeded):
        self.fn, self.n_inputs, self.wrt, self.seeded = fn, n_inputs, wrt, seeded
        self.__name__ = "vjp_" + getattr(fn, "__name__", "jax_function")

    def _key(self):
        return (self.fn, self.n_inputs, self.wrt, self.seeded)

    def __eq__(self, other):
        return isinstance(other, VectorJacobianProduct) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __call__(self, *arrays):
        jax = import_jax()
        primals, cotangents = list(arrays[:self.n_inputs]), arrays[self.n_inputs:]

        def of_wrt(*values):
            arguments = list(primals)
            for k, value in zip(self.wrt, values):
                arguments[k] = value
            results = self.fn(*arguments)
            return tuple(results[k] for k in self.seeded)
        outputs, pull = jax.vjp(of_wrt, *[primals[k] for k in self.wrt])
        return pull(tuple(jax.numpy.asarray(c, o.dtype) for c, o in zip(cotangents, outputs)))


class GradientOp(JaxFunctionOp):
    """A JaxFunctionOp of a VectorJacobianProduct: its outputs have the types of the inputs that it
    differentiates, known without tracing (a cotangent's static dims may be ones the inputs lack)."""

    def output_types(self, input_types):
        return [input_types[k] for k in self.fn.wrt]

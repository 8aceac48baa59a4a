"""A PyTensor Op that runs one mlcore node with another backend's kernel for it.

mlcore's convolution, pooling and their gradients resolve "same" padding and the
gradient-as-convolution recipes (backends/array_api.py) from the concrete shapes
at run time, and its random draws are a pure function of a key.  Running the
node's numpy kernel in perform() (and, under PyTensor's JAX linker, the jax
backend's kernel) keeps those rules in one place, works when spatial sizes are
unknown until the call, and matches the reference backend exactly.
"""
import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

from backends.numpy.interpreter import NumpyLowering
from backends.theano.nn import jax_funcify


class ReferenceOp(Op):
    """The mlcore node `node` as a PyTensor Op; its outputs have the node's exact types."""

    __props__ = ("mlcore_op", "output_types")

    def __init__(self, node):
        self.node = node
        self.mlcore_op = node.op
        self.output_types = tuple((o.dtype, o.type.shape) for o in node.outputs)
        self.numpy_kernel = NumpyLowering().kernel(node)

    def make_node(self, *inputs):
        inputs = [pt.as_tensor_variable(i) for i in inputs]
        return Apply(self, inputs, [pt.tensor(dtype=d, shape=s) for d, s in self.output_types])

    def perform(self, node, inputs, output_storage):
        results = self.numpy_kernel(*inputs)
        if len(output_storage) == 1:
            results = [results]
        for storage, value in zip(output_storage, results):
            storage[0] = value

    def __str__(self):
        return str(self.mlcore_op)


if jax_funcify is not None:

    @jax_funcify.register(ReferenceOp)
    def _jax_reference(op, **kwargs):
        """PyTensor's JAX linker runs the node with the jax backend's kernel."""
        from backends.jax.kernels import lower
        return lower.kernel(op.node)

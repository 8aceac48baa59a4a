"""A PyTensor Op that runs one mlcore node with another backend's kernel for it.

mlcore's convolution, pooling and their gradients resolve "same" padding and the
gradient-as-convolution recipes (backends/array_api.py) from the concrete shapes
at run time, and its random draws are a pure function of a key.  Running the
node's numpy kernel in perform() (and, under PyTensor's JAX linker, the jax
backend's kernel) keeps those rules in one place, works when spatial sizes are
unknown until the call, and matches the reference backend exactly.
"""
import functools

import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.tensor.basic import infer_static_shape
from pytensor.tensor.variable import TensorConstant

from backends.numpy.interpreter import NumpyLowering
from mlcore.graph.basic import Constant, TensorType


class ReferenceOp(Op):
    """The mlcore node `node` as a PyTensor Op, computed by its numpy kernel."""

    __props__ = ("mlcore_op",)

    def __init__(self, node):
        self.node = node
        self.mlcore_op = node.op
        self.numpy_kernel = NumpyLowering().coerced_kernel(node)

    def make_node(self, *inputs):
        """Output types from the mlcore op's own rules, applied to what PyTensor knows statically
        of the inputs: under the JAX linker, shapes downstream must be static too."""
        inputs = [pt.as_tensor_variable(i) for i in inputs]
        outputs = self.mlcore_op.make_node(*map(_as_mlcore, inputs)).outputs
        return Apply(self, inputs, [pt.tensor(dtype=o.dtype, shape=o.type.shape) for o in outputs])

    def perform(self, node, inputs, output_storage):
        results = self.numpy_kernel(*inputs)
        if len(output_storage) == 1:
            results = [results]
        for storage, value in zip(output_storage, results):
            storage[0] = value

    def __str__(self):
        return str(self.mlcore_op)


def _as_mlcore(var):
    """An mlcore stand-in for a PyTensor variable: its static type and, for a constant, its value.

    Dims PyTensor left unknown are folded from the shape graph where the inputs make them constant.
    """
    if isinstance(var, TensorConstant):
        return Constant(TensorType(var.type.dtype, var.type.shape), var.data)
    shape = var.type.shape
    if None in shape:
        shape = tuple(p if p is not None else f for p, f in zip(shape, infer_static_shape(var.shape)[1]))
    return TensorType(var.type.dtype, shape)()


@functools.cache
def register_jax():
    """Teach PyTensor's JAX linker to run a ReferenceOp with the jax backend's kernel for its node.

    Done when that linker is first used, as it imports jax, which CPU-only work does not need.
    """
    from pytensor.link.jax.dispatch import jax_funcify

    from backends.jax.kernels import lower
    jax_funcify.register(ReferenceOp)(lambda op, **kwargs: lower.kernel(op.node))

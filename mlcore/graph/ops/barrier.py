"""OptimizationBarrier: several values passed through unchanged, as one node that nothing sees through.

Rematerialization (keras.remat, mlcore/rematerialization.py) recomputes a forward pass inside the
backward one from barrier copies of its inputs and of the incoming gradient.  The copies are other
variables, so the merge rewrite cannot fold the recomputation back into the forward pass, and
because the gradient goes through the same node, the recomputation cannot start before the backward
pass reaches it.  The jax backend lowers it to jax.lax.optimization_barrier, which keeps XLA from
doing either, as jax.checkpoint does; numpy and PyTensor have no such pass and take it as the identity.
"""
from mlcore.graph.basic import Apply, Op
from mlcore.graph.ops.common import as_tensor_variable


class OptimizationBarrier(Op):
    """The identity on all its inputs at once; a gradient passes back unchanged too."""
    foldable = False        # a barrier on constants stays a barrier

    def make_node(self, *values):
        if not values:
            raise TypeError("OptimizationBarrier needs at least one value")
        values = [as_tensor_variable(v) for v in values]
        return Apply(self, values, [v.type for v in values])

    def pullback(self, inputs, outputs, output_grads):
        return list(output_grads)


def optimization_barrier(*values):
    """The values, unchanged, as a list, behind one barrier."""
    outputs = OptimizationBarrier()(*values)
    return list(outputs) if len(values) > 1 else [outputs]

"""Constant folding: a node whose inputs are all constants is computed once, at compile time."""
from mlcore.graph.basic import Constant


def fold(node):
    """Evaluate node with the numpy reference kernels; its outputs as Constants."""
    from backends.numpy.interpreter import evaluate_node
    values = evaluate_node(node, [i.data for i in node.inputs])
    return [Constant(o.type, v) for o, v in zip(node.outputs, values)]


def constant_folding(node):
    if node.op.foldable and node.inputs and all(isinstance(i, Constant) for i in node.inputs):
        return fold(node)
    return None

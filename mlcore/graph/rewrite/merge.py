"""Merge: nodes computing the same op on the same inputs become one (common subexpressions)."""
from mlcore.graph.basic import Constant


def merge(fgraph):
    canonical, seen = {}, {}
    swaps = []

    def canon(var):
        if isinstance(var, Constant):
            return seen.setdefault(var.signature(), var)
        return canonical.get(id(var), var)

    for node in fgraph.toposort():
        node.inputs = [canon(i) for i in node.inputs]
        key = (node.op, tuple(id(i) for i in node.inputs))
        if not node.op.foldable:
            continue  # two draws from one random key are still two draws
        first = seen.setdefault(key, node)
        if first is not node:
            for old, new in zip(node.outputs, first.outputs):
                canonical[id(old)] = new
                swaps.append((old, new))
    fgraph.replace(swaps)
    return bool(swaps)

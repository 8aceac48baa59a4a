"""Elementwise fusion: a tree of elementwise ops whose intermediates have no other
user becomes one Composite node, which the numpy backend evaluates in
cache-sized blocks (the paper's Fig. 7 speed-ups come from here)."""
from mlcore.graph.ops.elemwise import Composite, Elemwise


def _fusible(node):
    return node is not None and isinstance(node.op, Elemwise) and not isinstance(node.op, Composite) \
        and len(node.outputs) == 1


def _grow(root, clients):
    """The nodes of the fusible tree rooted at root, in topological order."""
    group, frontier = [root], [root]
    while frontier:
        node = frontier.pop()
        for inp in node.inputs:
            producer = inp.owner
            users = clients.get(id(inp), [])
            if _fusible(producer) and len(users) == 1 and users[0][0] is node and producer not in group:
                group.append(producer)
                frontier.append(producer)
    order = []

    def visit(n):
        if n in order:
            return
        for i in n.inputs:
            if i.owner in group:
                visit(i.owner)
        order.append(n)
    visit(root)
    return order


def _composite(group):
    """A Composite op and its outer inputs for an ordered group of elementwise nodes."""
    slots, outer, program = {}, [], []
    for node in group:
        for inp in node.inputs:
            if inp.owner not in group and id(inp) not in slots:
                slots[id(inp)] = len(outer)
                outer.append(inp)
    n_in = len(outer)
    for k, node in enumerate(group):
        program.append((node.op, tuple(slots[id(i)] for i in node.inputs)))
        slots[id(node.outputs[0])] = n_in + k
    root = group[-1].outputs[0]
    return Composite(program, (slots[id(root)],), n_in, (root.dtype,)), outer


def fusion(fgraph):
    clients = fgraph.clients()
    fused, changed = set(), False
    for node in reversed(fgraph.toposort()):
        if node in fused or not _fusible(node):
            continue
        group = _grow(node, clients)
        fused.update(group)
        if len(group) < 2:
            continue
        op, outer = _composite(group)
        new = op(*outer)
        new.name = node.outputs[0].name
        fgraph.replace([(node.outputs[0], new)])
        changed = True
    return changed

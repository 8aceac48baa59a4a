"""Elementwise fusion: a subgraph of elementwise ops whose intermediates have no user
outside it becomes one Composite node, which the numpy backend evaluates in
cache-sized blocks (the paper's Fig. 7 speed-ups come from here)."""
import heapq

from mlcore.graph.ops.elemwise import Composite, Elemwise


def _fusible(node):
    return node is not None and isinstance(node.op, Elemwise) and not isinstance(node.op, Composite) \
        and len(node.outputs) == 1


def _grow(root, clients, position):
    """The fusible nodes feeding root whose every user is in the group, in topological order.

    Candidates are taken latest first, so each one's users have all been decided by then;
    an intermediate used twice inside the group (b**10's b**2) is fused too.
    """
    group, heap, seen = {root}, [], set()

    def push(node):
        for inp in node.inputs:
            producer = inp.owner
            if _fusible(producer) and id(producer) not in seen:
                seen.add(id(producer))
                heapq.heappush(heap, (-position[id(producer)], id(producer), producer))
    push(root)
    while heap:
        node = heapq.heappop(heap)[2]
        if all(user in group for user, _ in clients[id(node.outputs[0])]):
            group.add(node)
            push(node)
    return sorted(group, key=lambda n: position[id(n)])


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
    order = fgraph.toposort()
    position = {id(node): k for k, node in enumerate(order)}
    fused, pairs = set(), []
    for node in reversed(order):
        if node in fused or not _fusible(node):
            continue
        group = _grow(node, clients, position)
        fused.update(group)
        if len(group) < 2:
            continue
        op, outer = _composite(group)
        new = op(*outer)
        new.name = node.outputs[0].name
        pairs.append((node.outputs[0], new))
    fgraph.replace(pairs)       # one group's root may be another's input: all swap together
    return bool(pairs)

"""A depth-first walk with a stack of its own: the graphs it walks (a functional model's calls, the ops
between its layers) may be thousands of steps deep, deeper than Python's recursion allows."""


def post_order(roots, key, expand):
    """What expand gives for each item reachable from roots, each after what it gives for the items it
    reaches.  key(item) says when two items are one (each is expanded once, the first time the walk meets
    it, roots in order); expand(item) gives (result, children), or (None, ()) to leave the item out."""
    order, seen, pending = [], set(), [(root, False) for root in reversed(roots)]
    while pending:
        item, is_result = pending.pop()
        if is_result:
            order.append(item)
            continue
        item_key = key(item)
        if item_key in seen:
            continue
        seen.add(item_key)
        result, children = expand(item)
        if result is None:
            continue
        pending.append((result, True))
        pending.extend((child, False) for child in reversed(children))
    return order

"""Named rewrite passes and presets.

Each pass is a function fgraph -> changed.  Local-rule passes sweep the graph
until nothing changes.  mlcore.function(rewrites=...) takes a preset name or a
list of pass names, so any pass can be switched off.
"""
from mlcore.graph.rewrite.constant_folding import constant_folding
from mlcore.graph.rewrite.fusion import fusion
from mlcore.graph.rewrite.merge import merge
from mlcore.graph.rewrite.rules import CANONICALIZE, SPECIALIZE, STABILIZE


def local_pass(*rules, max_sweeps=50, reverse=False):
    """A pass applying node-local rules until a fixed point (each sweep outputs first if reverse).

    A sweep offers every node to the rules and swaps in all their replacements at once (a rule
    may see a node whose input is being replaced; both forms compute the same values), so a
    sweep costs two traversals of the graph, however many rules fire.
    """
    def run(fgraph):
        changed_any = False
        for _ in range(max_sweeps):
            pairs = []
            nodes = fgraph.toposort()
            for node in reversed(nodes) if reverse else nodes:
                for rule in rules:
                    new = rule(node)
                    if new is not None:
                        pairs += zip(node.outputs, new)
                        break
            fgraph.replace(pairs)
            changed_any |= bool(pairs)
            if not pairs:
                break
        return changed_any
    return run


PASSES = {
    "merge": merge,
    "constant_folding": local_pass(constant_folding),
    "canonicalize": local_pass(*CANONICALIZE),
    "stabilize": local_pass(*STABILIZE),
    "specialize": local_pass(*SPECIALIZE),
    "fusion": fusion,
}

PRESETS = {
    "fast_run": ["merge", "constant_folding", "canonicalize", "stabilize", "specialize", "constant_folding",
                 "merge", "fusion"],
    "fast_compile": ["merge", "canonicalize", "stabilize"],
    "none": [],
}


def pass_names(rewrites):
    """The ordered pass names for a preset name or a list of names (unknown names fail here)."""
    if rewrites is None:
        rewrites = "fast_run"
    names = PRESETS.get(rewrites) if isinstance(rewrites, str) else list(rewrites)
    if names is None:
        raise ValueError("Unknown rewrite preset %r; presets: %s" % (rewrites, ", ".join(PRESETS)))
    unknown = [n for n in names if n not in PASSES]
    if unknown:
        raise ValueError("Unknown rewrite pass(es) %s; passes: %s" % (unknown, ", ".join(PASSES)))
    return names


def rewrite(fgraph, rewrites="fast_run"):
    """Apply the passes in order to fgraph, in place; returns fgraph."""
    for name in pass_names(rewrites):
        PASSES[name](fgraph)
    return fgraph

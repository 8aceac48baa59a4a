"""Adding rewrites from outside, as Theano's optdb.register and register_canonicalize do.

optdb.register(name, optimizer, order, *tags) puts a global optimizer among the passes of the
presets its tags name ("fast_run", "fast_compile"), at its place in Theano's numbering of the
pipeline (merge 0, canonicalize 1, specialize 2, the last merge 49, fusion after); add_local_rule
appends a local rule to the canonicalize, stabilize or specialize pass.  Functions compiled after
a registration use it.
"""
import bisect

from mlcore.graph.rewrite import PASSES, PRESETS, local_pass
from mlcore.graph.rewrite.rules import CANONICALIZE, SPECIALIZE, STABILIZE

LOCAL_GROUPS = {"canonicalize": CANONICALIZE, "stabilize": STABILIZE, "specialize": SPECIALIZE}
# Theano's order of each pass of mlcore's presets, position by position.
PRESET_ORDERS = {"fast_run": [0, 0.5, 1, 1.5, 2, 48.5, 49, 49.5], "fast_compile": [0, 1, 1.5]}


def add_local_rule(group, rule):
    """Append rule (node -> new outputs or None) to a local pass, once."""
    rules = LOCAL_GROUPS[group]
    if rule not in rules:
        rules.append(rule)
        PASSES[group] = local_pass(*rules)


class SequenceDB:
    """theano.compile.optdb: the ordered passes of the presets."""

    def register(self, name, optimizer, order, *tags, **kwargs):
        if name in PASSES:
            raise ValueError("optdb.register: a pass named %r exists already" % (name,))
        PASSES[name] = getattr(optimizer, "optimize", optimizer)
        for preset, orders in PRESET_ORDERS.items():
            if preset in tags:
                position = bisect.bisect_right(orders, order)
                orders.insert(position, order)
                PRESETS[preset].insert(position, name)

    def __contains__(self, name):
        return name in PASSES

    def __getitem__(self, name):
        return PASSES[name]


optdb = SequenceDB()

"""Theano's OrderedUpdates: the updates a scan returns and a function takes, as one mapping.

An ordered dict from shared variables to their new values, so that function(updates=...) applies
them in a fixed order, and where updating one variable twice to different values (two scans over
the same random stream, merged with +) is an error instead of a silent choice.
"""
from collections import OrderedDict

from mlcore.graph.basic import SharedVariable


class OrderedUpdates(OrderedDict):
    """{shared variable: new value}; `a + b` merges two, refusing a variable both update differently."""

    def __setitem__(self, key, value):
        if not isinstance(key, SharedVariable):
            raise TypeError("OrderedUpdates: the keys are the shared variables updated, not %r" % (key,))
        super().__setitem__(key, value)

    def update(self, other=None, **kwargs):
        if kwargs:
            raise TypeError("OrderedUpdates.update takes a mapping or pairs of (shared variable, new value)")
        for key, value in OrderedDict(other or ()).items():
            if key in self and self[key] is not value:
                raise KeyError("OrderedUpdates: %s is updated twice, to two different values" % (key,))
            self[key] = value

    def __add__(self, other):
        merged = OrderedUpdates()
        merged.update(self)
        merged.update(other)
        return merged

    def __radd__(self, other):
        merged = OrderedUpdates()
        merged.update(other)
        merged.update(self)
        return merged

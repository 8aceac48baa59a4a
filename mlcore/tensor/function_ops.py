"""Theano's op classes for functions that mlcore writes with the graph's own ops: extra_ops'
CumOp, DiffOp, RepeatOp, Bartlett, FillDiagonal, SearchsortedOp, sort's SortOp, ArgSortOp and
TopKOp.  Theano code instantiates them and calls the instance on inputs (`CumOp(axis=0)(x)`,
`verify_grad(DiffOp(n=2), [a])`), so an instance here builds the function's graph when called;
the nodes in that graph are the graph's ops, not these classes."""


class FunctionOp:
    """A parameterized graph builder that behaves as an op where Theano code relies on it: equal
    and hashed by its __props__, printed as Name{props}, and called as op(*inputs) or
    op(*inputs, return_list=True).  Subclasses set __props__ and write build(*inputs)."""
    __props__ = ()

    def _props(self):
        return tuple(getattr(self, p) for p in self.__props__)

    def __eq__(self, other):
        return type(self) is type(other) and self._props() == other._props()

    def __hash__(self):
        return hash((type(self), self._props()))

    def __str__(self):
        name = type(self).__name__
        return "%s{%s}" % (name, ", ".join(map(str, self._props()))) if self.__props__ else name

    __repr__ = __str__

    def __call__(self, *inputs, return_list=False, **kwargs):
        out = self.build(*inputs, **kwargs)
        if return_list:
            return list(out) if isinstance(out, (list, tuple)) else [out]
        return out

    def build(self, *inputs):
        raise NotImplementedError("%s must define build" % type(self).__name__)

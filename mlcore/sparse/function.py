"""function() with sparse inputs, outputs and updates: each sparse matrix is passed as its four
parts.  The compiled function takes and returns scipy.sparse matrices, as Theano's does."""
from mlcore.compile.wrapped import WrappedFunction
from mlcore.function import report_unused
from mlcore.graph.basic import graph_inputs
from mlcore.sparse.variable import is_sparse, join_value, split_value


def has_sparse(inputs, outputs, updates, givens):
    """Whether function()'s arguments name a sparse matrix anywhere."""
    listed = list(inputs or ()) + (list(outputs) if isinstance(outputs, (list, tuple)) else [outputs])
    pairs = _pairs(updates) + _pairs(givens)
    return any(is_sparse(v) for v in listed + [v for pair in pairs for v in pair])


def _pairs(mapping):
    """updates= or givens= as a list of pairs: a dict's items, a list of pairs, or none."""
    return list(mapping.items() if isinstance(mapping, dict) else mapping or ())


def _parts(variables):
    return [part for v in variables for part in (v.components if is_sparse(v) else (v,))]


def _part_pairs(pairs, what):
    """(target, value) pairs with each sparse pair as its four part pairs."""
    out = []
    for target, value in pairs:
        if is_sparse(target) != is_sparse(value):
            raise TypeError("%s of %s: a sparse matrix is replaced by a sparse matrix only, got %r"
                            % (what, target, value))
        if is_sparse(target) and target.format != value.format:
            raise TypeError("%s of %s (%s) by a %s matrix: convert it first (csr_from_dense, .T)"
                            % (what, target, target.format, value.format))
        out.extend(zip(_parts([target]), _parts([value])))
    return out


def sparse_function(compile, inputs, outputs, updates, givens, **options):
    """compile (mlcore.function) applied to the parts, wrapped to split and join the matrices."""
    for i in inputs:
        if is_sparse(i) and any(part.owner is not None for part in i.components):
            raise TypeError("function: the sparse input %r must be a sparse.csr_matrix()/csc_matrix() input" % (i,))
    single = not isinstance(outputs, (list, tuple))
    listed = [outputs] if single else list(outputs)
    updates, givens = _part_pairs(_pairs(updates), "update"), _part_pairs(_pairs(givens), "givens")
    used = {id(v) for v in graph_inputs([v for v in _parts(listed) if v is not None]
                                        + [e for _, e in updates] + [v for _, v in givens])}
    report_unused([i for i in inputs if not any(id(part) in used for part in _parts([i]))],
                  options.pop("on_unused_input"))     # a matrix counts as used when a part of it is
    fn = compile(_parts(inputs), _parts(listed), updates=updates, givens=givens, on_unused_input="ignore", **options)
    return SparseFunction(fn, inputs, listed, single)


class SparseFunction(WrappedFunction):
    """A compiled function whose sparse inputs and outputs are scipy.sparse matrices; everything
    else is the underlying dense function's."""

    def __init__(self, function, inputs, outputs, single):
        super().__init__(function)
        self.single = single
        self.input_formats = [(i.format, i.dtype, i.name or "sparse input") if is_sparse(i) else None
                              for i in inputs]
        self.output_formats = [o.format if is_sparse(o) else None for o in outputs]

    def __call__(self, *args, **kwargs):
        if len(args) > len(self.input_formats):
            raise TypeError("function takes %d inputs, got %d" % (len(self.input_formats), len(args)))
        values = []
        for value, form in zip(args, self.input_formats):
            values.extend([value] if form is None else split_value(value, *form))
        results = self.function(*values, **kwargs)
        results = iter(results)      # the dense function was given a list of outputs
        out = [next(results) if form is None else join_value(form, *(next(results) for _ in range(4)))
               for form in self.output_formats]
        return out[0] if self.single else out

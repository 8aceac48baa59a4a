"""FunctionGraph: a private copy of the graph between some inputs and outputs,
which rewrites may change without touching the user's variables."""
from mlcore.graph.basic import Apply, toposort


class MissingInputError(ValueError):
    """A graph reads a variable that is not among the inputs it was given (Theano's
    theano.gof.fg.MissingInputError; scan(strict=True) raises it)."""


class FunctionGraph:
    def __init__(self, inputs, outputs, replacements=None):
        """Copy the nodes between inputs and outputs; replacements (givens) substitute variables first."""
        self.inputs = list(inputs)
        mapping = {id(old): new for old, new in (replacements or {}).items()}
        stops = list(self.inputs) + list((replacements or {}).keys())
        for node in toposort(outputs, blockers=stops):
            new_inputs = [mapping.get(id(i), i) for i in node.inputs]
            clone = Apply(node.op, new_inputs, [o.type for o in node.outputs])
            for old, new in zip(node.outputs, clone.outputs):
                new.name = old.name
                if "test_value" in old.tag:      # grad() rewrites a copy of the cost's graph
                    new.tag["test_value"] = old.tag["test_value"]
                mapping[id(old)] = new
        self.outputs = [mapping.get(id(o), o) for o in outputs]

    def toposort(self):
        return toposort(self.outputs, blockers=self.inputs)

    @property
    def apply_nodes(self):
        """The graph's Apply nodes, as a set (Theano's FunctionGraph.apply_nodes)."""
        return set(self.toposort())

    def clients(self):
        """For each variable id, the (node, input position) pairs that use it; outputs as ("output", i)."""
        users = {}
        for node in self.toposort():
            for k, inp in enumerate(node.inputs):
                users.setdefault(id(inp), []).append((node, k))
        for k, out in enumerate(self.outputs):
            users.setdefault(id(out), []).append(("output", k))
        return users

    def replace(self, pairs, new=None, reason=None, verbose=None):
        """Make every user of each old variable use its new one instead: replace([(old, new), ...]),
        or Theano's replace(old, new, reason=None)."""
        pairs = [(pairs, new)] if new is not None else pairs
        swap = {id(old): new for old, new in pairs if old is not new}
        if not swap:
            return
        for node in toposort(self.outputs + list(swap.values()), blockers=self.inputs):
            node.inputs = [swap.get(id(i), i) for i in node.inputs]
        self.outputs = [swap.get(id(o), o) for o in self.outputs]

    # --- Theano's FunctionGraph interface, for optimizers written as in "Extending Theano" -----------
    def replace_all(self, pairs, reason=None):
        self.replace(pairs)

    def replace_validate(self, old, new, reason=None):
        """replace(old, new) after checking new can stand for old (same dtype and number of dims);
        Theano's toolbox.ReplaceValidate adds it, here every FunctionGraph has it."""
        if (old.dtype, old.ndim) != (new.dtype, new.ndim):
            raise TypeError("replace_validate: %s (%s) cannot replace %s (%s)" % (new, new.type, old, old.type))
        self.replace(old, new)

    def attach_feature(self, feature):
        """Theano's features: feature.on_attach(fgraph) is called once; the ones optimizers ask for
        (ReplaceValidate) need nothing more here."""
        features = self.__dict__.setdefault("features", [])
        if feature not in features:
            features.append(feature)
            getattr(feature, "on_attach", lambda fgraph: None)(self)

    def __str__(self):
        return "[%s]" % ", ".join(self._as_string(o) for o in self.outputs)

    __repr__ = __str__

    def _as_string(self, variable):
        node = variable.owner
        if node is None or any(variable is i for i in self.inputs):
            return variable.name or str(variable)
        return "%s(%s)" % (node.op, ", ".join(self._as_string(i) for i in node.inputs))

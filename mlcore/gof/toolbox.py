"""theano.gof.toolbox: the features optimizers attach to a FunctionGraph.  Every mlcore
FunctionGraph already has what they add (replace_validate), so attaching one changes nothing."""


class Feature:
    """A FunctionGraph plug-in: on_attach(fgraph) runs when it is attached."""

    def on_attach(self, fgraph):
        pass


class ReplaceValidate(Feature):
    """Gives fgraph.replace_validate(old, new, reason=None) (mlcore's FunctionGraph has it)."""

"""theano.gof, where Theano's "Extending Theano" code imports the graph's classes from:
gof.Op, gof.Apply, gof.Variable, gof.Constant, gof.FunctionGraph and gof.graph.inputs."""
from mlcore.graph.basic import Apply, Constant, Op, Variable  # noqa: F401
from mlcore.graph.fgraph import FunctionGraph  # noqa: F401
from mlcore.gof import graph  # noqa: F401

"""theano.gof.graph: the graph's classes and inputs(outputs), the owner-less variables they depend on."""
from mlcore.graph.basic import Apply, Constant, Variable, clone, graph_inputs as inputs, toposort  # noqa: F401

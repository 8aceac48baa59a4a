"""theano.gof, where Theano's "Extending Theano" code imports the graph's classes from:
gof.Op, gof.Apply, gof.Variable, gof.Constant, gof.FunctionGraph and gof.graph.inputs, and the
optimizer classes of gof.opt (gof.Optimizer, gof.LocalOptimizer, gof.TopoOptimizer, ...) with
gof.toolbox's features."""
from mlcore.graph.basic import Apply, Constant, Op, Variable  # noqa: F401
from mlcore.graph.fgraph import FunctionGraph, MissingInputError  # noqa: F401
from mlcore.gof import graph  # noqa: F401
from mlcore.gof import opt, toolbox  # noqa: F401,E402
from mlcore.gof.opt import (EquilibriumOptimizer, LocalOptGroup, LocalOptimizer,  # noqa: F401,E402
                            MergeOptimizer, OpRemove, OpSub, Optimizer, PatternSub, TopoOptimizer, in2out, local_optimizer, out2in)

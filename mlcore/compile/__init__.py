"""As theano.compile: OpFromGraph (theano.compile.builders.OpFromGraph, also mlcore.OpFromGraph),
Mode, get_mode and get_default_mode (theano.compile.mode), as_op (theano.compile.ops.as_op), the debugging modes
MonitorMode (theano.compile.monitormode), NanGuardMode (theano.compile.nanguardmode) and DebugMode
(theano.compile.debugmode), ProfileStats (theano.compile.profiling), function, shared, In and Out
(also under theano.compile.function_module, sharedvalue and io), and optdb, where optimizers register."""
from mlcore.compile.builders import OpFromGraph  # noqa: F401
from mlcore.compile.mode import Mode, get_default_mode, get_mode  # noqa: F401
from mlcore.compile.ops import as_op  # noqa: F401
from mlcore.compile.monitormode import MonitorMode  # noqa: F401
from mlcore.compile.nanguardmode import NanGuardMode  # noqa: F401
from mlcore.compile.debugmode import DebugMode  # noqa: F401
from mlcore.profiling import ProfileStats  # noqa: F401


_FROM_FUNCTION = {"function": "mlcore.function", "In": "mlcore.function", "Out": "mlcore.function",
                  "Param": "mlcore.function", "UnusedInputError": "mlcore.function",
                  "MissingInputError": "mlcore.function",
                  "shared": "mlcore.graph.basic", "SharedVariable": "mlcore.graph.basic",
                  "optdb": "mlcore.graph.rewrite.registry"}


def __getattr__(name):
    """function, shared, In, Out and optdb on first use: mlcore.function itself imports this package."""
    import importlib
    if name not in _FROM_FUNCTION:
        raise AttributeError("module 'mlcore.compile' has no attribute %r" % name)
    return getattr(importlib.import_module(_FROM_FUNCTION[name]), name)

"""As theano.compile: OpFromGraph (theano.compile.builders.OpFromGraph, also mlcore.OpFromGraph),
Mode, get_mode and get_default_mode (theano.compile.mode), as_op (theano.compile.ops.as_op), the debugging modes
MonitorMode (theano.compile.monitormode), NanGuardMode (theano.compile.nanguardmode) and DebugMode
(theano.compile.debugmode), and ProfileStats (theano.compile.profiling)."""
from mlcore.compile.builders import OpFromGraph  # noqa: F401
from mlcore.compile.mode import Mode, get_default_mode, get_mode  # noqa: F401
from mlcore.compile.ops import as_op  # noqa: F401
from mlcore.compile.monitormode import MonitorMode  # noqa: F401
from mlcore.compile.nanguardmode import NanGuardMode  # noqa: F401
from mlcore.compile.debugmode import DebugMode  # noqa: F401
from mlcore.profiling import ProfileStats  # noqa: F401

"""As theano.compile: OpFromGraph (theano.compile.builders.OpFromGraph, also mlcore.OpFromGraph),
Mode (theano.compile.mode.Mode), as_op (theano.compile.ops.as_op), and the debugging modes
MonitorMode (theano.compile.monitormode) and NanGuardMode (theano.compile.nanguardmode)."""
from mlcore.compile.builders import OpFromGraph  # noqa: F401
from mlcore.compile.mode import Mode  # noqa: F401
from mlcore.compile.ops import as_op  # noqa: F401
from mlcore.compile.monitormode import MonitorMode  # noqa: F401
from mlcore.compile.nanguardmode import NanGuardMode  # noqa: F401

"""As theano.compile: OpFromGraph (theano.compile.builders.OpFromGraph, also mlcore.OpFromGraph),
Mode (theano.compile.mode.Mode) and as_op (theano.compile.ops.as_op)."""
from mlcore.compile.builders import OpFromGraph  # noqa: F401
from mlcore.compile.mode import Mode  # noqa: F401
from mlcore.compile.ops import as_op  # noqa: F401

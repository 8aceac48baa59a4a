"""As theano.compile: OpFromGraph (theano.compile.builders.OpFromGraph, also mlcore.OpFromGraph)."""
from mlcore.compile.builders import OpFromGraph  # noqa: F401

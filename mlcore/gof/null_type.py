"""theano.gof.null_type: NullType, whose instances called give an undefined gradient."""
from mlcore.graph.gradient import NullType  # noqa: F401

"""theano.compile.sharedvalue: shared variables."""
from mlcore.graph.basic import SharedVariable, shared  # noqa: F401

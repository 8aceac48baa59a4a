"""T.random: Theano's RandomStreams."""
from mlcore.graph.ops.random import RandomStreams  # noqa: F401

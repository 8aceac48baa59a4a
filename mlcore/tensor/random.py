"""T.random: Theano's RandomStreams."""
from mlcore.tensor.shared_randomstreams import RandomStreams  # noqa: F401

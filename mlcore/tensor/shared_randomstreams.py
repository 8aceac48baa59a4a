"""theano.tensor.shared_randomstreams: where Theano's tutorials import RandomStreams from."""
from mlcore.graph.ops.random import RandomStreams  # noqa: F401

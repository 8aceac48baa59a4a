"""theano.tensor.type: TensorType."""
from mlcore.graph.basic import TensorType  # noqa: F401

"""theano.tensor.sharedvar: the class of shared tensors, and the constructor Theano code calls by this path."""
from mlcore.graph.basic import SharedVariable as TensorSharedVariable, shared as tensor_constructor  # noqa: F401

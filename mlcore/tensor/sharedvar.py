"""theano.tensor.sharedvar: the class of shared tensors, and the constructors Theano code calls by this
path.  A scalar is a 0-d tensor here, so Theano's scalar class and constructor are the tensor ones."""
from mlcore.graph.basic import SharedVariable as TensorSharedVariable, shared as tensor_constructor  # noqa: F401

ScalarSharedVariable = TensorSharedVariable
scalar_constructor = tensor_constructor

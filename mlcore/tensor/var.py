"""theano.tensor.var: the classes of symbolic tensors (one Variable class serves them all here)."""
from mlcore.graph.basic import Constant as TensorConstant  # noqa: F401
from mlcore.graph.basic import SharedVariable as TensorSharedVariable  # noqa: F401
from mlcore.graph.basic import Variable as TensorVariable  # noqa: F401

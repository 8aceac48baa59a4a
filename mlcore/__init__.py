"""mlcore: a Keras-compatible model API on a Theano-style graph compiler with
numpy, theano (PyTensor) and jax backends."""
from mlcore import config  # noqa: F401
from mlcore.graph import grad, shared  # noqa: F401
from mlcore.function import function  # noqa: F401
from mlcore.printing import debugprint  # noqa: F401

__version__ = "0.1.0"

"""theano.compile.function_module: the compiled Function and its errors."""
from mlcore.function import Function, UnusedInputError, function  # noqa: F401

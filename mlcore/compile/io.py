"""theano.compile.io: In and Out, the descriptions of a function's inputs and outputs."""
from mlcore.function import In, Out  # noqa: F401

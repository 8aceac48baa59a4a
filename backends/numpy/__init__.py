"""The numpy reference backend."""
from backends.numpy.interpreter import NumpyBackend

BACKEND = NumpyBackend()

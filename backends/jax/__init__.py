"""The jax backend: XLA compilation through jax.jit, on CPU or GPU."""
from backends.jax.compiler import JaxBackend

BACKEND = JaxBackend()

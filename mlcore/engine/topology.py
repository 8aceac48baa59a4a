"""Keras 1/2's module path keras.engine.topology (see mlcore.engine).  Re-exports only."""
from mlcore.engine import Input, InputLayer, InputSpec, Layer, Network, Node, get_source_inputs  # noqa: F401

"""Keras 1/2's package keras.engine, kept so that `from mlcore.engine import Layer, InputSpec` and
`from mlcore.engine.topology import Input, get_source_inputs` (as Keras 1/2 code and the applications of
that era write them) import.  Re-exports only: the layer base classes live in mlcore.layers, the model in
mlcore.models.  Keras 2.2's Network (the graph container Model subclasses) is Model here, so
isinstance(model, Network) holds and Network(inputs, outputs) builds a functional model."""
from mlcore.layers.base import Layer, Node  # noqa: F401
from mlcore.layers.input_layer import Input, InputLayer  # noqa: F401
from mlcore.layers.input_spec import InputSpec  # noqa: F401
from mlcore.models.functional import Model, get_source_inputs  # noqa: F401

Network = Model

"""Input(): the symbolic placeholder a functional model starts from."""
from mlcore import config
from mlcore.graph.basic import TensorType
from mlcore.layers.base import Layer, Node


class InputLayer(Layer):
    """Holds the placeholder tensor; has no weights and is never called."""
    rowwise = True

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=False, name=None,
                 batch_shape=None, input_tensor=None, input_shape=None, batch_input_shape=None):
        shape = shape if shape is not None else input_shape
        batch_shape = batch_shape if batch_shape is not None else batch_input_shape
        if input_tensor is not None:
            batch_shape = input_tensor.type.shape
        if batch_shape is None:
            if shape is None:
                raise ValueError("Input needs shape= (without the batch dim) or batch_shape=")
            batch_shape = (batch_size,) + tuple(shape)
        super().__init__(name=name, dtype=dtype or (input_tensor.dtype if input_tensor is not None else None))
        self.batch_shape = tuple(batch_shape)
        self.sparse = sparse
        tensor = input_tensor if input_tensor is not None else TensorType(self.dtype, self.batch_shape)(self.name)
        self._inbound_nodes.append(Node(self, [], tensor, {}))
        tensor.tag["keras_history"] = (self, 0, 0)
        self.output_tensor = tensor
        self.built = True

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype, "sparse": self.sparse,
                "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None, tensor=None):
    """A symbolic input tensor of shape (batch_size,) + shape (Keras's keras.Input)."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype or config.floatx(), sparse=bool(sparse),
                       batch_shape=batch_shape, name=name, input_tensor=tensor)
    return layer.output_tensor

"""Input(): the symbolic placeholder a functional model starts from."""
import warnings

from mlcore import config
from mlcore.graph.basic import TensorType
from mlcore.layers.base import Layer, Node


def standardize_shape(shape):
    """A shape as a tuple of ints and Nones, with Keras's errors for anything else (Input(shape=784)
    is a common slip for shape=(784,))."""
    if not hasattr(shape, "__iter__"):
        raise ValueError("Cannot convert '%s' to a shape." % (shape,))
    shape, dims = tuple(shape), []
    for d in shape:
        if d is not None:
            if isinstance(d, (str, float)):
                raise ValueError("Cannot convert '%s' to a shape. Found invalid dimension '%s' of type "
                                 "'%s'. " % (shape, d, type(d)))
            d = int(d)
            if d < 0:
                raise ValueError("Cannot convert '%s' to a shape. Negative dimensions are not allowed." % (shape,))
        dims.append(d)
    return tuple(dims)


def _batch_shape(shape, batch_size, batch_shape):
    """The input's shape with its batch dim, from either shape (and batch_size) or batch_shape, as Keras checks."""
    if shape is not None and batch_shape is not None:
        raise ValueError("You cannot pass both `shape` and `batch_shape` at the same time.")
    if batch_size is not None and batch_shape is not None:
        raise ValueError("You cannot pass both `batch_size` and `batch_shape` at the same time.")
    if shape is None and batch_shape is None:
        raise ValueError("You must pass a `shape` argument.")
    return batch_shape if shape is None else (batch_size,) + standardize_shape(shape)


def _check_input_tensor(tensor, shape, batch_size, batch_shape, dtype, sparse):
    """Keras's checks of Input(tensor=...): a symbolic tensor, which the other arguments given must describe."""
    from mlcore.backend import standardize_dtype
    from mlcore.keras_tensor import KerasTensor
    if not isinstance(tensor, KerasTensor):
        raise ValueError("Argument `input_tensor` must be a KerasTensor. Received invalid type: input_tensor=%s "
                         "(of type %s)" % (tensor, type(tensor)))
    tensor_shape = tuple(tensor.type.shape)
    mismatches = {"batch_size": batch_size is not None and tensor_shape[:1] != (batch_size,),
                  "shape": shape is not None and tuple(shape) != tensor_shape[1:],
                  "batch_shape": batch_shape is not None and tuple(batch_shape) != tensor_shape,
                  "dtype": dtype is not None and str(tensor.dtype) != standardize_dtype(dtype),
                  "sparse": sparse is not None and bool(sparse)}    # mlcore's tensors are dense
    for argument, mismatch in mismatches.items():
        if mismatch:
            raise ValueError("When providing the `input_tensor` argument, you cannot provide an incompatible "
                             "`%s` argument." % argument)


class InputLayer(Layer):
    """Holds the placeholder tensor; has no weights and is never called.  An optional one (Keras 3's
    optional=True) lets a functional model be called eagerly with None in its place, which the layers
    that take it then see as None."""
    rowwise = True

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, ragged=None, batch_shape=None,
                 input_tensor=None, optional=False, name=None, **kwargs):
        if "input_shape" in kwargs:
            warnings.warn("Argument `input_shape` is deprecated. Use `shape` instead.")
            shape = kwargs.pop("input_shape")
        batch_shape = kwargs.pop("batch_input_shape", batch_shape)
        if ragged:
            raise ValueError("`ragged=True` is not supported with the %s backend (Input %r): as Keras, only "
                             "TensorFlow has ragged tensors" % (config.backend(), name or "input"))
        if input_tensor is not None:
            _check_input_tensor(input_tensor, shape, batch_size, batch_shape, dtype, sparse)
            batch_shape = input_tensor.type.shape
        else:
            batch_shape = _batch_shape(shape, batch_size, batch_shape)
        if dtype in ("string", "str", str):
            raise ValueError("Input '%s' has dtype='string', but mlcore's graphs hold numbers only: TextVectorization, "
                             "StringLookup and Hashing run on the host, on arrays of str. Apply them to the data "
                             "before the model (as tf.data's dataset.map does in Keras's guides)" % (name or "input"))
        super().__init__(name=name, **kwargs)
        self._input_dtype = str(dtype or (input_tensor.dtype if input_tensor is not None else config.floatx()))
        self.batch_shape = standardize_shape(batch_shape)
        self.sparse = bool(sparse)
        self.ragged = False
        self.optional = bool(optional)
        tensor = input_tensor if input_tensor is not None else TensorType(self.dtype, self.batch_shape)(self.name)
        self._inbound_nodes.append(Node(self, [], tensor, {}))
        tensor.tag["keras_history"] = (self, 0, 0)
        self.output_tensor = tensor
        self.built = True

    def call(self):
        """Keras's: an InputLayer computes nothing."""
        return None

    @property
    def dtype(self):
        """The input's dtype, which may be an int or bool one; dtype_policy stays the global (float)
        policy, as Keras's: the policy is about computing, and an InputLayer computes nothing."""
        return self._input_dtype

    @dtype.setter
    def dtype(self, value):
        Layer.dtype.fset(self, value)

    def get_config(self):
        return {"batch_shape": tuple(self.batch_shape), "dtype": self.dtype, "sparse": self.sparse,
                "ragged": self.ragged, "name": self.name, "optional": self.optional}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, ragged=None, batch_shape=None, name=None,
          tensor=None, optional=False):
    """A symbolic input tensor of shape (batch_size,) + shape (Keras's keras.Input)."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       ragged=ragged, batch_shape=batch_shape, name=name, input_tensor=tensor, optional=optional)
    return layer.output_tensor

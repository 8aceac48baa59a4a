"""The pieces a FeatureSpace is made of: Feature (a feature's dtype, preprocessing layer and encoding), Cross (a
hashed cross of features), and two small layers its graph uses: TFDIdentity, the "float" feature's preprocessor,
and HostCallback, which runs a host layer (Hashing on integers, HashedCrossing) inside a graph."""
from mlcore import ops
from mlcore.compile.ops import FromFunctionOp
from mlcore.graph.basic import TensorType
from mlcore.layers.base import Layer
from mlcore.layers.structure import flatten
from mlcore.saving.object_registration import register_keras_serializable
from mlcore.saving.serialization_lib import deserialize_keras_object, serialize_keras_object

FEATURE_MODULE = "keras.src.layers.preprocessing.feature_space"    # where Keras's configs say these classes live


def spec_of(obj):
    """A Feature or Cross as Keras's serialize_keras_object writes it."""
    return {"module": FEATURE_MODULE, "class_name": type(obj).__name__, "config": obj.get_config(),
            "registered_name": type(obj).__name__}


class Cross:
    """Features crossed by hashing their combined (preprocessed) values into crossing_dim bins."""

    def __init__(self, feature_names, crossing_dim, output_mode="one_hot"):
        if output_mode not in {"int", "one_hot"}:
            raise ValueError("Invalid value for argument `output_mode`. Expected one of {'int', 'one_hot'}. "
                             "Received: output_mode=%s" % (output_mode,))
        self.feature_names = tuple(feature_names)
        self.crossing_dim = crossing_dim
        self.output_mode = output_mode

    @property
    def name(self):
        return "_X_".join(self.feature_names)

    def get_config(self):
        return {"feature_names": self.feature_names, "crossing_dim": self.crossing_dim,
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Feature:
    """A feature's input dtype, the layer that preprocesses it and how its result is encoded: "int" (as the
    layer gives it), "one_hot" (a multi-hot vector over the layer's output space) or "float" (as it is)."""

    def __init__(self, dtype, preprocessor, output_mode):
        if output_mode not in {"int", "one_hot", "float"}:
            raise ValueError("Invalid value for argument `output_mode`. Expected one of {'int', 'one_hot', "
                             "'float'}. Received: output_mode=%s" % (output_mode,))
        self.dtype = dtype
        self.preprocessor = deserialize_keras_object(preprocessor) if isinstance(preprocessor, dict) else preprocessor
        self.output_mode = output_mode

    def get_config(self):
        return {"dtype": self.dtype, "preprocessor": serialize_keras_object(self.preprocessor),
                "output_mode": self.output_mode}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@register_keras_serializable(package="mlcore", name="TFDIdentity")
class TFDIdentity(Layer):
    """The "float" feature's preprocessor: its values as float32, integer columns included, so that they
    concatenate with the others.  Keras's name for it (a tf.data-ready identity), which its configs hold."""
    rowwise = True

    def call(self, inputs):
        return ops.cast(inputs, self.compute_dtype)


class HostCallback(Layer):
    """Runs `layer`, a host layer giving integer indices (Hashing on integers, HashedCrossing), inside a
    graph: its call is a host callback op (as_op's) whose output is int64, shaped as the first input."""
    rowwise = True

    def __init__(self, layer, **kwargs):
        super().__init__(name=kwargs.pop("name", layer.name), **kwargs)
        if getattr(layer, "output_mode", "int") != "int":
            raise ValueError("HostCallback: layer '%s' has output_mode=%r; only its 'int' output (indices) can "
                             "be computed on the host inside a graph" % (layer.name, layer.output_mode))
        self.layer = layer

    def call(self, inputs):
        tensors = flatten(inputs)
        first = tensors[0].type

        def run(*arrays):
            return self.layer(list(arrays) if isinstance(inputs, (list, tuple)) else arrays[0])

        op = FromFunctionOp(run, [t.type for t in tensors], [TensorType("int64", first.shape)],
                            infer_shape=lambda node, shapes: [shapes[0]])
        return op(*tensors)

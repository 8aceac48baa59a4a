"""get_config() and serialize_keras_object equal Keras 3.15's, key for key and value for value, for every
public class of the namespaces both libraries have, and the configs load back in both libraries."""
import inspect
import re

import pytest

import mlcore

# The smallest valid positional arguments of the classes that need some (the same for both libraries).
REQUIRED = {
    "Activation": ("relu",), "AdaptiveAveragePooling1D": (2,), "AdaptiveAveragePooling2D": (2,),
    "AdaptiveAveragePooling3D": (2,), "AdaptiveMaxPooling1D": (2,), "AdaptiveMaxPooling2D": (2,),
    "AdaptiveMaxPooling3D": (2,), "AlphaDropout": (0.5,), "AveragePooling1D": (2,), "AveragePooling2D": (2,),
    "AveragePooling3D": (2,), "AvgPool1D": (2,), "AvgPool2D": (2,), "AvgPool3D": (2,), "CategoryEncoding": (3,),
    "CenterCrop": (2, 2), "Conv1D": (2, 3), "Conv1DTranspose": (2, 3), "Conv2D": (2, 3), "Conv2DTranspose": (2, 3),
    "Conv3D": (2, 3), "Conv3DTranspose": (2, 3), "ConvLSTM1D": (2, 3), "ConvLSTM2D": (2, 3), "ConvLSTM3D": (2, 3),
    "Convolution1D": (2, 3), "Convolution1DTranspose": (2, 3), "Convolution2D": (2, 3),
    "Convolution2DTranspose": (2, 3), "Convolution3D": (2, 3), "Convolution3DTranspose": (2, 3), "Dense": (3,),
    "DepthwiseConv1D": (3,), "DepthwiseConv2D": (3,), "Discretization": ([0.0, 1.0],), "Dot": (1,),
    "Dropout": (0.5,), "EinsumDense": ("ab,bc->ac", 4), "Embedding": (3, 4), "GRU": (2,), "GRUCell": (2,),
    "GaussianDropout": (0.5,), "GaussianNoise": (0.5,), "GroupQueryAttention": (8, 4, 2), "InputLayer": ((3,),),
    "LSTM": (2,), "LSTMCell": (2,), "MultiHeadAttention": (2, 4), "Permute": ((2, 1),), "RandomBrightness": (0.2,),
    "RandomColorDegeneration": (0.2,), "RandomContrast": (0.2,), "RandomCrop": (2, 2), "RandomHue": (0.2,),
    "RandomPosterization": (4,), "RandomRotation": (0.2,), "RandomSaturation": (0.2,), "RandomSharpness": (0.2,),
    "RandomTranslation": (0.2, 0.2), "RandomZoom": (0.2,), "RepeatVector": (2,), "Rescaling": (0.5,),
    "Reshape": ((2, 3),), "Resizing": (4, 4), "ReversibleEmbedding": (3, 4), "SeparableConv1D": (2, 3),
    "SeparableConv2D": (2, 3), "SeparableConvolution1D": (2, 3), "SeparableConvolution2D": (2, 3),
    "SimpleRNN": (2,), "SimpleRNNCell": (2,), "SpatialDropout1D": (0.5,), "SpatialDropout2D": (0.5,),
    "SpatialDropout3D": (0.5,), "MaxNumBoundingBoxes": (3,),
    "IoU": (3, [0]), "MeanIoU": (3,), "OneHotIoU": (3, [0]), "OneHotMeanIoU": (3,), "PrecisionAtRecall": (0.5,),
    "RecallAtPrecision": (0.5,), "SensitivityAtSpecificity": (0.5,), "SpecificityAtSensitivity": (0.5,),
    "CosineDecay": (0.1, 10), "CosineDecayRestarts": (0.1, 10), "ExponentialDecay": (0.1, 10, 0.9),
    "InverseTimeDecay": (0.1, 10, 0.5), "PiecewiseConstantDecay": ([1], [0.1, 0.01]), "PolynomialDecay": (0.1, 10),
}
# Layers that hold other layers: built the same way in both libraries.
WRAPPERS = {
    "Bidirectional": lambda lib: lib.layers.Bidirectional(lib.layers.LSTM(2, name="inner"), name="x"),
    "TimeDistributed": lambda lib: lib.layers.TimeDistributed(lib.layers.Dense(2, name="inner"), name="x"),
    "RNN": lambda lib: lib.layers.RNN(lib.layers.SimpleRNNCell(2, name="inner"), name="x"),
    "StackedRNNCells": lambda lib: lib.layers.StackedRNNCells([lib.layers.SimpleRNNCell(2, name="inner")],
                                                             name="x"),
    "SpectralNormalization": lambda lib: lib.layers.SpectralNormalization(lib.layers.Dense(2, name="inner"),
                                                                         name="x"),
    "Pipeline": lambda lib: lib.layers.Pipeline([lib.layers.Rescaling(0.5, name="inner")], name="x"),
}
ABSTRACT = {"Layer", "Wrapper", "Lambda", "InputSpec", "Optimizer", "Loss", "Metric", "Initializer", "Regularizer",
            "Constraint", "LearningRateSchedule", "Reduction", "LossScaleOptimizer", "MultiOptimizer",
            "OptimizerMap", "MeanMetricWrapper"}
# Keras 3.15 builds these only with TensorFlow installed; RandomCrop draws a random seed when given none.
NEEDS_TENSORFLOW = {"Hashing", "HashedCrossing", "IntegerLookup", "StringLookup", "TextVectorization"}
# Layers around a user's jax function or flax module: their configs are compared in tests/test_jax_layer.py.
WRAP_USER_CODE = {"JaxLayer", "FlaxLayer"}
IDENTITY = ("module", "class_name", "registered_name")
NAMESPACES = ("layers", "optimizers", "losses", "metrics", "initializers", "regularizers", "constraints",
              "optimizers.schedules")


def _namespace(lib, path):
    for part in path.split("."):
        lib = getattr(lib, part)
    return lib


def _public_classes(keras, path):
    ours, theirs = _namespace(mlcore, path), _namespace(keras, path)
    return sorted(name for name in set(dir(ours)) & set(dir(theirs))
                  if not name.startswith("_") and inspect.isclass(getattr(theirs, name)) and name not in ABSTRACT
                  and name not in NEEDS_TENSORFLOW | WRAP_USER_CODE and name not in WRAPPERS)


def _build(lib, path, name, **kwargs):
    if name in WRAPPERS:
        return WRAPPERS[name](lib)
    named = {"name": "x"} if path in ("layers", "optimizers") else {}
    return getattr(_namespace(lib, path), name)(*REQUIRED.get(name, ()), **named, **kwargs)


def assert_same(ours, theirs, where=""):
    """Equal dicts, with tuples where Keras has tuples (Python's == alone lets 1.0 stand for 1 but not
    [1] for (1,); JSON makes both lists, but get_config()'s users compare Python values)."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), where
        assert sorted(ours) == sorted(theirs), "%s: keys %s vs Keras's %s" % (where, sorted(ours), sorted(theirs))
        for key in theirs:
            assert_same(ours[key], theirs[key], "%s.%s" % (where, key))
    elif isinstance(theirs, (list, tuple)):
        assert isinstance(ours, tuple) == isinstance(theirs, tuple) and len(ours) == len(theirs), \
            "%s: %r vs Keras's %r" % (where, ours, theirs)
        for k, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, "%s[%d]" % (where, k))
    else:
        assert ours == theirs and type(ours) is not bool or ours is theirs, \
            "%s: %r vs Keras's %r" % (where, ours, theirs)


# Settings Keras 3.15 leaves out of these configs (so that a reloaded object has the default): mlcore
# writes them too, so that a model saved with Huber(delta=2.0) comes back with it; otherwise the same.
KEPT_BEYOND_KERAS = {("losses", "Huber"): "delta", ("losses", "CosineSimilarity"): "axis",
                     ("losses", "SparseCategoricalCrossentropy"): "axis", ("metrics", "CosineSimilarity"): "axis",
                     ("initializers", "Identity"): "gain", ("initializers", "IdentityInitializer"): "gain",
                     ("initializers", "identity"): "gain"}


def _comparable(path, name, config):
    if path == "layers" and name == "RandomCrop":
        config = dict(config, seed=None)
    if path == "metrics":       # a default name's count ("auc_24") depends on the metrics made before in the process
        config = dict(config, name=re.sub(r"_\d+$", "", config["name"]))
    return config


def _as_keras_writes_it(path, name, config):
    """mlcore's config less the setting it keeps beyond Keras's (there, checked)."""
    kept = KEPT_BEYOND_KERAS.get((path, name))
    if kept is not None:
        assert kept in config, "%s: mlcore's config lacks %r" % (name, kept)
        config = {k: v for k, v in config.items() if k != kept}
    return config


@pytest.mark.parametrize("path, name", sorted(KEPT_BEYOND_KERAS))
def test_settings_keras_drops_survive_a_round_trip(path, name):
    setting = KEPT_BEYOND_KERAS[(path, name)]
    original = _build(mlcore, path, name, **{setting: 2.0 if setting != "axis" else 0})
    reloaded = type(original).from_config(original.get_config())
    assert getattr(reloaded, setting) == getattr(original, setting) != getattr(_build(mlcore, path, name), setting)


@pytest.mark.parametrize("path", NAMESPACES)
def test_default_configs_equal_keras(keras, path):
    failures = []
    for name in _public_classes(keras, path):
        ours, theirs = _build(mlcore, path, name), _build(keras, path, name)
        try:
            assert_same(_comparable(path, name, _as_keras_writes_it(path, name, ours.get_config())),
                        _comparable(path, name, theirs.get_config()), name)
            ours_spec, theirs_spec = mlcore.saving.serialize_keras_object(ours), \
                keras.saving.serialize_keras_object(theirs)
            assert_same({k: ours_spec[k] for k in IDENTITY}, {k: theirs_spec[k] for k in IDENTITY}, name)
        except AssertionError as error:
            failures.append(str(error))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("path, name, kwargs", [
    ("layers", "Dense", {"activation": "relu", "use_bias": False, "kernel_regularizer": "l2",
                         "activity_regularizer": "l1", "kernel_constraint": "max_norm", "dtype": "float64"}),
    ("layers", "Conv2D", {"strides": 2, "padding": "same", "bias_initializer": "ones", "dtype": "mixed_float16"}),
    ("layers", "LSTM", {"return_sequences": True, "dropout": 0.25, "recurrent_initializer": "zeros"}),
    ("layers", "BatchNormalization", {"momentum": 0.9, "center": False, "gamma_regularizer": "l1"}),
    ("layers", "Embedding", {"mask_zero": True, "embeddings_initializer": "he_normal"}),
    ("layers", "Dropout", {"seed": 3, "noise_shape": (None, 1)}),
    ("optimizers", "Adam", {"learning_rate": 0.01, "amsgrad": True, "clipnorm": 1.0}),
    ("optimizers", "SGD", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("losses", "CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}),
    ("losses", "Huber", {"delta": 2.0}),
    ("metrics", "AUC", {"num_thresholds": 50, "curve": "PR"}),
    ("initializers", "VarianceScaling", {"scale": 2.0, "mode": "fan_out", "seed": 7}),
    ("regularizers", "L1L2", {"l1": 0.1, "l2": 0.2}),
    ("constraints", "MinMaxNorm", {"min_value": 0.5, "rate": 0.5}),
])
def test_non_default_configs_equal_keras(keras, path, name, kwargs):
    assert_same(_comparable(path, name, _as_keras_writes_it(path, name, _build(mlcore, path, name, **kwargs).get_config())),
                _comparable(path, name, _build(keras, path, name, **kwargs).get_config()), name)


def test_learning_rate_schedule_inside_an_optimizer(keras):
    def optimizer(lib):
        return lib.optimizers.SGD(learning_rate=lib.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9), name="x")
    assert_same(mlcore.saving.serialize_keras_object(optimizer(mlcore)),
                keras.saving.serialize_keras_object(optimizer(keras)))


def test_optimizers_are_named_uniquely_as_in_keras():
    first, second = mlcore.optimizers.Adam(), mlcore.optimizers.Adam()
    assert first.name != second.name and second.name.startswith("adam_")


@pytest.mark.parametrize("obj", ["float32", "mixed_float16"])
def test_dtype_policy_serialization(keras, obj):
    ours = mlcore.saving.serialize_keras_object(mlcore.dtype_policies.DTypePolicy(obj))
    assert_same(ours, keras.saving.serialize_keras_object(keras.dtype_policies.DTypePolicy(obj)))
    assert mlcore.saving.deserialize_keras_object(ours) == mlcore.dtype_policies.DTypePolicy(obj)


def test_activation_and_loss_functions_serialize_as_keras(keras):
    assert_same(mlcore.saving.serialize_keras_object(mlcore.activations.relu),
                keras.saving.serialize_keras_object(keras.activations.relu))
    assert_same(mlcore.losses.serialize(mlcore.losses.mean_squared_error),
                keras.losses.serialize(keras.losses.mean_squared_error))
    assert mlcore.activations.serialize(mlcore.activations.relu) == keras.activations.serialize(keras.activations.relu)


def test_custom_class_serializes_under_its_registered_name(keras):
    @mlcore.saving.register_keras_serializable("ConfigParity")
    class Halves(mlcore.initializers.Initializer):
        def __call__(self, shape, dtype=None):
            return mlcore.initializers.Constant(0.5)(shape, dtype)

    spec = mlcore.initializers.serialize(Halves())
    assert spec == {"module": __name__, "class_name": "Halves", "config": {}, "registered_name": "ConfigParity>Halves"}
    assert isinstance(mlcore.initializers.deserialize(spec), Halves)


def _sequential(lib):
    return lib.Sequential([lib.Input((4,), name="in"), lib.layers.Dense(3, activation="relu", name="d1"),
                           lib.layers.Dense(1, name="d2")], name="seq")


def _functional(lib):
    inputs = lib.Input((4,), name="in")
    hidden = lib.layers.Dense(3, name="d1")(inputs)
    return lib.Model(inputs, lib.layers.Add(name="add")([hidden, lib.layers.Dense(3, name="d2")(inputs)]), name="fn")


@pytest.mark.parametrize("make", [_sequential, _functional])
def test_model_configs_equal_keras_and_load_in_both(keras, make):
    ours, theirs = make(mlcore), make(keras)
    assert_same(ours.get_config(), theirs.get_config())
    ours_spec, theirs_spec = mlcore.saving.serialize_keras_object(ours), keras.saving.serialize_keras_object(theirs)
    assert_same({k: v for k, v in ours_spec.items() if k != "build_config"},
                {k: v for k, v in theirs_spec.items() if k != "build_config"})
    rebuilt = type(ours).from_config(theirs.get_config())
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in ours.layers]
    assert_same(rebuilt.get_config(), theirs.get_config())
    assert [layer.name for layer in type(theirs).from_config(ours.get_config()).layers] == \
        [layer.name for layer in theirs.layers]


def test_old_mlcore_configs_still_load():
    """The layout mlcore wrote before (dtype by name, mlcore.* modules, batch_input_shape on the first layer)."""
    old = {"name": "seq", "build_input_shape": [None, 4], "layers": [
        {"class_name": "Dense", "config": {
            "name": "d", "trainable": True, "dtype": "float32", "batch_input_shape": [None, 4], "units": 2,
            "activation": "relu", "use_bias": True, "activity_regularizer": None,
            "kernel_initializer": {"module": "mlcore.initializers", "class_name": "GlorotUniform",
                                   "config": {"seed": None}},
            "bias_initializer": {"module": "mlcore.initializers", "class_name": "Zeros", "config": {}},
            "kernel_regularizer": {"module": "mlcore.regularizers", "class_name": "L2", "config": {"l2": 0.5}},
            "bias_regularizer": None, "kernel_constraint": None, "bias_constraint": None}}]}
    model = mlcore.Sequential.from_config(old)
    assert model.built and model.input_shape == (None, 4)
    assert model.layers[0].kernel_regularizer.l2 == 0.5


def test_keras_only_option_switched_on_is_refused():
    config = mlcore.layers.Dense(2).get_config()    # a Keras-only option (InputLayer's) on a layer that lacks it
    with pytest.raises(TypeError, match="ragged"):       # wrapped as Keras's from_config wraps errors
        mlcore.layers.Dense.from_config(dict(config, ragged=True))

"""MobileNetV3Small/Large, EfficientNetB0..B7 and EfficientNetV2B0..L against Keras 3's: the same layers,
weight shapes and parameter counts for every variant; the same probabilities as Keras's model holding the same
random weights (set directly, or loaded from a .weights.h5 or legacy .h5 file Keras wrote) on jax, and on
numpy and theano for one small headless model; weights="imagenet" asking get_file for Keras's exact files;
Keras's argument checks.

Keras's models are built without initializing their variables (a StatelessScope that does not initialize):
jax compiles an initializer for every new weight shape, which costs a minute per model here."""
import os

import numpy as np
import pytest

os.environ["KERAS_BACKEND"] = "jax"

from mlcore import applications, config, function, layers  # noqa: E402
from mlcore.applications import efficientnet, efficientnet_v2, mobilenet_v3  # noqa: E402
from mlcore.layers.base import clear_session  # noqa: E402

SHAPE, CLASSES = (32, 32, 3), 7
# name: (our constructor, arguments); Keras's constructor has the same name
MODELS = {
    "mobilenetv3small": (applications.MobileNetV3Small, {"alpha": 0.75}),
    "efficientnetb0": (applications.EfficientNetB0, {}),
    "efficientnetv2b0": (applications.EfficientNetV2B0, {}),
}


def keras_model(keras, constructor, **kwargs):
    """Keras's model, its variables not initialized (set_weights gives them values)."""
    from keras.src.backend.common.stateless_scope import StatelessScope
    with StatelessScope(initialize_variables=False):
        return getattr(keras.applications, constructor.__name__)(**kwargs)


def set_random_weights(keras, model):
    """model with random_weights: Keras's Normalization reads its mean and variance when built or loaded
    (finalize_state), not after set_weights."""
    model.set_weights(random_weights(keras, model))
    for layer in model.layers:
        if isinstance(layer, keras.layers.Normalization):
            layer.finalize_state()
    return model


def random_weights(keras, model, seed=0):
    """He-scaled kernels (a depthwise kernel's fan-in is the part of its window inside these small maps),
    BatchNormalization's scale below 1 (deep residual stacks grow otherwise, and with them float32's
    rounding): activations stay O(1), the probabilities apart."""
    rng = np.random.default_rng(seed)
    weights = []
    for layer in model.layers:
        depthwise = isinstance(layer, keras.layers.DepthwiseConv2D)
        for w in layer.weights:
            shape, path = tuple(w.shape), w.path
            if path.endswith("count"):
                value = np.zeros(shape)
            elif path.endswith("gamma"):
                value = rng.uniform(0.5, 1.2, shape)
            elif path.endswith("variance"):
                value = rng.uniform(0.5, 1.5, shape)
            elif len(shape) > 1:
                fan_in = 4 if depthwise else np.prod(shape[:-1])
                value = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
            else:
                value = rng.standard_normal(shape) * 0.1
            weights.append(value.astype(w.dtype))
    return weights


def images(seed):
    """Two images of random pixels, the second darker: i.i.d. noise images look alike after the global
    pooling, these do not."""
    x = np.random.default_rng(seed).uniform(0, 255, (2,) + SHAPE)
    return (x * np.array([1.0, 0.3]).reshape(2, 1, 1, 1)).astype("float32")


@pytest.fixture(scope="module", params=sorted(MODELS))
def reference(request, keras, tmp_path_factory):
    """(name, Keras's model with random weights, its two weight files, a batch of images, its predictions)."""
    name = request.param
    ours, kwargs = MODELS[name]
    theirs = keras_model(keras, ours, weights=None, input_shape=SHAPE, classes=CLASSES, **kwargs)
    set_random_weights(keras, theirs)
    folder = tmp_path_factory.mktemp(name)
    files = {".weights.h5": str(folder / (name + ".weights.h5")), ".h5": str(folder / (name + ".h5"))}
    theirs.save_weights(files[".weights.h5"])
    theirs.save(files[".h5"])
    x = images(1)
    return name, theirs, files, x, np.asarray(theirs.predict(x, verbose=0))


def test_keras_weight_files_load_and_predict_the_same(reference, float32_jax):
    """Both files give Keras's weights; with them, the model gives Keras's probabilities."""
    name, theirs, files, x, expected = reference
    ours, kwargs = MODELS[name]
    for suffix in (".weights.h5", ".h5"):
        model = ours(weights=files[suffix], input_shape=SHAPE, classes=CLASSES, **kwargs)
        for got, want in zip(model.get_weights(), theirs.get_weights()):
            np.testing.assert_array_equal(got, want)
    got = function(model.inputs, model.outputs[0], backend="jax")(x)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    assert np.abs(expected[0] - expected[1]).max() > 1e-4     # the images are told apart: a real check


@pytest.mark.parametrize("backend", ["numpy", "theano"])      # jax: test_keras_weight_files_load_and_predict_the_same
def test_headless_model_on_numpy_and_theano(keras, backend, require_backend):
    require_backend(backend)
    ours = applications.MobileNetV3Small
    kwargs = dict(weights=None, include_top=False, input_shape=SHAPE, pooling="avg", minimalistic=True)
    theirs = keras_model(keras, ours, **kwargs)
    set_random_weights(keras, theirs)
    model = ours(**kwargs)
    model.set_weights(theirs.get_weights())
    x = images(2)
    got = function(model.inputs, model.outputs[0], backend=backend)(x)
    expected = theirs.predict(x, verbose=0)
    # features up to ~100 after ReLUs: float32 rounding is relative to that scale, not to each feature
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6 * np.abs(expected).max())


def test_channels_first_model_gives_the_same_probabilities(reference):
    """The per-channel Normalization and Rescaling, the SE reshapes and the paddings along axis 1."""
    name, theirs, _, x, expected = reference
    ours, kwargs = MODELS[name]
    previous = config.image_data_format()
    config.set_image_data_format("channels_first")
    try:
        model = ours(weights=None, input_shape=SHAPE[::-1], classes=CLASSES, **kwargs)
    finally:
        config.set_image_data_format(previous)
    model.set_weights(theirs.get_weights())
    got = function(model.inputs, model.outputs[0], backend="jax")(x.transpose(0, 3, 1, 2))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)


# the larger ones take seconds each to build (mlcore draws every initial weight): run with --runslow
VARIANTS = [applications.EfficientNetB0, applications.EfficientNetB3, applications.EfficientNetV2B0,
            applications.EfficientNetV2B3, applications.MobileNetV3Small, applications.MobileNetV3Large] + [
    pytest.param(getattr(applications, name), marks=pytest.mark.slow)
    for name in ("EfficientNetB1", "EfficientNetB2", "EfficientNetB4", "EfficientNetB5", "EfficientNetB6",
                 "EfficientNetB7", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2S", "EfficientNetV2M",
                 "EfficientNetV2L")]


@pytest.mark.parametrize("ours", VARIANTS, ids=lambda f: getattr(f, "__name__", None))
def test_layers_match_keras(keras, ours):
    """Every layer's name and type (the unnamed Rescaling, Normalization, ReLU ones too: both sessions
    cleared, their counters agree), every weight's shape, the parameter count, at the default size."""
    keras.backend.clear_session()
    clear_session()
    theirs = keras_model(keras, ours, weights=None)
    model = ours(weights=None)
    assert model.name == theirs.name
    assert [layer.name for layer in model.layers] == [layer.name for layer in theirs.layers]
    assert [type(layer).__name__ for layer in model.layers] == [type(layer).__name__ for layer in theirs.layers]
    assert [tuple(w.shape) for w in model.weights] == [tuple(w.shape) for w in theirs.weights]
    assert model.count_params() == theirs.count_params()


@pytest.mark.parametrize("ours, kwargs", [pytest.param(applications.EfficientNetB7, {}, marks=pytest.mark.slow),
                                          pytest.param(applications.EfficientNetV2L, {}, marks=pytest.mark.slow),
                                          (applications.MobileNetV3Large, {"alpha": 1.5, "minimalistic": True}),
                                          (applications.MobileNetV3Small, {"include_preprocessing": False,
                                                                           "dropout_rate": 0})])
def test_largest_and_other_options_match_keras(keras, ours, kwargs):
    """Options, and the largest variants headless at a small size."""
    kwargs = dict(weights=None, include_top=ours.__name__.startswith("MobileNet"), input_shape=(40, 48, 3),
                  pooling="max", **kwargs)
    theirs = keras_model(keras, ours, **kwargs)
    model = ours(**kwargs)
    assert [layer.name for layer in model.layers if layer.weights] == \
        [layer.name for layer in theirs.layers if layer.weights]
    assert len(model.layers) == len(theirs.layers) and model.count_params() == theirs.count_params()


IMAGENET = [   # (constructor, its arguments, the module whose get_file it calls, the file, Keras's md5)
    (applications.EfficientNetB0, {}, efficientnet, "keras-applications/efficientnetb0_notop.h5",
     "50bc09e76180e00e4465e1a485ddc09d"),
    (applications.EfficientNetV2B0, {}, efficientnet,
     "tensorflow/keras-applications/efficientnet_v2/efficientnetv2-b0_notop.h5", "893217f2bb855e2983157299931e43ff"),
    (applications.MobileNetV3Small, {"input_shape": (224, 224, 3)}, mobilenet_v3,
     "tensorflow/keras-applications/mobilenet_v3/weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5",
     "d3e8ec802a04aa4fc771ee12a9a9b836"),
]


@pytest.mark.parametrize("ours, kwargs, module, file, md5", IMAGENET)
def test_imagenet_weights_are_kerass_files(keras, ours, kwargs, module, file, md5, tmp_path, monkeypatch):
    """weights="imagenet" asks get_file for Keras's notop file by its official name, URL and md5, and loads
    it: here a file Keras wrote for the same model."""
    kwargs = dict({"input_shape": SHAPE}, **kwargs)
    theirs = keras_model(keras, ours, weights=None, include_top=False, **kwargs)
    set_random_weights(keras, theirs)
    path = str(tmp_path / "notop.h5")
    theirs.save(path)
    asked = []
    monkeypatch.setattr(module, "get_file", lambda *args, **kw: asked.append((args, kw)) or path)
    model = ours(include_top=False, **kwargs)
    assert asked == [((file.split("/")[-1], "https://storage.googleapis.com/" + file),
                      dict(cache_subdir="models", file_hash=md5))]
    for got, want in zip(model.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_imagenet_files_with_top(monkeypatch):
    asked = []
    for module in (efficientnet, mobilenet_v3):
        monkeypatch.setattr(module, "get_file", lambda *args, **kw: asked.append((args[0], kw["file_hash"])) or "x")
    monkeypatch.setattr(efficientnet.builder.Model, "load_weights", lambda self, path: None)
    applications.EfficientNetB2()
    applications.EfficientNetV2S()
    with pytest.warns(UserWarning, match="Weights for input shape \\(224, 224\\) will be loaded"):
        applications.MobileNetV3Large(alpha=0.75, minimalistic=False)
    assert asked == [("efficientnetb2.h5", "b15cce36ff4dcbd00b6dd88e7857a6ad"),
                     ("efficientnetv2-s.h5", "e1d88a8495beba45748fedd0cecbe016"),
                     ("weights_mobilenet_v3_large_224_0.75_float.h5", "765b44a33ad4005b3ac83185abf1d0eb")]


@pytest.mark.parametrize("module, keras_module", [(efficientnet, "efficientnet"), (efficientnet_v2, "efficientnet_v2"),
                                                  (mobilenet_v3, "mobilenet_v3")])
def test_preprocess_input_is_the_models_and_decode_predictions(keras, module, keras_module):
    batch = np.random.default_rng(2).uniform(0, 255, size=(2, 6, 6, 3)).astype("float32")
    assert module.preprocess_input(batch) is batch
    assert getattr(keras.applications, keras_module).preprocess_input(batch) is batch
    decoded = module.decode_predictions(np.eye(1000, dtype="float32")[[1, 2]], top=1)
    assert decoded == [[("n01443537", "goldfish", 1.0)], [("n01484850", "great_white_shark", 1.0)]]


@pytest.mark.parametrize("name, kwargs, message", [
    ("EfficientNetB0", dict(weights="imagenet", classes=10), "`classes` should be 1000"),
    ("EfficientNetV2S", dict(weights="no/such/file.h5"), "The `weights` argument should be either"),
    ("EfficientNetB1", dict(weights=None, input_shape=(16, 16, 3), include_top=False),
     "Input size must be at least 32x32"),
    ("EfficientNetV2B0", dict(weights="imagenet", input_shape=(64, 64, 3)), "`input_shape` should be"),
    ("MobileNetV3Small", dict(alpha=0.5), "alpha can be one of `0.75`, `1.0` for non minimalistic"),
    ("MobileNetV3Large", dict(alpha=0.75, minimalistic=True), "or `1.0` for minimalistic only"),
    ("MobileNetV3Large", dict(weights=None, input_shape=(16, 40, 3)), "Input size must be at least 32x32"),
    ("MobileNetV3Small", dict(weights=None, input_shape=(64, 64, 3), input_tensor=layers.Input(shape=(96, 96, 3))),
     r"input_shape\[1\] must equal input_tensor.shape\[2\]"),
])
def test_argument_errors_as_kerass(keras, name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        getattr(applications, name)(**kwargs)
    if "input_tensor" in kwargs:
        kwargs = dict(kwargs, input_tensor=keras.Input(shape=kwargs["input_tensor"].shape[1:]))
    with pytest.raises(ValueError, match=message):
        keras_model(keras, getattr(applications, name), **kwargs)


def test_input_tensor_and_unknown_sizes():
    image = layers.Input(shape=(64, 80, 3))
    model = applications.MobileNetV3Small(weights=None, input_tensor=image, include_top=False)
    assert model.inputs[0] is image and model.outputs[0].type.shape == (None, 2, 3, 576)
    model = applications.EfficientNetV2B0(weights=None, include_top=False, pooling="avg")
    assert model.inputs[0].type.shape == (None, None, None, 3) and model.outputs[0].type.shape == (None, 1280)


def test_convnext_matches_keras(keras, tmp_path):
    """ConvNeXtTiny headless at 32x32: Keras's layers (its LayerScale among them) and parameter count, its
    weights from its file, its features on numpy and on jax (its depthwise 7x7 convolutions grouped ops)."""
    keras.backend.clear_session()
    clear_session()
    kwargs = dict(include_top=False, pooling="avg", input_shape=SHAPE)
    theirs = keras_model(keras, applications.ConvNeXtTiny, weights=None, **kwargs)
    set_random_weights(keras, theirs)
    path = str(tmp_path / "convnext.weights.h5")
    theirs.save_weights(path)
    model = applications.ConvNeXtTiny(weights=path, **kwargs)
    assert [layer.name for layer in model.layers] == [layer.name for layer in theirs.layers]
    assert [type(layer).__name__ for layer in model.layers] == [type(layer).__name__ for layer in theirs.layers]
    assert model.count_params() == theirs.count_params() == 27820128
    for got, want in zip(model.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(got, want)
    x = images(3)
    expected = theirs.predict(x, verbose=0)
    for backend in ("numpy", "jax"):
        got = function(model.inputs, model.outputs[0], backend=backend)(x)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5, err_msg=backend)
    assert np.abs(expected[0] - expected[1]).max() > 1e-2


@pytest.mark.parametrize("name, kwargs, message", [
    ("ConvNeXtTiny", dict(weights="imagenet", name="mine"), 'Model name "mine" does not match weights variant'),
    ("ConvNeXtBase", dict(weights="imagenet", classes=10), "`classes` should be 1000"),
])
def test_convnext_argument_errors_as_kerass(keras, name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        getattr(applications, name)(**kwargs)
    with pytest.raises(ValueError, match=message):
        keras_model(keras, getattr(applications, name), **kwargs)

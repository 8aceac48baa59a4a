"""ResNet50/101/152, ResNet50V2/101V2/152V2, MobileNet and MobileNetV2 against Keras 3's: the same layers,
weight shapes and parameter counts; the same probabilities on every backend as Keras's model holding the
same random weights (set directly, or loaded from a .weights.h5 or legacy .h5 file Keras wrote);
weights="imagenet" asking get_file for Keras's exact files; preprocess_input; Keras's argument checks.

Small models (32x32 inputs, the smallest these allow, and 7 classes), one compiled function per backend."""
import os

import numpy as np
import pytest

os.environ["KERAS_BACKEND"] = "jax"

from mlcore import applications, config, function, layers  # noqa: E402
from mlcore.applications import mobilenet, mobilenet_v2, resnet, resnet50, resnet_v2  # noqa: E402
from mlcore.layers.base import clear_session  # noqa: E402

SHAPE, CLASSES = (32, 32, 3), 7
# name: (our constructor, Keras's name for it, arguments); non-default widths check alpha and depth_multiplier
MODELS = {
    "resnet50": (applications.ResNet50, "ResNet50", {}),
    "resnet50v2": (applications.ResNet50V2, "ResNet50V2", {}),
    "mobilenet": (applications.MobileNet, "MobileNet", {"alpha": 0.75, "depth_multiplier": 2}),
    "mobilenetv2": (applications.MobileNetV2, "MobileNetV2", {"alpha": 1.3}),
}


def random_weights(keras, keras_model, seed=0):
    """He-scaled kernels, BatchNormalization statistics away from 0 and 1, a small classifier kernel:
    activations stay O(1) and the probabilities apart. A depthwise kernel's fan-in is the part of its 3x3
    window inside the small maps of these 32x32 models (2x2 at most); with 9 the signal fades."""
    rng = np.random.default_rng(seed)
    weights = []
    for layer in keras_model.layers:
        depthwise = isinstance(layer, keras.layers.DepthwiseConv2D)
        for w in layer.weights:
            shape, path = tuple(w.shape), w.path
            if path.endswith(("gamma", "moving_variance")):
                value = rng.uniform(0.5, 1.5, shape)
            elif len(shape) > 1:
                fan_in = 4 if depthwise else np.prod(shape[:-1])
                value = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in) * (0.005 if path.startswith("predictions") else 1)
            else:
                value = rng.standard_normal(shape) * 0.1
            weights.append(value.astype("float32"))
    return weights


@pytest.fixture(scope="module", params=sorted(MODELS))
def reference(request, keras, tmp_path_factory):
    """(name, Keras's model with random weights, its two weight files, a batch of images, its predictions)."""
    name = request.param
    ours, keras_name, kwargs = MODELS[name]
    theirs = getattr(keras.applications, keras_name)(weights=None, input_shape=SHAPE, classes=CLASSES, **kwargs)
    theirs.set_weights(random_weights(keras, theirs))
    folder = tmp_path_factory.mktemp(name)
    files = {".weights.h5": str(folder / (name + ".weights.h5")), ".h5": str(folder / (name + ".h5"))}
    theirs.save_weights(files[".weights.h5"])
    theirs.save(files[".h5"])
    x = np.random.default_rng(1).uniform(-1, 1, (2,) + SHAPE).astype("float32")
    return name, theirs, files, x, np.asarray(theirs.predict(x, verbose=0))


@pytest.fixture(scope="module")
def model(reference):
    """Our model for the reference, holding Keras's weights by set_weights."""
    name, theirs = reference[:2]
    ours, _, kwargs = MODELS[name]
    model = ours(weights=None, input_shape=SHAPE, classes=CLASSES, **kwargs)
    model.set_weights(theirs.get_weights())
    return model


def assert_same_layers(ours, theirs):
    assert ours.name == theirs.name
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
    assert [type(layer).__name__ for layer in ours.layers] == [type(layer).__name__ for layer in theirs.layers]
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert ours.count_params() == theirs.count_params()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_layers_match_keras(keras, name):
    """Every name, the Input's and the unnamed poolings' too: both sessions cleared, their counters agree."""
    ours, keras_name, kwargs = MODELS[name]
    keras.backend.clear_session()
    clear_session()
    theirs = getattr(keras.applications, keras_name)(weights=None, input_shape=SHAPE, classes=CLASSES, **kwargs)
    assert_same_layers(ours(weights=None, input_shape=SHAPE, classes=CLASSES, **kwargs), theirs)


@pytest.mark.parametrize("backend", ["numpy", "jax", "theano"])
def test_same_probabilities_as_keras(reference, model, backend, require_backend):
    require_backend(backend)
    x, expected = reference[3:]
    got = function(model.inputs, model.outputs[0], backend=backend)(x)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
    assert np.abs(expected[0] - expected[1]).max() > 1e-3     # the images are told apart: a real check


def test_channels_first_model_gives_the_same_probabilities(reference):
    name, theirs, _, x, expected = reference
    ours, _, kwargs = MODELS[name]
    previous = config.image_data_format()
    config.set_image_data_format("channels_first")
    try:
        model = ours(weights=None, input_shape=SHAPE[::-1], classes=CLASSES, **kwargs)
    finally:
        config.set_image_data_format(previous)
    model.set_weights(theirs.get_weights())
    got = function(model.inputs, model.outputs[0], backend="numpy")(x.transpose(0, 3, 1, 2))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("suffix", [".weights.h5", ".h5"])
def test_keras_weight_files_load(reference, suffix):
    name, theirs, files, x, expected = reference
    ours, _, kwargs = MODELS[name]
    loaded = ours(weights=files[suffix], input_shape=SHAPE, classes=CLASSES, **kwargs)
    for got, want in zip(loaded.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("ours, keras_name", [(applications.ResNet152, "ResNet152"),
                                              (applications.ResNet152V2, "ResNet152V2")])
def test_deepest_resnets_match_keras(keras, ours, keras_name):
    theirs = getattr(keras.applications, keras_name)(weights=None, include_top=False, input_shape=SHAPE,
                                                     pooling="max")
    model = ours(weights=None, include_top=False, input_shape=SHAPE, pooling="max")
    assert len(model.layers) == len(theirs.layers) and model.count_params() == theirs.count_params()
    assert model.layers[-1].name == "max_pool" and model.get_layer("conv4_block36_out") is not None
    assert [layer.name for layer in model.layers if layer.weights] == \
        [layer.name for layer in theirs.layers if layer.weights]


IMAGENET = [   # (constructor, its arguments, the module whose get_file it calls, the file, Keras's md5)
    (applications.ResNet50, {}, resnet, "resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
     "4d473c1dd8becc155b73f8504c6f6626"),
    (applications.ResNet101V2, {}, resnet, "resnet/resnet101v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
     "c0ed64b8031c3730f411d2eb4eea35b5"),
    (applications.MobileNet, {"alpha": 0.5, "input_shape": (128, 128, 3)}, mobilenet,
     "mobilenet/mobilenet_5_0_128_tf_no_top.h5", None),
    (applications.MobileNetV2, {"alpha": 0.35, "input_shape": (96, 96, 3)}, mobilenet_v2,
     "mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5", None),
]


@pytest.mark.parametrize("ours, kwargs, module, file, md5", IMAGENET)
def test_imagenet_weights_are_kerass_files(keras, ours, kwargs, module, file, md5, tmp_path, monkeypatch):
    """weights="imagenet" asks get_file for Keras's notop file by its official name and URL (and md5 where
    Keras has one), and loads it: here a file Keras wrote for the same model."""
    kwargs = dict({"input_shape": SHAPE}, **kwargs)
    theirs = getattr(keras.applications, ours.__name__)(weights=None, include_top=False, **kwargs)
    theirs.set_weights(random_weights(keras, theirs))
    path = str(tmp_path / "notop.h5")
    theirs.save(path)
    asked = []
    monkeypatch.setattr(module, "get_file", lambda *args, **kw: asked.append((args, kw)) or path)
    model = ours(include_top=False, **kwargs)
    hashed = {"file_hash": md5} if md5 else {}
    assert asked == [((file.split("/")[1], "https://storage.googleapis.com/tensorflow/keras-applications/" + file),
                      dict(cache_subdir="models", **hashed))]
    for got, want in zip(model.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_imagenet_weights_with_top_and_a_size_keras_has_no_file_for(monkeypatch):
    asked = []
    monkeypatch.setattr(mobilenet_v2, "get_file", lambda *args, **kw: asked.append(args[0]) or "missing.h5")
    monkeypatch.setattr(mobilenet_v2.builder.Model, "load_weights", lambda self, path: asked.append(path))
    with pytest.warns(UserWarning, match="Weights for input shape \\(224, 224\\) will be loaded"):
        model = applications.MobileNetV2(include_top=False, input_shape=(40, 40, 3))
    assert asked == ["mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5", "missing.h5"]
    assert model.name == "mobilenetv2_1.00_224"
    asked.clear()
    monkeypatch.setattr(resnet, "get_file", lambda *args, **kw: asked.append(args[0]) or "missing.h5")
    applications.ResNet152()
    assert asked == ["resnet152_weights_tf_dim_ordering_tf_kernels.h5", "missing.h5"]


@pytest.mark.parametrize("module, keras_module", [(resnet, "resnet"), (resnet50, "resnet50"),
                                                  (resnet_v2, "resnet_v2"), (mobilenet, "mobilenet"),
                                                  (mobilenet_v2, "mobilenet_v2")])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_preprocess_input_matches_keras(keras, module, keras_module, data_format):
    batch = np.random.default_rng(2).uniform(0, 255, size=(2, 6, 6, 3)).astype("float32")
    if data_format == "channels_first":
        batch = batch.transpose(0, 3, 1, 2)
    theirs = getattr(keras.applications, keras_module).preprocess_input(batch.copy(), data_format=data_format)
    np.testing.assert_allclose(module.preprocess_input(batch, data_format=data_format), theirs, atol=1e-5)
    decoded = module.decode_predictions(np.eye(1000, dtype="float32")[[1, 2]], top=1)
    assert decoded == [[("n01443537", "goldfish", 1.0)], [("n01484850", "great_white_shark", 1.0)]]


@pytest.mark.parametrize("build, message", [
    (lambda: applications.ResNet50(weights="imagenet", classes=10), "`classes` should be 1000"),
    (lambda: applications.ResNet50V2(weights="no/such/file.h5"), "The `weights` argument should be either"),
    (lambda: applications.ResNet101(weights=None, input_shape=(16, 16, 3), include_top=False),
     "Input size must be at least 32x32"),
    (lambda: applications.MobileNet(depth_multiplier=2), "depth multiplier must be 1"),
    (lambda: applications.MobileNet(alpha=0.6), "alpha can be one of"),
    (lambda: applications.MobileNetV2(alpha=0.6), "alpha must be one of"),
    (lambda: applications.MobileNetV2(classifier_activation="relu"), "Only `None` and `softmax`"),
    (lambda: applications.MobileNetV2(weights=None, input_shape=(64, 64, 3),
                                      input_tensor=layers.Input(shape=(96, 96, 3))),
     r"MobileNetV2: input_tensor.shape\[2\] must equal input_shape\[1\].*\(None, 96, 96, 3\)"),
])
def test_argument_errors(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_input_tensor_and_headless_shapes():
    image = layers.Input(shape=(96, 96, 3))
    model = applications.MobileNetV2(weights=None, input_tensor=image, include_top=False)
    assert model.name == "mobilenetv2_1.00_None" and model.inputs[0] is image   # as Keras names it
    assert model.outputs[0].type.shape == (None, 3, 3, 1280)
    model = applications.ResNet50(weights=None, include_top=False, pooling="avg")
    assert model.outputs[0].type.shape == (None, 2048) and model.layers[-1].name == "avg_pool"
    assert applications.MobileNet(weights=None, include_top=False).name == "mobilenet_1.00_None"


@pytest.mark.slow
@pytest.mark.parametrize("ours, keras_name", [(applications.ResNet50, "ResNet50"),
                                              (applications.MobileNetV2, "MobileNetV2")])
def test_full_size_matches_keras(keras, ours, keras_name):
    """224x224, 1000 classes, on the jax backend."""
    theirs = getattr(keras.applications, keras_name)(weights=None)
    theirs.set_weights(random_weights(keras, theirs))
    model = ours(weights=None)
    model.set_weights(theirs.get_weights())
    x = np.random.default_rng(3).uniform(-1, 1, (2, 224, 224, 3)).astype("float32")
    got = function(model.inputs, model.outputs[0], backend="jax")(x)
    np.testing.assert_allclose(got, np.asarray(theirs.predict(x, verbose=0)), rtol=1e-4, atol=1e-6)

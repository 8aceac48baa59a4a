"""DenseNet121/169/201, Xception, InceptionV3, InceptionResNetV2, NASNetMobile and NASNetLarge against Keras 3's:
the same layers (names and types, in order), weight shapes and parameter counts; the same outputs as Keras's
model holding random weights, loaded from the .weights.h5 and legacy .h5 files Keras wrote; weights="imagenet"
asking get_file for Keras's exact files; preprocess_input; Keras's argument checks.

Each model at the smallest input Keras allows (32x32, 71x71 for Xception, 75x75 for the Inceptions); the big
ones without the top. Every model runs on the numpy backend, most on jax too; a DenseNet of 1, 2, 1 and 1
blocks on theano as well (PyTensor compiles these big graphs slowly). The slowest run with --runslow."""
import importlib
import os

import numpy as np
import pytest

os.environ["KERAS_BACKEND"] = "jax"

from mlcore import applications, config, function, layers  # noqa: E402
from mlcore.applications import densenet, inception_resnet_v2, inception_v3, nasnet, xception  # noqa: E402
from mlcore.layers.base import clear_session  # noqa: E402

CLASSES = 7
SMALL = "densenet_1_2_1_1"    # the configuration every backend runs (theano compiles big graphs slowly)
# name: (our constructor, Keras's (a name under keras.applications or keras.src.applications), arguments
# besides weights=None); with the top, CLASSES classes. NASNetLarge's 85M weights would take minutes here:
# nasnet_a_6 is its architecture (6 normal cells a stack, skip_reduction) at a small width.
MODELS = {
    "densenet121": (applications.DenseNet121, "DenseNet121", {"input_shape": (32, 32, 3), "classes": CLASSES}),
    "densenet169": (applications.DenseNet169, "DenseNet169",
                    {"input_shape": (32, 32, 3), "include_top": False, "pooling": "avg"}),
    "densenet201": (applications.DenseNet201, "DenseNet201",
                    {"input_shape": (32, 32, 3), "include_top": False, "pooling": "max"}),
    "xception": (applications.Xception, "Xception",
                 {"input_shape": (71, 71, 3), "classes": CLASSES, "classifier_activation": None}),
    "inception_v3": (applications.InceptionV3, "InceptionV3", {"input_shape": (75, 75, 3), "classes": CLASSES}),
    "inception_resnet_v2": (applications.InceptionResNetV2, "InceptionResNetV2",
                            {"input_shape": (75, 75, 3), "include_top": False, "pooling": "avg"}),
    "nasnet_mobile": (applications.NASNetMobile, "NASNetMobile",
                      {"input_shape": (32, 32, 3), "classes": CLASSES, "classifier_activation": None}),
    SMALL: (densenet.DenseNet, "densenet.DenseNet", {"blocks": [1, 2, 1, 1], "input_shape": (32, 32, 3),
                                                     "classes": CLASSES}),
    "nasnet_a_6": (nasnet.NASNet, "nasnet.NASNet",
                   {"input_shape": (32, 32, 3), "penultimate_filters": 192, "num_blocks": 6, "stem_block_filters": 16,
                    "skip_reduction": True, "include_top": False, "pooling": "max"}),
}
LEGACY_H5_MAX_PARAMS = 25_000_000    # the legacy .h5 file too for the models below this size
# Each test file here must run in about a minute: these run only with --runslow (-m slow), as does jax for
# the models it compiles slowest (the numpy backend, which compiles nothing, checks them by default).
SLOW_MODELS = ("densenet169", "densenet201", "nasnet_a_6")   # DenseNet121 and the small one by default
SLOW_ON_JAX = ("inception_resnet_v2", "nasnet_mobile")


def run_slow(config_):
    """Whether the slow tests run (conftest's rule: --runslow, or -m naming slow)."""
    return config_.getoption("--runslow") or "slow" in (config_.getoption("-m") or "")


def random_weights(keras_model, seed=0):
    """He-scaled kernels (a depthwise kernel's fan-in is its window), BatchNormalization statistics away
    from 0 and 1, a small classifier kernel: activations stay O(1) and the outputs apart."""
    rng = np.random.default_rng(seed)
    weights = []
    for w in keras_model.weights:
        shape, path = tuple(w.shape), w.path
        if path.endswith(("gamma", "moving_variance")):
            value = rng.uniform(0.5, 1.5, shape)
        elif len(shape) > 1:
            fan_in = np.prod(shape[:2] if path.endswith("depthwise_kernel") else shape[:-1])
            value = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in) * (0.1 if path.startswith("predictions") else 1)
        else:
            value = rng.standard_normal(shape) * 0.1
        weights.append(value.astype("float32"))
    return weights


def keras_constructor(keras, name):
    """keras.applications.<name>, or keras.src.applications.<module>.<name>."""
    if "." not in name:
        return getattr(keras.applications, name)
    module, name = name.split(".")
    return getattr(importlib.import_module("keras.src.applications." + module), name)


@pytest.fixture(scope="module", params=[pytest.param(name, marks=[pytest.mark.slow] if name in SLOW_MODELS else [])
                                        for name in sorted(MODELS)])
def reference(request, keras, tmp_path_factory):
    """(name, Keras's model with random weights, its two weight files, a batch of images, its outputs).
    Both sessions cleared first: the unnamed layers' names (conv2d_7, add_3, ...) must agree too."""
    name = request.param
    ours, keras_name, kwargs = MODELS[name]
    keras.backend.clear_session()
    clear_session()
    theirs = keras_constructor(keras, keras_name)(weights=None, **kwargs)
    theirs.set_weights(random_weights(theirs))
    folder = tmp_path_factory.mktemp(name)
    files = {".weights.h5": str(folder / (name + ".weights.h5"))}
    theirs.save_weights(files[".weights.h5"])
    if theirs.count_params() < LEGACY_H5_MAX_PARAMS:
        files[".h5"] = str(folder / (name + ".h5"))
        theirs.save(files[".h5"])
    x = np.random.default_rng(1).uniform(-1, 1, (2,) + kwargs["input_shape"]).astype("float32")
    return name, theirs, files, x, np.asarray(theirs.predict(x, verbose=0))


@pytest.fixture(scope="module")
def model(reference):
    """Our model for the reference, built in a cleared session and loaded from Keras's .weights.h5 file."""
    name, _, files = reference[:3]
    ours, _, kwargs = MODELS[name]
    clear_session()
    return ours(weights=files[".weights.h5"], **kwargs)


def assert_close(got, expected):
    """float32 agreement: probabilities to 1e-4 relative, unbounded features relative to their scale."""
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6 + 1e-5 * np.abs(expected).max())
    assert np.abs(expected[0] - expected[1]).max() > 1e-3 * np.abs(expected).max()   # the images told apart


def test_layers_match_keras(reference, model):
    theirs = reference[1]
    assert model.name == theirs.name
    assert [layer.name for layer in model.layers] == [layer.name for layer in theirs.layers]
    assert [type(layer).__name__ for layer in model.layers] == [type(layer).__name__ for layer in theirs.layers]
    assert [tuple(w.shape) for w in model.weights] == [tuple(w.shape) for w in theirs.weights]
    assert model.count_params() == theirs.count_params()
    assert model.outputs[0].type.shape == tuple(theirs.output.shape)


@pytest.mark.parametrize("backend", ["numpy", "jax", "theano"])
def test_same_outputs_as_keras(reference, model, backend, require_backend, request):
    name = reference[0]
    if backend == "theano" and name != SMALL:
        pytest.skip("theano runs the small configuration; numpy and jax the models")
    if backend == "jax" and name in SLOW_ON_JAX and not run_slow(request.config):
        pytest.skip("slow on jax: run with --runslow")
    require_backend(backend)
    x, expected = reference[3:]
    assert_close(function(model.inputs, model.outputs[0], backend=backend)(x), expected)


def test_legacy_h5_file_loads(reference, model):
    """The legacy layout mlcore reads Keras's imagenet files in: by topology, into a model whose unnamed
    layers are numbered differently (its session not cleared)."""
    name, theirs, files = reference[:3]
    if ".h5" not in files:
        pytest.skip("no legacy .h5 file for the models of more than %d weights" % LEGACY_H5_MAX_PARAMS)
    ours, _, kwargs = MODELS[name]
    loaded = ours(weights=None, **kwargs)
    loaded.load_weights(files[".h5"])
    for got, want in zip(loaded.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_nasnet_large_has_kerass_size():
    """Keras's NASNetLarge (84,916,818 weights in 1039 layers, measured) is too big to build here beside ours:
    nasnet_a_6 checks its architecture against Keras's."""
    model = applications.NASNetLarge(weights=None, include_top=False, input_shape=(32, 32, 3))
    assert model.count_params() == 84916818 and len(model.layers) == 1039 and model.name == "nasnet_large"
    assert model.layers[-1].name.startswith("activation") and model.get_layer("normal_concat_18") is not None


def test_channels_first_xception_gives_the_same_outputs(keras):
    theirs = keras.applications.Xception(weights=None, input_shape=(71, 71, 3), include_top=False, pooling="max")
    theirs.set_weights(random_weights(theirs))
    x = np.random.default_rng(2).uniform(-1, 1, (2, 71, 71, 3)).astype("float32")
    previous = config.image_data_format()
    config.set_image_data_format("channels_first")
    try:
        model = applications.Xception(weights=None, input_shape=(3, 71, 71), include_top=False, pooling="max")
    finally:
        config.set_image_data_format(previous)
    model.set_weights(theirs.get_weights())
    got = function(model.inputs, model.outputs[0], backend="jax")(x.transpose(0, 3, 1, 2))
    assert_close(got, np.asarray(theirs.predict(x, verbose=0)))


URL = "https://storage.googleapis.com/tensorflow/keras-applications/"
IMAGENET = [   # (constructor, include_top, the module whose get_file it calls, the file's name, its URL, md5)
    (applications.DenseNet121, True, densenet, "densenet121_weights_tf_dim_ordering_tf_kernels.h5",
     "densenet/densenet121_weights_tf_dim_ordering_tf_kernels.h5", "9d60b8095a5708f2dcce2bca79d332c7"),
    (applications.DenseNet169, False, densenet, "densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5",
     "densenet/densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5", "b8c4d4c20dd625c148057b9ff1c1176b"),
    (applications.DenseNet201, False, densenet, "densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5",
     "densenet/densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5", "c13680b51ded0fb44dff2d8f86ac8bb1"),
    (applications.Xception, True, xception, "xception_weights_tf_dim_ordering_tf_kernels.h5",
     "xception/xception_weights_tf_dim_ordering_tf_kernels.h5", "0a58e3b7378bc2990ea3b43d5981f1f6"),
    (applications.InceptionV3, False, inception_v3, "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
     "inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5", "bcbd6486424b2319ff4ef7d526e38f63"),
    (applications.InceptionResNetV2, True, inception_resnet_v2,
     "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
     "inception_resnet_v2/inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
     "e693bd0210a403b3192acc6073ad2e96"),
    (applications.NASNetMobile, False, nasnet, "nasnet_mobile_no_top.h5", "nasnet/NASNet-mobile-no-top.h5",
     "1ed92395b5b598bdda52abe5c0dbfd63"),
    (applications.NASNetLarge, True, nasnet, "nasnet_large.h5", "nasnet/NASNet-large.h5",
     "11577c9a518f0070763c2b964a382f17"),
]


@pytest.mark.parametrize("ours, include_top, module, file, url, md5", IMAGENET)
def test_imagenet_weights_are_kerass_files(ours, include_top, module, file, url, md5, monkeypatch):
    """weights="imagenet" asks get_file for Keras's file by its official name, URL and md5, then loads it."""
    asked = []
    monkeypatch.setattr(module, "get_file", lambda *args, **kw: asked.append((args, kw)) or "pretrained.h5")
    monkeypatch.setattr(module.builder.Model, "load_weights", lambda self, path: asked.append(path))
    model = ours(include_top=include_top)
    assert asked == [((file, URL + url), {"cache_subdir": "models", "file_hash": md5}), "pretrained.h5"]
    if include_top:
        side = {"DenseNet121": 224, "NASNetLarge": 331}.get(ours.__name__, 299)
        assert model.inputs[0].type.shape == (None, side, side, 3)


MODULES = [(densenet, "densenet"), (xception, "xception"), (inception_v3, "inception_v3"),
           (inception_resnet_v2, "inception_resnet_v2"), (nasnet, "nasnet")]


@pytest.mark.parametrize("module, keras_module", MODULES)
def test_preprocess_input_and_decode_predictions_match_keras(keras, module, keras_module):
    batch = np.random.default_rng(3).uniform(0, 255, size=(2, 6, 6, 3)).astype("float32")
    theirs = getattr(keras.applications, keras_module).preprocess_input(batch.copy())
    np.testing.assert_allclose(module.preprocess_input(batch), theirs, rtol=1e-6, atol=1e-5)
    decoded = module.decode_predictions(np.eye(1000, dtype="float32")[[1, 2]], top=1)
    assert decoded == [[("n01443537", "goldfish", 1.0)], [("n01484850", "great_white_shark", 1.0)]]


def _channels_first(build):
    def run():
        previous = config.image_data_format()
        config.set_image_data_format("channels_first")
        try:
            build()
        finally:
            config.set_image_data_format(previous)
    return run


@pytest.mark.parametrize("build, message", [
    (lambda: applications.DenseNet121(weights="imagenet", classes=10), "`classes` should be 1000"),
    (lambda: applications.DenseNet169(weights="no/such/file.h5"), "The `weights` argument should be either"),
    (lambda: applications.DenseNet201(weights=None, include_top=False, input_shape=(31, 40, 3)),
     "Input size must be at least 32x32"),
    (_channels_first(lambda: applications.DenseNet121(weights=None)), "DenseNet does not support the `channels_first`"),
    (lambda: applications.Xception(weights=None, include_top=False, input_shape=(70, 71, 3)),
     "Input size must be at least 71x71"),
    (lambda: applications.Xception(input_shape=(200, 200, 3)), r"`input_shape` should be \(299, 299, 3\)"),
    (lambda: applications.InceptionV3(weights=None, include_top=False, input_shape=(74, 80, 3)),
     "Input size must be at least 75x75"),
    (lambda: applications.InceptionResNetV2(classifier_activation="relu"), "Only `None` and `softmax`"),
    (lambda: applications.InceptionResNetV2(weights=None, input_shape=(None, None, 3)),
     "you should specify a static `input_shape`"),
    (lambda: applications.NASNetMobile(include_top=False, input_shape=(None, None, 3)),
     "the input_shape argument must be static"),
    (_channels_first(lambda: applications.NASNetLarge(weights=None)), "NASNet does not support the `channels_first`"),
    (lambda: nasnet.NASNet(weights=None, penultimate_filters=100), "must be a multiple of 24"),
    (lambda: nasnet.NASNet(input_shape=(64, 64, 3), include_top=False, default_size=64),
     "ImageNet weights can only be loaded with NASNetLarge or NASNetMobile"),
    (lambda: inception_resnet_v2.inception_resnet_block(layers.Input(shape=(8, 8, 4)), 0.1, "block9", 1),
     "Unknown Inception-ResNet block type"),
])
def test_argument_errors(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_input_tensor_and_headless_shapes():
    image = layers.Input(shape=(96, 96, 3))
    model = applications.InceptionV3(weights=None, input_tensor=image, include_top=False)
    assert model.inputs[0] is image and model.outputs[0].type.shape == (None, 1, 1, 2048)
    assert model.layers[-1].name == "mixed10"
    model = applications.NASNetMobile(weights=None, include_top=False, pooling="avg")
    assert model.inputs[0].type.shape == (None, 224, 224, 3) and model.outputs[0].type.shape == (None, 1056)
    model = applications.DenseNet121(weights=None, include_top=False)
    assert model.inputs[0].type.shape == (None, None, None, 3) and model.layers[-1].name == "relu"

"""VGG16 against Keras 3's: same layers, same probabilities on every backend from weight files written in
each historical layout; the "imagenet" download path on a loopback server; preprocess_input and
decode_predictions; Keras's argument checks.

One small model (64x64 inputs, 7 classes; 64 so that Theano's Dense-row reordering is exercised on a 2x2
map) is shared by the tests, with one compiled forward function per backend."""
import hashlib
import http.server
import os
import threading

import h5py
import numpy as np
import pytest

os.environ["KERAS_BACKEND"] = "jax"

from mlcore import config, function  # noqa: E402
from mlcore.applications import VGG16, vgg16  # noqa: E402
from mlcore.applications.vgg16 import decode_predictions, preprocess_input  # noqa: E402

BACKENDS = ["numpy", "jax", "theano"]
SHAPE = (64, 64, 3)
CLASSES = 7
LAYER_NAMES = ["block1_conv1", "block1_conv2", "block1_pool", "block2_conv1", "block2_conv2", "block2_pool",
               "block3_conv1", "block3_conv2", "block3_conv3", "block3_pool", "block4_conv1", "block4_conv2",
               "block4_conv3", "block4_pool", "block5_conv1", "block5_conv2", "block5_conv3", "block5_pool",
               "flatten", "fc1", "fc2", "predictions"]


def he_weights(model, seed=0):
    """Random weights that keep activations O(1) through the 16 layers (and the logits apart)."""
    rng = np.random.default_rng(seed)
    weights = []
    for w in model.weights:
        shape = tuple(w.shape)
        scale = np.sqrt(2.0 / np.prod(shape[:-1])) if len(shape) > 1 else 0.1
        if w.path.startswith("predictions/kernel"):
            scale *= 0.01
        weights.append((rng.standard_normal(shape) * scale).astype("float32"))
    return weights


# --- weight files in each layout, written as each Keras wrote them ---------------------------------------
def _layers_with_weights(keras_model):
    return [(layer.name, [np.asarray(v) for v in layer.get_weights()]) for layer in keras_model.layers]


def _strings(names):
    return np.array([n.encode("utf8") for n in names]) if names else np.zeros((0,), "float32")


def write_keras1(path, keras_model, theano=False):
    """Keras 1: attr layer_names only. TensorFlow: datasets <layer>_W_1:0, kernels (h, w, in, out).
    Theano ('th' ordering): <layer>_W, kernels (out, in, h, w) flipped (true convolution) and the Dense
    after Flatten with its rows in (c, h, w) order."""
    suffix = "" if theano else "_1:0"
    with h5py.File(path, "w") as f:
        entries = _layers_with_weights(keras_model)
        f.attrs["layer_names"] = _strings([name for name, _ in entries])
        for name, arrays in entries:
            group = f.create_group(name)
            names = ["%s_%s%s" % (name, p, suffix) for p in "Wb"][:len(arrays)]
            if theano and arrays and arrays[0].ndim == 4:
                arrays = [arrays[0].transpose(3, 2, 0, 1)[:, :, ::-1, ::-1], arrays[1]]
            if theano and name == "fc1":
                h, w, c = keras_model.get_layer("block5_pool").output.shape[1:]
                rows = arrays[0].reshape(h, w, c, -1).transpose(2, 0, 1, 3).reshape(arrays[0].shape)
                arrays = [rows, arrays[1]]
            group.attrs["weight_names"] = _strings(names)
            for n, a in zip(names, arrays):
                group.create_dataset(n, data=a)


def write_keras2_model(path, keras_model):
    """Keras 2's save(): a model_weights group, backend/keras_version attrs, <layer>/kernel:0 datasets,
    layer_names split into chunks (as Keras does when the attribute passes 64 KiB)."""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.2.4"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = b'{"class_name": "Model", "config": {"name": "vgg16"}}'
        weights = f.create_group("model_weights")
        weights.attrs["keras_version"] = b"2.2.4"
        weights.attrs["backend"] = b"tensorflow"
        entries = _layers_with_weights(keras_model)
        for k, chunk in enumerate(np.array_split(_strings([name for name, _ in entries]), 3)):
            weights.attrs["layer_names%d" % k] = chunk
        for name, arrays in entries:
            group = weights.create_group(name)
            names = ["%s/%s:0" % (name, p) for p in ("kernel", "bias")][:len(arrays)]
            group.attrs["weight_names"] = _strings(names)
            for n, a in zip(names, arrays):
                group.create_dataset(n, data=a)


def write_keras3_legacy(path, keras_model):
    """Keras 3's own legacy-h5 writer: weight names are variable paths, without ':0'."""
    from keras.src.legacy.saving import legacy_h5_format
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, keras_model)


WRITERS = {
    "keras1_tf": (".h5", write_keras1),
    "keras1_theano": (".h5", lambda p, m: write_keras1(p, m, theano=True)),
    "keras2_model": (".h5", write_keras2_model),
    "keras3_legacy": (".h5", write_keras3_legacy),
    "keras3_weights": (".weights.h5", lambda p, m: m.save_weights(p)),
}


# --- shared models -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def reference():
    """Keras 3's VGG16 with He-scaled random weights, a batch of preprocessed images and its predictions."""
    keras = pytest.importorskip("keras")
    theirs = keras.applications.VGG16(weights=None, input_shape=SHAPE, classes=CLASSES)
    theirs.set_weights(he_weights(theirs))
    x = preprocess_input(np.random.default_rng(1).uniform(0, 255, (3,) + SHAPE).astype("float32"))
    return theirs, x, np.asarray(theirs.predict(x, verbose=0))


@pytest.fixture(scope="module")
def files(reference, tmp_path_factory):
    folder = tmp_path_factory.mktemp("vgg16_weights")
    paths = {}
    for layout, (suffix, write) in WRITERS.items():
        paths[layout] = str(folder / (layout + suffix))
        write(paths[layout], reference[0])
    return paths


@pytest.fixture(scope="module")
def model():
    return VGG16(weights=None, input_shape=SHAPE, classes=CLASSES)


@pytest.fixture(scope="module")
def forward(model, require_backend):
    """A forward function per backend, compiled on first use; all share the model's weights."""
    compiled = {}

    def run(backend, x):
        if backend not in compiled:
            require_backend(backend)
            compiled[backend] = function(model.inputs, model.outputs[0], backend=backend)
        return compiled[backend](x)
    return run


def assert_same_predictions(got, expected):
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert np.array_equal(np.argsort(-got, axis=1)[:, :5], np.argsort(-expected, axis=1)[:, :5])


def test_layers_match_keras(model, reference):
    theirs = reference[0]
    assert [layer.name for layer in model.layers[1:]] == LAYER_NAMES == [l.name for l in theirs.layers[1:]]
    assert [type(layer).__name__ for layer in model.layers] == [type(l).__name__ for l in theirs.layers]
    assert [tuple(w.shape) for w in model.weights] == [tuple(w.shape) for w in theirs.weights]
    assert model.name == "vgg16" and model.count_params() == theirs.count_params()


@pytest.mark.parametrize("layout", list(WRITERS))
@pytest.mark.parametrize("backend", BACKENDS)
def test_same_probabilities_as_keras(layout, backend, model, forward, files, reference):
    _, x, expected = reference
    model.load_weights(files[layout])
    assert_same_predictions(forward(backend, x), expected)


def test_channels_first_model_loads_tf_and_theano_files(files, reference):
    _, x, expected = reference
    previous = config.image_data_format()
    config.set_image_data_format("channels_first")
    try:
        model = VGG16(weights=None, input_shape=SHAPE[::-1], classes=CLASSES)
    finally:
        config.set_image_data_format(previous)
    assert model.get_layer("block1_conv1").data_format == "channels_first"
    assert model.input_shape == (None, 3, 64, 64)
    fn = function(model.inputs, model.outputs[0], backend="jax")
    for layout in ("keras1_tf", "keras1_theano", "keras3_weights"):
        model.load_weights(files[layout])
        assert_same_predictions(fn(x.transpose(0, 3, 1, 2)), expected)


def test_failed_load_changes_nothing(model, tmp_path):
    before = model.get_weights()
    path = str(tmp_path / "five_classes.h5")
    with h5py.File(path, "w") as f:    # a Keras 1 file of a 5-class VGG16
        f.attrs["layer_names"] = _strings(LAYER_NAMES)
        for name in LAYER_NAMES:
            group = f.create_group(name)
            layer = model.get_layer(name)
            arrays = [np.zeros(v.shape, "float32") for v in layer.weights]
            if name == "predictions":
                arrays = [np.zeros((4096, 5), "float32"), np.zeros(5, "float32")]
            names = ["%s_%s_1:0" % (name, p) for p in "Wb"][:len(arrays)]
            group.attrs["weight_names"] = _strings(names)
            for n, a in zip(names, arrays):
                group.create_dataset(n, data=a)
    with pytest.raises(ValueError, match=r"predictions.*\(4096, 5\).*\(4096, 7\)"):
        VGG16(weights=path, input_shape=SHAPE, classes=CLASSES)
    with pytest.raises(ValueError, match=r"predictions.*\(4096, 5\).*\(4096, 7\)"):
        model.load_weights(path)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


@pytest.fixture(scope="module")
def full_size_reference(request):
    if "slow" not in request.config.getoption("markexpr"):
        pytest.skip("full size (224x224): run with -m slow")
    keras = pytest.importorskip("keras")
    theirs = keras.applications.VGG16(weights=None)
    theirs.set_weights(he_weights(theirs))
    ours = VGG16(weights=None)
    ours.set_weights(theirs.get_weights())
    x = preprocess_input(np.random.default_rng(2).uniform(0, 255, (2, 224, 224, 3)).astype("float32"))
    return ours, x, np.asarray(theirs.predict(x, verbose=0))


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_full_size_matches_keras(backend, full_size_reference, require_backend):
    ours, x, expected = full_size_reference
    got = function(ours.inputs, ours.outputs[0], backend=require_backend(backend))(x)
    assert_same_predictions(got, expected)


# --- weights="imagenet": get_file on a loopback server ------------------------------------------------
@pytest.fixture
def server(monkeypatch, tmp_path):
    """Serves {name: bytes} on 127.0.0.1; MLCORE_HOME and KERAS_HOME point into tmp_path."""
    monkeypatch.setenv("MLCORE_HOME", str(tmp_path / "mlcore_home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    served, requests = {}, []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            body = served.get(self.path.lstrip("/"))
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = "http://127.0.0.1:%d/" % httpd.server_address[1]
    monkeypatch.setattr(vgg16, "WEIGHTS_PATH", url + vgg16.WEIGHTS_FILE)
    monkeypatch.setattr(vgg16, "WEIGHTS_PATH_NO_TOP", url + vgg16.WEIGHTS_FILE_NO_TOP)
    yield served, requests, tmp_path / "mlcore_home" / "models"
    httpd.shutdown()
    httpd.server_close()


def test_imagenet_weights_download_verify_and_cache(server, monkeypatch, tmp_path):
    served, requests, models = server
    source = VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    source.set_weights(he_weights(source))
    path = str(tmp_path / "notop.h5")
    source.save_weights(path)
    with open(path, "rb") as f:
        served[vgg16.WEIGHTS_FILE_NO_TOP] = f.read()
    monkeypatch.setattr(vgg16, "WEIGHTS_HASH_NO_TOP", hashlib.md5(served[vgg16.WEIGHTS_FILE_NO_TOP]).hexdigest())
    model = VGG16(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), source.get_weights()))
    assert os.listdir(models) == [vgg16.WEIGHTS_FILE_NO_TOP]
    VGG16(weights="imagenet", include_top=False, input_shape=(48, 48, 3), pooling="avg")
    assert requests == ["/" + vgg16.WEIGHTS_FILE_NO_TOP]        # the second model used the cached file


def test_imagenet_weights_with_wrong_md5_leave_nothing(server):
    served, _, models = server
    served[vgg16.WEIGHTS_FILE_NO_TOP] = b"not the VGG16 weights"
    with pytest.raises(ValueError, match="corrupted"):
        VGG16(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    assert not models.exists() or os.listdir(models) == []


def test_imagenet_weights_offline_say_where_to_put_the_file(server, monkeypatch):
    _, _, models = server
    monkeypatch.setattr(vgg16, "WEIGHTS_PATH_NO_TOP", "http://127.0.0.1:9/" + vgg16.WEIGHTS_FILE_NO_TOP)
    with pytest.raises(OSError, match=str(models / vgg16.WEIGHTS_FILE_NO_TOP)):
        VGG16(weights="imagenet", include_top=False, input_shape=(32, 32, 3))


def test_official_weight_files():
    assert vgg16.WEIGHTS_PATH == ("https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
                                  "vgg16_weights_tf_dim_ordering_tf_kernels.h5")
    assert vgg16.WEIGHTS_PATH_NO_TOP.endswith("/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5")
    assert (vgg16.WEIGHTS_HASH, vgg16.WEIGHTS_HASH_NO_TOP) == ("64373286793e3c8b2b4e3219cbf3544b",
                                                               "6d6bbae143d832006294945121d1f1fc")


# --- arguments, preprocessing, decoding -------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    (dict(weights="imagenet", classes=10), "classes"),
    (dict(weights="imagenet", input_shape=(64, 64, 3)), "input_shape"),
    (dict(weights=None, include_top=False, input_shape=(16, 16, 3)), "at least 32x32"),
    (dict(weights=None, include_top=False, input_shape=(32, 32)), "three integers"),
    (dict(weights="imagenet", include_top=False, input_shape=(32, 32, 1)), "3 channels"),
    (dict(weights="no/such/file.h5"), "weights"),
    (dict(weights=None, include_top=True, input_shape=(None, None, 3)), "static"),
])
def test_argument_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        VGG16(**kwargs)


def test_classifier_activation_is_checked_before_any_download(monkeypatch):
    monkeypatch.setattr(vgg16, "get_file", lambda *a, **k: pytest.fail("should not download"))
    with pytest.raises(ValueError, match="classifier_activation"):
        VGG16(weights="imagenet", classifier_activation="relu")


def test_headless_shapes_and_input_tensor():
    from mlcore.layers import Input
    assert VGG16(weights=None, include_top=False).output_shape == (None, None, None, 512)
    assert VGG16(weights=None, include_top=False, input_shape=(40, 40, 3), pooling="max").output_shape == (None, 512)
    images = Input(shape=(32, 32, 3))
    model = VGG16(weights=None, include_top=False, input_tensor=images, pooling="avg")
    assert model.inputs == [images] and model.output_shape == (None, 512)
    assert type(model.layers[-1]).__name__ == "GlobalAveragePooling2D"


def test_preprocess_input_matches_keras_and_works_symbolically(require_backend):
    keras = pytest.importorskip("keras")
    from mlcore.graph.basic import TensorType
    rng = np.random.default_rng(0)
    batch = rng.uniform(0, 255, (2, 5, 4, 3)).astype("float32")
    original = batch.copy()
    got = preprocess_input(batch)
    np.testing.assert_allclose(got, keras.applications.vgg16.preprocess_input(batch.copy()), atol=1e-5)
    assert np.array_equal(batch, original)                      # the input is not written over
    np.testing.assert_allclose(got[..., 0], batch[..., 2] - 103.939, atol=1e-5)    # BGR, minus the mean
    first = batch.transpose(0, 3, 1, 2)
    np.testing.assert_allclose(preprocess_input(first, data_format="channels_first"),
                               got.transpose(0, 3, 1, 2), atol=1e-5)
    np.testing.assert_allclose(preprocess_input(batch[0]), got[0], atol=1e-5)
    assert preprocess_input(batch.astype("uint8")).dtype == np.float32
    x = TensorType("float32", (None, 5, 4, 3))("x")
    for backend in BACKENDS:
        fn = function([x], preprocess_input(x), backend=require_backend(backend))
        np.testing.assert_allclose(fn(batch), got, atol=1e-5)
    with pytest.raises(ValueError, match="data_format"):
        preprocess_input(batch, data_format="channels_middle")


def test_decode_predictions_from_bundled_index():
    preds = np.zeros((2, 1000), "float32")
    preds[0, [1, 0, 999, 207, 281, 3]] = [0.5, 0.2, 0.12, 0.1, 0.05, 0.01]
    preds[1, 285] = 1.0
    decoded = decode_predictions(preds)
    assert [name for _, name, _ in decoded[0]] == ["goldfish", "tench", "toilet_tissue", "golden_retriever",
                                                   "tabby"]
    assert decoded[0][0] == ("n01443537", "goldfish", pytest.approx(0.5))
    assert decoded[1][0][:2] == ("n02124075", "Egyptian_cat") and len(decode_predictions(preds, top=3)[1]) == 3
    with pytest.raises(ValueError, match="1000"):
        decode_predictions(np.zeros((2, 10)))

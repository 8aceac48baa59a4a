"""VGG19 against Keras 3's: the same layers, the same probabilities on every backend from Keras 3's weight
files (a small 64x64, 7-class model, as test_vgg16.py's), and "imagenet" fetching Keras's VGG19 files."""
import os

import numpy as np
import pytest

os.environ["KERAS_BACKEND"] = "jax"

from mlcore import function  # noqa: E402
from mlcore.applications import VGG19, vgg19  # noqa: E402

SHAPE, CLASSES = (64, 64, 3), 7


def scaled_weights(keras_model, seed=0):
    """He-scaled random weights: activations stay O(1) through the 19 layers; a small last kernel keeps the
    class probabilities apart (not 0 or 1), so that their order is a real check."""
    rng = np.random.default_rng(seed)
    weights = []
    for w in keras_model.weights:
        scale = np.sqrt(2.0 / np.prod(w.shape[:-1])) if len(w.shape) > 1 else 0.1
        scale *= 0.01 if w.path == "predictions/kernel" else 1
        weights.append((rng.standard_normal(w.shape) * scale).astype("float32"))
    return weights


@pytest.fixture(scope="module")
def keras_vgg19():
    keras = pytest.importorskip("keras")
    theirs = keras.applications.VGG19(weights=None, input_shape=SHAPE, classes=CLASSES)
    theirs.set_weights(scaled_weights(theirs))
    x = np.random.default_rng(1).uniform(0, 255, size=(2,) + SHAPE).astype("float32")
    x = keras.applications.vgg19.preprocess_input(x)
    return theirs, x, np.asarray(theirs.predict(x, verbose=0))


def test_layers_match_keras(keras_vgg19):
    theirs = keras_vgg19[0]
    ours = VGG19(weights=None, input_shape=SHAPE, classes=CLASSES)
    assert [layer.name for layer in ours.layers[1:]] == [layer.name for layer in theirs.layers[1:]]  # Input's counts
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert ours.name == "vgg19" and ours.count_params() == theirs.count_params()
    assert "block5_conv4" in [layer.name for layer in ours.layers]


@pytest.mark.parametrize("suffix", [".weights.h5", ".h5"])
@pytest.mark.parametrize("backend", ["numpy", "jax", "theano"])
def test_same_probabilities_as_keras(keras_vgg19, tmp_path, suffix, backend, require_backend):
    require_backend(backend)
    theirs, x, expected = keras_vgg19
    path = str(tmp_path / ("vgg19" + suffix))
    (theirs.save_weights if suffix == ".weights.h5" else theirs.save)(path)
    ours = VGG19(weights=path, input_shape=SHAPE, classes=CLASSES)
    got = function([ours.inputs[0]], ours.outputs[0], backend=backend)(x)
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert np.array_equal(np.argsort(-got, axis=1)[:, :5], np.argsort(-expected, axis=1)[:, :5])


def test_imagenet_weights_are_kerass_vgg19_files(keras_vgg19, tmp_path, monkeypatch):
    """weights="imagenet" asks get_file for Keras's notop file by its official name, URL and md5."""
    keras = pytest.importorskip("keras")
    headless = keras.applications.VGG19(weights=None, include_top=False, input_shape=SHAPE, pooling="avg")
    headless.set_weights(keras_vgg19[0].get_weights()[:len(headless.weights)])
    path = str(tmp_path / "notop.h5")
    headless.save(path)
    asked = []
    monkeypatch.setattr(vgg19, "get_file", lambda *args, **kwargs: asked.append((args, kwargs)) or path)
    ours = VGG19(include_top=False, input_shape=SHAPE, pooling="avg")
    assert asked == [(("vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
                       "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
                       "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"),
                      {"cache_subdir": "models", "file_hash": "253f8cb515780f3b799900260a226db6"})]
    x = keras_vgg19[1]
    np.testing.assert_allclose(ours.predict(x, verbose=0), headless.predict(x, verbose=0), rtol=1e-4, atol=1e-4)
    assert vgg19.WEIGHTS_HASH == "cbe5617147190e668d6c5d5026f83318"
    assert vgg19.WEIGHTS_PATH.endswith("/vgg19/vgg19_weights_tf_dim_ordering_tf_kernels.h5")


def test_preprocessing_is_vgg16s_and_checks_are_kerass(keras_vgg19):
    keras = pytest.importorskip("keras")
    batch = np.random.default_rng(2).uniform(0, 255, size=(2, 8, 8, 3)).astype("float32")
    np.testing.assert_allclose(vgg19.preprocess_input(batch.copy()),
                               keras.applications.vgg19.preprocess_input(batch.copy()), atol=1e-5)
    with pytest.raises(ValueError, match="`classes` should be 1000"):
        VGG19(weights="imagenet", classes=10)

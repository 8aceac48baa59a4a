"""Keras 3's preprocessing layers that run inside a model: CategoryEncoding, Discretization, Resizing,
CenterCrop and the augmentation layers (RandomFlip, RandomCrop, RandomTranslation, RandomRotation,
RandomZoom, RandomContrast, RandomBrightness).

Outputs against Keras 3 (jax) on every backend, the random layers with their draw forced by equal factor
bounds (Keras's arguments allow it); otherwise their invariants on every backend (inference is the
identity, a flip is an exact flip, a wrap-translation an exact roll, the statistics of many draws);
gradients against finite differences; configs against Keras's; a small model that trains."""
import json
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

from mlcore import function, grad, layers, losses, optimizers
from mlcore.graph.basic import TensorType
from mlcore.models import Sequential, load_model
from mlcore.saving.keras3_config import keras_layer_spec
from mlcore.utils import set_random_seed

pytestmark = [pytest.mark.usefixtures("numpy_backend"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]  # jax arrays' __array__ in Keras

IMAGE = (2, 7, 9, 3)

# (layer class name, arguments, input kind, training): the cases whose output Keras's fixes
CASES = [
    ("Resizing", dict(height=4, width=5), "image", False),
    ("Resizing", dict(height=11, width=13), "image", False),
    ("Resizing", dict(height=3, width=4, antialias=True), "image", False),
    ("Resizing", dict(height=4, width=13, interpolation="nearest"), "image", False),
    ("Resizing", dict(height=3, width=5, interpolation="nearest"), "image", False),
    ("Resizing", dict(height=5, width=5, crop_to_aspect_ratio=True), "image", False),
    ("Resizing", dict(height=5, width=4, pad_to_aspect_ratio=True, fill_value=2.0), "image", False),
    ("Resizing", dict(height=4, width=8, pad_to_aspect_ratio=True, fill_value=2.0), "image", False),
    ("Resizing", dict(height=3, width=2, data_format="channels_first"), "image", False),
    ("CenterCrop", dict(height=4, width=5), "image", False),
    ("CenterCrop", dict(height=8, width=5), "image", False),
    ("CenterCrop", dict(height=10, width=12), "image", False),
    ("RandomCrop", dict(height=10, width=4), "image", True),         # larger than the image: resized
    ("RandomTranslation", dict(height_factor=(0.3, 0.3), width_factor=(-0.45, -0.45)), "image", True),
    ("RandomTranslation", dict(height_factor=(-0.2, -0.2), width_factor=(0.25, 0.25), fill_mode="constant",
                               fill_value=7.0), "image", True),
    ("RandomTranslation", dict(height_factor=(0.5, 0.5), width_factor=(0.1, 0.1), fill_mode="wrap",
                               interpolation="nearest"), "image", True),
    ("RandomRotation", dict(factor=(0.1, 0.1)), "image", True),
    ("RandomRotation", dict(factor=(-0.3, -0.3), fill_mode="constant", interpolation="nearest"), "image", True),
    ("RandomRotation", dict(factor=(0.2, 0.2), fill_mode="nearest", data_format="channels_first"), "image", True),
    ("RandomZoom", dict(height_factor=(0.3, 0.3), width_factor=(-0.2, -0.2)), "image", True),
    ("RandomZoom", dict(height_factor=(-0.35, -0.35), fill_mode="wrap"), "image", True),
    ("RandomZoom", dict(height_factor=(0.4, 0.4), fill_mode="nearest", interpolation="nearest"), "image", True),
    ("RandomContrast", dict(factor=(-0.3, 0.3)), "image", True),      # Keras draws in [1 - (-0.3), 1 + 0.3]
    ("RandomBrightness", dict(factor=(0.2, 0.2)), "image", True),
    ("RandomBrightness", dict(factor=(-0.3, -0.3), value_range=(10, 200)), "image", True),
    ("CategoryEncoding", dict(num_tokens=5, output_mode="one_hot"), "indices", False),
    ("CategoryEncoding", dict(num_tokens=5), "indices", False),
    ("CategoryEncoding", dict(num_tokens=6, output_mode="count"), "indices", False),
    ("CategoryEncoding", dict(num_tokens=5, output_mode="one_hot"), "index_column", False),
    ("Discretization", dict(bin_boundaries=[-0.5, 0.0, 1.0]), "features", False),
    ("Discretization", dict(bin_boundaries=[-0.5, 0.0, 1.0], output_mode="one_hot"), "features", False),
    ("Discretization", dict(bin_boundaries=[0.0, 0.5], output_mode="multi_hot"), "features", False),
    ("Discretization", dict(bin_boundaries=[0.0, 0.5], output_mode="count"), "features", False),
]
RANDOM = ["RandomFlip", "RandomTranslation", "RandomRotation", "RandomZoom", "RandomContrast", "RandomBrightness"]


def case_id(case):
    return "%s-%s-%s" % (case[0], "-".join("%s=%s" % kv for kv in sorted(case[1].items())), case[2])


def make_input(kind):
    rng = np.random.default_rng(len(kind))
    if kind == "image":
        return (rng.uniform(size=IMAGE) * 255).astype("float32")
    if kind == "indices":
        return rng.integers(0, 5, size=(3, 4)).astype("int64")
    if kind == "index_column":
        return rng.integers(0, 5, size=(3, 1)).astype("int64")
    return rng.normal(size=(3, 6)).astype("float32")


def variable(value):
    return TensorType(value.dtype.name, (None,) + value.shape[1:])("x")


@pytest.fixture(scope="module")
def expected(keras):
    return [np.asarray(getattr(keras.layers, name)(**kwargs)(make_input(kind), training=training))
            for name, kwargs, kind, training in CASES]


@pytest.fixture(scope="module")
def compiled_cases():
    """One graph with every case's output, so that each backend compiles once."""
    kinds = {kind: make_input(kind) for kind in {case[2] for case in CASES}}
    inputs = {kind: variable(value) for kind, value in kinds.items()}
    outputs = [getattr(layers, name)(**kwargs)(inputs[kind], training=training)
               for name, kwargs, kind, training in CASES]
    return list(inputs.values()), outputs, list(kinds.values())


def test_outputs_match_keras_on_every_backend(backend, compiled_cases, expected):
    inputs, outputs, values = compiled_cases
    got = function(inputs, outputs, backend=backend, on_unused_input="ignore")(*values)
    for case, ours, theirs in zip(CASES, got, expected):
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, case_id(case)
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-3, err_msg=case_id(case))   # pixels in 0..255


def test_eager_calls_and_count_weights_match_keras(keras):
    tokens, weights = np.array([[0, 1, 3], [2, 2, 0]]), np.array([[.1, .2, .3], [.4, .5, .6]], "float32")
    ours = layers.CategoryEncoding(4, output_mode="count")(tokens, count_weights=weights)
    theirs = keras.layers.CategoryEncoding(4, output_mode="count")(tokens, count_weights=weights)
    np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-6)
    np.testing.assert_allclose(ours, [[.1, .2, 0, .3], [.6, 0, .9, 0]], rtol=1e-6)
    image = make_input("image")[0]                         # one image, rank 3
    one = TensorType("float32", image.shape)()
    np.testing.assert_allclose(function([one], layers.Resizing(5, 4)(one))(image),
                               np.asarray(keras.layers.Resizing(5, 4)(image)), rtol=1e-5, atol=1e-3)


def test_discretization_agrees_with_numpy_digitize():
    boundaries, x = [-1.0, 0.0, 0.0, 2.5], np.array([[-3.0, -1.0, -0.5, 0.0, 1.0, 2.5, 9.0]], "float32")
    np.testing.assert_array_equal(layers.Discretization(boundaries)(x), np.digitize(x, boundaries))


@pytest.mark.parametrize("data", [np.arange(1000.0).reshape(-1, 1), np.repeat([1.0, 2.0, 3.0, 4.0], 50),
                                  np.arange(1.0, 9.0)])
def test_discretization_adapt_finds_kerass_bins(keras, data):
    """Keras's adapt() needs TensorFlow; its update_state/finalize_state are what it runs.  Its quantiles
    are approximate (248.9998 for 249) and depend on the batches: mlcore computes the same ones."""
    batches = [data[: len(data) // 2], data[len(data) // 2:]]
    theirs = keras.layers.Discretization(num_bins=4)
    for batch in batches:
        theirs.update_state(batch)
    theirs.finalize_state()
    ours = layers.Discretization(num_bins=4)
    ours.adapt(batches)
    assert ours.bin_boundaries == theirs.bin_boundaries
    probe = np.unique(data).reshape(1, -1).astype("float32")
    np.testing.assert_array_equal(ours(probe), np.asarray(theirs(probe)))


# --- gradients -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, kwargs", [
    ("Resizing", dict(height=3, width=7, antialias=True)), ("CenterCrop", dict(height=6, width=3)),
    ("RandomRotation", dict(factor=(0.1, 0.1), fill_mode="reflect")),
    ("RandomZoom", dict(height_factor=(-0.3, -0.3), fill_mode="constant")),
    ("RandomContrast", dict(factor=(-0.5, 0.5), value_range=(-100, 100)))])
def test_gradients_match_finite_differences(floatx, numeric_grad, rng, name, kwargs):
    floatx("float64")
    x = rng.normal(size=(2, 4, 5, 2))
    x_var = variable(x)
    y = getattr(layers, name)(**kwargs)(x_var, training=True)
    r = rng.normal(size=(2,) + y.type.shape[1:])
    cost = (y * r).sum()
    got = function([x_var], grad(cost, x_var))(x)
    np.testing.assert_allclose(got, numeric_grad(function([x_var], cost), [x], 0), rtol=1e-5, atol=1e-7)


# --- the random layers: inference and invariants on every backend -------------------------------------------
def test_random_layers_are_the_identity_at_inference(backend):
    image = make_input("image")
    x = variable(image)
    made = [getattr(layers, name)(**kwargs) for name, kwargs in [
        ("RandomFlip", {}), ("RandomTranslation", dict(height_factor=0.3, width_factor=0.3)),
        ("RandomRotation", dict(factor=0.3)), ("RandomZoom", dict(height_factor=0.3)),
        ("RandomContrast", dict(factor=0.5)), ("RandomBrightness", dict(factor=0.5))]]
    assert [type(layer).__name__ for layer in made] == RANDOM
    for out in function([x], [layer(x, training=False) for layer in made], backend=backend)(image):
        np.testing.assert_array_equal(out, image)


def draws(backend, layer, image, calls=2):
    x = variable(image)
    fn = function([x], layer(x, training=True), backend=backend)
    return [fn(image) for _ in range(calls)]


def test_random_flip_flips_exactly_half_the_time(backend):
    image = np.random.default_rng(1).normal(size=(400, 3, 4, 1)).astype("float32")
    for mode, axes in [("horizontal", (2,)), ("vertical", (1,)), ("horizontal_and_vertical", (1, 2))]:
        first, second = draws(backend, layers.RandomFlip(mode, seed=3), image)
        assert not np.array_equal(first, second)
        flipped = np.all(first == np.flip(image, axes), axis=(1, 2, 3))
        assert np.all(flipped | np.all(first == image, axis=(1, 2, 3)))
        assert abs(flipped.mean() - 0.5) < 5 * 0.5 / np.sqrt(len(image))


def test_random_crop_takes_windows_at_every_place(backend):
    image = np.arange(2 * 6 * 7 * 1, dtype="float32").reshape(2, 6, 7, 1)
    places = set()
    for out in draws(backend, layers.RandomCrop(4, 3, seed=1), image, calls=60):
        assert out.shape == (2, 4, 3, 1)
        top, left = divmod(int(out[0, 0, 0, 0]), 7)
        np.testing.assert_array_equal(out, image[:, top:top + 4, left:left + 3])   # one place for the batch
        places.add((top, left))
    assert len(places) > 6 and all(top <= 2 and left <= 4 for top, left in places)


def test_random_translation_with_wrap_and_nearest_rolls_the_image(backend):
    image = np.random.default_rng(2).normal(size=(30, 5, 8, 2)).astype("float32")
    layer = layers.RandomTranslation(0.4, 0.5, fill_mode="wrap", interpolation="nearest", seed=4)
    shifts = set()
    for out, img in zip(draws(backend, layer, image, calls=1)[0], image):
        rolls = [(dy, dx) for dy in range(-2, 3) for dx in range(-4, 5)
                 if np.array_equal(out, np.roll(img, (dy, dx), axis=(0, 1)))]
        assert rolls, "not a roll of the image within the factors"
        shifts.add(rolls[0])
    assert len(shifts) > 5


def test_random_contrast_and_brightness_statistics(backend):
    image = np.random.default_rng(3).uniform(100, 150, size=(500, 4, 4, 3)).astype("float32")
    contrast, = draws(backend, layers.RandomContrast(0.4, seed=5), image, calls=1)
    mean = image.mean(axis=(1, 2), keepdims=True)
    ratio = ((contrast - mean) / (image - mean))[:, 0, 0, 0]
    np.testing.assert_allclose(contrast.mean(axis=(1, 2), keepdims=True), mean, rtol=1e-5)
    assert ratio.min() >= 1.0 - 1e-4 and ratio.max() <= 1.4 + 1e-4          # Keras 3: [1 - 0, 1 + 0.4]
    assert abs(ratio.mean() - 1.2) < 5 * 0.4 / np.sqrt(12 * len(image))
    brightness, = draws(backend, layers.RandomBrightness((-0.1, 0.2), value_range=(0, 255), seed=6), image, 1)
    delta = (brightness - image)[:, 0, 0, 0]
    np.testing.assert_allclose(brightness - image, np.broadcast_to(delta[:, None, None, None], image.shape),
                               atol=1e-4)
    assert delta.min() >= -25.5 - 1e-3 and delta.max() <= 51 + 1e-3
    assert abs(delta.mean() - 12.75) < 5 * 76.5 / np.sqrt(12 * len(image))
    clipped, = draws(backend, layers.RandomBrightness((0.9, 0.9), seed=7), image, 1)
    np.testing.assert_array_equal(clipped, 255)


def test_rotation_and_zoom_keep_a_flat_image_flat_and_vary(backend):
    flat = np.full((20, 6, 6, 1), 3.0, "float32")
    ramp = np.broadcast_to(np.arange(6, dtype="float32")[None, :, None, None], (20, 6, 6, 1))
    for layer in [layers.RandomRotation(0.25, seed=8), layers.RandomZoom(0.5, seed=9, fill_mode="nearest")]:
        np.testing.assert_allclose(draws(backend, layer, flat, calls=1)[0], flat, rtol=1e-6)
        first, second = draws(backend, layer, np.ascontiguousarray(ramp))
        assert not np.allclose(first, second) and first.min() >= -1e-4 and first.max() <= 5 + 1e-4


# --- configs, errors and a model ----------------------------------------------------------------------------
CONFIG_SAMPLES = [
    ("CategoryEncoding", dict(num_tokens=4, output_mode="count")),
    ("Discretization", dict(bin_boundaries=[0.0, 1.0], output_mode="one_hot")),
    ("Resizing", dict(height=3, width=4, interpolation="nearest", crop_to_aspect_ratio=True)),
    ("CenterCrop", dict(height=3, width=4)),
    ("RandomFlip", dict(mode="vertical", seed=2)), ("RandomCrop", dict(height=3, width=4, seed=5)),
    ("RandomTranslation", dict(height_factor=0.2, width_factor=(-0.1, 0.3), fill_mode="wrap", seed=1)),
    ("RandomRotation", dict(factor=0.2, interpolation="nearest", fill_value=1.0)),
    ("RandomZoom", dict(height_factor=(-0.2, 0.3), width_factor=0.1)),
    ("RandomContrast", dict(factor=0.3, value_range=(0, 1))),
    ("RandomBrightness", dict(factor=(0.1, -0.2), value_range=(1, 0)))]


@pytest.mark.parametrize("name, kwargs", CONFIG_SAMPLES, ids=[s[0] for s in CONFIG_SAMPLES])
def test_configs_have_kerass_keys_and_values_and_round_trip(keras, name, kwargs):
    ours, theirs = getattr(layers, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
    saved, ref = keras_layer_spec(ours)["config"], theirs.get_config()
    assert set(saved) == set(ref)
    for key in set(saved) - {"name", "dtype"}:
        assert json.loads(json.dumps(saved[key])) == json.loads(json.dumps(ref[key])), key
    again = type(ours).from_config(ours.get_config())
    assert again.get_config() == ours.get_config()


def test_adapted_discretization_round_trips():
    layer = layers.Discretization(num_bins=3)
    layer.adapt(np.arange(9.0))
    again = layers.Discretization.from_config(layer.get_config())
    assert again.bin_boundaries == layer.bin_boundaries == [1.9999998807907104, 5.0] and again.num_bins == 3  # Keras's


@pytest.mark.parametrize("make, message", [
    (lambda: layers.CategoryEncoding(), "num_tokens must be set"),
    (lambda: layers.CategoryEncoding(3, output_mode="tf_idf"), "output_mode"),
    (lambda: layers.Discretization(), "either `num_bins` or `bin_boundaries`"),
    (lambda: layers.Discretization([0.0], num_bins=2), "should not be set"),
    (lambda: layers.Resizing(2, 2, interpolation="gaussian"), "interpolation"),
    (lambda: layers.Resizing(2, 2, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True), "only one"),
    (lambda: layers.RandomFlip("diagonal"), "unknown mode"),
    (lambda: layers.RandomRotation(0.2, fill_mode="mirror"), "fill_mode"),
    (lambda: layers.RandomContrast(1.5), "factor"),
    (lambda: layers.RandomZoom(-1.0), "height_factor"),
    (lambda: layers.RandomBrightness(0.1, value_range=5), "value_range")])
def test_bad_arguments_are_refused(make, message):
    with pytest.raises((ValueError, NotImplementedError), match=message):
        make()


def test_bad_inputs_name_the_layer_and_shape():
    with pytest.raises(ValueError, match=r"RandomFlip 'flip': Expected the input image to be rank 3 or 4.*\(None, 4\)"):
        layers.RandomFlip(name="flip")(TensorType("float32", (None, 4))())
    with pytest.raises(ValueError, match=r"Resizing 'r'.*height and width must be known.*None"):
        layers.Resizing(2, 2, name="r")(TensorType("float32", (None, None, None, 3))())
    with pytest.raises(ValueError, match=r"count_weights.*\(None, 3\).*\(2, 2\)"):
        layers.CategoryEncoding(4, output_mode="count")(TensorType("int64", (None, 3))(),
                                                        count_weights=np.ones((2, 2), "float32"))
    with pytest.raises(ValueError, match="adapt"):
        layers.Discretization(num_bins=3)(TensorType("float32", (None, 3))())


def test_a_small_image_model_with_augmentation_trains():
    """Bright images with a dark left column against dark ones: RandomFlip in training moves the column, which
    the model must learn to ignore; predictions (inference, no flip) are repeatable."""
    set_random_seed(0)                  # the weights' initial values, whatever ran before
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=64)
    images = rng.uniform(0, 100, size=(64, 8, 8, 1)) + 120 * labels[:, None, None, None]
    images[:, :, 0] = 0
    model = Sequential([layers.Input((8, 8, 1)), layers.RandomFlip("horizontal", seed=1),
                        layers.Rescaling(1 / 255.0), layers.Conv2D(4, 3, activation="relu"),
                        layers.GlobalAveragePooling2D(), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizers.Adam(0.05), losses.BinaryCrossentropy(), metrics=["accuracy"])
    history = model.fit(images.astype("float32"), labels.astype("float32"), epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.9
    np.testing.assert_array_equal(model.predict(images, verbose=0), model.predict(images, verbose=0))


def test_models_with_preprocessing_go_to_keras_files_and_back(keras, tmp_path):
    model = Sequential([layers.Input((12, 12, 3)), layers.Resizing(8, 8), layers.RandomFlip("horizontal", seed=3),
                        layers.RandomZoom(0.2), layers.CenterCrop(6, 6), layers.Conv2D(2, 3), layers.Flatten(),
                        layers.Dense(4), layers.Discretization([0.0]), layers.CategoryEncoding(2)])
    path = str(tmp_path / "model.keras")
    model.save(path)
    x = np.random.default_rng(4).uniform(size=(2, 12, 12, 3)).astype("float32")
    ours = model.predict(x, verbose=0)
    np.testing.assert_array_equal(load_model(path).predict(x, verbose=0), ours)
    np.testing.assert_array_equal(np.asarray(keras.saving.load_model(path).predict(x, verbose=0)), ours)

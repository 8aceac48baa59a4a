"""Keras 3.15's ContrastLimitedAdaptiveHistogramEqualization: outputs against Keras's (jax) on every
backend for batches and single images, both data formats, grayscale and RGB, sizes that the tile grid
does not divide (and a grid finer than the image), several clip limits (0: none) and value ranges;
integer images kept integers (in dicts too); the config against Keras's; bad arguments refused; a model
with the layer predicting as Keras does with the saved file."""
import json
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

from mlcore import function, layers
from mlcore.graph.basic import TensorType
from mlcore.models import Sequential, load_model
from mlcore.saving.keras3_config import keras_layer_spec

pytestmark = [pytest.mark.usefixtures("numpy_backend"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]   # jax arrays' __array__ in Keras

CLAHE = "ContrastLimitedAdaptiveHistogramEqualization"

# (input shape, arguments): channels last unless data_format says otherwise
CASES = [
    ((2, 9, 11, 3), dict(tile_grid_size=(2, 3))),                             # padded to 10 x 12
    ((3, 16, 16), dict(data_format="channels_first")),                        # one image, the defaults: 2 x 2 tiles
    ((1, 1, 10, 7), dict(data_format="channels_first", clip_limit=1.5, tile_grid_size=(3, 2))),   # grayscale
    ((3, 4, 3), dict(clip_limit=2.0)),                                        # one image, 8 x 8 tiles of 1 pixel
    ((2, 5, 7, 2), dict(value_range=(-1, 1), clip_limit=0.0, tile_grid_size=(2, 2))),            # no clipping
]


def make_input(shape, value_range):
    """Whole levels 0..255 (every other column in 0..15, for repeats to clip), in value_range."""
    levels = np.random.default_rng(len(shape) + shape[-1]).integers(0, 256, size=shape)
    levels[..., ::2] //= 16
    low, high = value_range
    return (levels / 255.0 * (high - low) + low).astype("float32")


def case_input(case):
    return make_input(case[0], case[1].get("value_range", (0, 255)))


@pytest.fixture(scope="module")
def expected(keras):
    """Keras's outputs, with jax's 64-bit mode off as in a fresh process."""
    import jax
    with jax.enable_x64(False):
        return [np.asarray(getattr(keras.layers, CLAHE)(**kwargs)(case_input((shape, kwargs))))
                for shape, kwargs in CASES]


@pytest.fixture(scope="module")
def compiled_cases():
    """One graph with every case's output, so that each backend compiles once; the batch size unknown."""
    inputs = [TensorType("float32", (None,) * (len(shape) == 4) + shape[len(shape) - 3:])("x%d" % k)
              for k, (shape, _) in enumerate(CASES)]
    outputs = [getattr(layers, CLAHE)(**kwargs)(x) for x, (_, kwargs) in zip(inputs, CASES)]
    return inputs, outputs


def test_outputs_match_keras_on_every_backend(backend, compiled_cases, expected):
    inputs, outputs = compiled_cases
    got = function(inputs, outputs, backend=backend)(*map(case_input, CASES))
    for (shape, kwargs), ours, theirs in zip(CASES, got, expected):
        assert ours.shape == theirs.shape == shape and ours.dtype == theirs.dtype == np.float32
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-4, err_msg="%s %s" % (shape, kwargs))
    assert not np.allclose(got[0], case_input(CASES[0]), atol=1.0)       # it did equalize


def test_integer_images_stay_integers_as_kerass(keras):
    images = np.random.default_rng(3).integers(0, 256, size=(2, 7, 6, 3)).astype("uint8")
    ours = np.asarray(getattr(layers, CLAHE)(tile_grid_size=(2, 2))(images))
    theirs = np.asarray(getattr(keras.layers, CLAHE)(tile_grid_size=(2, 2))(images))
    assert ours.dtype == theirs.dtype == np.uint8
    np.testing.assert_array_equal(ours, theirs)


def test_dicts_equalize_their_images_and_pass_the_rest():
    """Keras 3.15 refuses dicts (its CLAHE has no transform_labels); equalizing moves no pixel, so mlcore
    passes labels, boxes and masks through, as its colour layers do."""
    images = np.random.default_rng(4).integers(0, 256, size=(2, 6, 5, 3)).astype("uint8")
    labels = np.eye(2, dtype="float32")
    layer = getattr(layers, CLAHE)(tile_grid_size=(2, 2))
    out = layer({"images": images, "labels": labels})
    assert np.asarray(out["images"]).dtype == np.uint8
    np.testing.assert_array_equal(np.asarray(out["images"]), np.asarray(layer(images)))
    np.testing.assert_array_equal(np.asarray(out["labels"]), labels)


def test_config_is_kerass_and_round_trips(keras):
    kwargs = dict(value_range=(0, 1), clip_limit=2.5, tile_grid_size=(4, 6), data_format="channels_first")
    ours, theirs = getattr(layers, CLAHE)(**kwargs), getattr(keras.layers, CLAHE)(**kwargs)
    saved, ref = keras_layer_spec(ours)["config"], theirs.get_config()
    assert set(saved) == set(ref)
    for key in set(saved) - {"name"}:
        assert json.loads(json.dumps(saved[key])) == json.loads(json.dumps(ref[key])), key
    assert type(ours).from_config(ours.get_config()).get_config() == ours.get_config()
    defaults = getattr(layers, CLAHE)().get_config()
    assert {k: defaults[k] for k in kwargs} == dict(value_range=(0, 255), clip_limit=4.0, tile_grid_size=(8, 8),
                                                    data_format="channels_last")


@pytest.mark.parametrize("kwargs, message", [
    (dict(value_range=(0, 255, 3)), "value_range"), (dict(value_range=(1, 1)), "value_range"),
    (dict(value_range="0-255"), "value_range"), (dict(clip_limit=-1.0), "clip_limit"),
    (dict(clip_limit="4"), "clip_limit"), (dict(tile_grid_size=8), "tile_grid_size"),
    (dict(tile_grid_size=(0, 8)), "tile_grid_size"), (dict(tile_grid_size=(2.0, 2)), "tile_grid_size"),
    (dict(data_format="nhwc"), "data_format")])
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        getattr(layers, CLAHE)(**kwargs)


def test_bad_inputs_name_the_layer_and_shape():
    with pytest.raises(ValueError, match=r"'clahe': Expected the input image to be rank 3 or 4.*\(None, 4\)"):
        getattr(layers, CLAHE)(name="clahe")(TensorType("float32", (None, 4))())
    with pytest.raises(ValueError, match=r"'clahe': the images' height, width and channels must be known.*None"):
        getattr(layers, CLAHE)(name="clahe")(TensorType("float32", (None, None, 8, 3))())


def test_a_model_with_the_layer_predicts_as_keras_loads_it(keras, tmp_path):
    model = Sequential([layers.Input((9, 8, 3)),
                        getattr(layers, CLAHE)(value_range=(0, 1), clip_limit=2.0, tile_grid_size=(2, 4)),
                        layers.Flatten()])
    path = str(tmp_path / "model.keras")
    model.save(path)
    x = make_input((2, 9, 8, 3), (0, 1))
    ours = model.predict(x, verbose=0)                   # inference equalizes too, as in Keras
    np.testing.assert_array_equal(load_model(path).predict(x, verbose=0), ours)
    np.testing.assert_allclose(np.asarray(keras.saving.load_model(path).predict(x, verbose=0)), ours,
                               rtol=1e-6, atol=1e-6)

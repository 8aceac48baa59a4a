"""Weights files and whole-model files of real mlcore models: round trips, Keras 3 reading what mlcore
writes and the reverse, matching by name, failed loads that change nothing, atomic saves, and
model.save / load_model (architecture, weights, optimizer state; Lambda code only with safe_mode=False)."""
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import h5py
import numpy as np
import pytest

import mlcore
from mlcore import layers
from mlcore.models import Model, Sequential, load_model

from histories import assert_histories_close

pytestmark = pytest.mark.usefixtures("numpy_backend")

SUFFIXES = [".h5", ".weights.h5"]


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def net(lib=mlcore, hidden=5, out=2, extra=False):
    """Dense -> BatchNormalization -> Dense, the same layer names in mlcore and Keras."""
    stack = [lib.Input((6,)), lib.layers.Dense(hidden, activation="relu", name="hidden"),
             lib.layers.BatchNormalization(name="bn")]
    if extra:
        stack.append(lib.layers.Dense(hidden, name="extra"))
    return lib.Sequential(stack + [lib.layers.Dense(out, activation="softmax", name="out")], name="net")


@pytest.fixture
def data(rng):
    x = rng.normal(size=(24, 6)).astype("float32")
    return x, np.eye(2, dtype="float32")[(x[:, 0] > 0).astype(int)]


@pytest.fixture
def trained(data):
    """A trained net: its BatchNormalization moving statistics are not the initial ones any more."""
    model = net()
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    model.fit(*data, batch_size=8, epochs=2, verbose=0)
    return model


def assert_same_weights(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


class Scale(layers.Layer):
    """A layer with one weight, of a class the weights file has no group for."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

    def call(self, inputs):
        return inputs * self.w


# --- weights files ------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_weights_round_trip(tmp_path, trained, data, suffix):
    path = tmp_path / ("w" + suffix)
    trained.save_weights(str(path))
    fresh = net()
    fresh.load_weights(str(path))
    assert_same_weights(fresh.get_weights(), trained.get_weights())
    np.testing.assert_array_equal(fresh.predict(data[0], verbose=0), trained.predict(data[0], verbose=0))


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_keras_reads_mlcore_weights_and_mlcore_reads_keras_weights(tmp_path, keras, trained, data, suffix):
    ours_path, theirs_path = tmp_path / ("ours" + suffix), tmp_path / ("theirs" + suffix)
    trained.save_weights(str(ours_path))
    theirs = net(keras)
    theirs.load_weights(str(ours_path))
    assert_same_weights(theirs.get_weights(), trained.get_weights())
    np.testing.assert_allclose(theirs.predict(data[0], verbose=0), trained.predict(data[0], verbose=0),
                               rtol=1e-5, atol=1e-6)
    theirs.set_weights([w * 2 for w in trained.get_weights()])
    if suffix == ".h5":     # Keras 3 writes the legacy layout only in whole-model files
        theirs.save(str(theirs_path))
    else:
        theirs.save_weights(str(theirs_path))
    ours = net()
    ours.load_weights(str(theirs_path))
    assert_same_weights(ours.get_weights(), theirs.get_weights())


def test_load_by_name_and_skip_mismatch(tmp_path, trained):
    path = str(tmp_path / "w.h5")
    trained.save_weights(path)
    other = Sequential([layers.Input((6,)), layers.Dense(5, name="hidden"), layers.Dense(3, name="unrelated")])
    before = other.get_weights()
    other.load_weights(path, by_name=True)
    assert_same_weights(other.get_weights()[:2], trained.get_weights()[:2])      # "hidden" loads
    assert_same_weights(other.get_weights()[2:], before[2:])                       # the rest is left
    mismatched = net(out=3)
    before = mismatched.get_weights()
    with pytest.raises(ValueError) as err:
        mismatched.load_weights(path, by_name=True)
    assert "out" in str(err.value) and "(5, 2)" in str(err.value) and "(5, 3)" in str(err.value)
    assert_same_weights(mismatched.get_weights(), before)
    with pytest.warns(UserWarning, match="out"):
        mismatched.load_weights(path, by_name=True, skip_mismatch=True)
    assert_same_weights(mismatched.get_weights()[:6], trained.get_weights()[:6])
    assert_same_weights(mismatched.get_weights()[6:], before[6:])


@pytest.mark.parametrize("suffix", [".weights.h5", ".h5"])
def test_skip_mismatch_without_by_name_skips_the_layers_that_differ(tmp_path, trained, suffix):
    """Keras 3 takes skip_mismatch in every format, layers matched as usual (Keras 2 wanted by_name)."""
    path = str(tmp_path / ("w" + suffix))
    trained.save_weights(path)
    mismatched = net(out=3)
    before = mismatched.get_weights()
    with pytest.warns(UserWarning, match="out"):
        mismatched.load_weights(path, skip_mismatch=True)
    assert_same_weights(mismatched.get_weights()[:6], trained.get_weights()[:6])
    assert_same_weights(mismatched.get_weights()[6:], before[6:])


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_failed_loads_name_the_problem_and_change_no_weight(tmp_path, trained, suffix):
    path = str(tmp_path / ("w" + suffix))
    trained.save_weights(path)
    cases = [(net(extra=True), ["count", "4", "3"]),                         # one layer more
             (net(hidden=4), ["hidden", "(6, 5)", "(6, 4)"])]                 # another shape
    if suffix == ".weights.h5":     # native files find a layer's group by its class and position
        missing = Sequential([layers.Input((6,)), layers.Dense(5, name="hidden"), Scale(name="scale"),
                              layers.Dense(2, name="out")])
        cases.append((missing, ["scale", "layers/scale/vars"]))
    for model, facts in cases:
        before = model.get_weights()
        with pytest.raises(ValueError) as err:
            model.load_weights(path)
        for fact in facts:
            assert fact in str(err.value), (fact, str(err.value))
        assert_same_weights(model.get_weights(), before)
    garbage = tmp_path / ("garbage" + suffix)
    garbage.write_bytes(b"not an h5 file at all")
    model = net()
    before = model.get_weights()
    with pytest.raises(ValueError, match="not an HDF5"):
        model.load_weights(str(garbage))
    assert_same_weights(model.get_weights(), before)
    with pytest.raises(FileNotFoundError):
        model.load_weights(str(tmp_path / ("absent" + suffix)))


@pytest.mark.parametrize("suffix", SUFFIXES + [".model.h5"])
def test_saving_is_atomic(tmp_path, trained, monkeypatch, suffix):
    """A save that fails half-way leaves the previous file as it was, and no partial file around."""
    path = tmp_path / ("w" + suffix)
    save = trained.save if suffix == ".model.h5" else trained.save_weights
    save(str(path))
    original = path.read_bytes()
    calls = []

    def failing_create_dataset(self, *args, **kwargs):
        calls.append(args)
        if len(calls) == 3:
            raise OSError("disk full")
        return real_create_dataset(self, *args, **kwargs)
    real_create_dataset = h5py.Group.create_dataset
    monkeypatch.setattr(h5py.Group, "create_dataset", failing_create_dataset)
    with pytest.raises(OSError, match="disk full"):
        save(str(path))
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == [path.name]


# --- whole models --------------------------------------------------------------------------------------
def test_save_and_load_model_restores_architecture_weights_and_optimizer(tmp_path, trained, data):
    path = str(tmp_path / "model.h5")
    trained.save(path)
    loaded = load_model(path)
    assert type(loaded) is Sequential and loaded.name == "net"
    assert [type(layer).__name__ for layer in loaded.layers] == ["Dense", "BatchNormalization", "Dense"]
    assert loaded.get_config() == trained.get_config()
    assert_same_weights(loaded.get_weights(), trained.get_weights())
    assert type(loaded.optimizer) is type(trained.optimizer)
    assert_same_weights([v.get_value() for v in loaded.optimizer.variables],
                        [v.get_value() for v in trained.optimizer.variables])
    np.testing.assert_allclose(loaded.evaluate(*data, verbose=0), trained.evaluate(*data, verbose=0), rtol=1e-6)
    # training goes on as it would have: Adam's moments and step count came back too
    histories = [model.fit(*data, batch_size=8, epochs=1, shuffle=False, verbose=0).history
                 for model in (trained, loaded)]
    assert_histories_close(histories[0], histories[1], rtol=1e-6)
    for a, b in zip(trained.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_save_functional_model_without_optimizer(tmp_path, rng):
    a, b = layers.Input((3,), name="a"), layers.Input((2,), name="b")
    joined = layers.Concatenate()([layers.Dense(4, name="da")(a), b])
    model = Model([a, b], [layers.Dense(1, name="o1")(joined), layers.Dense(2, name="o2")(joined)])
    path = str(tmp_path / "functional.h5")
    model.save(path)
    loaded = load_model(path)
    assert [t.type.shape for t in loaded.inputs] == [(None, 3), (None, 2)] and not loaded.compiled
    x = [rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=(4, 2)).astype("float32")]
    for p, q in zip(model.predict(x, verbose=0), loaded.predict(x, verbose=0)):
        np.testing.assert_array_equal(p, q)


def test_lambda_code_loads_only_with_safe_mode_false(tmp_path, rng):
    model = Sequential([layers.Input((3,)), layers.Lambda(lambda t: t * 2 + 1, name="affine"), layers.Dense(2)])
    path = str(tmp_path / "lambda.h5")
    model.save(path)
    with pytest.raises(ValueError) as err:
        load_model(path)
    assert "safe_mode" in str(err.value) and "affine" in str(err.value)
    loaded = load_model(path, safe_mode=False)
    x = rng.normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_enable_unsafe_deserialization_lets_lambda_code_load(tmp_path, rng, monkeypatch):
    """keras.config.enable_unsafe_deserialization(): from then on Lambda code loads even with the
    default safe_mode=True, through load_model and deserialize_keras_object, as in Keras."""
    from mlcore import config
    from mlcore.saving import deserialize_keras_object, serialize_keras_object
    monkeypatch.setattr(config, "_overrides", dict(config._overrides))
    model = Sequential([layers.Input((3,)), layers.Lambda(lambda t: t - 1, name="shift")])
    path = str(tmp_path / "lambda.h5")
    model.save(path)
    spec = serialize_keras_object(model.layers[-1])
    with pytest.raises(ValueError, match="safe_mode"):
        load_model(path)
    config.enable_unsafe_deserialization()
    x = rng.normal(size=(2, 3)).astype("float32")
    np.testing.assert_allclose(load_model(path).predict(x, verbose=0), x - 1, rtol=1e-6)
    np.testing.assert_allclose(deserialize_keras_object(spec)(x), x - 1, rtol=1e-6)


def test_custom_layers_load_with_custom_objects(tmp_path):
    class Doubler(layers.Layer):
        def call(self, inputs):
            return inputs * 2

    model = Sequential([layers.Input((3,)), Doubler(name="doubler"), layers.Dense(1)])
    path = str(tmp_path / "custom.h5")
    model.save(path)
    with pytest.raises(ValueError, match="custom_objects"):
        load_model(path)
    loaded = load_model(path, custom_objects={"Doubler": Doubler})
    assert isinstance(loaded.layers[0], Doubler)


def test_load_model_on_a_weights_file_says_what_to_do(tmp_path, trained):
    path = str(tmp_path / "only.weights.h5")
    trained.save_weights(path)
    with pytest.raises(ValueError, match="load_weights"):
        load_model(path)
    for keras_version_raises in (FileNotFoundError, ValueError):      # Keras 2's error, Keras 3's
        with pytest.raises(keras_version_raises, match="absent.h5"):
            load_model(str(tmp_path / "absent.h5"))

"""Keras 3's native .keras archives: models Keras 3 saves load in mlcore and predict the same, models mlcore
saves load in Keras 3 and predict the same, compile state (optimizer, its variables, loss, metrics) survives,
saves are atomic, and bad files are refused with errors that name them."""
import json
import os
import zipfile

os.environ.setdefault("KERAS_BACKEND", "jax")     # before any keras import (keras picks its backend once)

import h5py
import numpy as np
import pytest

import mlcore
from mlcore import layers
from mlcore.models import Model, Sequential, load_model

pytestmark = [pytest.mark.usefixtures("numpy_backend"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]  # jax arrays' __array__ in Keras


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


# --- the same three models in either library ---------------------------------------------------------
def mlp(lib, dropout=0.25):
    L = lib.layers
    return lib.Sequential([lib.Input((6,)), L.Dense(5, activation="relu", name="hidden"), L.Dropout(dropout),
                           L.Dense(3, activation="softmax", name="out")], name="mlp")


def two_inputs(lib):
    L = lib.layers
    a, b = lib.Input((3,), name="a"), lib.Input((2,), name="b")
    joined = L.Concatenate(name="join")([L.Dense(4, activation="tanh", name="da")(a), b])
    out = L.Add(name="sum")([L.Dense(3, name="o1")(joined), L.Dense(3, name="o2")(joined)])
    return lib.Model([a, b], out, name="two_inputs")


def convnet(lib):
    L = lib.layers
    return lib.Sequential([lib.Input((8, 8, 2)), L.Conv2D(4, 3, padding="same", name="conv"),
                           L.BatchNormalization(name="bn"), L.Activation("relu"), L.MaxPooling2D(2),
                           L.AveragePooling2D(2), L.Flatten(), L.Reshape((2, 8)), L.Reshape((16,)),
                           L.Dense(3, name="out")], name="convnet")


def shared_submodels(lib):
    """A functional and a Sequential model inside a functional one, each called twice (nodes 0 and 1)."""
    L = lib.layers
    x = lib.Input((4,))
    inner = lib.Model(x, L.Dense(3, activation="relu", name="in_d")(x), name="inner")
    head = lib.Sequential([lib.Input((3,)), L.BatchNormalization(name="bn"), L.Dense(2, name="sd")], name="head")
    a, b = lib.Input((4,), name="a"), lib.Input((4,), name="b")
    return lib.Model([a, b], L.Subtract(name="diff")([head(inner(a)), head(inner(b))]), name="outer")


BUILDERS = [mlp, two_inputs, convnet]


def inputs_for(build, rng):
    shapes = {mlp: [(6,)], two_inputs: [(3,), (2,)], convnet: [(8, 8, 2)], shared_submodels: [(4,), (4,)]}[build]
    arrays = [rng.normal(size=(5,) + shape).astype("float32") for shape in shapes]
    return arrays if len(arrays) > 1 else arrays[0]


def randomize(weights, rng):
    """Weights away from their initial values (BatchNormalization's moving statistics too: variances > 0)."""
    return [rng.uniform(0.5, 1.5, np.shape(w)).astype("float32") for w in weights]


def keras_model(keras, build, rng):
    model = build(keras)
    model.set_weights(randomize(model.get_weights(), rng))
    return model


def mlcore_model(build, rng):
    model = build(mlcore)
    model.set_weights(randomize(model.get_weights(), rng))
    return model


# --- Keras 3 -> mlcore --------------------------------------------------------------------------------
@pytest.mark.parametrize("build", BUILDERS + [shared_submodels])
def test_mlcore_loads_keras_archives(tmp_path, keras, rng, build):
    source = keras_model(keras, build, rng)
    path = str(tmp_path / "k.keras")
    source.save(path)
    loaded = load_model(path)
    x = inputs_for(build, rng)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), source.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    assert loaded.name == source.name and not loaded.compiled
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in source.layers]


# --- mlcore -> Keras 3 --------------------------------------------------------------------------------
@pytest.mark.parametrize("build", BUILDERS + [shared_submodels])
def test_keras_loads_mlcore_archives(tmp_path, keras, rng, build):
    source = mlcore_model(build, rng)
    path = str(tmp_path / "m.keras")
    source.save(path)
    loaded = keras.saving.load_model(path)
    x = inputs_for(build, rng)
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)), source.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in source.layers]
    assert type(loaded).__name__ == {Sequential: "Sequential", Model: "Functional"}[type(source)]


def test_archive_layout(tmp_path, rng):
    """Keras 3's members, stored uncompressed; config.json names Keras's modules and classes."""
    path = tmp_path / "m.keras"
    mlcore_model(two_inputs, rng).save(str(path))
    with zipfile.ZipFile(path) as archive:
        assert [(i.filename, i.compress_type) for i in archive.infolist()] == [
            ("metadata.json", zipfile.ZIP_STORED), ("config.json", zipfile.ZIP_STORED),
            ("model.weights.h5", zipfile.ZIP_STORED)]
        assert set(json.loads(archive.read("metadata.json"))) == {"keras_version", "date_saved"}
        config = json.loads(archive.read("config.json"))
    assert (config["module"], config["class_name"]) == ("keras.src.models.functional", "Functional")
    join = next(spec for spec in config["config"]["layers"] if spec["name"] == "join")
    assert (join["module"], join["class_name"], join["config"]["axis"]) == ("keras.layers", "Concatenate", -1)
    history = [arg["config"]["keras_history"] for arg in join["inbound_nodes"][0]["args"][0]]
    assert history == [["da", 0, 0], ["b", 0, 0]]
    assert config["config"]["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert config["config"]["output_layers"] == ["sum", 0, 0]


# --- compile state ------------------------------------------------------------------------------------
def fit_data(rng):
    x = rng.normal(size=(24, 6)).astype("float32")
    return x, np.eye(3, dtype="float32")[rng.integers(0, 3, 24)]


def optimizer_values(optimizer):
    return [np.asarray(v.numpy() if hasattr(v, "numpy") else v.get_value()) for v in optimizer.variables]


def assert_same_values(got, expected):
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64"), rtol=1e-6)


def test_keras_compile_state_loads_in_mlcore(tmp_path, keras, rng):
    source = keras_model(keras, mlp, rng)
    source.compile(keras.optimizers.Adam(0.01), keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
                   metrics=[keras.metrics.CategoricalAccuracy(name="acc"), "mae", keras.metrics.mean_squared_error])
    data = fit_data(rng)
    source.fit(*data, batch_size=8, epochs=2, verbose=0)
    path = str(tmp_path / "k.keras")
    source.save(path)
    loaded = load_model(path)
    assert type(loaded.optimizer).__name__ == "Adam"
    assert loaded.optimizer.get_config()["learning_rate"] == pytest.approx(0.01)
    assert_same_values(optimizer_values(loaded.optimizer), optimizer_values(source.optimizer))
    got = loaded.evaluate(*data, verbose=0, return_dict=True)
    expected = source.evaluate(*data, verbose=0, return_dict=True)
    assert set(got) == set(expected) == {"loss", "acc", "mae", "mean_squared_error"}
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, err_msg=key)
    assert not load_model(path, compile=False).compiled


def test_mlcore_compile_state_loads_in_keras_and_mlcore(tmp_path, keras, rng):
    source = mlcore_model(lambda lib: mlp(lib, dropout=0.0), rng)    # no dropout: training is reproducible
    source.compile(mlcore.optimizers.SGD(0.05, momentum=0.9), "categorical_crossentropy",
                   metrics=["accuracy", mlcore.metrics.MeanAbsoluteError(name="mae")])
    data = fit_data(rng)
    source.fit(*data, batch_size=8, epochs=2, verbose=0)
    path = str(tmp_path / "m.keras")
    source.save(path)
    expected = source.evaluate(*data, verbose=0, return_dict=True)
    for loaded in (load_model(path), keras.saving.load_model(path)):
        assert type(loaded.optimizer).__name__ == "SGD"
        assert loaded.optimizer.get_config()["momentum"] == pytest.approx(0.9)
        assert_same_values(optimizer_values(loaded.optimizer), optimizer_values(source.optimizer))
        got = loaded.evaluate(*data, verbose=0, return_dict=True)
        assert set(got) == {"loss", "accuracy", "mae"}
        for key in expected:
            np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, err_msg=key)
    # training goes on from the same state: momentum and step count came back
    loaded = load_model(path)
    for model in (source, loaded):
        model.fit(*data, batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert_same_values(loaded.get_weights(), source.get_weights())


def test_include_optimizer_false_leaves_the_state_out(tmp_path, rng):
    source = mlcore_model(mlp, rng)
    source.compile("adam", "categorical_crossentropy")
    source.fit(*fit_data(rng), batch_size=8, verbose=0)
    path = tmp_path / "m.keras"
    source.save(str(path), include_optimizer=False)
    with zipfile.ZipFile(path) as archive, h5py.File(archive.open("model.weights.h5"), "r") as weights:
        assert "optimizer" not in weights
    loaded = load_model(str(path))
    assert loaded.compiled and int(loaded.optimizer.iterations.get_value()) == 0


# --- safe mode and custom layers ----------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:.*lambda:UserWarning")   # Keras warns when it saves a lambda
@pytest.mark.parametrize("writer", ["keras", "mlcore"])
def test_lambda_loads_only_with_safe_mode_false(tmp_path, keras, rng, writer):
    lib = keras if writer == "keras" else mlcore
    model = lib.Sequential([lib.Input((3,)), lib.layers.Lambda(lambda t: t * 2 + 1, name="affine"),
                            lib.layers.Dense(2, name="d")])
    path = str(tmp_path / "lambda.keras")
    model.save(path)
    with pytest.raises(ValueError, match="safe_mode"):
        load_model(path)
    loaded = load_model(path, safe_mode=False)
    x = rng.normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), np.asarray(model.predict(x, verbose=0)), rtol=1e-6)
    if writer == "mlcore":
        reloaded = keras.saving.load_model(path, safe_mode=False)
        np.testing.assert_allclose(np.asarray(reloaded.predict(x, verbose=0)), loaded.predict(x, verbose=0),
                                   rtol=1e-6)


class Doubler(layers.Layer):
    def call(self, inputs):
        return inputs * 2


def test_custom_layers_resolve_through_custom_objects(tmp_path, keras, rng):
    @keras.saving.register_keras_serializable(package="tests")
    class KerasDoubler(keras.layers.Layer):
        def call(self, inputs):
            return inputs * 2

    source = keras.Sequential([keras.Input((3,)), KerasDoubler(name="twice"), keras.layers.Dense(2, name="d")])
    path = str(tmp_path / "custom.keras")
    source.save(path)
    with pytest.raises(ValueError, match="custom_objects"):
        load_model(path)
    loaded = load_model(path, custom_objects={"tests>KerasDoubler": Doubler})
    assert isinstance(loaded.layers[0], Doubler)
    x = rng.normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), source.predict(x, verbose=0), rtol=1e-6)
    # and mlcore's own custom layers, saved by mlcore, by class name
    path = str(tmp_path / "mine.keras")
    loaded.save(path)
    again = load_model(path, custom_objects={"Doubler": Doubler})
    np.testing.assert_allclose(again.predict(x, verbose=0), loaded.predict(x, verbose=0), rtol=1e-6)


def test_keras_rms_scaling_layer_normalization_loads_and_predicts_as_keras(tmp_path, keras, rng):
    """rms_scaling=True (once a Keras-only option mlcore refused) loads with its one weight, gamma."""
    model = keras.Sequential([keras.Input((4,)), keras.layers.LayerNormalization(rms_scaling=True, name="bn")])
    model.set_weights(randomize(model.get_weights(), rng))
    path = str(tmp_path / "rms_scaling.keras")
    model.save(path)
    loaded = load_model(path)
    assert loaded.get_layer("bn").rms_scaling and len(loaded.get_layer("bn").weights) == 1
    x = rng.normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


# --- files: suffixes, atomic saves, bad archives ------------------------------------------------------
def test_suffix_picks_the_format(tmp_path, rng):
    model = mlcore_model(mlp, rng)
    model.save(str(tmp_path / "m.keras"))
    model.save(str(tmp_path / "m.h5"))
    assert zipfile.is_zipfile(tmp_path / "m.keras") and h5py.is_hdf5(tmp_path / "m.h5")
    for bad in ("m", "m.txt", "m.weights"):
        with pytest.raises(ValueError, match="Invalid filepath extension.*" + bad):
            model.save(str(tmp_path / bad))
    assert sorted(os.listdir(tmp_path)) == ["m.h5", "m.keras"]


def test_h5_files_mlcore_named_keras_still_load(tmp_path, rng):
    """mlcore used to write its h5 layout under '.keras' names."""
    model = mlcore_model(mlp, rng)
    model.save(str(tmp_path / "old.h5"))
    os.rename(tmp_path / "old.h5", tmp_path / "old.keras")
    x = inputs_for(mlp, rng)
    np.testing.assert_array_equal(load_model(str(tmp_path / "old.keras")).predict(x, verbose=0),
                                  model.predict(x, verbose=0))


def _fail_on_call(monkeypatch, owner, name, when):
    real = getattr(owner, name)
    calls = []

    def failing(self, *args, **kwargs):
        calls.append(args)
        if len(calls) == when:
            raise OSError("disk full")
        return real(self, *args, **kwargs)
    monkeypatch.setattr(owner, name, failing)


@pytest.mark.parametrize("owner, name, when", [(h5py.Group, "create_dataset", 3),
                                               (zipfile.ZipFile, "writestr", 2)])
def test_failed_save_leaves_the_old_file(tmp_path, rng, monkeypatch, owner, name, when):
    path = tmp_path / "m.keras"
    model = mlcore_model(mlp, rng)
    model.save(str(path))
    original = path.read_bytes()
    _fail_on_call(monkeypatch, owner, name, when)
    with pytest.raises(OSError, match="disk full"):
        mlcore_model(mlp, rng).save(str(path))
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["m.keras"]


def test_bad_archives_name_the_file(tmp_path, rng):
    not_zip = tmp_path / "garbage.keras"
    not_zip.write_bytes(b"this is not a zip archive")
    with pytest.raises(ValueError, match="garbage.keras.*not a zip"):
        load_model(str(not_zip))
    no_config = tmp_path / "no_config.keras"
    with zipfile.ZipFile(no_config, "w") as archive:
        archive.writestr("metadata.json", "{}")
    with pytest.raises(ValueError, match="no_config.keras.*config.json"):
        load_model(str(no_config))
    bad_json = tmp_path / "bad_json.keras"
    with zipfile.ZipFile(bad_json, "w") as archive:
        archive.writestr("config.json", "{not json")
        archive.writestr("model.weights.h5", b"")
    with pytest.raises(ValueError, match="bad_json.keras.*JSON"):
        load_model(str(bad_json))
    with pytest.raises(FileNotFoundError, match="absent.keras"):
        load_model(str(tmp_path / "absent.keras"))

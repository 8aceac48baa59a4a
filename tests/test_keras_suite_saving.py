"""Saving-API differences that Keras 3's own saving tests (keras/src/saving/saving_api_test.py and
saving_lib_test.py, run by tools/keras_layer_suite.py) found: bfloat16 weights in every file format
(Keras marks them with attr dtype="bfloat16"), Keras's "File format not supported" errors, save_model's
save_format and unknown keywords, the legacy-h5 notice, save_weights/load_weights(objects_to_skip=),
Keras's words for a Lambda refused by safe_mode, and a saved activation object.  Each is checked beside
Keras 3 where Keras can run the same case."""
import logging
from unittest import mock

import h5py
import numpy as np
import pytest

import mlcore
from mlcore import layers, models
from mlcore.models.model_file import LEGACY_H5_WARNING
from mlcore.saving import load_model, load_weights, save_model, save_weights

pytestmark = pytest.mark.usefixtures("numpy_backend")


def dense_model(dtype=None, lib=None):
    """saving_api_test's model: Dense(5) then Softmax, of mlcore or of Keras (lib=keras)."""
    lib_layers, lib_models = (lib.layers, lib.models) if lib else (layers, models)
    return lib_models.Sequential([lib_layers.Input((3,)), lib_layers.Dense(5, dtype=dtype), lib_layers.Softmax()])


def two_dense(lib=None):
    lib_layers, lib_models = (lib.layers, lib.models) if lib else (layers, models)
    return lib_models.Sequential([lib_layers.Input((3,)), lib_layers.Dense(5, bias_initializer="ones"),
                                  lib_layers.Dense(5)])


def h5_tree(path):
    """{dataset path: (dtype attr, shape)} of an h5 file."""
    found = {}

    def visit(name, item):
        if isinstance(item, h5py.Dataset):
            found[name] = (item.attrs.get("dtype"), item.shape)
    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return found


# --- bfloat16 weights --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["m.keras", "m.h5"])
def test_bfloat16_model_saves_and_loads(tmp_path, rng, name):
    model = dense_model("bfloat16")
    save_model(model, tmp_path / name)
    loaded = load_model(tmp_path / name)
    assert loaded.weights[0].dtype == "bfloat16"
    x = rng.uniform(size=(10, 3)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0).astype("float32"),
                                  model.predict(x, verbose=0).astype("float32"))


@pytest.mark.parametrize("save", [lambda m, p: save_weights(m, p / "w.weights.h5") or p / "w.weights.h5",
                                  lambda m, p: save_weights(m, p / "w.weights.json", max_shard_size=1e-6)
                                  or p / "w.weights.json",
                                  lambda m, p: save_weights(m, p / "w.h5") or p / "w.h5"])
@pytest.mark.parametrize("source, dest", [("bfloat16", "bfloat16"), ("bfloat16", "float32"),
                                          ("float32", "bfloat16")])
def test_bfloat16_weights_load_into_any_float_dtype(tmp_path, save, source, dest):
    src = dense_model(source)
    path = save(src, tmp_path)
    dst = dense_model(dest)
    dst.load_weights(path)
    assert [w.dtype for w in dst.weights] == [dest, dest]
    for a, b in zip(src.get_weights(), dst.get_weights()):
        np.testing.assert_allclose(a.astype("float32"), b.astype("float32"), atol=1e-2, rtol=1e-2)


def test_bfloat16_weights_files_are_keras_files(tmp_path, keras):
    """mlcore marks a bfloat16 dataset as Keras does, and each library loads the other's file."""
    ours, theirs = dense_model("bfloat16"), dense_model("bfloat16", keras)
    ours.save_weights(tmp_path / "ours.weights.h5")
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    assert h5_tree(tmp_path / "ours.weights.h5") == h5_tree(tmp_path / "theirs.weights.h5")
    assert h5_tree(tmp_path / "ours.weights.h5")["layers/dense/vars/0"][0] == "bfloat16"
    ours_copy, theirs_copy = dense_model("bfloat16"), dense_model("bfloat16", keras)
    ours_copy.load_weights(tmp_path / "theirs.weights.h5")
    theirs_copy.load_weights(tmp_path / "ours.weights.h5")
    for a, b in zip(ours_copy.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, np.asarray(b))
    for a, b in zip(theirs_copy.get_weights(), ours.get_weights()):
        np.testing.assert_array_equal(np.asarray(a), b)


# --- File format not supported -----------------------------------------------------------------------

def test_load_model_of_an_unsupported_name(tmp_path, keras):
    path = str(tmp_path / "model.pkl")
    for load in (load_model, keras.saving.load_model):
        with pytest.raises(ValueError, match="File format not supported"):
            load(path)
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_model(path)
    (tmp_path / "model.pkl").write_bytes(b"not a model")
    for load in (load_model, keras.saving.load_model):
        with pytest.raises(ValueError, match="File format not supported"):
            load(path)


def test_load_weights_of_an_unsupported_name(keras):
    for model in (dense_model(), dense_model(lib=keras)):
        before = model.get_weights()
        with pytest.raises(ValueError, match="File format not supported: filepath=invalid_extension.pkl"):
            model.load_weights("invalid_extension.pkl")
        for a, b in zip(model.get_weights(), before):
            np.testing.assert_array_equal(a, b)


# --- save_model's keywords and the legacy-h5 notice --------------------------------------------------

def test_save_format_is_refused_where_the_name_does_not_give_the_format(tmp_path, keras):
    for model, save in ((dense_model(), save_model), (dense_model(lib=keras), keras.saving.save_model)):
        with pytest.raises(ValueError, match="The `save_format` argument is deprecated"):
            save(model, str(tmp_path / "model.txt"), save_format=True)
    assert not (tmp_path / "model.txt").exists()


def test_save_format_with_a_keras_name_is_logged_and_saves(tmp_path, caplog):
    model = dense_model()
    with caplog.at_level(logging.WARNING, logger="mlcore"):
        model.save(tmp_path / "m.keras", save_format="keras")
    assert "The `save_format` argument is deprecated in Keras 3" in caplog.text
    for a, b in zip(load_model(tmp_path / "m.keras").get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_unknown_save_arguments_are_refused(tmp_path, keras):
    for model, save in ((dense_model(), save_model), (dense_model(lib=keras), keras.saving.save_model)):
        with pytest.raises(ValueError, match=r"The following argument\(s\) are not supported: \['random_arg'\]"):
            save(model, str(tmp_path / "m.keras"), random_arg=True)
    with pytest.raises(ValueError, match="not supported"):
        dense_model().save(tmp_path / "m.keras", random_arg=True)
    assert not (tmp_path / "m.keras").exists()


def test_saving_h5_logs_keras_legacy_notice(tmp_path, keras, caplog):
    from absl import logging as absl_logging
    with mock.patch.object(absl_logging, "warning") as keras_warning:
        keras.saving.save_model(dense_model(lib=keras), str(tmp_path / "k.h5"))
    keras_warning.assert_called_once_with(LEGACY_H5_WARNING)
    with caplog.at_level(logging.WARNING, logger="mlcore"):
        save_model(dense_model(), tmp_path / "m.h5")
        dense_model().save(tmp_path / "m.keras")
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == \
        [("mlcore", "WARNING", LEGACY_H5_WARNING)]
    assert (tmp_path / "m.h5").exists()


# --- objects_to_skip ---------------------------------------------------------------------------------

def test_save_weights_skips_objects_as_keras(tmp_path, keras):
    """The skipped layer gets no group; the next layer keeps its key (dense_1), in both libraries."""
    ours, theirs = two_dense(), two_dense(keras)
    save_weights(ours, tmp_path / "ours.weights.h5", objects_to_skip=[ours.layers[0]])
    keras.saving.save_weights(theirs, tmp_path / "theirs.weights.h5", objects_to_skip=[theirs.layers[0]])
    assert set(h5_tree(tmp_path / "ours.weights.h5")) == set(h5_tree(tmp_path / "theirs.weights.h5")) == \
        {"layers/dense_1/vars/0", "layers/dense_1/vars/1"}


@pytest.mark.parametrize("skip_on_save", [True, False])
def test_load_weights_leaves_skipped_objects_as_they_are(tmp_path, keras, skip_on_save):
    source = two_dense()
    path = tmp_path / "w.weights.h5"
    save_weights(source, path, objects_to_skip=[source.layers[0]] if skip_on_save else None)
    for target in (two_dense(), two_dense(keras)):
        kept = target.layers[0].get_weights()
        target.load_weights(path, objects_to_skip=[target.layers[0]])
        for a, b in zip(target.layers[0].get_weights(), kept):
            np.testing.assert_array_equal(np.asarray(a), b)
        for a, b in zip(target.layers[1].get_weights(), source.layers[1].get_weights()):
            np.testing.assert_array_equal(np.asarray(a), b)


def test_load_weights_skips_a_nested_model_and_its_layers(tmp_path):
    def build():
        inner = models.Sequential([layers.Input((3,)), layers.Dense(4), layers.Dense(4)])
        return models.Sequential([layers.Input((3,)), inner, layers.Dense(2)])
    source, target = build(), build()
    source.save_weights(tmp_path / "w.weights.json", max_shard_size=1e-6)
    inner_before = target.layers[0].get_weights()
    load_weights(target, tmp_path / "w.weights.json", objects_to_skip=[target.layers[0]])
    for a, b in zip(target.layers[0].get_weights(), inner_before):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(target.layers[1].get_weights(), source.layers[1].get_weights()):
        np.testing.assert_array_equal(a, b)


def test_objects_to_skip_only_with_keras3_weights_files(tmp_path, keras):
    model = two_dense()
    model.save(tmp_path / "m.keras")
    save_weights(model, tmp_path / "m.h5")
    keras_model = two_dense(keras)
    for target in (two_dense(), keras_model):
        before = target.get_weights()
        for name in ("m.keras", "m.h5"):
            with pytest.raises(ValueError, match="`objects_to_skip` only supports loading '.weights.h5' files"):
                target.load_weights(str(tmp_path / name), objects_to_skip=[])
        with pytest.raises(ValueError, match="Invalid keyword arguments"):
            target.load_weights(str(tmp_path / "m.keras"), bad_kwarg=None)
        for a, b in zip(target.get_weights(), before):
            np.testing.assert_array_equal(np.asarray(a), b)
    with pytest.raises(ValueError, match="`objects_to_skip` only supports saving '.weights.h5' files"):
        save_weights(model, tmp_path / "other.h5", objects_to_skip=[])
    assert not (tmp_path / "other.h5").exists()


# --- loading Keras's files: Lambda under safe_mode, a saved activation object ------------------------

def test_lambda_refused_with_keras_words(tmp_path, keras):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2)])
    model.save(tmp_path / "lambda.keras")
    for load in (load_model, keras.saving.load_model):
        with pytest.raises(ValueError, match="arbitrary code execution"):
            load(str(tmp_path / "lambda.keras"))


class GrowthFactor:
    """saving_lib_test's activation object without from_config."""

    def __init__(self, factor):
        self.factor = factor

    def __call__(self, inputs):
        return inputs * self.factor

    def get_config(self):
        return {"factor": self.factor}


class Scaled(GrowthFactor):
    @classmethod
    def from_config(cls, config):
        return cls(**config)


def activation_model_file(keras, activation, path):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(1, activation=activation)(inputs))
    model.save(path)
    return model


def test_activation_object_without_from_config(tmp_path, keras):
    path = str(tmp_path / "growth.keras")
    activation_model_file(keras, GrowthFactor(0.5), path)
    for load in (load_model, keras.saving.load_model):
        with pytest.raises(TypeError, match="Unable to reconstruct an instance of 'GrowthFactor'"):
            load(path, custom_objects={"GrowthFactor": GrowthFactor})


def test_activation_object_loads_from_keras_file(tmp_path, keras, rng):
    path = str(tmp_path / "scaled.keras")
    keras_model = activation_model_file(keras, Scaled(0.5), path)
    loaded = load_model(path, custom_objects={"Scaled": Scaled})
    assert isinstance(loaded.layers[-1].activation, Scaled)
    x = rng.normal(size=(3, 4)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), keras_model.predict(x, verbose=0), rtol=1e-5)


def _lambda_model(lib, offset=1.5, scale=3.0):
    x = lib.Input((2,))
    return lib.Model(x, lib.layers.Lambda(lambda t: t * scale + offset)(x))


def test_a_lambda_keeps_the_values_it_closes_over_both_ways_with_keras(keras, tmp_path):
    import mlcore
    ones = np.ones((1, 2), "float32")
    for writer in (mlcore, keras):
        for reader in (mlcore, keras):
            path = str(tmp_path / ("%s_%s.keras" % (writer.__name__, reader.__name__)))
            _lambda_model(writer).save(path)
            loaded = reader.saving.load_model(path, safe_mode=False)
            np.testing.assert_allclose(loaded.predict(ones, verbose=0), np.full((1, 2), 4.5))


def test_a_lambda_closing_over_an_array_is_refused_at_save_and_writes_nothing(tmp_path):
    import mlcore
    weights = np.ones(2)
    x = mlcore.Input((2,))
    model = mlcore.Model(x, mlcore.layers.Lambda(lambda t: t * weights)(x))
    with pytest.raises(ValueError, match="plain values.*ndarray.*named function"):
        model.save(str(tmp_path / "m.keras"))
    assert not (tmp_path / "m.keras").exists()


def test_a_functional_subclass_with_its_own_arguments_saves_and_loads_both_ways_with_keras(keras, tmp_path):
    import mlcore
    for lib in (mlcore, keras):
        @lib.saving.register_keras_serializable("suite_saving")
        class WithParam(lib.Model):
            def __init__(self, *args, param=1, **kwargs):
                super().__init__(*args, **kwargs)
                self.param = param

            def get_config(self):
                return {**super().get_config(), "param": self.param}

        x = lib.layers.Input((3,))
        model = WithParam(inputs=x, outputs=lib.layers.Dense(5)(x), param=3)
        assert WithParam.from_config(model.get_config()).param == 3
        model.save(str(tmp_path / ("%s.keras" % lib.__name__)))
    ones = np.ones((1, 3), "float32")
    for writer in (mlcore, keras):
        for reader in (mlcore, keras):
            loaded = reader.saving.load_model(str(tmp_path / ("%s.keras" % writer.__name__)))
            assert type(loaded).__name__ == "WithParam" and loaded.param == 3
            assert np.asarray(loaded.predict(ones, verbose=0)).shape == (1, 5)


@pytest.mark.parametrize("config, message", [
    ({"name": "m", "layers": [{"class_name": "Dense", "module": "keras.layers", "config": {"units": 4}}, {}]},
     "Expected a dictionary containing a 'config' key"),
    ({"layers": [{"class_name": "Dense", "module": "keras.layers", "config": {"units": 4}}]},
     "A Sequential model configuration must be a dictionary containing the 'name' and 'layers' keys")])
def test_malformed_sequential_configs_are_refused_as_keras(keras, config, message):
    for lib in (keras, mlcore):
        with pytest.raises(ValueError, match=message):
            lib.saving.deserialize_keras_object({"class_name": "Sequential", "module": "keras", "config": config})


def test_a_name_registered_again_names_the_new_object_as_keras(keras):
    for lib in (keras, mlcore):
        found = []
        for scale in (2.0, 3.0):
            @lib.saving.register_keras_serializable(package="mlcore_test_again")
            class Scale(lib.layers.Layer):
                factor = scale

                def call(self, x):
                    return x * self.factor
            found.append(Scale)
        assert lib.saving.get_registered_object("mlcore_test_again>Scale") is found[1]


def test_an_unreadable_weights_file_is_an_os_error_as_keras(keras, tmp_path):
    """Keras's h5py error (BackupAndRestore falls back to its previous backup on it); mlcore's ValueError too."""
    (tmp_path / "cut.weights.h5").write_text("0")
    for lib in (keras, mlcore):
        model = lib.Sequential([lib.Input((2,)), lib.layers.Dense(1)])
        with pytest.raises(OSError):
            model.load_weights(tmp_path / "cut.weights.h5")
    with pytest.raises(ValueError, match="is not an HDF5 weights file"):
        model.load_weights(tmp_path / "cut.weights.h5")

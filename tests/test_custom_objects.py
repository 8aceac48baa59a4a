"""Keras's custom-object registry: register_keras_serializable, custom_object_scope and
get_custom_objects make custom layers, losses and metrics loadable from every saved format."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

import mlcore
from mlcore import layers, losses, metrics, saving, utils
from mlcore.models import load_model

pytestmark = [pytest.mark.usefixtures("numpy_backend"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@saving.register_keras_serializable(package="mlcore_tests")
class Scale(layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        return inputs * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@saving.register_keras_serializable(package="mlcore_tests")
def scaled_mse(y_true, y_pred):
    return losses.mean_squared_error(y_true, y_pred) * 3.0


def _model():
    model = mlcore.Sequential([layers.Input((3,)), Scale(0.5, name="half"), layers.Dense(2, name="d")])
    model.compile(optimizer="sgd", loss=scaled_mse)
    return model


def test_registration_names_follow_keras():
    keras = pytest.importorskip("keras")
    assert saving.get_registered_name(Scale) == "mlcore_tests>Scale"
    assert saving.get_registered_object("mlcore_tests>Scale") is Scale
    assert utils.register_keras_serializable is saving.register_keras_serializable
    assert saving.get_registered_name(layers.Dense) == keras.saving.get_registered_name(keras.layers.Dense)
    with pytest.raises(ValueError, match="get_config"):
        saving.register_keras_serializable()(type("NoConfig", (), {}))


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_registered_objects_load_without_custom_objects(tmp_path, rng, suffix):
    model = _model()
    x, y = rng.normal(size=(8, 3)).astype("float32"), rng.normal(size=(8, 2)).astype("float32")
    model.fit(x, y, epochs=2, verbose=0)
    path = str(tmp_path / ("registered" + suffix))
    model.save(path)
    loaded = load_model(path)
    assert isinstance(loaded.get_layer("half"), Scale) and loaded.get_layer("half").factor == 0.5
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-5)


def test_keras_loads_what_mlcore_saved_with_its_own_registration(tmp_path, rng):
    keras = pytest.importorskip("keras")

    @keras.saving.register_keras_serializable(package="mlcore_tests", name="Scale")
    class KerasScale(keras.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, inputs):
            return inputs * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    model = mlcore.Sequential([layers.Input((3,)), Scale(0.5, name="half"), layers.Dense(2, name="d")])
    path = str(tmp_path / "for_keras.keras")
    model.save(path)
    theirs = keras.saving.load_model(path, compile=False)
    x = rng.normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)), model.predict(x, verbose=0), rtol=1e-6)


def test_scopes_and_the_global_dictionary(tmp_path):
    class Unregistered(layers.Layer):
        def call(self, inputs):
            return inputs + 1.0

    model = mlcore.Sequential([layers.Input((2,)), Unregistered(name="plus")])
    path = str(tmp_path / "scoped.keras")
    model.save(path)
    with pytest.raises(ValueError, match="custom_objects"):
        load_model(path)
    with utils.custom_object_scope({"Unregistered": Unregistered}):
        assert isinstance(load_model(path).get_layer("plus"), Unregistered)
    with pytest.raises(ValueError, match="custom_objects"):
        load_model(path)                            # the scope is over
    saving.get_custom_objects()["Unregistered"] = Unregistered
    try:
        assert isinstance(load_model(path).get_layer("plus"), Unregistered)
    finally:
        del saving.get_custom_objects()["Unregistered"]


def test_registered_losses_and_metrics_resolve_by_name():
    assert losses.get("scaled_mse") is scaled_mse
    assert losses.get("mlcore_tests>scaled_mse") is scaled_mse

    @saving.register_keras_serializable(package="mlcore_tests")
    class Hits(metrics.Mean):
        pass

    assert type(metrics.deserialize({"class_name": "mlcore_tests>Hits", "config": {"name": "hits"}})) is Hits


def test_layers_serialize_and_deserialize_as_keras(rng):
    """keras.layers.serialize / deserialize: mlcore's dicts are Keras's, and either side reads the other's
    (and Keras 2's dicts, which name no module); the copy computes what the original does."""
    keras = pytest.importorskip("keras")
    dense = layers.Dense(3, activation="relu", name="d")
    spec = layers.serialize(dense)
    assert spec == keras.layers.serialize(keras.layers.Dense(3, activation="relu", name="d")) | {
        "config": spec["config"]} and spec["module"] == "keras.layers"
    again = layers.deserialize(spec)
    x = rng.normal(size=(2, 4)).astype("float32")
    dense(x)
    again(x)
    again.set_weights(dense.get_weights())
    np.testing.assert_array_equal(again(x), dense(x))
    assert keras.layers.deserialize(spec).get_config()["units"] == 3
    conv = layers.deserialize(keras.layers.serialize(keras.layers.Conv2D(4, 2, strides=2)))
    assert (conv.filters, conv.kernel_size, conv.strides) == (4, (2, 2), (2, 2))
    assert layers.deserialize({"class_name": "Dropout", "config": {"rate": 0.3}}).rate == 0.3

    class Twice(layers.Layer):
        def call(self, inputs):
            return inputs * 2
    assert isinstance(layers.deserialize({"class_name": "Twice", "config": {}}, {"Twice": Twice}), Twice)

"""Ops applied to Keras tensors inside a functional model (Keras 3 records them as operations):
the model re-runs them on new inputs, trains through them, and predicts as Keras does."""
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

import mlcore
from mlcore import layers, ops

pytestmark = pytest.mark.usefixtures("numpy_backend")


def _build(api, ops_module):
    inputs = api.Input((4,))
    hidden = api.layers.Dense(3)(inputs)
    scaled = ops_module.relu(hidden) * 2.0 + 1.0
    mixed = api.layers.Dense(2)(scaled) + hidden[:, :2]
    return api.Model(inputs, [scaled, ops_module.tanh(mixed)])


def test_ops_between_layers_predict_as_keras(rng):
    keras = pytest.importorskip("keras")
    ours, theirs = _build(mlcore, ops), _build(keras, keras.ops)
    assert [type(layer).__name__ for layer in ours.layers] == ["InputLayer", "Dense", "Dense"]
    theirs.set_weights(ours.get_weights())
    x = rng.normal(size=(6, 4)).astype("float32")
    for got, expected in zip(ours.predict(x, verbose=0), theirs.predict(x, verbose=0)):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_a_model_with_ops_trains_and_is_reused_on_new_tensors(rng):
    inputs = layers.Input((4,))
    outputs = layers.Dense(1)(ops.square(inputs) - 1.0)
    model = mlcore.Model(inputs, outputs)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x ** 2 - 1.0) @ np.array([[1.0], [-2.0], [0.5], [0.0]], "float32")
    model.compile(optimizer="sgd", loss="mse")
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=40, verbose=0)
    assert model.evaluate(x, y, verbose=0) < 0.05 * first
    outer_inputs = layers.Input((4,))
    outer = mlcore.Model(outer_inputs, model(outer_inputs) * 3.0)
    np.testing.assert_allclose(outer.predict(x, verbose=0), 3.0 * model.predict(x, verbose=0), rtol=1e-5)


def test_a_model_with_ops_cannot_be_saved_as_a_config(tmp_path):
    inputs = layers.Input((2,))
    model = mlcore.Model(inputs, layers.Dense(1)(inputs) * 2.0)
    with pytest.raises(NotImplementedError, match="Lambda"):
        model.get_config()
    model.save_weights(tmp_path / "ops.weights.h5")

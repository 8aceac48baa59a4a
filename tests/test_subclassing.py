"""Keras's subclassing API: custom layers that hold layers, and subclassed models (layers made in
__init__, used in call()), checked against numpy forward passes and against Keras 3 itself."""
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

from mlcore import layers
from mlcore.models import Model, Sequential

pytestmark = pytest.mark.usefixtures("numpy_backend")


class MLPBlock(layers.Layer):
    """Keras's guide example: a layer made of layers, held in a plain attribute and in a list."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = [layers.Dense(8, activation="relu"), layers.Dense(6, activation="tanh")]
        self.out = layers.Dense(2)

    def call(self, inputs):
        x = inputs
        for layer in self.hidden:
            x = layer(x)
        return self.out(x)


class Classifier(Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.block = MLPBlock()
        self.dropout = layers.Dropout(0.5)
        self.head = layers.Dense(1, activation="sigmoid")

    def call(self, inputs, training=None):
        return self.head(self.dropout(self.block(inputs)))


def _numpy_mlp_block(weights, x):
    w1, b1, w2, b2, w3, b3 = weights
    return np.tanh(np.maximum(x @ w1 + b1, 0) @ w2 + b2) @ w3 + b3


def _separable(rng, n=400):
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x[:, 0] - x[:, 1] > 0).astype("float32")


def test_a_layer_of_layers_owns_their_weights_in_keras_order(rng):
    block = MLPBlock()
    x = rng.normal(size=(5, 4)).astype("float32")
    out = block(x)
    assert [tuple(w.shape) for w in block.weights] == [(4, 8), (8,), (8, 6), (6,), (6, 2), (2,)]
    assert block.count_params() == 4 * 8 + 8 + 8 * 6 + 6 + 6 * 2 + 2
    np.testing.assert_allclose(out, _numpy_mlp_block(block.get_weights(), x), rtol=1e-5, atol=1e-6)
    block.hidden[0].trainable = False
    assert len(block.trainable_weights) == 4 and len(block.non_trainable_weights) == 2


def test_a_layer_of_layers_matches_keras_given_the_same_weights(rng):
    keras = pytest.importorskip("keras")

    class KerasBlock(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.hidden = [keras.layers.Dense(8, activation="relu"), keras.layers.Dense(6, activation="tanh")]
            self.out = keras.layers.Dense(2)

        def call(self, inputs):
            x = inputs
            for layer in self.hidden:
                x = layer(x)
            return self.out(x)

    x = rng.normal(size=(5, 4)).astype("float32")
    ours, theirs = MLPBlock(), KerasBlock()
    ours(x), theirs(x)
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours(x), np.asarray(theirs(x)), rtol=1e-5, atol=1e-6)


def test_a_subclassed_model_builds_from_its_data_and_learns(rng):
    x, y = _separable(rng)
    model = Classifier()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert model.evaluate(x, y, verbose=0)[1] > 0.9
    assert [type(layer).__name__ for layer in model.layers] == ["MLPBlock", "Dropout", "Dense"]
    assert len(model.trainable_weights) == 8
    block = _numpy_mlp_block(model.block.get_weights(), x[:7])
    w, b = model.head.get_weights()
    expected = 1 / (1 + np.exp(-(block @ w + b)))
    np.testing.assert_allclose(model.predict(x[:7], verbose=0), expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model(x[:7]), expected, rtol=1e-4, atol=1e-6)


def test_training_reaches_layers_called_inside_call_without_being_passed(rng):
    class Dropper(Model):
        def __init__(self):
            super().__init__()
            self.dropout = layers.Dropout(0.5)

        def call(self, inputs):             # takes no training argument, passes none on
            return self.dropout(inputs)

    model = Dropper()
    x = np.ones((200, 10), "float32")
    np.testing.assert_array_equal(model(x), x)                       # inference: identity
    dropped = np.asarray(model(x, training=True))
    assert set(np.unique(dropped)) == {0.0, 2.0} and 0.4 < (dropped == 0).mean() < 0.6


def test_build_summary_and_weights_files_of_a_subclassed_model(tmp_path, rng):
    model = Classifier()
    model.build((None, 4))
    assert model.built and model.input_shape == (None, 4) and model.output_shape == (None, 1)
    assert model.count_params() == 4 * 8 + 8 + 8 * 6 + 6 + 6 * 2 + 2 + 2 + 1
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "%s (MLPBlock)" % model.block.name in text and model.block.name.startswith("mlp_block")
    assert "Total params: 111" in text
    model.save_weights(tmp_path / "sub.weights.h5")
    twin = Classifier()
    twin.build((None, 4))
    twin.load_weights(tmp_path / "sub.weights.h5")
    x = rng.normal(size=(3, 4)).astype("float32")
    np.testing.assert_allclose(twin.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_a_subclassed_model_with_its_own_build_and_two_inputs(rng):
    class Bilinear(Model):
        def build(self, input_shape):
            first, second = input_shape
            self.w = self.add_weight((first[-1], second[-1]), initializer="ones", name="w")

        def call(self, inputs):
            a, b = inputs
            return ((a @ self.w) * b).sum(axis=-1, keepdims=True)

    a, b = rng.normal(size=(6, 3)).astype("float32"), rng.normal(size=(6, 2)).astype("float32")
    model = Bilinear()
    model.compile(optimizer="sgd", loss="mse")
    target = ((a @ np.arange(6, dtype="float32").reshape(3, 2)) * b).sum(axis=-1, keepdims=True)
    before = model.evaluate([a, b], target, verbose=0)
    model.fit([a, b], target, epochs=50, verbose=0)
    assert model.evaluate([a, b], target, verbose=0) < 0.2 * before
    np.testing.assert_allclose(model.predict([a, b], verbose=0),
                               ((a @ model.w.get_value()) * b).sum(axis=-1, keepdims=True), rtol=1e-5, atol=1e-6)


def test_a_subclassed_model_inside_a_sequential_trains_its_layers(rng):
    x, y = _separable(rng)
    inner = Classifier()
    model = Sequential([layers.Input((4,)), layers.Dense(4), inner])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    before = [w.copy() for w in inner.get_weights()]
    model.fit(x, y, epochs=2, verbose=0)
    assert all(not np.allclose(a, b) for a, b in zip(before, inner.get_weights()))


def test_layers_in_nested_lists_and_dicts_are_tracked_and_trained_as_keras(keras, rng):
    """A list of lists (or of dicts) of layers, as Keras tracks it: their weights are the holder's,
    in Keras's order, and fit trains them."""
    import mlcore

    def holder(lib):
        class Holder(lib.layers.Layer):
            def __init__(self):
                super().__init__()
                self.blocks = [[lib.layers.Dense(4), lib.layers.Dense(3)], {"head": lib.layers.Dense(1)}]

            def call(self, x):
                return self.blocks[1]["head"](self.blocks[0][1](self.blocks[0][0](x)))
        inputs = lib.Input((5,))
        return lib.Model(inputs, Holder()(inputs))
    ours, theirs = holder(mlcore), holder(keras)
    assert [tuple(w.shape) for w in ours.trainable_weights] == [tuple(w.shape) for w in theirs.trainable_weights]
    before = [w.numpy().copy() for w in ours.trainable_weights]
    ours.compile(optimizer="sgd", loss="mse")
    ours.fit(rng.normal(size=(16, 5)).astype("float32"), rng.normal(size=(16, 1)).astype("float32"), verbose=0)
    assert all(not np.allclose(b, w.numpy()) for b, w in zip(before, ours.trainable_weights))

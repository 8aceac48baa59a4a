"""Ops applied to Keras tensors inside a functional model (Keras 3 records them as operations):
the model re-runs them on new inputs, trains through them, predicts as Keras does, and saves each op as
a node of its own, as Keras's configs and .keras files do, so that either library loads the other's."""
import json
import os
import re
import zipfile

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


def _many_ops(api, ops_module):
    """Operators (reflected too), keras.ops with constructor arguments (axis, keepdims), a slicing key
    with an Ellipsis, a call with two outputs, a list of tensors, *operands and a boolean mask."""
    inputs = api.Input((3,))
    h = api.layers.Dense(4)(inputs)
    scaled = ops_module.relu(2.0 * (h + 1)) / 3
    total = ops_module.sum(scaled[:, 1:3], axis=1, keepdims=True)
    left, right = ops_module.split(h, 2, axis=1)
    leaky = ops_module.where(h > 0, h, 0.5 * h) ** 2
    outer = ops_module.einsum("bi,bj->bij", h, left)[:, 0]
    joined = ops_module.concatenate([total, right, -h[..., :1], leaky, outer], axis=-1)
    return api.Model(inputs, api.layers.Dense(2)(joined))


def _saved_layers(path):
    """config.json's layers, each without its build_config, as JSON with names' counts left out (dense_3:
    dense), for the names count up across tests, and without Keras's ids of shared objects."""
    layers_ = json.loads(zipfile.ZipFile(path).read("config.json"))["config"]["layers"]
    texts = [json.dumps({k: v for k, v in spec.items() if k != "build_config"}, sort_keys=True) for spec in layers_]
    return [re.sub(r', "shared_object_id": \d+', "", re.sub(r'_\d+"', '"', text)) for text in texts]


def test_ops_are_saved_as_keras_saves_them_and_load_both_ways(tmp_path, rng, keras):
    ours, theirs = _many_ops(mlcore, ops), _many_ops(keras, keras.ops)
    theirs.set_weights(ours.get_weights())
    x = rng.normal(size=(5, 3)).astype("float32")
    expected = theirs.predict(x, verbose=0)
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    assert _saved_layers(tmp_path / "ours.keras") == _saved_layers(tmp_path / "theirs.keras")
    np.testing.assert_allclose(keras.models.load_model(tmp_path / "ours.keras").predict(x, verbose=0), expected,
                               rtol=1e-5, atol=1e-6)
    from_config = mlcore.Model.from_config(ours.get_config())
    from_config.set_weights(ours.get_weights())
    for loaded in (mlcore.models.load_model(tmp_path / "theirs.keras"),
                   mlcore.models.load_model(tmp_path / "ours.keras"), from_config):
        np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_a_trained_model_with_ops_reloads_with_its_weights(tmp_path, rng):
    inputs = layers.Input((4,))
    outputs = layers.Dense(1)(ops.square(inputs) - 1.0)
    model = mlcore.Model(inputs, ops.squeeze(outputs, axis=-1) * 2.0)
    x = rng.normal(size=(64, 4)).astype("float32")
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, (x ** 2).sum(axis=1), epochs=3, verbose=0)
    model.save(tmp_path / "trained.keras")
    reloaded = mlcore.models.load_model(tmp_path / "trained.keras")
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert reloaded.predict(x, verbose=0).shape == (64,)


def test_the_summary_lists_the_ops_as_keras_does(keras):
    def build(api, ops_module):
        inputs = api.Input((3,))
        return api.Model(inputs, api.layers.Dense(2)(ops_module.relu(api.layers.Dense(4)(inputs)) * 2.0))
    printed = {}
    for api, ops_module in ((mlcore, ops), (keras, keras.ops)):
        lines = []
        build(api, ops_module).summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
        printed[api.__name__] = [re.sub(r"_\d+ ", " ", row.split("│")[1].strip())    # names count up across tests
                                 for row in "\n".join(lines).splitlines()
                                 if row.startswith("│") and row.split("│")[1].strip()]
    assert printed["mlcore"] == printed["keras"] == ["input_layer (InputLayer)", "dense (Dense)", "relu (Relu)",
                                                     "multiply (Multiply)", "dense (Dense)"]


def test_ops_keras_has_no_class_for_run_but_have_no_config(tmp_path, rng):
    """The graph's own functions (Theano's dimshuffle) and a layer's weight read directly are no Keras op:
    the model runs them, and says it has no config."""
    inputs = layers.Input((2,))
    dense = layers.Dense(3, bias_initializer="ones")
    hidden = dense(inputs)
    x = rng.normal(size=(4, 2)).astype("float32")
    hidden_value = x @ dense.kernel.numpy() + 1.0
    for outputs, expected in ((ops.dimshuffle(hidden, 1, 0) + 1.0, hidden_value.T + 1.0),
                              (hidden * dense.bias - 1.0, hidden_value - 1.0)):
        model = mlcore.Model(inputs, outputs)
        np.testing.assert_allclose(model.predict(x, verbose=0, batch_size=4), expected, rtol=1e-5)
        with pytest.raises(NotImplementedError, match="Lambda"):
            model.get_config()
        model.save_weights(tmp_path / "ops.weights.h5")


def test_a_chain_of_more_ops_than_pythons_recursion_limit_builds_and_reloads(rng):
    inputs = layers.Input((3,))
    hidden = layers.Dense(3)(inputs)
    for step in range(1500):        # Python's recursion stops at 1000 frames: the walks keep stacks of their own
        hidden = hidden * 0.999 if step % 2 else ops.tanh(hidden)
    model = mlcore.Model(inputs, hidden)
    assert len(model.operations) == 1502
    again = mlcore.Model.from_config(model.get_config())
    again.set_weights(model.get_weights())
    x = rng.normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_a_dtype_given_as_a_numpy_type_is_saved_by_name(tmp_path, rng, keras):
    inputs = layers.Input((3,))
    hidden = layers.Dense(2)(inputs)
    model = mlcore.Model(inputs, ops.cast(hidden, np.float16) * ops.ones_like(hidden, dtype=np.dtype("float16")))
    model.save(tmp_path / "cast.keras")
    configs = [spec["config"] for spec in json.loads(zipfile.ZipFile(tmp_path / "cast.keras").read("config.json"))
               ["config"]["layers"] if spec["module"].startswith("keras.src.ops")]
    assert {"name": "cast", "dtype": "float16"} in [{**c, "name": c["name"].split("_")[0]} for c in configs]
    x = rng.normal(size=(4, 3)).astype("float32")
    theirs = keras.models.load_model(tmp_path / "cast.keras").predict(x, verbose=0)
    assert str(theirs.dtype) == "float16"
    np.testing.assert_allclose(theirs, model.predict(x, verbose=0), rtol=1e-3)

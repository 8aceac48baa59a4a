"""Recurrent layers (SimpleRNN, LSTM, GRU, their cells, RNN) and the wrappers Bidirectional and
TimeDistributed: outputs and states against Keras 3's layers holding the same weights, on every backend;
gradients against finite differences; dropout masks fixed over time; configs, training, and weight and
model files read both ways with Keras 3."""
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

import mlcore
from mlcore import layers
from mlcore.graph.basic import TensorType
from mlcore.models import Sequential, load_model

pytestmark = pytest.mark.usefixtures("numpy_backend", "float32_jax")
STEPS, FEATURES = 6, 5
ATOL = 2e-6
RNN_CASES = [
    ("SimpleRNN", dict(units=4)),
    ("SimpleRNN", dict(units=3, activation="relu", return_sequences=True, return_state=True, go_backwards=True)),
    ("LSTM", dict(units=4)),
    ("LSTM", dict(units=3, return_sequences=True, return_state=True, go_backwards=True)),
    ("LSTM", dict(units=4, use_bias=False, activation="relu", recurrent_activation="hard_sigmoid",
                  return_sequences=True)),
    ("GRU", dict(units=4, return_state=True)),
    ("GRU", dict(units=3, reset_after=False, return_sequences=True, go_backwards=True)),
    ("GRU", dict(units=4, use_bias=False, return_sequences=True)),
]


def as_list(outputs):
    return [np.asarray(o) for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]


def perturbed(rng, weights):
    """Keras's initial weights plus noise, so that no bias is zero and no kernel orthogonal."""
    return [w + 0.3 * rng.normal(size=w.shape).astype(w.dtype) for w in weights]


def twins(keras, rng, make):
    """(mlcore layer, Keras layer) made by make(module), built on the test's inputs and holding the
    same weights (Keras's, perturbed)."""
    ours, theirs = make(layers), make(keras.layers)
    x = sequences(rng)
    ours(x), theirs(x)
    weights = perturbed(rng, theirs.get_weights())
    theirs.set_weights(weights)
    ours.set_weights(weights)
    return ours, theirs


def sequences(rng, batch=3):
    return rng.normal(size=(batch, STEPS, FEATURES)).astype("float32")


def assert_outputs_match(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=ATOL)


# --- forward passes against Keras 3 ------------------------------------------------------------------
@pytest.mark.parametrize("name,options", RNN_CASES)
def test_recurrent_layers_match_keras(keras, rng, name, options):
    ours, theirs = twins(keras, rng, lambda module: getattr(module, name)(**options))
    x = sequences(rng)
    assert_outputs_match(as_list(ours(x)), as_list(theirs(x)))


def test_weights_have_kerass_names_shapes_and_initial_values(keras):
    lstm, gru, simple = layers.LSTM(4), layers.GRU(3), layers.SimpleRNN(2, use_bias=False)
    for layer in (lstm, gru, simple):
        layer.build((None, STEPS, FEATURES))
    assert [(w.name, w.shape) for w in lstm.weights] == [("kernel", (5, 16)), ("recurrent_kernel", (4, 16)),
                                                          ("bias", (16,))]
    assert [w.shape for w in gru.weights] == [(5, 9), (3, 9), (2, 9)]
    assert [w.name for w in simple.weights] == ["kernel", "recurrent_kernel"]
    assert lstm.weights[0].path == "%s/lstm_cell/kernel" % lstm.name
    np.testing.assert_array_equal(lstm.get_weights()[2], np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    recurrent = lstm.get_weights()[1]
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(4), atol=1e-5)   # orthogonal rows
    plain = layers.LSTM(2, unit_forget_bias=False)
    plain.build((None, STEPS, FEATURES))
    assert not np.any(plain.get_weights()[2])


@pytest.mark.parametrize("name", ["SimpleRNNCell", "LSTMCell", "GRUCell"])
def test_cells_match_kerass_cells_on_one_step(keras, rng, name):
    ours, theirs = getattr(layers, name)(4), getattr(keras.layers, name)(4)
    x = rng.normal(size=(3, FEATURES)).astype("float32")
    states = [rng.normal(size=(3, 4)).astype("float32") for _ in range(2 if name == "LSTMCell" else 1)]
    theirs(x, states)
    weights = perturbed(rng, theirs.get_weights())
    theirs.set_weights(weights)
    symbols = [TensorType("float32", (None, s.shape[1]))() for s in [x] + states]
    output, new_states = ours(symbols[0], symbols[1:])
    ours.set_weights(weights)
    got = mlcore.function(symbols, [output] + new_states)(x, *states)
    expected_output, expected_states = theirs(x, states)
    assert_outputs_match(got, as_list(expected_output) + as_list(expected_states))


def test_rnn_over_a_builtin_cell_matches_keras(keras, rng):
    ours, theirs = twins(keras, rng, lambda module: module.RNN(module.LSTMCell(3), return_sequences=True,
                                                                return_state=True))
    x = sequences(rng)
    assert_outputs_match(as_list(ours(x)), as_list(theirs(x)))


class MinimalRNNCell(layers.Layer):
    """Keras's example of a custom cell: output = x @ kernel + h @ recurrent_kernel, fed back."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight((input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight((self.units, self.units), name="recurrent_kernel")

    def call(self, inputs, states):
        output = mlcore.ops.matmul(inputs, self.kernel) + mlcore.ops.matmul(states[0], self.recurrent_kernel)
        return output * 0.5, [output]


def test_rnn_over_a_custom_cell_matches_a_numpy_loop(rng):
    cell = MinimalRNNCell(3)
    x = sequences(rng)
    outputs, state = layers.RNN(cell, return_sequences=True, return_state=True)(x)
    kernel, recurrent = cell.get_weights()
    h, expected = np.zeros((3, 3)), []
    for t in range(STEPS):
        h = x[:, t] @ kernel + h @ recurrent
        expected.append(0.5 * h)
    np.testing.assert_allclose(outputs, np.stack(expected, axis=1), rtol=1e-5, atol=ATOL)
    np.testing.assert_allclose(state, h, rtol=1e-5, atol=ATOL)


def test_initial_states_carry_an_encoder_into_a_decoder_as_in_keras(keras, rng):
    x, y = sequences(rng), sequences(rng)

    def outputs(module, encoder, decoder):
        _, h, c = encoder(x)
        return as_list(decoder(y, initial_state=[h, c]))
    ours = [layers.LSTM(4, return_state=True), layers.LSTM(4, return_sequences=True)]
    theirs = [keras.layers.LSTM(4, return_state=True), keras.layers.LSTM(4, return_sequences=True)]
    outputs(layers, *ours), outputs(keras.layers, *theirs)
    for a, b in zip(ours, theirs):
        weights = perturbed(rng, b.get_weights())
        a.set_weights(weights)
        b.set_weights(weights)
    assert_outputs_match(outputs(layers, *ours), outputs(keras.layers, *theirs))


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_matches_keras(keras, rng, merge_mode):
    ours, theirs = twins(keras, rng, lambda module: module.Bidirectional(
        module.GRU(3, return_sequences=merge_mode != "sum"), merge_mode=merge_mode))
    x = sequences(rng)
    assert_outputs_match(as_list(ours(x)), as_list(theirs(x)))
    halves = [w.path.split("/")[1].split("_")[0] for w in ours.weights]
    assert halves == ["forward"] * 3 + ["backward"] * 3 and ours.forward_layer.name.startswith("forward_gru")


def test_bidirectional_with_states_and_its_own_backward_layer_matches_keras(keras, rng):
    def make(module):
        return module.Bidirectional(module.LSTM(3, return_state=True), backward_layer=module.LSTM(
            3, return_state=True, go_backwards=True, activation="relu"))
    ours, theirs = twins(keras, rng, make)
    x = sequences(rng)
    assert_outputs_match(as_list(ours(x)), as_list(theirs(x)))
    states = [rng.normal(size=(3, 3)).astype("float32") for _ in range(4)]
    assert_outputs_match(as_list(ours(x, initial_state=states)), as_list(theirs(x, initial_state=states)))


def test_time_distributed_matches_keras_and_keeps_static_shapes(keras, rng):
    ours, theirs = twins(keras, rng, lambda module: module.TimeDistributed(module.Dense(2, activation="tanh")))
    x = sequences(rng)
    assert_outputs_match(as_list(ours(x)), as_list(theirs(x)))
    assert ours(layers.Input((STEPS, FEATURES))).type.shape == (None, STEPS, 2)
    images = rng.normal(size=(2, 3, 6, 6, 2)).astype("float32")
    conv = layers.TimeDistributed(layers.Conv2D(4, 3))
    outputs = conv(images)
    expected = np.stack([conv.layer(images[:, t]) for t in range(3)], axis=1)
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=ATOL)


@pytest.mark.parametrize("backend", ["numpy", "theano", "jax"])
def test_time_distributed_batch_normalization_runs_per_step_as_keras(keras, rng, backend):
    """Each step normalised by its own batch statistics, and the moving averages moved once per step (steps
    of very different scales make any pooling of the steps show): one train step against Keras's."""
    def make(module):
        inputs = module.layers.Input((3, FEATURES))
        return module.Model(inputs, module.layers.TimeDistributed(module.layers.BatchNormalization(momentum=0.5))(
            inputs))
    x = rng.normal(size=(4, 3, FEATURES)).astype("float32") * np.array([1, 5, 25], "float32")[:, None]
    ours, theirs = make(mlcore), make(keras)
    ours.set_weights(theirs.get_weights())
    ours.compile("sgd", "mse", backend=backend)
    theirs.compile("sgd", "mse")
    np.testing.assert_allclose(ours.train_on_batch(x, x), theirs.train_on_batch(x, x), rtol=1e-6)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert_outputs_match(as_list(ours.predict(x, verbose=0)), as_list(theirs.predict(x, verbose=0)))


# --- other backends -------------------------------------------------------------------------------------
def test_layers_and_gradients_on_each_backend(keras, rng, backend):
    """One graph of every layer, with the gradient of a cost, against Keras's outputs and the numpy
    backend's gradients."""
    made = [twins(keras, rng, make) for make in (
        lambda module: module.LSTM(3, return_sequences=True, return_state=True),
        lambda module: module.GRU(3, go_backwards=True),
        lambda module: module.GRU(2, reset_after=False),
        lambda module: module.SimpleRNN(2, return_sequences=True),
        lambda module: module.Bidirectional(module.LSTM(2)),
        lambda module: module.TimeDistributed(module.Dense(2)))]
    x = sequences(rng)
    symbol = TensorType("float32", (None, STEPS, FEATURES))("x")
    outputs = [o for ours, _ in made for o in as_list_symbolic(ours(symbol))]
    weights = [w for ours, _ in made for w in ours.weights]
    grads = mlcore.grad(sum((o * o).sum() for o in outputs), weights)
    got = mlcore.function([symbol], outputs + grads, backend=backend)(x)
    assert_outputs_match(got[:len(outputs)], [o for _, theirs in made for o in as_list(theirs(x))])
    reference = mlcore.function([symbol], grads, backend="numpy")(x)
    for a, b in zip(got[len(outputs):], reference):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def as_list_symbolic(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


# --- gradients -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,options", [
    ("SimpleRNN", dict(return_sequences=True)),
    ("LSTM", dict(go_backwards=True)),
    ("LSTM", dict(return_state=True)),
    ("GRU", dict(return_sequences=True)),
    ("GRU", dict(reset_after=False, go_backwards=True)),
])
def test_gradients_match_finite_differences(rng, floatx, layer_gradient_check, name, options):
    floatx("float64")
    layer = getattr(layers, name)(2, **options)
    symbol = TensorType("float64", (None, 3, 2))("x")
    outputs = as_list_symbolic(layer(symbol))
    cost = sum((o * rng.normal(size=(2,) + o.type.shape[1:])).sum() for o in outputs)
    layer_gradient_check(layer, symbol, cost, rng.normal(size=(2, 3, 2)))


@pytest.mark.parametrize("name,units,features,each_step", [
    ("LSTM", 4, 3, True), ("LSTM", 2, 6, False), ("GRU", 4, 3, True), ("GRU", 2, 6, False),
    ("SimpleRNN", 8, 3, True), ("SimpleRNN", 3, 6, False)])
def test_inputs_projected_in_the_loop_or_at_once_give_kerass_outputs_and_true_gradients(
        keras, rng, floatx, layer_gradient_check, name, units, features, each_step):
    """A cell projects each step's row inside the loop where its projection is more than twice the
    inputs' size, else all the steps at once before it: either way Keras's outputs, and gradients
    equal to finite differences."""
    x = rng.normal(size=(3, 4, features)).astype("float32")
    ours, theirs = (getattr(module, name)(units, return_sequences=True) for module in (layers, keras.layers))
    ours(x), theirs(x)
    theirs.set_weights(perturbed(rng, theirs.get_weights()))
    ours.set_weights(theirs.get_weights())
    assert ours.cell.projects_each_step() is each_step
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(theirs(x)), rtol=1e-5, atol=ATOL)
    floatx("float64")
    layer = getattr(layers, name)(units)
    symbol = TensorType("float64", (None, 3, features))("x")
    cost = (layer(symbol) * rng.normal(size=(2, units))).sum()
    layer_gradient_check(layer, symbol, cost, rng.normal(size=(2, 3, features)))


# --- dropout -------------------------------------------------------------------------------------------
def test_dropout_masks_stay_the_same_over_the_time_steps(rng):
    """A linear SimpleRNN with identity kernels: with input dropout only, a constant input gives the
    same output at every step; with recurrent dropout only, each unit is either never fed back
    (h_t = x) or always (h_t = x * (1 + s + ... + s^t), s = 1 / (1 - rate))."""
    x = np.repeat(rng.uniform(1, 2, size=(400, 1, 4)).astype("float32"), STEPS, axis=1)
    identity = np.eye(4, dtype="float32")
    inputs_only = layers.SimpleRNN(4, activation=None, dropout=0.5, return_sequences=True, seed=1)
    inputs_only(x)
    inputs_only.set_weights([identity, 0 * identity, np.zeros(4, "float32")])
    np.testing.assert_array_equal(inputs_only(x), x)                    # inference: no dropout
    out = np.asarray(inputs_only(x, training=True))
    np.testing.assert_allclose(out, np.repeat(out[:, :1], STEPS, axis=1))
    assert set(np.unique(np.round(out / x, 5))) == {0.0, 2.0} and abs((out == 0).mean() - 0.5) < 0.03

    recurrent_only = layers.SimpleRNN(4, activation=None, recurrent_dropout=0.5, return_sequences=True, seed=2)
    recurrent_only(x)
    recurrent_only.set_weights([identity, identity, np.zeros(4, "float32")])
    ratio = np.asarray(recurrent_only(x, training=True)) / x
    fed_back = np.cumsum(2.0 ** np.arange(STEPS))
    kept = np.all(np.isclose(ratio, fed_back[:, None], rtol=1e-5), axis=1)
    dropped = np.all(np.isclose(ratio, 1.0, rtol=1e-5), axis=1)
    assert np.all(kept | dropped) and abs(kept.mean() - 0.5) < 0.03


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_per_gate_dropout_runs_only_in_training(keras, rng, name):
    ours, theirs = twins(keras, rng, lambda module: getattr(module, name)(3, dropout=0.3, recurrent_dropout=0.3))
    x = sequences(rng)
    assert_outputs_match(as_list(ours(x)), as_list(theirs(x)))
    first, second = np.asarray(ours(x, training=True)), np.asarray(ours(x, training=True))
    assert not np.allclose(first, np.asarray(ours(x))) and not np.allclose(first, second)


# --- config, errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda module: module.SimpleRNN(3, dropout=0.2, return_sequences=True),
    lambda module: module.LSTM(3, unit_forget_bias=False, kernel_regularizer="l2", go_backwards=True),
    lambda module: module.GRU(3, reset_after=False, recurrent_activation="relu", return_state=True),
    lambda module: module.RNN(module.GRUCell(2), return_sequences=True),
    lambda module: module.Bidirectional(module.LSTM(2, return_sequences=True), merge_mode="ave"),
    lambda module: module.TimeDistributed(module.Dense(2)),
])
def test_configs_have_kerass_keys_and_round_trip(keras, rng, make):
    layer = make(layers)
    assert set(layer.get_config()) == set(make(keras.layers).get_config())
    x = sequences(rng)
    expected = as_list(layer(x))
    copy = type(layer).from_config(layer.get_config())
    copy(x)
    copy.set_weights(layer.get_weights())
    assert_outputs_match(as_list(copy(x)), expected)
    assert layer.get_config()["name"] == copy.get_config()["name"]


def test_options_are_readable_on_the_layer_as_in_keras():
    lstm = layers.LSTM(5, dropout=0.25, recurrent_activation="relu")
    assert (lstm.units, lstm.dropout, lstm.unit_forget_bias) == (5, 0.25, True)
    assert lstm.recurrent_activation is mlcore.activations.relu and layers.GRU(2).reset_after
    with pytest.raises(AttributeError):
        layers.SimpleRNN(2).reset_after


def test_errors_name_the_layer_and_what_is_wrong(rng):
    with pytest.raises(ValueError, match="'lstm_bad'.*expected ndim=3, found ndim=2"):
        layers.LSTM(2, name="lstm_bad")(rng.normal(size=(2, 3)).astype("float32"))
    with pytest.raises(ValueError, match="units"):
        layers.GRU(0)
    with pytest.raises(ValueError, match="merge mode"):
        layers.Bidirectional(layers.LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="go_backwards"):
        layers.Bidirectional(layers.LSTM(2), backward_layer=layers.LSTM(2))
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        layers.TimeDistributed(layers.Dense(2))(rng.normal(size=(2, 3)).astype("float32"))
    with pytest.raises(ValueError, match="use_cudnn"):
        layers.GRU(2, use_cudnn="always")
    with pytest.raises(ValueError, match="unroll"):
        layers.SimpleRNN(2, unroll=True)(TensorType("float32", (None, None, 3))())


def test_compute_output_shape(rng):
    assert layers.LSTM(4, return_sequences=True).compute_output_shape((None, STEPS, 3)) == (None, STEPS, 4)
    assert layers.GRU(4, return_state=True).compute_output_shape((2, STEPS, 3)) == ((2, 4), (2, 4))   # as Keras 3
    bidirectional = layers.Bidirectional(layers.SimpleRNN(3))
    assert bidirectional.compute_output_shape((None, STEPS, 2)) == (None, 6)


# --- training and files ---------------------------------------------------------------------------------
def sum_model(rng):
    return Sequential([layers.Input((8, 1)), layers.LSTM(8), layers.Dense(1)])


def test_an_lstm_learns_to_sum_a_sequence(rng):
    mlcore.utils.set_random_seed(3)
    x = rng.uniform(-1, 1, size=(256, 8, 1)).astype("float32")
    y = x.sum(axis=1)
    model = sum_model(rng)
    model.compile(optimizer=mlcore.optimizers.Adam(0.02), loss="mse")
    history = model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.2 * losses[0]
    assert np.mean((model.predict(x, verbose=0) - y) ** 2) < 0.2 * np.var(y)


def test_a_bidirectional_gru_classifier_trains_with_dropout(rng):
    mlcore.utils.set_random_seed(4)
    x = rng.normal(size=(128, STEPS, 2)).astype("float32")
    y = (x[:, :, 0].sum(axis=1) > 0).astype("float32")[:, None]
    model = Sequential([layers.Input((STEPS, 2)), layers.Bidirectional(layers.GRU(4, dropout=0.1)),
                        layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=mlcore.optimizers.Adam(0.03), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.6 * history.history["loss"][0]


def stacked_models(keras_or_mlcore):
    module = keras_or_mlcore.layers
    return keras_or_mlcore.Sequential([
        module.Input((STEPS, FEATURES)), module.LSTM(4, return_sequences=True),
        module.Bidirectional(module.GRU(3, return_sequences=True)), module.TimeDistributed(module.Dense(2)),
        module.RNN(module.SimpleRNNCell(3)), module.Dense(1)])


@pytest.mark.parametrize("suffix", [".weights.h5", ".h5"])
def test_weight_files_read_both_ways_with_keras(keras, rng, tmp_path, suffix):
    ours, theirs = stacked_models(mlcore), stacked_models(keras)
    x = sequences(rng)
    ours.save_weights(tmp_path / ("ours" + suffix))
    theirs.load_weights(tmp_path / ("ours" + suffix))
    np.testing.assert_allclose(theirs.predict(x, verbose=0), ours.predict(x, verbose=0), rtol=1e-5, atol=ATOL)
    if suffix == ".weights.h5":     # Keras 3 writes only its own layout
        keras_model = stacked_models(keras)
        keras_model.save_weights(tmp_path / "theirs.weights.h5")
        ours.load_weights(tmp_path / "theirs.weights.h5")
        np.testing.assert_allclose(ours.predict(x, verbose=0), keras_model.predict(x, verbose=0),
                                   rtol=1e-5, atol=ATOL)


def test_keras_archives_load_both_ways(keras, rng, tmp_path):
    x = sequences(rng)
    ours = stacked_models(mlcore)
    ours.compile(optimizer="adam", loss="mse")
    ours.save(tmp_path / "ours.keras")
    expected = ours.predict(x, verbose=0)
    for loaded in (keras.models.load_model(tmp_path / "ours.keras"), load_model(tmp_path / "ours.keras")):
        np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-5, atol=ATOL)
    theirs = stacked_models(keras)
    theirs.save(tmp_path / "theirs.keras")
    loaded = load_model(tmp_path / "theirs.keras")
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in theirs.layers]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=ATOL)


def test_a_trained_lstm_model_keras_loads_predicts_the_same(keras, rng, tmp_path):
    x = rng.uniform(-1, 1, size=(64, 8, 1)).astype("float32")
    model = sum_model(rng)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, x.sum(axis=1), epochs=1, batch_size=16, verbose=0)
    model.save(tmp_path / "sum.keras")
    loaded = keras.models.load_model(tmp_path / "sum.keras")
    assert isinstance(loaded.layers[0], keras.layers.LSTM)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=ATOL)


def test_initial_state_tensors_are_inputs_of_the_functional_graph(tmp_path):
    x, h, c = layers.Input((5, 3)), layers.Input((4,)), layers.Input((4,))
    model = mlcore.Model([x, h, c], layers.LSTM(4, name="decoder")(x, initial_state=[h, c]))
    rng = np.random.default_rng(0)
    data = [rng.normal(size=(2,) + shape).astype("float32") for shape in [(5, 3), (4,), (4,)]]
    direct = model.predict(data, verbose=0)
    zero_state = model.predict([data[0], 0 * data[1], 0 * data[2]], verbose=0)
    assert not np.allclose(direct, zero_state)                 # the given states are used
    x2, h2, c2 = layers.Input((5, 3)), layers.Input((4,)), layers.Input((4,))
    outer = mlcore.Model([x2, h2, c2], model([x2, h2, c2]) * 2.0)   # re-run on new tensors
    np.testing.assert_allclose(outer.predict(data, verbose=0), 2 * direct, rtol=1e-5, atol=1e-6)
    for name in ("s2s.keras", "s2s.h5"):                        # the config records initial_state's tensors
        model.save(str(tmp_path / name))
        np.testing.assert_allclose(load_model(str(tmp_path / name)).predict(data, verbose=0), direct, rtol=1e-6)
    kwargs = model.get_config()["layers"][-1]["inbound_nodes"][0]["kwargs"]      # Keras 3's layout
    assert [t["config"]["keras_history"] for t in kwargs["initial_state"]] == \
        [[h.tag["keras_history"][0].name, 0, 0], [c.tag["keras_history"][0].name, 0, 0]]
    again = mlcore.models.model_from_json(model.to_json())
    again.set_weights(model.get_weights())
    np.testing.assert_allclose(again.predict(data, verbose=0), direct, rtol=1e-6)


def test_initial_state_configs_load_both_ways_with_keras(keras, tmp_path, rng):
    def encoder_decoder(lib):
        x, h, c = lib.layers.Input((5, 3)), lib.layers.Input((4,)), lib.layers.Input((4,))
        return lib.Model([x, h, c], lib.layers.LSTM(4)(x, initial_state=[h, c]))
    data = [rng.normal(size=(2,) + shape).astype("float32") for shape in [(5, 3), (4,), (4,)]]
    ours, theirs = encoder_decoder(mlcore), encoder_decoder(keras)
    ours.set_weights(theirs.get_weights())
    ours.save(str(tmp_path / "ours.keras"))
    theirs.save(str(tmp_path / "theirs.keras"))
    expected = np.asarray(theirs.predict(data, verbose=0))
    np.testing.assert_allclose(np.asarray(keras.models.load_model(tmp_path / "ours.keras").predict(data, verbose=0)),
                               expected, rtol=1e-5, atol=ATOL)
    np.testing.assert_allclose(load_model(str(tmp_path / "theirs.keras")).predict(data, verbose=0), expected,
                               rtol=1e-5, atol=ATOL)


# --- stateful=True ------------------------------------------------------------------------------------------
STATEFUL_LAYERS = {
    "SimpleRNN": lambda **kwargs: layers.SimpleRNN(4, **kwargs), "LSTM": lambda **kwargs: layers.LSTM(4, **kwargs),
    "GRU": lambda **kwargs: layers.GRU(4, **kwargs),
    "stacked": lambda **kwargs: layers.RNN([layers.LSTMCell(3), layers.GRUCell(4)], **kwargs)}


@pytest.mark.parametrize("backend", ["numpy", "theano", "jax"])
@pytest.mark.parametrize("name", list(STATEFUL_LAYERS))
def test_a_stateful_layer_continues_each_sample_from_the_last_batch(rng, backend, name):
    """Two halves of a sequence, predicted one after the other, end where the whole sequence ends;
    reset_states() starts again from zeros; a train step leaves the states of its forward pass."""
    x = rng.normal(size=(2, 6, 3)).astype("float32")
    model = Sequential([STATEFUL_LAYERS[name](stateful=True, batch_input_shape=(2, 3, 3))])   # Keras 2's spelling
    model.compile("sgd", "mse", backend=backend)
    plain = STATEFUL_LAYERS[name]()
    plain(x)
    plain.set_weights(model.get_weights())
    first = model.predict(x[:, :3], verbose=0)
    np.testing.assert_allclose(model.predict(x[:, 3:], verbose=0), plain(x), rtol=1e-5, atol=1e-6)
    model.reset_states()
    np.testing.assert_allclose(model.predict(x[:, :3], verbose=0), first, rtol=1e-5, atol=1e-6)
    model.reset_states()
    model.train_on_batch(x[:, :3], np.zeros((2, 4), "float32"))
    layer = model.layers[0]
    output_state = layer.states[getattr(layer.cell, "output_state_position", 0)]   # a stack's: its last cell's
    np.testing.assert_allclose(output_state.get_value(), first, rtol=1e-5, atol=1e-6)
    assert len(model.weights) == len(plain.weights)          # states are not weights, as in Keras
    assert model.layers[0].get_config()["stateful"] is True


def test_stateful_bidirectional_layers_reset_both_halves(rng):
    x = rng.normal(size=(2, 3, 3)).astype("float32")
    inputs = layers.Input(batch_shape=(2, 3, 3))
    bidirectional = layers.Bidirectional(layers.LSTM(2, stateful=True))
    model = mlcore.Model(inputs, bidirectional(inputs))
    first = model.predict(x, verbose=0)
    assert not np.allclose(model.predict(x, verbose=0), first)       # started from the last states
    bidirectional.reset_states()
    np.testing.assert_allclose(model.predict(x, verbose=0), first, rtol=1e-6)


def test_stateful_errors_name_the_layer_and_the_batch_size(rng):
    with pytest.raises(ValueError, match="'needs_batch' is stateful, so it needs to know its batch size"):
        Sequential([layers.Input((3, 2)), layers.LSTM(2, stateful=True, name="needs_batch")])
    model = Sequential([layers.Input(batch_shape=(2, 3, 2)), layers.GRU(2, stateful=True, name="gru_st")])
    with pytest.raises(ValueError, match="expects shape"):
        model.predict(np.zeros((3, 3, 2), "float32"), batch_size=2, verbose=0)       # a last batch of 1
    with pytest.raises(ValueError, match="'gru_st' has 1 states; 2 values"):
        model.layers[0].reset_states([np.zeros((2, 2)), np.zeros((2, 2))])
    with pytest.raises(AttributeError, match="not stateful"):
        layers.LSTM(2).reset_states([np.zeros((2, 2)), np.zeros((2, 2))])


def test_resetting_a_layer_without_states_does_nothing_as_in_keras_3():
    keras = pytest.importorskip("keras")
    for module in (layers, keras.layers):
        lstm = module.LSTM(2)
        lstm.build((2, 3, 2))
        lstm.reset_state()
        lstm.reset_states()
        assert lstm.states is None


def test_keras1_argument_names_keep_their_meaning(rng):
    """Keras 1 code: LSTM(output_dim=, input_dim=, input_length=, inner_init=, dropout_W=, ...), converted as
    Keras 2's legacy interface converted it."""
    old = layers.LSTM(output_dim=4, input_dim=3, input_length=5, init="he_normal", inner_activation="hard_sigmoid",
                      W_regularizer="l2", U_constraint="non_neg", dropout_W=0.1, dropout_U=0.2,
                      forget_bias_init="zero", consume_less="gpu", return_sequences=True)
    assert (old.units, old.dropout, old.recurrent_dropout, old.unit_forget_bias) == (4, 0.1, 0.2, False)
    assert old.recurrent_activation is mlcore.activations.hard_sigmoid
    assert type(old.kernel_initializer).__name__ == "HeNormal"
    assert type(old.kernel_regularizer).__name__ == "L2" and type(old.recurrent_constraint).__name__ == "NonNeg"
    model = Sequential([old, layers.SimpleRNN(output_dim=2)])
    assert model.input_shape == (None, 5, 3) and model.output_shape == (None, 2)
    assert layers.GRU(output_dim=3, input_dim=2).get_config()["units"] == 3


def test_return_state_gives_a_tuple_as_keras_3():
    keras = pytest.importorskip("keras")
    x = np.zeros((2, 3, 2), "float32")
    for module in (layers, keras.layers):
        cases = [(module.LSTM(2, return_state=True), 3),                                   # output, h, c
                 (module.Bidirectional(module.GRU(2, return_state=True)), 3),             # output, h, h_back
                 (module.Bidirectional(module.GRU(2, return_sequences=True), merge_mode=None), 2)]
        for layer, count in cases:
            for inputs in (x, module.Input((3, 2))):
                results = layer(inputs)
                assert isinstance(results, tuple) and len(results) == count, (module, layer.name)

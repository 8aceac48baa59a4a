"""StackedRNNCells, and RNN over a list of cells: outputs and nested states against Keras 3's with the same
weights (plain, masked, backwards, bidirectional, one step of the cell alone), on every backend with their
gradients against the numpy backend's and finite differences; dropout masks fixed over time in the upper
cells; configs and weight and model files read both ways with Keras 3 (stateful stacks: test_recurrent.py)."""
import os
import re

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

import mlcore
from mlcore import layers
from mlcore.graph.basic import TensorType
from mlcore.layers.base import flatten
from mlcore.models import Sequential, load_model

pytestmark = pytest.mark.usefixtures("numpy_backend", "float32_jax")
STEPS, FEATURES = 5, 4


def mixed_cells(module):
    return [module.LSTMCell(3), module.GRUCell(2), module.SimpleRNNCell(4)]


def sequences(rng, batch=3):
    return rng.normal(size=(batch, STEPS, FEATURES)).astype("float32")


def with_padding(x):
    """Trailing padding in sample 0, leading in sample 1, a hole in sample 2 (rows of zeros: Masking)."""
    x = x.copy()
    x[0, 3:] = 0
    x[1, :2] = 0
    x[2, 2] = 0
    return x


def same_weights(rng, ours, theirs):
    weights = [w + 0.3 * rng.normal(size=w.shape).astype(w.dtype) for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)


def twin_layers(keras, rng, make, x):
    ours, theirs = make(layers), make(keras.layers)
    ours(x), theirs(x)
    same_weights(rng, ours, theirs)
    return ours, theirs


def nesting(structure, shape=np.shape):
    """The shapes, nested as the structure is."""
    if isinstance(structure, (list, tuple)):
        return [nesting(s, shape) for s in structure]
    return tuple(shape(structure))


def assert_same_values(ours, theirs):
    ours, theirs = flatten(ours), flatten(list(theirs) if isinstance(theirs, tuple) else theirs)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=2e-6)


# --- against Keras 3 ------------------------------------------------------------------------------------
@pytest.mark.parametrize("options", [
    dict(),
    dict(return_sequences=True, return_state=True),
    dict(return_state=True, go_backwards=True),
])
def test_rnn_over_a_list_of_cells_matches_keras(keras, rng, options):
    x = sequences(rng)
    ours, theirs = twin_layers(keras, rng, lambda module: module.RNN(mixed_cells(module), **options), x)
    assert type(ours.cell) is layers.StackedRNNCells
    assert ours.state_size == theirs.state_size == [[3, 3], 2, 4]
    assert_same_values(ours(x), theirs(x))
    if options.get("return_state"):      # a functional model's tensors nest as the state sizes: [out, [h, c], h2, h3]
        assert nesting(ours(layers.Input((STEPS, FEATURES))), lambda t: t.type.shape) == \
            nesting(theirs(keras.layers.Input((STEPS, FEATURES))), lambda t: t.shape)


def test_a_stack_of_one_cell_keeps_its_states_nested_as_keras(keras, rng):
    """[output, [h, c]], as Keras's functional tensors nest (Keras's own jax loop fails to run such a
    stack, so the numbers are checked against the same cell unstacked)."""
    stack = layers.RNN([layers.LSTMCell(3)], return_state=True)
    alone = layers.RNN(layers.LSTMCell(3), return_state=True)
    assert nesting(stack(layers.Input((STEPS, FEATURES))), lambda t: t.type.shape) == nesting(
        keras.layers.RNN([keras.layers.LSTMCell(3)], return_state=True)(keras.layers.Input((STEPS, FEATURES))),
        lambda t: t.shape) == [(None, 3), [(None, 3), (None, 3)]]
    x = sequences(rng)
    alone(x)
    alone.set_weights(stack.get_weights())
    assert_same_values(stack(x), alone(x))


@pytest.mark.parametrize("zero_output_for_mask", [False, True])
def test_masked_steps_repeat_the_last_cells_output_as_keras(keras, rng, zero_output_for_mask):
    """Cells of different widths: a padded step must repeat the stack's own last output (or give zeros)."""
    def make(module):
        inputs = module.layers.Input((STEPS, FEATURES))
        rnn = module.layers.RNN([module.layers.GRUCell(3), module.layers.SimpleRNNCell(2)], return_sequences=True,
                                return_state=True, zero_output_for_mask=zero_output_for_mask)
        return module.Model(inputs, flatten(rnn(module.layers.Masking()(inputs))))
    x = with_padding(sequences(rng))
    ours, theirs = make(mlcore), make(keras)
    same_weights(rng, ours, theirs)
    for a, b in zip(ours.predict(x, verbose=0), theirs.predict(x, verbose=0)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6)


def test_bidirectional_over_a_stack_matches_keras(keras, rng):
    x = sequences(rng)
    ours, theirs = twin_layers(keras, rng, lambda module: module.Bidirectional(
        module.RNN(mixed_cells(module)[:2], return_sequences=True, return_state=True)), x)
    assert_same_values(ours(x), theirs(x))


def test_one_step_of_the_cell_alone_matches_keras(keras, rng):
    """StackedRNNCells(inputs, states) with Keras's nesting: one list of states per cell."""
    ours, theirs = layers.StackedRNNCells(mixed_cells(layers)), keras.layers.StackedRNNCells(mixed_cells(keras.layers))
    ours.build((2, FEATURES)), theirs.build((2, FEATURES))
    same_weights(rng, ours, theirs)
    row = rng.normal(size=(2, FEATURES)).astype("float32")
    states = [[rng.normal(size=(2, 3)).astype("float32") for _ in range(2)],
              [rng.normal(size=(2, 2)).astype("float32")], [rng.normal(size=(2, 4)).astype("float32")]]
    assert nesting(ours(row, states)) == nesting(list(theirs(row, states)))
    assert_same_values(ours(row, states), theirs(row, states))
    assert ours.state_size == [[3, 3], 2, 4] and ours.output_size == 4
    initial = ours.get_initial_state(batch_size=2)
    assert [[np.shape(s) for s in cell] for cell in initial] == [[(2, 3), (2, 3)], [(2, 2)], [(2, 4)]]


def test_weights_have_kerass_paths_and_order(keras, rng):
    """rnn/stacked_rnn_cells/lstm_cell/kernel ..., the names' counters (lstm_cell_3) aside."""
    def uncounted(path):
        return re.sub(r"_\d+(?=/|$)", "", path)
    x = sequences(rng)
    ours, theirs = twin_layers(keras, rng, lambda module: module.RNN(mixed_cells(module)), x)
    assert [uncounted(w.path) for w in ours.weights] == [uncounted(w.path) for w in theirs.weights]
    assert uncounted(ours.weights[0].path) == "rnn/stacked_rnn_cells/lstm_cell/kernel"


# --- every backend, gradients ------------------------------------------------------------------------------
def test_stacks_and_their_gradients_on_each_backend(keras, rng, backend):
    x = sequences(rng)
    made = [twin_layers(keras, rng, make, x) for make in (
        lambda module: module.RNN(mixed_cells(module), return_sequences=True, return_state=True),
        lambda module: module.RNN([module.GRUCell(3, reset_after=False), module.LSTMCell(2)], go_backwards=True))]
    symbol = TensorType("float32", (None, STEPS, FEATURES))("x")
    outputs = [o for ours, _ in made for o in flatten(ours(symbol))]
    weights = [w for ours, _ in made for w in ours.weights]
    grads = mlcore.grad(sum((o * o).sum() for o in outputs), weights)
    got = mlcore.function([symbol], outputs + grads, backend=backend)(x)
    expected = [o for _, theirs in made for o in flatten(list(theirs(x)) if isinstance(theirs(x), tuple) else
                                                         [theirs(x)])]
    for a, b in zip(got[:len(outputs)], expected):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=2e-6)
    reference = mlcore.function([symbol], grads, backend="numpy")(x)
    for a, b in zip(got[len(outputs):], reference):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_gradients_match_finite_differences(rng, floatx, layer_gradient_check):
    floatx("float64")
    layer = layers.RNN([layers.LSTMCell(2), layers.SimpleRNNCell(2)], return_sequences=True)
    symbol = TensorType("float64", (None, 3, 2))("x")
    cost = (layer(symbol) * rng.normal(size=(2, 3, 2))).sum()
    layer_gradient_check(layer, symbol, cost, rng.normal(size=(2, 3, 2)))


# --- dropout, state, training ---------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_an_upper_cells_dropout_mask_stays_the_same_over_time(rng, backend, require_backend):
    """Lower cell: h = x (identity kernel, no recurrence, linear); upper cell: dropout on its inputs,
    identity kernel, no recurrence.  A constant sequence must give the same dropped units at every step."""
    require_backend(backend)
    lower = layers.SimpleRNNCell(4, activation="linear", use_bias=False, kernel_initializer="identity",
                                 recurrent_initializer="zeros")
    upper = layers.SimpleRNNCell(4, activation="linear", use_bias=False, kernel_initializer="identity",
                                 recurrent_initializer="zeros", dropout=0.5, seed=1)
    rnn = layers.RNN([lower, upper], return_sequences=True)
    x = np.repeat(rng.uniform(1, 2, size=(200, 1, 4)).astype("float32"), STEPS, axis=1)
    symbol = TensorType("float32", (None, STEPS, 4))("x")
    out = mlcore.function([symbol], rnn(symbol, training=True), backend=backend)(x)
    np.testing.assert_allclose(out, np.repeat(out[:, :1], STEPS, axis=1), rtol=1e-6)
    dropped = out[:, 0] == 0
    assert 0.4 < dropped.mean() < 0.6
    np.testing.assert_allclose(out[:, 0][~dropped], 2 * x[:, 0][~dropped], rtol=1e-6)
    np.testing.assert_allclose(rnn(x), x, rtol=1e-6)        # inference: no dropout


def test_a_stacked_lstm_learns_to_sum_a_sequence(rng):
    x = rng.uniform(-1, 1, size=(256, STEPS, 1)).astype("float32")
    y = x.sum(axis=1)
    mlcore.utils.set_random_seed(0)
    model = Sequential([layers.Input((STEPS, 1)), layers.RNN([layers.LSTMCell(8), layers.LSTMCell(8)]),
                        layers.Dense(1)])
    model.compile(mlcore.optimizers.Adam(0.02), "mse")
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    assert model.evaluate(x, y, verbose=0) < 0.05 * before


# --- configs and files ----------------------------------------------------------------------------------
def test_config_has_kerass_keys_and_round_trips(keras, rng):
    x = sequences(rng)
    ours, theirs = twin_layers(keras, rng, lambda module: module.RNN(mixed_cells(module), return_sequences=True), x)
    cell_config = ours.get_config()["cell"]
    assert cell_config["class_name"] == "StackedRNNCells"
    assert set(cell_config["config"]) == set(theirs.get_config()["cell"]["config"])
    assert [c["class_name"] for c in cell_config["config"]["cells"]] == ["LSTMCell", "GRUCell", "SimpleRNNCell"]
    again = layers.RNN.from_config(ours.get_config())
    again(x)
    again.set_weights(ours.get_weights())
    np.testing.assert_allclose(again(x), ours(x), rtol=1e-6)


def stacked_model(module):
    inputs = module.layers.Input((STEPS, FEATURES))
    hidden = module.layers.RNN([module.layers.LSTMCell(3), module.layers.LSTMCell(3), module.layers.GRUCell(2)],
                               return_sequences=True)(inputs)
    return module.Model(inputs, module.layers.RNN(module.layers.SimpleRNNCell(2))(hidden))


@pytest.mark.parametrize("suffix", [".weights.h5", ".h5"])
def test_weight_files_read_both_ways_with_keras(keras, rng, tmp_path, suffix):
    """Two cells of one class in a stack: Keras keys them lstm_cell and lstm_cell_1 in its files."""
    x = sequences(rng)
    ours, theirs = stacked_model(mlcore), stacked_model(keras)
    same_weights(rng, ours, theirs)
    expected = theirs.predict(x, verbose=0)
    ours.save_weights(tmp_path / ("ours" + suffix))
    fresh = stacked_model(keras)
    fresh.load_weights(tmp_path / ("ours" + suffix))
    np.testing.assert_allclose(fresh.predict(x, verbose=0), expected, rtol=1e-5, atol=2e-6)
    (theirs.save_weights if suffix == ".weights.h5" else theirs.save)(tmp_path / ("theirs" + suffix))
    fresh = stacked_model(mlcore)
    fresh.load_weights(tmp_path / ("theirs" + suffix))
    np.testing.assert_allclose(fresh.predict(x, verbose=0), expected, rtol=1e-5, atol=2e-6)


def test_model_files_load_both_ways_with_keras(keras, rng, tmp_path):
    x = sequences(rng)
    ours, theirs = stacked_model(mlcore), stacked_model(keras)
    same_weights(rng, ours, theirs)
    expected = theirs.predict(x, verbose=0)
    theirs.save(tmp_path / "theirs.keras")
    loaded = load_model(tmp_path / "theirs.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-5, atol=2e-6)
    assert [type(c).__name__ for c in loaded.layers[1].cell.cells] == ["LSTMCell", "LSTMCell", "GRUCell"]
    ours.save(tmp_path / "ours.keras")
    np.testing.assert_allclose(keras.models.load_model(tmp_path / "ours.keras").predict(x, verbose=0),
                               expected, rtol=1e-5, atol=2e-6)
    ours.save(tmp_path / "ours.h5")
    np.testing.assert_allclose(load_model(tmp_path / "ours.h5").predict(x, verbose=0), expected, rtol=1e-5, atol=2e-6)


def test_bad_cells_are_named():
    with pytest.raises(ValueError, match="`call` method"):
        layers.StackedRNNCells([layers.LSTMCell(2), object()])
    with pytest.raises(ValueError, match="expects 3 initial states, got 2"):
        rnn = layers.RNN([layers.LSTMCell(2), layers.GRUCell(2)])
        rnn(np.zeros((1, 2, 2), "float32"), initial_state=[np.zeros((1, 2), "float32")] * 2)

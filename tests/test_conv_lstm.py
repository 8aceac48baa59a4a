"""ConvLSTM1D, ConvLSTM2D, ConvLSTM3D and ConvLSTMCell: outputs and states against Keras 3's layers holding
the same weights, on every backend (both data formats, same and valid padding, strides, dilation,
return_sequences, return_state, go_backwards, initial states, masks); gradients against finite
differences; dropout; stateful; configs and errors; a next-frame model that learns; and weight and model
files read both ways with Keras 3."""
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import mlcore  # noqa: E402
from mlcore import layers  # noqa: E402
from mlcore.graph.basic import TensorType  # noqa: E402
from mlcore.models import Sequential, load_model  # noqa: E402
from test_recurrent import as_list, as_list_symbolic, assert_outputs_match, perturbed  # noqa: E402

pytestmark = pytest.mark.usefixtures("numpy_backend", "float32_jax")
STEPS = 4


# (layer, options, input shape): channels_last inputs are (batch, time, *spatial, channels)
CASES = [
    ("ConvLSTM2D", dict(filters=3, kernel_size=3, padding="same", return_sequences=True, return_state=True),
     (2, STEPS, 6, 5, 2)),
    ("ConvLSTM2D", dict(filters=3, kernel_size=(3, 2), data_format="channels_first", go_backwards=True,
                        return_state=True), (2, STEPS, 2, 6, 5)),
    ("ConvLSTM2D", dict(filters=2, kernel_size=3, strides=2, padding="same", data_format="channels_first",
                        use_bias=False, activation="relu", recurrent_activation="hard_sigmoid",
                        return_sequences=True), (2, STEPS, 3, 7, 6)),
    ("ConvLSTM2D", dict(filters=2, kernel_size=2, dilation_rate=2, return_sequences=True, go_backwards=True),
     (2, STEPS, 6, 6, 1)),
    ("ConvLSTM1D", dict(filters=2, kernel_size=3, strides=2, padding="same", return_sequences=True),
     (2, STEPS, 7, 3)),
    ("ConvLSTM1D", dict(filters=3, kernel_size=2, data_format="channels_first", return_state=True),
     (2, STEPS, 2, 6)),
    ("ConvLSTM3D", dict(filters=2, kernel_size=2, dilation_rate=(1, 2, 1), return_state=True),
     (2, 3, 4, 5, 4, 2)),
    ("ConvLSTM3D", dict(filters=2, kernel_size=3, padding="same", data_format="channels_first",
                        return_sequences=True, go_backwards=True), (2, 3, 2, 4, 5, 3)),
]


def inputs(rng, shape):
    return rng.normal(size=shape).astype("float32")


def twins(keras, rng, name, options, shape):
    """(mlcore layer, Keras layer), built on inputs of that shape and holding the same weights (Keras's,
    perturbed)."""
    ours, theirs = getattr(layers, name)(**options), getattr(keras.layers, name)(**options)
    x = inputs(rng, shape)
    ours(x), theirs(x)
    weights = perturbed(rng, theirs.get_weights())
    theirs.set_weights(weights)
    ours.set_weights(weights)
    return ours, theirs


# --- forward passes against Keras 3 ----------------------------------------------------------------------
@pytest.mark.parametrize("name,options,shape", CASES)
def test_conv_lstm_layers_match_keras(keras, rng, name, options, shape):
    ours, theirs = twins(keras, rng, name, options, shape)
    x = inputs(rng, shape)
    assert_outputs_match(as_list(ours(x)), as_list(theirs(x)))


def test_a_bidirectional_conv_lstm_matches_keras(keras, rng):
    ours, theirs = (module.Bidirectional(module.ConvLSTM2D(2, 3, padding="same", return_sequences=True))
                    for module in (layers, keras.layers))
    x = inputs(rng, (2, 3, 5, 5, 2))
    ours(x), theirs(x)
    weights = perturbed(rng, theirs.get_weights())
    for layer in (ours, theirs):
        layer.set_weights(weights)
    assert_outputs_match(as_list(ours(x)), as_list(theirs(x)))


def test_every_case_on_each_backend_with_its_gradients(keras, rng, backend):
    """All the cases in one graph with the gradient of a cost: outputs against Keras's, gradients
    against the numpy backend's."""
    made = [twins(keras, rng, *case) for case in CASES]
    data = [inputs(rng, shape) for _, _, shape in CASES]
    symbols = [TensorType("float32", (None,) + shape[1:])() for _, _, shape in CASES]
    outputs = [o for (ours, _), symbol in zip(made, symbols) for o in as_list_symbolic(ours(symbol))]
    weights = [w for ours, _ in made for w in ours.weights]
    grads = mlcore.grad(sum((o * o).sum() for o in outputs), weights)
    got = mlcore.function(symbols, outputs + grads, backend=backend)(*data)
    expected = [o for (_, theirs), x in zip(made, data) for o in as_list(theirs(x))]
    assert_outputs_match(got[:len(outputs)], expected)
    reference = mlcore.function(symbols, grads, backend="numpy")(*data)
    for a, b in zip(got[len(outputs):], reference):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_weights_have_kerass_names_shapes_and_initial_values(keras):
    layer = layers.ConvLSTM2D(4, (3, 2))
    layer.build((None, STEPS, 8, 8, 5))
    assert [(w.name, w.shape) for w in layer.weights] == [("kernel", (3, 2, 5, 16)),
                                                           ("recurrent_kernel", (3, 2, 4, 16)), ("bias", (16,))]
    assert layer.weights[0].path == "%s/conv_lstm_cell/kernel" % layer.name
    np.testing.assert_array_equal(layer.get_weights()[2], np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    theirs = keras.layers.ConvLSTM2D(4, (3, 2))
    theirs.build((None, STEPS, 8, 8, 5))
    assert [w.path for w in theirs.weights] == [w.path.replace(layer.name, theirs.name) for w in layer.weights]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_the_cell_matches_kerass_cell_on_one_step(keras, rng, data_format):
    from keras.src.layers.rnn.conv_lstm import ConvLSTMCell as KerasCell
    options = dict(filters=3, kernel_size=3, padding="same", data_format=data_format)
    ours, theirs = layers.ConvLSTMCell(2, **options), KerasCell(2, **options)
    x = inputs(rng, (2, 5, 4, 2) if data_format == "channels_last" else (2, 2, 5, 4))
    state_shape = (2, 5, 4, 3) if data_format == "channels_last" else (2, 3, 5, 4)
    states = [inputs(rng, state_shape) for _ in range(2)]
    ours(x, states), theirs(x, states)
    weights = perturbed(rng, theirs.get_weights())
    for layer in (ours, theirs):
        layer.set_weights(weights)
    (output, new_states), (expected_output, expected_states) = ours(x, states), theirs(x, states)
    assert_outputs_match(as_list(output) + as_list(new_states), as_list(expected_output) + as_list(expected_states))


def test_initial_states_and_masks_are_the_rnn_layers(keras, rng):
    shape = (3, STEPS, 5, 5, 2)
    ours, theirs = twins(keras, rng, "ConvLSTM2D", dict(filters=2, kernel_size=3, padding="same",
                                                        return_sequences=True), shape)
    x = inputs(rng, shape)
    states = [inputs(rng, (3, 5, 5, 2)) for _ in range(2)]
    assert_outputs_match(as_list(ours(x, initial_state=states)), as_list(theirs(x, initial_state=states)))
    assert not np.allclose(ours(x, initial_state=states), ours(x))
    # masked steps keep the states and repeat the last output (zeros before any step), as Keras's LSTM
    # (Keras 3.15's ConvLSTM cannot broadcast a mask over images)
    # (the shorter runs are other float32 programs: an entry near 0, left by cancellation, may differ by 4e-8,
    # a relative 1e-6, where BLAS splits a product otherwise, e.g. under pytest-xdist's thread limits)
    masked = np.asarray(ours(x, mask=np.array([[1, 1, 1, 1], [1, 1, 0, 0], [0, 1, 1, 0]], bool)))
    close = dict(rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(masked[0], ours(x)[0], **close)
    np.testing.assert_allclose(masked[1], np.asarray(ours(x[:, :2]))[1, [0, 1, 1, 1]], **close)
    np.testing.assert_allclose(masked[2, 1:], np.asarray(ours(x[:, 1:3]))[2, [0, 1, 1]], **close)
    assert not masked[2, 0].any()


def test_compute_output_shape_is_kerass(keras):
    def shapes(one_or_more):
        return [tuple(s) for s in one_or_more] if isinstance(one_or_more[0], (list, tuple)) else [one_or_more]
    for name, options, shape in CASES:
        expected = getattr(keras.layers, name)(**options).compute_output_shape((None,) + shape[1:])
        got = getattr(layers, name)(**options).compute_output_shape((None,) + shape[1:])
        assert shapes(got) == shapes(expected)


# --- gradients -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,options,shape", [
    ("ConvLSTM2D", dict(padding="same", return_sequences=True), (2, 3, 3, 3, 1)),
    ("ConvLSTM2D", dict(data_format="channels_first", go_backwards=True, return_state=True), (2, 3, 1, 3, 4)),
    ("ConvLSTM1D", dict(strides=2, padding="same", return_state=True), (2, 3, 5, 2)),
    ("ConvLSTM3D", dict(padding="same"), (1, 2, 2, 3, 2, 1)),
])
def test_gradients_match_finite_differences(rng, floatx, layer_gradient_check, name, options, shape):
    floatx("float64")
    layer = getattr(layers, name)(2, 2, **options)
    symbol = TensorType("float64", (None,) + shape[1:])("x")
    outputs = as_list_symbolic(layer(symbol))
    cost = sum((o * rng.normal(size=(shape[0],) + o.type.shape[1:])).sum() for o in outputs)
    layer_gradient_check(layer, symbol, cost, rng.normal(size=shape))


# --- dropout, stateful ----------------------------------------------------------------------------------
def test_dropout_runs_only_in_training_with_masks_drawn_per_sequence(keras, rng):
    shape = (2, STEPS, 5, 5, 2)
    ours, theirs = twins(keras, rng, "ConvLSTM2D", dict(filters=2, kernel_size=3, padding="same", dropout=0.3,
                                                        recurrent_dropout=0.3, seed=1), shape)
    x = inputs(rng, shape)
    assert_outputs_match(as_list(ours(x)), as_list(theirs(x)))
    first, second = np.asarray(ours(x, training=True)), np.asarray(ours(x, training=True))
    assert not np.allclose(first, np.asarray(ours(x))) and not np.allclose(first, second)
    # linear gates, 1x1 kernels of ones and no recurrence: a pixel's output is non-zero where the masks of
    # gates i, c and o all keep it (one in 8 with rate 0.5: a mask per gate), the same at every step
    linear = layers.ConvLSTM1D(1, 1, dropout=0.5, return_sequences=True, seed=2, activation=None,
                               recurrent_activation=None)
    frames = np.repeat(rng.uniform(1, 2, size=(50, 1, 40, 1)).astype("float32"), STEPS, axis=1)
    linear(frames)
    linear.set_weights([np.ones((1, 1, 4), "float32"), np.zeros((1, 1, 4), "float32"), np.zeros(4, "float32")])
    out = np.asarray(linear(frames, training=True))
    kept = out[:, :1] != 0
    assert abs(kept.mean() - 0.125) < 0.03
    np.testing.assert_array_equal(out[:, 1:] != 0, np.repeat(kept, STEPS - 1, axis=1))


@pytest.mark.parametrize("backend", ["numpy", "theano", "jax"])
def test_a_stateful_layer_continues_each_sample_from_the_last_batch(rng, backend):
    """Two halves of a sequence, predicted one after the other, end where the whole sequence ends, with
    the last output as the state h; reset_states() starts again from zeros."""
    x = inputs(rng, (2, 6, 4, 4, 2))
    model = Sequential([layers.Input(batch_shape=(2, 3, 4, 4, 2)),
                        layers.ConvLSTM2D(3, 3, padding="same", stateful=True)])
    model.compile("sgd", "mse", backend=backend)
    layer = model.layers[0]
    halves = [model.predict(x[:, start:start + 3], verbose=0) for start in (0, 3)]
    whole = layers.ConvLSTM2D.from_config(dict(layer.get_config(), stateful=False))
    whole(x)
    whole.set_weights(layer.get_weights())
    np.testing.assert_allclose(halves[1], whole(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.states[0].get_value(), halves[1], rtol=1e-6)
    layer.reset_states()
    np.testing.assert_allclose(model.predict(x[:, :3], verbose=0), halves[0], rtol=1e-5, atol=1e-6)


# --- config, errors ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,options,shape", CASES[::2] + [
    ("ConvLSTM2D", dict(filters=2, kernel_size=3, unit_forget_bias=False, kernel_regularizer="l2",
                        recurrent_constraint="non_neg", dropout=0.1, seed=3, stateful=False), (2, STEPS, 5, 5, 1))])
def test_configs_have_kerass_keys_and_values_and_round_trip(keras, rng, name, options, shape):
    layer = getattr(layers, name)(**options)
    theirs = getattr(keras.layers, name)(**options).get_config()
    config = layer.get_config()
    assert set(config) == set(theirs)
    for key in ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "activation",
                "recurrent_activation", "unit_forget_bias", "dropout", "seed", "return_sequences", "go_backwards"):
        assert config[key] == theirs[key], key
    x = inputs(rng, shape)
    expected = as_list(layer(x))
    copy = type(layer).from_config(config)
    copy(x)
    copy.set_weights(layer.get_weights())
    assert_outputs_match(as_list(copy(x)), expected)
    cell = layer.cell
    assert type(cell).from_config(cell.get_config()).get_config() == cell.get_config()


def test_options_are_readable_on_the_layer_as_in_keras():
    layer = layers.ConvLSTM3D(4, 3, padding="SAME", dropout=0.25, recurrent_activation="relu")
    assert (layer.filters, layer.kernel_size, layer.strides, layer.padding) == (4, (3, 3, 3), (1, 1, 1), "same")
    assert (layer.dropout, layer.unit_forget_bias, layer.data_format) == (0.25, True, "channels_last")
    assert layer.recurrent_activation is mlcore.activations.relu


def test_errors_name_the_layer_and_the_shape(rng):
    with pytest.raises(ValueError, match="'clstm'.*expected ndim=5, found ndim=4"):
        layers.ConvLSTM2D(2, 3, name="clstm")(inputs(rng, (2, 3, 4, 1)))
    with pytest.raises(ValueError, match="'conv_lstm_cell' needs inputs of known spatial"):
        layers.ConvLSTM2D(2, 3)(TensorType("float32", (None, 3, None, 4, 1))())
    with pytest.raises(ValueError, match=r"kernel_size \(5, 5\).*larger.*\(None, 4, 4, 1\)"):
        layers.ConvLSTM2D(2, 5)(TensorType("float32", (None, 3, 4, 4, 1))())
    layer = layers.ConvLSTM1D(2, 3, name="sized")
    layer(inputs(rng, (2, 3, 6, 1)))
    with pytest.raises(ValueError, match="sized.*incompatible"):
        layer(inputs(rng, (2, 3, 6, 2)))
    with pytest.raises(ValueError, match="filters"):
        layers.ConvLSTM2D(0, 3)
    with pytest.raises(ValueError, match="strides > 1"):
        layers.ConvLSTM2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="padding"):
        layers.ConvLSTM1D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="Rank 4"):
        layers.ConvLSTMCell(4, 2, 3)


# --- training and files -----------------------------------------------------------------------------------
def moving_dots(rng, count, steps=4, size=8):
    """(frames, next frames) of a dot moving one pixel per step, left or right, from a random pixel: the
    first frame does not tell the way, the second does (the model must remember the first)."""
    frames = np.zeros((count, steps + 1, size, size, 1), "float32")
    ways = rng.choice([-1, 1], count)
    rows, cols = rng.integers(0, size, count), rng.integers(0, size - steps, count) + (ways < 0) * steps
    for t in range(steps + 1):
        frames[np.arange(count), t, rows, cols + ways * t, 0] = 1.0
    return frames[:, :-1], frames[:, 1:]


def test_a_next_frame_model_learns_to_move_a_dot(rng):
    mlcore.utils.set_random_seed(5)
    x, y = moving_dots(rng, 64)
    model = Sequential([layers.Input((None, 8, 8, 1)),
                        layers.ConvLSTM2D(8, 3, padding="same", return_sequences=True),
                        layers.Conv3D(1, (1, 3, 3), padding="same", activation="sigmoid")])
    model.compile(optimizer=mlcore.optimizers.Adam(0.02), loss="binary_crossentropy")
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.1 * losses[0]
    predicted = model.predict(x, verbose=0)[:, 1:]     # from the second frame on, the way is known
    hits = predicted.reshape(-1, 64).argmax(axis=1) == y[:, 1:].reshape(-1, 64).argmax(axis=1)
    assert hits.mean() > 0.95


def conv_lstm_models(lib):
    module = lib.layers
    return lib.Sequential([
        module.Input((STEPS, 6, 6, 2)), module.ConvLSTM2D(3, 3, padding="same", return_sequences=True),
        module.ConvLSTM2D(2, (2, 3), return_sequences=True), module.Reshape((STEPS, 5, 8)),
        module.ConvLSTM1D(2, 3, data_format="channels_first"), module.Flatten(), module.Dense(1)])


def volume_models(lib):
    module = lib.layers
    return lib.Sequential([module.Input((3, 4, 4, 4, 1)), module.ConvLSTM3D(2, 2, go_backwards=True),
                           module.Flatten(), module.Dense(1)])


@pytest.mark.parametrize("suffix", [".weights.h5", ".h5"])
@pytest.mark.parametrize("make", [conv_lstm_models, volume_models])
def test_weight_files_read_both_ways_with_keras(keras, rng, tmp_path, suffix, make):
    ours, theirs = make(mlcore), make(keras)
    x = inputs(rng, (3,) + ours.input_shape[1:])
    ours.save_weights(tmp_path / ("ours" + suffix))
    theirs.load_weights(tmp_path / ("ours" + suffix))
    np.testing.assert_allclose(theirs.predict(x, verbose=0), ours.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
    if suffix == ".weights.h5":     # Keras 3 writes only its own layout
        keras_model = make(keras)
        keras_model.save_weights(tmp_path / "theirs.weights.h5")
        ours.load_weights(tmp_path / "theirs.weights.h5")
        np.testing.assert_allclose(ours.predict(x, verbose=0), keras_model.predict(x, verbose=0),
                                   rtol=1e-5, atol=1e-5)


def test_keras_archives_load_both_ways(keras, rng, tmp_path):
    x = inputs(rng, (3, STEPS, 6, 6, 2))
    ours = conv_lstm_models(mlcore)
    ours.compile(optimizer="adam", loss="mse")
    ours.save(tmp_path / "ours.keras")
    expected = ours.predict(x, verbose=0)
    for loaded in (keras.models.load_model(tmp_path / "ours.keras"), load_model(tmp_path / "ours.keras")):
        np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)
    theirs = conv_lstm_models(keras)
    theirs.save(tmp_path / "theirs.keras")
    loaded = load_model(tmp_path / "theirs.keras")
    assert [type(layer).__name__ for layer in loaded.layers] == [type(layer).__name__ for layer in theirs.layers]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-5)

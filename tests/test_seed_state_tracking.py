"""Layers track the states of their SeedGenerators as Keras 3's do: in variables and
non_trainable_variables, not in weights, so a stateless call in training (Keras's JAX training-loop
guides) carries Dropout's random state in and out, and compiled steps move the same state."""
import numpy as np
import pytest

import mlcore
from mlcore import layers

from test_conv_layers_more import assert_keras_archives_load_both_ways

jax = pytest.importorskip("jax")


def lists(model):
    return {name: [v.path for v in getattr(model, name)]
            for name in ("variables", "trainable_variables", "non_trainable_variables", "weights",
                         "trainable_weights", "non_trainable_weights")}


def fresh(lib):
    """Each library with its automatic names counted from zero, so that both name alike."""
    lib.backend.clear_session()
    return lib


def dense_dropout_bn(lib):
    inputs = lib.Input((3,))
    h = lib.layers.Dropout(0.5)(lib.layers.Dense(4)(inputs))
    return lib.Model(inputs, lib.layers.Dense(1)(lib.layers.BatchNormalization()(h)))


@pytest.mark.parametrize("build", [
    lambda lib: lib.Sequential([lib.Input((3,)), lib.layers.Dense(2), lib.layers.Dropout(0.5)]),
    dense_dropout_bn,
    lambda lib: lib.Sequential([lib.Input((3,)), lib.layers.GaussianNoise(0.1), lib.layers.Dense(2),
                                lib.layers.Dropout(0.2), lib.layers.Dense(2), lib.layers.GaussianDropout(0.1)]),
    lambda lib: lib.Sequential([lib.Input((5, 3)), lib.layers.LSTM(2, dropout=0.1, recurrent_dropout=0.1)]),
    lambda lib: lib.Sequential([lib.Input((4, 4, 3)), lib.layers.RandomFlip(), lib.layers.RandomRotation(0.1),
                                lib.layers.Flatten(), lib.layers.Dense(2)]),
    lambda lib: lib.Sequential([lib.Input((3,)), lib.layers.Dense(2), lib.layers.Dropout(0.0)]),
], ids=["sequential", "functional", "noise", "lstm", "augmentation", "rate0"])
def test_variable_lists_and_paths_are_keras(keras, build):
    ours, theirs = build(fresh(mlcore)), build(fresh(keras))
    assert lists(ours) == lists(theirs)
    assert ours.count_params() == theirs.count_params()
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]


@pytest.mark.parametrize("make", [
    lambda L: L.Dropout(0.0), lambda L: L.GaussianNoise(0.0), lambda L: L.GaussianNoise(0.1),
    lambda L: L.GaussianDropout(0.0), lambda L: L.AlphaDropout(0.1), lambda L: L.SpatialDropout2D(0.2),
    lambda L: L.Attention(dropout=0.0), lambda L: L.Attention(dropout=0.1), lambda L: L.SimpleRNNCell(2),
    lambda L: L.RandomContrast(0.2), lambda L: L.MixUp()])
def test_which_layers_have_a_seed_state(keras, make):
    """A state exactly where Keras's layer has one: none where nothing is ever drawn."""
    assert lists(make(fresh(mlcore).layers)) == lists(make(fresh(keras).layers))


def test_frozen_layer_and_seed_state(keras):
    """A frozen Dropout lists its state as non-trainable; the state is Keras's uint32 [seed, 0]."""
    ours, theirs = (fresh(lib).layers.Dropout(0.5, seed=7, trainable=False) for lib in (mlcore, keras))
    assert lists(ours) == lists(theirs)
    state = ours.non_trainable_variables[0]
    assert state is ours.seed_generator.state and ours._seed_generators == [ours.seed_generator]
    np.testing.assert_array_equal(state.numpy(), np.asarray(theirs.non_trainable_variables[0].value))
    assert state.dtype == "uint32" and not state.trainable


def test_stateless_dropout_steps_move_the_state_as_compiled_calls_do():
    """Each stateless call in training returns the state moved on by one draw; its mask is new at each
    step, and it is the mask a compiled call (the layer's eager call) draws from the same state."""
    model = mlcore.Sequential([mlcore.Input((64,)), layers.Dropout(0.5, seed=3)])
    x = np.ones((8, 64), "float32")
    state = model.non_trainable_variables[0]
    start = state.get_value()
    values, outputs = [start], []
    for _ in range(3):
        out, (new,) = model.stateless_call([], [values[-1]], x, training=True)
        outputs.append(np.asarray(out))
        values.append(np.asarray(new))
    np.testing.assert_array_equal(state.get_value(), start)             # stateless: nothing assigned
    np.testing.assert_array_equal(np.diff(np.stack(values), axis=0), [[0, 1]] * 3)
    for out in outputs:
        assert set(np.unique(out)) == {0.0, 2.0} and 0.3 < np.mean(out == 0) < 0.7
    assert not np.array_equal(outputs[0], outputs[1]) and not np.array_equal(outputs[1], outputs[2])
    for out, after in zip(outputs, values[1:]):                      # the compiled path, from the same states
        np.testing.assert_array_equal(model(x, training=True), out)
        np.testing.assert_array_equal(state.get_value(), after)
    jitted = jax.jit(lambda seed: model.stateless_call([], [seed], x, training=True))
    out, (new,) = jitted(values[0])                                     # jit draws the same numbers
    np.testing.assert_array_equal(out, outputs[0])
    np.testing.assert_array_equal(new, values[1])
    out, (same,) = model.stateless_call([], [values[0]], x)             # inference: no draw, the state kept
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(same, values[0])


def test_compiled_fit_moves_the_seed_state_on_every_backend(on_backend):
    """fit's compiled step (the state's default update) moves it by one per batch, as Keras's
    [seed, 1] after one batch; the optimizer leaves it alone."""
    model = mlcore.Sequential([mlcore.Input((3,)), layers.Dense(4), layers.Dropout(0.5), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    state = model.layers[1].seed_generator.state
    start = state.get_value()
    model.fit(np.ones((12, 3)), np.ones((12, 1)), batch_size=4, epochs=2, verbose=0)
    np.testing.assert_array_equal(state.get_value(), start + np.array([0, 6], "uint32"))
    assert all(v is not state for v in model.optimizer._trainable_variables)
    model.predict(np.ones((4, 3)), verbose=0)                           # inference draws nothing
    np.testing.assert_array_equal(state.get_value(), start + np.array([0, 6], "uint32"))


def test_weights_saving_and_cloning_leave_the_seed_state_out(tmp_path, keras, rng):
    """get_weights/set_weights, .keras archives (both ways) and clone_model see the weights only, as in
    Keras, whose archives hold no seed states."""
    ours, theirs = dense_dropout_bn(fresh(mlcore)), dense_dropout_bn(fresh(keras))
    theirs.set_weights(ours.get_weights())
    x = rng.random((5, 3)).astype("float32")
    expected = ours.predict(x, verbose=0)
    assert_keras_archives_load_both_ways(tmp_path, keras, ours, theirs, x, expected)
    clone = mlcore.models.clone_model(ours)
    assert [v.path for v in clone.non_trainable_variables][0].endswith("/seed_generator_state")
    assert clone.non_trainable_variables[0] is not ours.non_trainable_variables[0]
    assert len(clone.get_weights()) == len(theirs.get_weights()) == 8


def test_jitted_training_loop_with_dropout_learns(rng):
    """Keras's 'training loop from scratch in JAX' with a Dropout: the seed state goes through the
    jitted step among the non-trainable variables, so each step drops anew, and the loss falls."""
    mlcore.utils.set_random_seed(0)
    model = mlcore.Sequential([mlcore.Input((4,)), layers.Dense(32, activation="relu"), layers.Dropout(0.2),
                               layers.Dense(1)])
    optimizer = mlcore.optimizers.Adam(learning_rate=0.01)
    loss_fn = mlcore.losses.MeanSquaredError()
    optimizer.build(model.trainable_variables)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32")).astype("float32")

    def compute_loss_and_updates(trainable_variables, non_trainable_variables, x, y):
        y_pred, non_trainable_variables = model.stateless_call(trainable_variables, non_trainable_variables, x,
                                                               training=True)
        return loss_fn(y, y_pred), non_trainable_variables

    grad_fn = jax.value_and_grad(compute_loss_and_updates, has_aux=True)

    @jax.jit
    def train_step(state, x, y):
        trainable_variables, non_trainable_variables, optimizer_variables = state
        (loss, non_trainable_variables), grads = grad_fn(trainable_variables, non_trainable_variables, x, y)
        trainable_variables, optimizer_variables = optimizer.stateless_apply(optimizer_variables, grads,
                                                                             trainable_variables)
        return loss, (trainable_variables, non_trainable_variables, optimizer_variables)

    state = ([v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables],
             [v.value for v in optimizer.variables])
    seeds, losses = [], []
    for _ in range(60):
        loss, state = train_step(state, x, y)
        losses.append(float(loss))
        seeds.append(np.asarray(state[1][0]))
    assert np.all(np.diff(np.stack(seeds), axis=0) == [0, 1])         # a new mask at every step
    assert np.mean(losses[-5:]) < 0.2 * np.mean(losses[:5])
    for variable, value in zip(model.non_trainable_variables, state[1]):
        variable.assign(value)
    np.testing.assert_array_equal(model.non_trainable_variables[0].numpy(), seeds[-1])


def test_custom_jax_train_step_in_fit_carries_the_seed_state():
    """Keras's 'customizing fit() with JAX' guide's train_step on a model with Dropout: fit carries the
    seed state through the jitted step and writes it back, one draw per batch."""
    class CustomModel(mlcore.Model):
        def compute_loss_and_updates(self, trainable_variables, non_trainable_variables, x, y, training=False):
            y_pred, non_trainable_variables = self.stateless_call(trainable_variables, non_trainable_variables, x,
                                                                  training=training)
            return mlcore.losses.mean_squared_error(y, y_pred).mean(), (y_pred, non_trainable_variables)

        def train_step(self, state, data):
            trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables = state
            x, y = data
            grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
            (loss, (y_pred, non_trainable_variables)), grads = grad_fn(
                trainable_variables, non_trainable_variables, x, y, training=True)
            trainable_variables, optimizer_variables = self.optimizer.stateless_apply(
                optimizer_variables, grads, trainable_variables)
            return {"loss": loss}, (trainable_variables, non_trainable_variables, optimizer_variables,
                                    metrics_variables)

    mlcore.utils.set_random_seed(1)
    inputs = mlcore.Input((4,))
    model = CustomModel(inputs, layers.Dense(1)(layers.Dropout(0.3)(layers.Dense(16)(inputs))))
    model.compile(optimizer="adam", loss="mse")
    state = model.non_trainable_variables[0]
    start = state.get_value()
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    history = model.fit(x, x.sum(axis=1, keepdims=True), batch_size=8, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    np.testing.assert_array_equal(state.get_value(), start + np.array([0, 12], "uint32"))

"""Keras's guide "Writing a training loop from scratch in JAX", run on mlcore (imports changed only) beside
Keras 3.15 from the same initial weights, on small synthetic data instead of MNIST.

Two changes the installed jax (0.10) forces on Keras's side only: jax no longer takes Keras's variables
as arguments of a jitted function (their `__jax_array__` is refused: keras-io's updated guide passes
`[v.value for v in ...]`), while mlcore's Weights are jax pytrees of their values and go in as the guide
wrote it; and `jax.numpy.sum(losses)` refuses a list, so both sides sum the losses with Python's sum.
"""
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

import mlcore

jax = pytest.importorskip("jax")


def state_of(lib, variables):
    """What the guide passes to its jitted step: the variables themselves (mlcore), their values (Keras)."""
    return list(variables) if lib is mlcore else [v.value for v in variables]


def get_model(lib, features=20):
    """The guide's get_model(), narrower."""
    inputs = lib.Input(shape=(features,), name="digits")
    x1 = lib.layers.Dense(16, activation="relu")(inputs)
    x2 = lib.layers.Dense(16, activation="relu")(x1)
    outputs = lib.layers.Dense(10, name="predictions")(x2)
    return lib.Model(inputs=inputs, outputs=outputs)


def mnist_like(rng, n=96, features=20):
    x = rng.random((n, features)).astype("float32")
    return x, np.eye(10, dtype="float32")[rng.integers(0, 10, n)]


def batches(x, y, batch_size=32):
    return [(x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(x), batch_size)]


def models_with_same_weights(keras, build):
    models = [build(lib) for lib in (mlcore, keras)]
    models[0].set_weights(models[1].get_weights())
    return models


def assert_weights_equal(ours, theirs):
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def first_end_to_end_example(lib, model, data):
    """The guide's first section: a stateless train_step under jax.jit, then the state assigned back."""
    loss_fn = lib.losses.CategoricalCrossentropy(from_logits=True)
    optimizer = lib.optimizers.Adam(learning_rate=1e-3)

    def compute_loss_and_updates(trainable_variables, non_trainable_variables, x, y):
        y_pred, non_trainable_variables = model.stateless_call(trainable_variables, non_trainable_variables, x)
        loss = loss_fn(y, y_pred)
        return loss, non_trainable_variables

    grad_fn = jax.value_and_grad(compute_loss_and_updates, has_aux=True)

    @jax.jit
    def train_step(state, data):
        trainable_variables, non_trainable_variables, optimizer_variables = state
        x, y = data
        (loss, non_trainable_variables), grads = grad_fn(trainable_variables, non_trainable_variables, x, y)
        trainable_variables, optimizer_variables = optimizer.stateless_apply(optimizer_variables, grads,
                                                                             trainable_variables)
        return loss, (trainable_variables, non_trainable_variables, optimizer_variables)

    optimizer.build(model.trainable_variables)
    state = (state_of(lib, model.trainable_variables), state_of(lib, model.non_trainable_variables),
             state_of(lib, optimizer.variables))
    losses = []
    for step, batch in enumerate(data):
        loss, state = train_step(state, batch)
        losses.append(float(loss))
    trainable_variables, non_trainable_variables, optimizer_variables = state
    for variable, value in zip(model.trainable_variables, trainable_variables):
        variable.assign(value)
    for variable, value in zip(model.non_trainable_variables, non_trainable_variables):
        variable.assign(value)
    return losses


def test_first_training_loop_matches_keras(keras, rng):
    """Same initial weights: the same loss at every step and the same weights once assigned back; the
    model's own variables stay as they were until then (the loop is stateless)."""
    x, y = mnist_like(rng)
    models = models_with_same_weights(keras, get_model)
    before = models[0].get_weights()
    losses = [first_end_to_end_example(lib, model, batches(x, y)) for lib, model in zip((mlcore, keras), models)]
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
    assert_weights_equal(*models)
    assert not np.allclose(models[0].get_weights()[0], before[0])


def metrics_example(lib, model, train_data, val_data):
    """The guide's "Low-level handling of metrics": CategoricalAccuracy carried through the train and
    eval steps' state, its variables assigned back to read result()."""
    optimizer = lib.optimizers.Adam(learning_rate=1e-3)
    loss_fn = lib.losses.CategoricalCrossentropy(from_logits=True)
    train_acc_metric = lib.metrics.CategoricalAccuracy()
    val_acc_metric = lib.metrics.CategoricalAccuracy()

    def compute_loss_and_updates(trainable_variables, non_trainable_variables, metric_variables, x, y):
        y_pred, non_trainable_variables = model.stateless_call(trainable_variables, non_trainable_variables, x)
        loss = loss_fn(y, y_pred)
        metric_variables = train_acc_metric.stateless_update_state(metric_variables, y, y_pred)
        return loss, (non_trainable_variables, metric_variables)

    grad_fn = jax.value_and_grad(compute_loss_and_updates, has_aux=True)

    @jax.jit
    def train_step(state, data):
        trainable_variables, non_trainable_variables, optimizer_variables, metric_variables = state
        x, y = data
        (loss, (non_trainable_variables, metric_variables)), grads = grad_fn(
            trainable_variables, non_trainable_variables, metric_variables, x, y)
        trainable_variables, optimizer_variables = optimizer.stateless_apply(optimizer_variables, grads,
                                                                             trainable_variables)
        return loss, (trainable_variables, non_trainable_variables, optimizer_variables, metric_variables)

    @jax.jit
    def eval_step(state, data):
        trainable_variables, non_trainable_variables, metric_variables = state
        x, y = data
        y_pred, non_trainable_variables = model.stateless_call(trainable_variables, non_trainable_variables, x)
        loss = loss_fn(y, y_pred)
        metric_variables = val_acc_metric.stateless_update_state(metric_variables, y, y_pred)
        return loss, (trainable_variables, non_trainable_variables, metric_variables)

    optimizer.build(model.trainable_variables)
    state = (state_of(lib, model.trainable_variables), state_of(lib, model.non_trainable_variables),
             state_of(lib, optimizer.variables), state_of(lib, train_acc_metric.variables))
    printed = []
    for data in train_data:
        loss, state = train_step(state, data)
        _, _, _, metric_variables = state
        for variable, value in zip(train_acc_metric.variables, metric_variables):
            variable.assign(value)
        printed.append((float(loss), float(train_acc_metric.result())))
    trainable_variables, non_trainable_variables, _, metric_variables = state
    state = trainable_variables, non_trainable_variables, state_of(lib, val_acc_metric.variables)
    for data in val_data:
        loss, state = eval_step(state, data)
        _, _, metric_variables = state
        for variable, value in zip(val_acc_metric.variables, metric_variables):
            variable.assign(value)
        printed.append((float(loss), float(val_acc_metric.result())))
    for variable, value in zip(model.trainable_variables, state[0]):
        variable.assign(value)
    return printed


def test_metrics_in_train_and_eval_loops_match_keras(keras, rng):
    """The losses and running accuracies the guide prints, training then validation, and the trained
    weights: Keras's."""
    x, y = mnist_like(rng, n=160)
    train, val = batches(x[:96], y[:96]), batches(x[96:], y[96:])
    models = models_with_same_weights(keras, get_model)
    printed = [metrics_example(lib, model, train, val) for lib, model in zip((mlcore, keras), models)]
    np.testing.assert_allclose(printed[0], printed[1], rtol=1e-5)
    assert len({accuracy for _, accuracy in printed[0]}) > 1      # the accuracy moves from batch to batch
    assert_weights_equal(*models)


def activity_regularized_model(lib, features=20):
    """The guide's model with an ActivityRegularizationLayer (add_loss in call), plus an L2 kernel penalty.
    mlcore's call is a graph, so the layer sums with keras.ops, not jax.numpy."""
    class ActivityRegularizationLayer(lib.layers.Layer):
        def call(self, inputs):
            self.add_loss(1e-2 * lib.ops.sum(inputs))
            return inputs

    inputs = lib.Input(shape=(features,), name="digits")
    x = lib.layers.Dense(16, activation="relu", kernel_regularizer=lib.regularizers.L2(1e-2))(inputs)
    x = ActivityRegularizationLayer()(x)
    x = lib.layers.Dense(16, activation="relu")(x)
    outputs = lib.layers.Dense(10, name="predictions")(x)
    return lib.Model(inputs=inputs, outputs=outputs)


def test_losses_tracked_by_the_model_match_keras(keras, rng):
    """stateless_call(..., return_losses=True): the call's add_loss and the weights' penalties, computed
    from the values given, summed into the loss and differentiated by jax as Keras's."""
    x, y = mnist_like(rng, n=32)
    models = models_with_same_weights(keras, activity_regularized_model)
    results = []
    for lib, model in zip((mlcore, keras), models):
        loss_fn = lib.losses.CategoricalCrossentropy(from_logits=True)
        train_acc_metric = lib.metrics.CategoricalAccuracy()

        def compute_loss_and_updates(trainable_variables, non_trainable_variables, metric_variables, x, y,
                                     model=model, loss_fn=loss_fn, metric=train_acc_metric):
            y_pred, non_trainable_variables, losses = model.stateless_call(
                trainable_variables, non_trainable_variables, x, return_losses=True)
            loss = loss_fn(y, y_pred)
            if losses:
                loss += sum(losses)
            metric_variables = metric.stateless_update_state(metric_variables, y, y_pred)
            return loss, (non_trainable_variables, metric_variables, losses)

        grad_fn = jax.jit(jax.value_and_grad(compute_loss_and_updates, has_aux=True))
        (loss, (_, _, losses)), grads = grad_fn(state_of(lib, model.trainable_variables),
                                                state_of(lib, model.non_trainable_variables),
                                                state_of(lib, train_acc_metric.variables), x, y)
        results.append((float(loss), sorted(float(v) for v in losses), grads))
    (loss, losses, grads), (k_loss, k_losses, k_grads) = results
    np.testing.assert_allclose(loss, k_loss, rtol=1e-5)
    np.testing.assert_allclose(losses, k_losses, rtol=1e-5)
    assert len(losses) == 2
    for a, b in zip(grads, k_grads):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_weights_are_jax_pytrees_of_their_values(rng):
    """jax sees a Weight as its value (and `.value` is that value, as Keras's variable.value): tree
    functions and jit take model.weights, including int64 ones such as the optimizer's iteration count."""
    model = get_model(mlcore)
    optimizer = mlcore.optimizers.Adam()
    optimizer.build(model.trainable_variables)
    leaves = jax.tree_util.tree_leaves(model.weights)
    assert len(leaves) == len(model.weights)
    for leaf, weight in zip(leaves, model.weights):
        np.testing.assert_array_equal(leaf, weight.get_value())
        np.testing.assert_array_equal(weight.value, weight.get_value())
    doubled = jax.jit(lambda ws: [2 * w for w in ws])(optimizer.variables)
    for value, weight in zip(doubled, optimizer.variables):
        assert np.asarray(value).dtype == weight.dtype
        np.testing.assert_array_equal(value, 2 * weight.get_value())


def test_get_metrics_result_after_a_custom_train_step_matches_keras(keras, rng):
    """After fit with Keras 3's jax train_step, get_metrics_result() reads the loss tracker and compile()'s
    metrics as the step left them (it read 0 for the loss before)."""
    def custom_model(lib):
        class CustomModel(lib.Model):
            def train_step(self, state, data):
                trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables = state
                x, y = data

                def compute_loss(trainable_variables):
                    y_pred, _ = self.stateless_call(trainable_variables, non_trainable_variables, x)
                    loss, _ = self.stateless_compute_loss(trainable_variables, non_trainable_variables,
                                                          metrics_variables, x=x, y=y, y_pred=y_pred)
                    return loss, y_pred

                (loss, y_pred), grads = jax.value_and_grad(compute_loss, has_aux=True)(trainable_variables)
                trainable_variables, optimizer_variables = self.optimizer.stateless_apply(
                    optimizer_variables, grads, trainable_variables)
                new_metrics_variables, logs = [], {}
                for metric in self.metrics:
                    own = metrics_variables[len(new_metrics_variables):
                                            len(new_metrics_variables) + len(metric.variables)]
                    own = (metric.stateless_update_state(own, loss) if metric.name == "loss"
                           else metric.stateless_update_state(own, y, y_pred))
                    logs[metric.name] = metric.stateless_result(own)
                    new_metrics_variables += own
                return logs, (trainable_variables, non_trainable_variables, optimizer_variables,
                              new_metrics_variables)
        return custom_model_of(lib, CustomModel)

    def custom_model_of(lib, cls):
        inputs = lib.Input(shape=(8,))
        return cls(inputs, lib.layers.Dense(1)(lib.layers.Dense(4, activation="tanh")(inputs)))

    x, y = rng.random((64, 8)).astype("float32"), rng.random((64, 1)).astype("float32")
    models = models_with_same_weights(keras, custom_model)
    results = []
    for model in models:
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        results.append(model.get_metrics_result())
        np.testing.assert_allclose(results[-1]["loss"], history.history["loss"][-1], rtol=1e-6)
    assert sorted(results[0]) == sorted(results[1]) == ["loss", "mae"]
    assert results[0]["loss"] > 0
    for key in results[1]:
        np.testing.assert_allclose(results[0][key], results[1][key], rtol=1e-5)

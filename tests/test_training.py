"""compile / fit / evaluate / predict and the *_on_batch methods, checked against plain numpy, across
the backends and against Keras 3; bad input gives errors that say what was expected and what came."""
import contextlib
import io
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

import mlcore
from mlcore import callbacks, layers, optimizers
from mlcore.models import Sequential

from histories import assert_histories_close

EPS = 1e-7      # Keras's clip of probabilities in the crossentropies


@pytest.fixture(scope="module")
def sonar():
    from mlcore.datasets import sonar
    x, labels = sonar.load_data()
    return x.astype("float32"), (labels == "M").astype("float32")


def mlp(lib=mlcore, hidden=60, inputs=60, activation="sigmoid", outputs=1):
    return lib.Sequential([lib.Input((inputs,)), lib.layers.Dense(hidden, activation="relu"),
                           lib.layers.Dense(outputs, activation=activation)])


def initial_weights(rng, inputs=60, hidden=60, outputs=1):
    return [rng.uniform(-0.2, 0.2, (inputs, hidden)).astype("float32"), np.full(hidden, 0.01, "float32"),
            rng.uniform(-0.2, 0.2, (hidden, outputs)).astype("float32"), np.zeros(outputs, "float32")]


class BatchLosses(callbacks.Callback):
    """The logs["loss"] seen after each batch: Keras's running mean over the epoch so far."""

    def __init__(self):
        super().__init__()
        self.losses = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(logs["loss"])


def numpy_sgd_epoch(weights, x, y, batch_size, learning_rate):
    """One epoch of SGD on Dense(relu) -> Dense(sigmoid) with binary crossentropy, in float64, by hand.
    Returns the running-mean losses after each batch, and the final weights."""
    w1, b1, w2, b2 = [w.astype("float64") for w in weights]
    total, seen, running = 0.0, 0, []
    for start in range(0, len(x), batch_size):
        xb, yb = x[start:start + batch_size].astype("float64"), y[start:start + batch_size].reshape(-1, 1)
        n = len(xb)
        z1 = xb @ w1 + b1                                   # forward
        h = np.maximum(z1, 0)
        p = 1 / (1 + np.exp(-(h @ w2 + b2)))
        pc = np.clip(p, EPS, 1 - EPS)
        loss = -np.mean(yb * np.log(pc) + (1 - yb) * np.log(1 - pc))
        dz2 = (p - yb) / n                                  # backward: d loss / d logits
        dw2, db2 = h.T @ dz2, dz2.sum(0)
        dz1 = (dz2 @ w2.T) * (z1 > 0)
        dw1, db1 = xb.T @ dz1, dz1.sum(0)
        w1, b1, w2, b2 = (w1 - learning_rate * dw1, b1 - learning_rate * db1,     # SGD update
                          w2 - learning_rate * dw2, b2 - learning_rate * db2)
        total, seen = total + loss * n, seen + n
        running.append(total / seen)
    return running, [w1, b1, w2, b2]


# --- the key test: the same epoch of SGD everywhere ---------------------------------------------------------
@pytest.fixture(scope="module")
def reference_epoch(sonar):
    """The numpy run every backend and Keras must reproduce."""
    x, y = sonar
    weights = initial_weights(np.random.default_rng(42))
    running, final = numpy_sgd_epoch(weights, x, y, batch_size=5, learning_rate=0.01)
    return weights, running, final


def mlcore_sgd_epoch(sonar, weights, backend):
    x, y = sonar
    model = mlp()
    model.set_weights(weights)
    model.compile(optimizer=optimizers.SGD(learning_rate=0.01), loss="binary_crossentropy", backend=backend)
    recorder = BatchLosses()
    history = model.fit(x, y, batch_size=5, epochs=1, shuffle=False, verbose=0, callbacks=[recorder])
    return recorder.losses, history.history["loss"], model.get_weights()


@pytest.mark.parametrize("backend_name", ["numpy", "jax", "theano"])
def test_one_sgd_epoch_matches_numpy_on_every_backend(sonar, reference_epoch, require_backend, backend_name):
    require_backend(backend_name)
    weights, expected_running, expected_weights = reference_epoch
    running, epoch_loss, final = mlcore_sgd_epoch(sonar, weights, backend_name)
    assert len(running) == 42                                       # 208 samples in batches of 5
    np.testing.assert_allclose(running, expected_running, rtol=1e-4)
    np.testing.assert_allclose(epoch_loss, [expected_running[-1]], rtol=1e-4)
    for got, want in zip(final, expected_weights):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_one_sgd_epoch_matches_keras(sonar, reference_epoch, keras):
    x, y = sonar
    weights, expected_running, _ = reference_epoch
    model = mlp(keras)
    model.set_weights(weights)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="binary_crossentropy")
    running = []
    recorder = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: running.append(logs["loss"]))
    history = model.fit(x, y, batch_size=5, epochs=1, shuffle=False, verbose=0, callbacks=[recorder])
    np.testing.assert_allclose(running, expected_running, rtol=1e-4)
    ours, ours_epoch, ours_weights = mlcore_sgd_epoch(sonar, weights, "numpy")
    np.testing.assert_allclose(ours, running, rtol=1e-4)
    np.testing.assert_allclose(ours_epoch, history.history["loss"], rtol=1e-4)
    for a, b in zip(ours_weights, model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


# --- optimizers, losses and metrics in compile() ----------------------------------------------------------
OPTIMIZERS = [("SGD", dict(learning_rate=0.05, momentum=0.9)), ("SGD", dict(learning_rate=0.05, momentum=0.9,
                                                                            nesterov=True)),
              ("Adam", dict(learning_rate=0.01)), ("RMSprop", dict(learning_rate=0.01)),
              ("Adagrad", dict(learning_rate=0.1))]


@pytest.mark.parametrize("name, kwargs", OPTIMIZERS, ids=["momentum", "nesterov", "adam", "rmsprop", "adagrad"])
def test_optimizers_train_as_keras(keras, rng, name, kwargs):
    x = rng.normal(size=(20, 6)).astype("float32")
    y = rng.integers(0, 2, 20).astype("float32")
    weights = initial_weights(rng, 6, 5)
    results = []
    for lib in (mlcore, keras):
        model = mlp(lib, 5, 6)
        model.set_weights(weights)
        model.compile(getattr(lib.optimizers, name)(**kwargs), "binary_crossentropy")
        history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
        results.append((history["loss"], [np.asarray(w) for w in model.get_weights()]))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-4)
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["sgd", "adam", "rmsprop", "adagrad"])
def test_optimizer_by_name_has_keras_defaults(keras, name):
    ours, theirs = optimizers.get(name), keras.optimizers.get(name)
    assert type(ours).__name__ == type(theirs).__name__
    assert float(ours.learning_rate) == pytest.approx(float(theirs.learning_rate))


def numpy_loss(name, y, p):
    p64 = p.astype("float64")
    if name == "binary_crossentropy":
        pc = np.clip(p64, EPS, 1 - EPS)
        return np.mean(-np.mean(y * np.log(pc) + (1 - y) * np.log(1 - pc), axis=-1))
    if name == "categorical_crossentropy":
        return np.mean(-np.sum(y * np.log(np.clip(p64, EPS, 1)), axis=-1))
    if name == "sparse_categorical_crossentropy":
        return np.mean(-np.log(np.clip(p64[np.arange(len(y)), y.astype(int)], EPS, 1)))
    if name == "mse":
        return np.mean((p64 - y) ** 2)
    if name == "mae":
        return np.mean(np.abs(p64 - y))
    raise KeyError(name)


@pytest.mark.parametrize("loss, activation, target", [
    ("binary_crossentropy", "sigmoid", "binary"), ("categorical_crossentropy", "softmax", "onehot"),
    ("sparse_categorical_crossentropy", "softmax", "labels"), ("mse", None, "real"), ("mae", None, "real")])
def test_losses_against_numpy(rng, loss, activation, target):
    outputs = 1 if target == "binary" else 3
    model = mlp(hidden=4, inputs=5, activation=activation, outputs=outputs)
    model.compile("sgd", loss, backend="numpy")
    x = rng.normal(size=(10, 5)).astype("float32")
    y = {"binary": rng.integers(0, 2, (10, 1)).astype("float32"),
         "onehot": np.eye(3, dtype="float32")[rng.integers(0, 3, 10)],
         "labels": rng.integers(0, 3, 10),
         "real": rng.normal(size=(10, 3)).astype("float32")}[target]
    p = model.predict(x, verbose=0)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(numpy_loss(loss, y, p), rel=1e-5)


def test_single_output_loss_and_loss_weights_given_as_lists(rng):
    model = mlp(hidden=3, inputs=4, activation=None)
    model.compile("sgd", loss=["mse"], loss_weights=[2.0], metrics=["mae"], backend="numpy")
    x, y = rng.normal(size=(6, 4)).astype("float32"), rng.normal(size=(6, 1)).astype("float32")
    p = model.predict(x, verbose=0)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0),
                               [2 * np.mean((p - y) ** 2), np.mean(np.abs(p - y))], rtol=1e-5)


def test_sparse_crossentropy_from_logits_and_a_callable_loss(rng):
    x = rng.normal(size=(10, 5)).astype("float32")
    labels = rng.integers(0, 3, 10)
    model = mlp(hidden=4, inputs=5, activation=None, outputs=3)
    model.compile("sgd", mlcore.losses.SparseCategoricalCrossentropy(from_logits=True), backend="numpy")
    logits = model.predict(x, verbose=0).astype("float64")
    log_softmax = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -np.mean(log_softmax[np.arange(10), labels])
    assert model.evaluate(x, labels, verbose=0) == pytest.approx(expected, rel=1e-5)

    def half_squared(y_true, y_pred):
        return 0.5 * mlcore.ops.mean((y_true - y_pred) ** 2, axis=-1)
    target = rng.normal(size=(10, 3)).astype("float32")
    model.compile("sgd", half_squared, backend="numpy")
    assert model.evaluate(x, target, verbose=0) == pytest.approx(0.5 * np.mean((logits - target) ** 2), rel=1e-5)
    assert model.train_on_batch(x, target) == pytest.approx(0.5 * np.mean((logits - target) ** 2), rel=1e-5)


@pytest.mark.parametrize("loss, activation, target, keras_metric", [
    ("binary_crossentropy", "sigmoid", "binary", "binary_accuracy"),
    ("categorical_crossentropy", "softmax", "onehot", "categorical_accuracy"),
    ("sparse_categorical_crossentropy", "softmax", "labels", "sparse_categorical_accuracy")])
def test_accuracy_resolves_as_keras(keras, rng, loss, activation, target, keras_metric):
    outputs = 1 if target == "binary" else 3
    x = rng.normal(size=(30, 5)).astype("float32")
    y = {"binary": rng.integers(0, 2, 30).astype("float32"),
         "onehot": np.eye(3, dtype="float32")[rng.integers(0, 3, 30)],
         "labels": rng.integers(0, 3, 30)}[target]
    ours = mlp(hidden=4, inputs=5, activation=activation, outputs=outputs)
    theirs = mlp(keras, hidden=4, inputs=5, activation=activation, outputs=outputs)
    theirs.set_weights(ours.get_weights())
    ours.compile("sgd", loss, metrics=["accuracy"], backend="numpy")
    theirs.compile("sgd", loss, metrics=["accuracy"])
    loss_value, accuracy = ours.evaluate(x, y, verbose=0)
    np.testing.assert_allclose([loss_value, accuracy], theirs.evaluate(x, y, verbose=0), rtol=1e-5)
    expected = getattr(keras.metrics, keras_metric)(y if target != "binary" else y[:, None],
                                                    ours.predict(x, verbose=0))
    assert accuracy == pytest.approx(float(np.mean(expected)))


# --- fit's arguments ---------------------------------------------------------------------------------------
@pytest.fixture
def small(rng):
    """A small model (numpy backend) and data: 20 samples of 4 features, binary labels."""
    x = rng.normal(size=(20, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("float32")
    model = mlp(hidden=3, inputs=4)
    model.compile(optimizers.SGD(learning_rate=0.1), "binary_crossentropy", metrics=["accuracy"],
                  backend="numpy")
    return model, x, y


def captured(function, *args, **kwargs):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = function(*args, **kwargs)
    return result, out.getvalue()


def test_fit_returns_history_with_keras_keys_and_verbose_levels(small):
    model, x, y = small
    history, printed = captured(model.fit, x, y, batch_size=8, epochs=2, verbose=0, validation_split=0.25)
    assert printed == ""
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history.epoch == [0, 1] and history.params["epochs"] == 2 and history.params["steps"] == 2
    _, printed = captured(model.fit, x, y, batch_size=8, epochs=2, verbose=2)
    assert "Epoch 1/2" in printed and "Epoch 2/2" in printed and "3/3 - " in printed and " - loss: " in printed
    _, printed = captured(model.fit, x, y, batch_size=8, epochs=1, verbose=1)
    assert "Epoch" not in printed                                     # Keras 3 numbers epochs only when > 1
    assert "3/3" in printed and "━" in printed and "accuracy: " in printed
    assert captured(model.evaluate, x, y, verbose=0)[1] == ""


def test_validation_split_holds_out_the_last_fraction(small):
    model, x, y = small
    history = model.fit(x, y, batch_size=4, epochs=1, validation_split=0.25, shuffle=True, verbose=0)
    assert history.params["steps"] == 4                              # 15 training samples
    val_loss, val_accuracy = model.evaluate(x[15:], y[15:], verbose=0)
    assert history.history["val_loss"] == [pytest.approx(val_loss, rel=1e-5)]
    assert history.history["val_accuracy"] == [pytest.approx(val_accuracy)]


def test_validation_data_and_sample_weights(small, rng):
    model, x, y = small
    x_val, y_val = x[:6], y[:6]
    history = model.fit(x, y, batch_size=8, epochs=1, validation_data=(x_val, y_val), verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x_val, y_val, verbose=0)[0], rel=1e-5)
    weights = rng.uniform(0, 2, 6).astype("float32")
    p = model.predict(x_val, verbose=0)[:, 0].astype("float64")
    per_sample = -(y_val * np.log(np.clip(p, EPS, 1)) + (1 - y_val) * np.log(np.clip(1 - p, EPS, 1)))
    weighted = model.evaluate(x_val, y_val, sample_weight=weights, verbose=0)[0]
    assert weighted == pytest.approx(np.sum(per_sample * weights) / 6, rel=1e-5)      # Keras's reduction
    history = model.fit(x, y, batch_size=8, epochs=1, validation_data=[x_val, y_val, weights], verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(
        model.evaluate(x_val, y_val, sample_weight=weights, verbose=0)[0], rel=1e-5)


def test_sample_weight_and_class_weight_in_training_match_numpy_and_keras(keras, rng):
    x = rng.normal(size=(8, 4)).astype("float32")
    y = np.array([0, 1, 1, 0, 1, 1, 1, 0], "float32")
    sample_weight = rng.uniform(0, 3, 8).astype("float32")
    class_weight = {0: 3.0, 1: 0.5}
    ours, theirs = mlp(mlcore, 3, 4), mlp(keras, 3, 4)
    theirs.set_weights(ours.get_weights())
    p = ours.predict(x, verbose=0)[:, 0].astype("float64")
    per_sample = -(y * np.log(np.clip(p, EPS, 1)) + (1 - y) * np.log(np.clip(1 - p, EPS, 1)))
    for model in (ours, theirs):
        model.compile("sgd", "binary_crossentropy")
    by_sample = ours.train_on_batch(x, y, sample_weight=sample_weight)
    assert by_sample == pytest.approx(np.sum(per_sample * sample_weight) / 8, rel=1e-5)
    assert by_sample == pytest.approx(float(theirs.train_on_batch(x, y, sample_weight=sample_weight)), rel=1e-5)
    by_class = ours.fit(x, y, class_weight=class_weight, batch_size=8, verbose=0, shuffle=False).history["loss"]
    theirs_by_class = theirs.fit(x, y, class_weight=class_weight, batch_size=8, verbose=0,
                                 shuffle=False).history["loss"]
    np.testing.assert_allclose(by_class, theirs_by_class, rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_shuffle_changes_batches_and_is_reproducible_with_a_seed(small):
    model, x, y = small
    start = model.get_weights()
    results = []
    for shuffle, seed in ((False, 0), (True, 0), (True, 0)):
        model.set_weights(start)
        mlcore.utils.set_random_seed(seed)
        model.fit(x, y, batch_size=4, epochs=1, shuffle=shuffle, verbose=0)
        results.append(model.get_weights()[0])
    assert not np.allclose(results[0], results[1])
    np.testing.assert_array_equal(results[1], results[2])


def test_initial_epoch_and_steps_per_epoch(small):
    model, x, y = small
    epochs, batches = [], []
    spy = callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: epochs.append(epoch),
                                   on_train_batch_end=lambda batch, logs: batches.append(batch))
    history = model.fit(x, y, batch_size=4, epochs=4, initial_epoch=2, verbose=0, callbacks=[spy])
    assert epochs == [2, 3] and history.epoch == [2, 3] and batches == list(range(5)) * 2
    batches.clear()
    model.fit(x, y, batch_size=4, epochs=2, steps_per_epoch=3, verbose=0, callbacks=[spy])
    assert batches == [0, 1, 2, 0, 1, 2]


def test_nb_epoch_is_keras1_epochs(small):
    model, x, y = small
    assert model.fit(x, y, nb_epoch=3, verbose=0).epoch == [0, 1, 2]


# --- callbacks driven by a real fit ----------------------------------------------------------------------
def test_early_stopping_stops_when_the_monitored_value_stalls(small):
    model, x, y = small
    model.optimizer.learning_rate = 0.0                               # the loss cannot improve...
    stopper = callbacks.EarlyStopping(monitor="loss", patience=2)
    # ...and, unshuffled, is summed in the same order each epoch: shuffled, it moved by an ulp now and
    # then, which EarlyStopping (min_delta=0, as Keras) rightly counts as an improvement
    history = model.fit(x, y, epochs=10, verbose=0, shuffle=False, callbacks=[stopper])
    assert len(history.epoch) == 3 and stopper.stopped_epoch == 2


def test_model_checkpoint_csv_logger_and_lambda_callback(small, tmp_path):
    model, x, y = small
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "w-{epoch:02d}.weights.h5"), save_weights_only=True)
    log = tmp_path / "log.csv"
    ends = []
    history = model.fit(x, y, epochs=2, batch_size=10, verbose=0, validation_data=(x, y), callbacks=[
        checkpoint, callbacks.CSVLogger(str(log)),
        callbacks.LambdaCallback(on_train_end=lambda logs: ends.append(dict(logs)))])
    assert sorted(os.listdir(tmp_path)) == ["log.csv", "w-01.weights.h5", "w-02.weights.h5"]
    rows = log.read_text().splitlines()
    assert rows[0] == "epoch,accuracy,loss,val_accuracy,val_loss" and len(rows) == 3
    assert float(rows[2].split(",")[2]) == pytest.approx(history.history["loss"][1])
    assert ends[0]["loss"] == pytest.approx(history.history["loss"][1])
    trained = model.get_weights()
    model.load_weights(str(tmp_path / "w-02.weights.h5"))
    for a, b in zip(model.get_weights(), trained):
        np.testing.assert_array_equal(a, b)


def test_learning_rate_scheduler_sets_the_rate_each_epoch(small):
    model, x, y = small
    seen = []
    schedule = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    spy = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(float(model.optimizer.learning_rate)))
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[schedule, spy])
    np.testing.assert_allclose(seen, [0.1, 0.05, 0.1 / 3], rtol=1e-6)
    np.testing.assert_allclose(history.history["learning_rate"], seen, rtol=1e-6)
    model.optimizer.learning_rate = 0.0
    before = model.get_weights()
    model.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_terminate_on_nan(small):
    model, x, y = small
    model.compile(optimizers.SGD(learning_rate=1e30), "mse", backend="numpy")
    batches = []
    spy = callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: batches.append(logs["loss"]))
    with np.errstate(all="ignore"):
        history = model.fit(x, y * 1e20, epochs=5, batch_size=2, verbose=0,
                            callbacks=[callbacks.TerminateOnNaN(), spy])
    assert np.isnan(batches[-1]) or np.isinf(batches[-1])
    assert len(batches) < 10 and len(history.epoch) == 1


# --- evaluate, predict and the *_on_batch methods -------------------------------------------------------
def forward(model, x):
    w1, b1, w2, b2 = [w.astype("float64") for w in model.get_weights()]
    return 1 / (1 + np.exp(-(np.maximum(x @ w1 + b1, 0) @ w2 + b2)))


def test_evaluate_predict_and_on_batch_methods_against_numpy(small):
    model, x, y = small
    p = forward(model, x)
    np.testing.assert_allclose(model.predict(x, batch_size=7, verbose=0), p, rtol=1e-5)
    np.testing.assert_allclose(model.predict_on_batch(x), p, rtol=1e-5)
    loss = numpy_loss("binary_crossentropy", y[:, None], p)
    accuracy = np.mean((p[:, 0] > 0.5) == y)
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=6, verbose=0), [loss, accuracy], rtol=1e-5)
    assert model.evaluate(x, y, verbose=0, return_dict=True) == pytest.approx({"loss": loss, "accuracy": accuracy})
    np.testing.assert_allclose(model.test_on_batch(x, y), [loss, accuracy], rtol=1e-5)
    assert model.metrics_names == ["loss", "accuracy"]
    trained = model.train_on_batch(x, y, return_dict=True)
    assert trained == pytest.approx({"loss": loss, "accuracy": accuracy}, rel=1e-5)   # before the update
    assert not np.allclose(model.predict(x, verbose=0), p)
    model.compile("sgd", "binary_crossentropy", backend="numpy")
    assert isinstance(model.evaluate(x, y, verbose=0), float)        # one value when there are no metrics


class Batches:
    """A keras.utils.Sequence look-alike: len() and indexing."""

    def __init__(self, x, y, batch_size):
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, k):
        part = slice(k * self.batch_size, (k + 1) * self.batch_size)
        return self.x[part], self.y[part]

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_generators_and_sequences_give_what_arrays_give(small):
    model, x, y = small
    start = model.get_weights()
    on_arrays = model.fit(x, y, batch_size=5, epochs=2, shuffle=False, verbose=0).history
    after_arrays = model.get_weights()
    model.set_weights(start)
    sequence = Batches(x, y, 5)
    on_sequence = model.fit(sequence, epochs=2, shuffle=False, verbose=0).history
    assert_histories_close(on_sequence, on_arrays)
    assert sequence.epochs_ended == 2
    for a, b in zip(model.get_weights(), after_arrays):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    model.set_weights(start)

    def endless():
        while True:
            for k in range(4):
                yield x[5 * k:5 * k + 5], y[5 * k:5 * k + 5]
    on_generator = model.fit(endless(), steps_per_epoch=4, epochs=2, verbose=0).history
    assert_histories_close(on_generator, on_arrays)
    expected = model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(model.evaluate(Batches(x, y, 6), verbose=0), expected, rtol=1e-6)
    np.testing.assert_allclose(model.evaluate(endless(), steps=4, verbose=0), expected, rtol=1e-6)
    predicted = model.predict(x, verbose=0)
    np.testing.assert_allclose(model.predict(Batches(x, y, 6), verbose=0), predicted, rtol=1e-6)
    np.testing.assert_allclose(model.predict((x[k:k + 5] for k in range(0, 20, 5)), verbose=0), predicted,
                               rtol=1e-6)


def test_sequences_are_shuffled_by_batch_and_take_class_weight_as_keras(small):
    """Keras 3 reads a PyDataset with fit's shuffle=True as batches in a new order each epoch, and
    turns class_weight into each batch's sample weights; a generator with class_weight is refused."""
    model, x, y = small
    seen = []

    class Recorded(Batches):
        def __getitem__(self, k):
            seen.append(k)
            return super().__getitem__(k)
    np.random.seed(3)
    model.fit(Recorded(x, y, 2), epochs=2, verbose=0)
    first, second = seen[:10], seen[10:]
    assert sorted(first) == sorted(second) == list(range(10)) and first != list(range(10)) and first != second
    start = model.get_weights()
    weights = {0: 0.5, 1: 2.0}
    on_arrays = model.fit(x, y, batch_size=5, class_weight=weights, shuffle=False, verbose=0).history
    model.set_weights(start)
    on_sequence = model.fit(Batches(x, y, 5), class_weight=weights, shuffle=False, verbose=0).history
    assert_histories_close(on_sequence, on_arrays)
    with pytest.raises(ValueError, match="class_weight"):
        model.fit(((x[k:k + 5], y[k:k + 5]) for k in range(0, 20, 5)), class_weight=weights, verbose=0)


def test_a_generator_that_runs_dry_stops_training_with_a_warning(small):
    model, x, y = small
    four_batches = ((x[k:k + 5], y[k:k + 5]) for k in range(0, 20, 5))
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit(four_batches, epochs=3, verbose=0)
    assert history.epoch == [0] and len(history.history["loss"]) == 1


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("backend_name", ["numpy", "jax"])
def test_steps_per_execution_gives_the_same_weights(rng, require_backend, backend_name, shuffle):
    """23 samples in batches of 3 with k=4: a run of 4 batches, a run of 3, then the batch of 2."""
    require_backend(backend_name)
    x = rng.normal(size=(23, 4)).astype("float32")
    y = rng.integers(0, 2, 23).astype("float32")
    weights = rng.uniform(0.5, 2.0, 23).astype("float32")
    start = initial_weights(rng, 4, 3)
    results = []
    for k in (1, 4):
        model = mlp(hidden=3, inputs=4)
        model.set_weights(start)
        model.compile(optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"], steps_per_execution=k,
                      backend=backend_name)
        np.random.seed(7)   # the same shuffles for both
        history = model.fit(x, y, batch_size=3, epochs=2, shuffle=shuffle, sample_weight=weights,
                            verbose=0).history
        results.append((history, model.get_weights()))
    assert_histories_close(results[0][0], results[1][0], rtol=1e-5)
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


@contextlib.contextmanager
def jax_programs_lowered():
    """A list that grows by one for each program jax lowers for XLA (each new shape: cached or not)."""
    import jax.monitoring
    lowered = []

    def listen(event, duration, **kwargs):
        if event == "/jax/core/compile/jaxpr_to_mlir_module_duration":
            lowered.append(duration)
    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        yield lowered
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)


@pytest.mark.parametrize("spe", [1, 4])
def test_jax_runs_a_short_batch_padded_with_the_numbers_of_the_numpy_backend(rng, require_backend, spe):
    """23 samples in batches of 3: on jax the last batch of 2 runs as a batch of 3 (one XLA
    program per step kind instead of two) whose extra row, a copy, has weight 0 and is left out of
    the batch size and the metrics; the numpy backend runs the batch of 2 as it is."""
    require_backend("jax")
    x, y = rng.normal(size=(23, 4)).astype("float32"), rng.integers(0, 2, 23).astype("float32")
    x_val, y_val = rng.normal(size=(10, 4)).astype("float32"), rng.integers(0, 2, 10).astype("float32")
    weights = rng.uniform(0.5, 2.0, 23).astype("float32")
    start = initial_weights(rng, 4, 3)
    mlcore.function([], mlcore.tensor.constant(1.0), backend="jax")()   # jax's start-up compiles, not counted
    results = {}
    for backend_name in ("numpy", "jax"):
        model = mlp(hidden=3, inputs=4)
        model.set_weights(start)
        model.compile(optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"], weighted_metrics=["mse"],
                      steps_per_execution=spe, backend=backend_name)
        np.random.seed(7)   # the same shuffles for both
        with jax_programs_lowered() as lowered:
            history = model.fit(x, y, batch_size=3, epochs=2, sample_weight=weights, validation_data=(x_val, y_val),
                                verbose=0).history
        results[backend_name] = (history, model.get_weights(), len(lowered))
    assert_histories_close(results["numpy"][0], results["jax"][0], rtol=1e-5)
    for a, b in zip(results["numpy"][1], results["jax"][1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert results["numpy"][2] == 0
    assert results["jax"][2] == 2     # a train step (a scan of 4 with spe=4) and a test step, for batches of 3


def test_train_on_batch_pads_a_smaller_batch_to_one_already_compiled(rng, require_backend):
    require_backend("jax")
    x, y = rng.normal(size=(5, 4)).astype("float32"), rng.integers(0, 2, 5).astype("float32")
    start = initial_weights(rng, 4, 3)
    losses, weights = {}, {}
    for backend_name in ("numpy", "jax"):
        model = mlp(hidden=3, inputs=4)
        model.set_weights(start)
        model.compile(optimizers.SGD(0.1), "binary_crossentropy", metrics=["accuracy"], backend=backend_name)
        losses[backend_name] = [model.train_on_batch(x, y), model.train_on_batch(x[:2], y[:2]),
                                model.test_on_batch(x[:1], y[:1])]
        weights[backend_name] = model.get_weights()
    np.testing.assert_allclose(losses["jax"], losses["numpy"], rtol=1e-5)
    for a, b in zip(weights["numpy"], weights["jax"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


class _BatchCentered(layers.Layer):
    """A user's layer that mixes rows: a padding copy would change every output."""

    def call(self, inputs):
        return inputs - mlcore.ops.mean(inputs, axis=0)


@pytest.mark.parametrize("case", ["batch_norm", "user_layer", "user_loss", "activity_regularizer"])
def test_models_whose_numbers_depend_on_the_whole_batch_are_never_padded(rng, require_backend, case):
    require_backend("jax")
    middle = {"batch_norm": layers.BatchNormalization(), "user_layer": _BatchCentered(),
              "activity_regularizer": layers.Dense(3, activity_regularizer="l2")}.get(case, layers.Dense(3))
    model = mlcore.Sequential([mlcore.Input((4,)), layers.Dense(3, activation="relu"), middle, layers.Dense(1)])
    loss = (lambda t, p: (p[:, 0] - t) ** 2 - mlcore.ops.mean(p)) if case == "user_loss" else "mse"
    model.compile("sgd", loss, backend="jax")
    x, y = rng.normal(size=(5, 4)).astype("float32"), rng.normal(size=5).astype("float32")
    assert not model._steps.train.pads_short_batches([y])
    with jax_programs_lowered() as lowered:
        model.fit(x, y, batch_size=3, epochs=1, verbose=0)
    assert len(lowered) == 2          # the batch of 3, then the batch of 2 as it is
    assert layers.Dense(3).rowwise and not _BatchCentered().rowwise


@pytest.mark.parametrize("backend_name", ["numpy", "jax"])
def test_epoch_logs_are_the_same_whether_or_not_a_callback_reads_every_batch(rng, require_backend, backend_name):
    """Without batch hooks fit reads each step's statistics one step late (trainer._run_epoch):
    the epoch's logs, validation included, and the weights must not depend on it."""
    require_backend(backend_name)
    x = rng.normal(size=(23, 4)).astype("float32")
    y = rng.integers(0, 2, 23).astype("float32")
    start = initial_weights(rng, 4, 3)
    results = []
    for extra in ([], [BatchLosses()]):
        model = mlp(hidden=3, inputs=4)
        model.set_weights(start)
        model.compile(optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"], backend=backend_name)
        history = model.fit(x, y, batch_size=3, epochs=3, shuffle=False, validation_split=0.25, callbacks=extra,
                            verbose=0).history
        results.append((history, model.get_weights()))
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)
    assert len(extra[0].losses) == 3 * 6 and extra[0].losses[5] == results[1][0]["loss"][0]


def test_callback_list_knows_which_callbacks_act_on_batches():
    class EpochOnly(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    class Keras2Style(callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            pass

    def listed(*cbs):
        return callbacks.CallbackList(list(cbs), add_history=True)

    assert not listed(EpochOnly()).calls_batch_hooks(train=True)
    assert listed(Keras2Style()).calls_batch_hooks(train=True) and not listed(Keras2Style()).calls_batch_hooks(False)
    assert listed(BatchLosses()).calls_batch_hooks(train=True)
    assert listed(callbacks.LambdaCallback(on_test_batch_end=print)).calls_batch_hooks(train=False)
    assert listed(callbacks.TerminateOnNaN()).calls_batch_hooks(train=True)
    assert callbacks.CallbackList([], add_progbar=True, verbose=1, epochs=1, steps=1).calls_batch_hooks(train=True)


@pytest.mark.parametrize("backend_name", ["numpy", "jax"])
def test_keyboard_interrupt_mid_fit_leaves_the_model_usable(rng, require_backend, backend_name):
    require_backend(backend_name)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = rng.integers(0, 2, 40).astype("float32")
    start = initial_weights(rng, 4, 3)

    def stop_at_batch_3(batch, logs, model):
        if batch == 3:
            model.stop_training = True

    def interrupt_at_batch_3(batch, logs, model):
        if batch == 3:
            raise KeyboardInterrupt

    results = []
    for hook in (stop_at_batch_3, interrupt_at_batch_3):
        model = mlp(hidden=3, inputs=4)
        model.set_weights(start)
        model.compile(optimizers.Adam(0.05), "binary_crossentropy", backend=backend_name)
        cb = callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs, m=model, h=hook: h(batch, logs, m))
        with contextlib.suppress(KeyboardInterrupt):
            model.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0, callbacks=[cb])
        results.append((model.get_weights(), model.predict(x, verbose=0)))
        model.fit(x, y, batch_size=4, epochs=1, verbose=0)           # and it trains on
    for a, b in zip(results[0][0], results[1][0]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(results[0][1], results[1][1])
    assert float(results[1][0][0].sum()) != float(start[0].sum())


# --- bad input --------------------------------------------------------------------------------------------
def test_x_and_y_of_different_lengths(small):
    model, x, y = small
    with pytest.raises(ValueError) as err:
        model.fit(x, y[:15], verbose=0)
    assert "20" in str(err.value) and "15" in str(err.value)


def test_wrong_feature_count_names_both_shapes(small):
    model, x, y = small
    for call in (lambda: model.fit(x[:, :3], y, verbose=0), lambda: model.predict(x[:, :3], verbose=0),
                 lambda: model.evaluate(x[:, :3], y, verbose=0)):
        with pytest.raises(ValueError) as err:
            call()
        message = str(err.value)
        assert "(None, 4)" in message and "(20, 3)" in message, message
    with pytest.raises(ValueError, match=r"expects 1 input array.*got 2"):
        model.predict([x, x], verbose=0)


def test_targets_shaped_unlike_the_output_are_refused_not_broadcast(small):
    model, x, y = small
    with pytest.raises(ValueError) as err:
        model.fit(x, np.stack([y, 1 - y], axis=1), verbose=0)
    assert "(None, 1)" in str(err.value) and "(20, 2)" in str(err.value)


def test_non_numeric_data_is_refused_with_the_dtype(small):
    model, x, y = small
    with pytest.raises(TypeError) as err:
        model.fit(x.astype(str), y, verbose=0)
    assert "numeric" in str(err.value) and "<U" in str(err.value)
    with pytest.raises(TypeError) as err:
        model.fit(x, np.where(y > 0, "M", "R"), verbose=0)
    assert "Target" in str(err.value) and "LabelEncoder" in str(err.value)


def test_unknown_names_in_compile_list_what_is_valid(small):
    model, _, _ = small
    with pytest.raises(ValueError) as err:
        model.compile("sgd", loss="binary_crossentropyy")
    assert "binary_crossentropyy" in str(err.value) and "binary_crossentropy" in str(err.value)
    with pytest.raises(ValueError) as err:
        model.compile("adamm", loss="mse")
    assert "adamm" in str(err.value) and "Adam" in str(err.value)
    with pytest.raises(ValueError) as err:
        Sequential([layers.Input((3,)), layers.Dense(2, activation="sigmoidd")])
    assert "sigmoidd" in str(err.value) and "sigmoid" in str(err.value)


def test_fit_before_compile_and_unknown_fit_argument(rng):
    model = mlp(hidden=3, inputs=4)
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(np.zeros((2, 4)), np.zeros(2), verbose=0)
    model.compile("sgd", "mse")
    with pytest.raises(TypeError, match="nb_epochs"):
        model.fit(np.zeros((2, 4)), np.zeros(2), nb_epochs=2)


def test_array_data_groups_are_runs_of_whole_batches_then_the_last_one():
    from mlcore.models.data_adapters import ArrayData
    x = np.arange(23 * 2, dtype="float32").reshape(23, 2)
    data = ArrayData(x, np.arange(23), batch_size=3, shuffle=False)
    groups = list(data.groups(4))
    assert [(count, padding) for count, _, padding in groups] == [(4, 0), (3, 0), (1, 0)]
    assert [len(batch[0][0]) for _, batch, _ in groups] == [12, 9, 2]
    np.testing.assert_array_equal(np.concatenate([batch[0][0] for _, batch, _ in groups]), x)
    assert ArrayData(x, np.arange(23), batch_size=3, steps=10).groups(4) is None   # wrapping epochs: per batch


def test_array_data_groups_pad_the_last_batch_into_a_short_last_run():
    from mlcore.models.data_adapters import ArrayData
    x = np.arange(23 * 2, dtype="float32").reshape(23, 2)
    groups = list(ArrayData(x, np.arange(23), batch_size=3).groups(4, pad=True))
    assert [(count, padding) for count, _, padding in groups] == [(4, 0), (4, 1)]
    last_x, last_y = groups[1][1][0][0], groups[1][1][1][0]
    np.testing.assert_array_equal(last_x, np.concatenate([x[12:], x[21:22]]))   # rows 21, 22, then 21 again
    np.testing.assert_array_equal(last_y, [12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 21])
    whole_runs = list(ArrayData(x, np.arange(23), batch_size=3).groups(7, pad=True))    # no short run to join
    assert [(count, padding) for count, _, padding in whole_runs] == [(7, 0), (1, 0)]

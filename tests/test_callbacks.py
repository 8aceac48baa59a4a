"""Callbacks and Progbar, driven by a fake model and a fake `fit` loop.

Where Keras 3 is installed, each scenario also runs through Keras's own
callbacks (same fake model, same loop) and the results must match.
"""
import contextlib
import io
import itertools
import os
import re
import time

import numpy as np
import pytest

from mlcore import callbacks as mlcore_callbacks
from mlcore.utils.progbar import Progbar


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    return pytest.importorskip("keras")


def both(keras):
    return {"mlcore": mlcore_callbacks, "keras": keras.callbacks}


class FakeOptimizer:
    def __init__(self, learning_rate=0.1):
        self.learning_rate = learning_rate


class FakeModel:
    """The duck-typed protocol the callbacks rely on; records what it saves."""

    def __init__(self):
        self.stop_training = False
        self.weights = [np.zeros(2), np.zeros(())]
        self.optimizer = FakeOptimizer()
        self.saved = []

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]

    def save_weights(self, path, **kwargs):
        self._write(path, "weights")

    def save(self, path, **kwargs):
        self._write(path, "model")

    def _write(self, path, kind):
        with open(path, "w") as f:
            f.write(kind)
        self.saved.append(os.path.basename(path))


def fit(cb, model, epoch_logs, callbacks=(), steps=3, verbose=0,
        val_steps=2):
    """Calls the hooks exactly as Keras 3's `fit` (with validation) does.

    `epoch_logs[e]` are epoch e's logs; the batches report its train values.
    After epoch e the weights hold e + 1, so restored weights name an epoch.
    """
    callbacks = cb.CallbackList(
        list(callbacks), add_history=True, add_progbar=verbose != 0,
        model=model, verbose=verbose, epochs=len(epoch_logs), steps=steps,
    )
    model.stop_training = False
    callbacks.on_train_begin()
    training_logs = {}
    for epoch, logs in enumerate(epoch_logs):
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        callbacks.on_epoch_begin(epoch)
        for step in range(steps or 4):  # steps=None: length unknown
            callbacks.on_train_batch_begin(step)
            model.weights = [np.full(2, epoch + 1.0), np.array(epoch + 1.0)]
            callbacks.on_train_batch_end(step, train)
            if model.stop_training:
                break
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        if val:
            callbacks.on_test_begin()
            for step in range(val_steps):
                callbacks.on_test_batch_begin(step)
                callbacks.on_test_batch_end(step, val)
            callbacks.on_test_end(val)
        training_logs = dict(train, **{f"val_{k}": v for k, v in val.items()})
        callbacks.on_epoch_end(epoch, training_logs)
        if model.stop_training:
            break
    callbacks.on_train_end(training_logs)
    return model.history


def losses(*val_losses):
    return [{"loss": 1.0 / (i + 1), "val_loss": v}
            for i, v in enumerate(val_losses)]


# ---------------------------------------------------------------- History


def test_history_records_every_epoch_with_sorted_keys():
    logs = [{"loss": 0.5, "accuracy": 0.6, "val_loss": 0.7,
             "val_accuracy": np.float32(0.5)},
            {"loss": 0.4, "accuracy": 0.7, "val_loss": 0.6,
             "val_accuracy": np.float32(0.625)}]
    model = FakeModel()
    history = fit(mlcore_callbacks, model, logs, steps=4)
    assert model.history is history
    assert history.epoch == [0, 1]
    assert history.params == {"verbose": 0, "epochs": 2, "steps": 4}
    assert list(history.history) == [
        "accuracy", "loss", "val_accuracy", "val_loss"]
    assert history.history["val_accuracy"] == [0.5, 0.625]
    assert all(type(v) is float for v in history.history["val_accuracy"])


def test_history_matches_keras(keras):
    logs = [{"loss": 0.5, "accuracy": 0.6, "val_loss": 0.7}] * 3
    runs = [fit(cb, FakeModel(), logs) for cb in both(keras).values()]
    assert runs[0].history == runs[1].history
    assert runs[0].epoch == runs[1].epoch


def test_callback_list_hook_order_and_keras2_aliases():
    calls = []

    class Recorder(mlcore_callbacks.Callback):
        def __getattribute__(self, name):
            attr = super().__getattribute__(name)
            if name.startswith("on_"):
                calls.append(name)
            return attr

    fit(mlcore_callbacks, FakeModel(), losses(0.5), callbacks=[Recorder()],
        steps=1, val_steps=1)
    assert calls == [
        "on_train_begin", "on_epoch_begin",
        "on_train_batch_begin", "on_batch_begin",
        "on_train_batch_end", "on_batch_end",
        "on_test_begin", "on_test_batch_begin", "on_test_batch_end",
        "on_test_end", "on_epoch_end", "on_train_end",
    ]


def test_callback_list_flattens_and_does_not_duplicate_defaults():
    history = mlcore_callbacks.History()
    model = FakeModel()
    cbs = mlcore_callbacks.CallbackList(
        [[history], mlcore_callbacks.TerminateOnNaN()], add_history=True,
        add_progbar=True, model=model, verbose=1, epochs=1, steps=1)
    assert cbs.callbacks[0] is history and model.history is history
    assert [type(c).__name__ for c in cbs.callbacks] == [
        "History", "TerminateOnNaN", "ProgbarLogger"]
    assert all(c.model is model for c in cbs.callbacks)
    assert all(c.params == {"verbose": 1, "epochs": 1, "steps": 1}
               for c in cbs.callbacks)


# ---------------------------------------------------------- EarlyStopping

EARLY_STOPPING_CASES = [
    (dict(), losses(0.9, 0.8, 0.85, 0.7)),
    (dict(patience=2), losses(0.9, 0.8, 0.85, 0.86, 0.7, 0.6)),
    (dict(patience=2, restore_best_weights=True),
     losses(0.9, 0.5, 0.6, 0.7, 0.4)),
    (dict(patience=1, min_delta=0.1, restore_best_weights=True),
     losses(0.9, 0.85, 0.7, 0.65, 0.64)),
    (dict(patience=2, baseline=0.5, restore_best_weights=True),
     losses(0.9, 0.8, 0.7, 0.6)),
    (dict(patience=1, start_from_epoch=2, restore_best_weights=True),
     losses(0.1, 0.9, 0.8, 0.85, 0.9, 0.1)),
    (dict(monitor="val_accuracy", mode="max", patience=1,
          restore_best_weights=True),
     [{"loss": 1.0, "val_accuracy": a} for a in (0.5, 0.7, 0.6, 0.65, 0.9)]),
    (dict(patience=3, restore_best_weights=True),
     losses(0.5, 0.6, 0.7)),  # never stops: best weights still restored
]


@pytest.mark.parametrize("kwargs,logs", EARLY_STOPPING_CASES)
def test_early_stopping_matches_keras(keras, kwargs, logs):
    outcomes = []
    for cb in both(keras).values():
        model = FakeModel()
        stopper = cb.EarlyStopping(**kwargs)
        history = fit(cb, model, logs, callbacks=[stopper])
        outcomes.append((history.epoch, stopper.stopped_epoch,
                         stopper.best_epoch, model.stop_training,
                         model.weights[1].item()))
    assert outcomes[0] == outcomes[1]


def test_early_stopping_stops_after_patience_and_restores_best():
    model = FakeModel()
    stopper = mlcore_callbacks.EarlyStopping(patience=2,
                                             restore_best_weights=True)
    history = fit(mlcore_callbacks, model, losses(0.9, 0.5, 0.6, 0.7, 0.4),
                  callbacks=[stopper])
    assert history.epoch == [0, 1, 2, 3]
    assert model.stop_training and stopper.stopped_epoch == 3
    assert stopper.best == 0.5 and stopper.best_epoch == 1
    np.testing.assert_array_equal(model.weights[0], [2.0, 2.0])


def test_early_stopping_auto_mode_and_messages(capsys):
    acc = mlcore_callbacks.EarlyStopping(monitor="val_acc", verbose=1,
                                         restore_best_weights=True)
    fit(mlcore_callbacks, FakeModel(),
        [{"loss": 1.0, "val_acc": a} for a in (0.5, 0.7, 0.6)],
        callbacks=[acc])
    assert acc.best == 0.7 and acc.stopped_epoch == 2
    assert capsys.readouterr().out == (
        "Epoch 3: early stopping\n"
        "Restoring model weights from the end of the best epoch: 2.\n")
    unknown = mlcore_callbacks.EarlyStopping(monitor="val_foo")
    with pytest.raises(ValueError, match="maximized or minimized"):
        fit(mlcore_callbacks, FakeModel(), [{"loss": 1.0, "val_foo": 1.0}],
            callbacks=[unknown])
    with pytest.warns(UserWarning, match="not available"):
        fit(mlcore_callbacks, FakeModel(), [{"loss": 1.0}],
            callbacks=[mlcore_callbacks.EarlyStopping()])


# -------------------------------------------------------- ModelCheckpoint


def checkpoint_files(cb, tmp_path, logs, **kwargs):
    model = FakeModel()
    fit(cb, model, logs, callbacks=[cb.ModelCheckpoint(**kwargs)])
    return model.saved, sorted(os.listdir(tmp_path))


def test_model_checkpoint_formats_names_and_saves_best_only(tmp_path):
    path = str(tmp_path / "w.{epoch:02d}-{val_loss:.2f}.weights.h5")
    saved, files = checkpoint_files(
        mlcore_callbacks, tmp_path, losses(0.9, 0.5, 0.6, 0.4),
        filepath=path, save_best_only=True, save_weights_only=True)
    assert saved == files == ["w.01-0.90.weights.h5", "w.02-0.50.weights.h5",
                              "w.04-0.40.weights.h5"]
    assert (tmp_path / files[0]).read_text() == "weights"


@pytest.mark.parametrize("kwargs", [
    dict(filepath="m.{epoch}.keras"),
    dict(filepath="m.keras", save_best_only=True, mode="max"),
    dict(filepath="sub/dir/b{epoch}-{batch}.weights.h5",
         save_weights_only=True, save_freq=2),
    dict(filepath="w.weights.h5", save_weights_only=True,
         save_best_only=True, initial_value_threshold=0.55),
])
def test_model_checkpoint_matches_keras(keras, tmp_path, kwargs):
    results = []
    for name, cb in both(keras).items():
        folder = tmp_path / name
        folder.mkdir()
        args = dict(kwargs, filepath=str(folder / kwargs["filepath"]))
        results.append(checkpoint_files(cb, folder, losses(0.9, 0.5, 0.6),
                                        **args)[0])
    assert results[0] == results[1] and results[0]


def test_model_checkpoint_suffixes_and_messages(tmp_path, capsys):
    ModelCheckpoint = mlcore_callbacks.ModelCheckpoint
    ModelCheckpoint("w.h5", save_weights_only=True)  # mlcore also takes .h5
    ModelCheckpoint("m.h5")
    with pytest.raises(ValueError, match="must end in `.weights.h5`"):
        ModelCheckpoint("w.keras", save_weights_only=True)
    with pytest.raises(ValueError, match="must end in `.keras`"):
        ModelCheckpoint("w.hdf5")
    with pytest.raises(ValueError, match="Unrecognized save_freq"):
        ModelCheckpoint("m.keras", save_freq="batch")
    path = str(tmp_path / "m.keras")
    fit(mlcore_callbacks, FakeModel(), losses(0.9, 0.95),
        callbacks=[ModelCheckpoint(path, save_best_only=True, verbose=1)])
    assert capsys.readouterr().out == (
        f"\nEpoch 1: val_loss improved from None to 0.90000, saving model "
        f"to {path}\n\nEpoch 1: finished saving model to {path}\n"
        "\nEpoch 2: val_loss did not improve from 0.90000\n")


# -------------------------------------------------------------- CSVLogger


def test_csv_logger_content(tmp_path):
    path = tmp_path / "log.csv"
    logs = [{"loss": 0.5, "accuracy": 0.25, "val_loss": 0.75},
            {"loss": 0.25, "accuracy": 0.5, "val_loss": 0.5}]
    fit(mlcore_callbacks, FakeModel(), logs,
        callbacks=[mlcore_callbacks.CSVLogger(path)])
    assert path.read_bytes() == (
        b"epoch,accuracy,loss,val_loss\r\n"
        b"0,0.25,0.5,0.75\r\n1,0.5,0.25,0.5\r\n")
    fit(mlcore_callbacks, FakeModel(), [{"loss": 0.125}],
        callbacks=[mlcore_callbacks.CSVLogger(path, append=True)])
    assert path.read_bytes().endswith(b"1,0.5,0.25,0.5\r\n0,0.125,NA\r\n")


@pytest.mark.parametrize("separator,logs", [
    (",", [{"loss": 0.5, "accuracy": 0.25}] * 2),  # val_ columns added
    (";", [{"loss": 0.5, "val_loss": 0.75, "vec": np.arange(3)}]),
])
def test_csv_logger_matches_keras(keras, tmp_path, separator, logs):
    contents = []
    for name, cb in both(keras).items():
        path = tmp_path / f"{name}.csv"
        fit(cb, FakeModel(), logs,
            callbacks=[cb.CSVLogger(path, separator=separator)])
        contents.append(path.read_bytes())
    assert contents[0] == contents[1]


# ---------------------------------------- learning rate, NaN, lambda hooks


def test_learning_rate_scheduler_sets_and_logs_lr(capsys):
    model = FakeModel()
    scheduler = mlcore_callbacks.LearningRateScheduler(
        lambda epoch, lr: lr * 0.5 if epoch else lr, verbose=1)
    history = fit(mlcore_callbacks, model, losses(0.9, 0.8, 0.7),
                  callbacks=[scheduler])
    assert model.optimizer.learning_rate == 0.025
    assert history.history["learning_rate"] == [0.1, 0.05, 0.025]
    assert "\nEpoch 2: LearningRateScheduler setting learning rate to 0.05." \
        in capsys.readouterr().out
    one_arg = mlcore_callbacks.LearningRateScheduler(lambda e: 1.0 / (e + 1))
    fit(mlcore_callbacks, model, losses(0.9, 0.8), callbacks=[one_arg])
    assert model.optimizer.learning_rate == 0.5
    with pytest.raises(ValueError, match="should be a float"):
        fit(mlcore_callbacks, model, losses(0.9), callbacks=[
            mlcore_callbacks.LearningRateScheduler(lambda e, lr: "fast")])


def test_reduce_lr_on_plateau_matches_keras(keras):
    logs = losses(0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.7)
    runs = []
    for cb in both(keras).values():
        history = fit(cb, FakeModel(), logs, callbacks=[cb.ReduceLROnPlateau(
            factor=0.5, patience=2, cooldown=1, min_lr=0.03)])
        runs.append(history.history["learning_rate"])
    assert runs[0] == runs[1]
    assert runs[0] == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.03, 0.03, 0.03, 0.03]


def test_terminate_on_nan_stops_training(capsys):
    model = FakeModel()
    logs = losses(0.9, 0.8, 0.7)
    logs[1]["loss"] = float("nan")
    history = fit(mlcore_callbacks, model, logs,
                  callbacks=[mlcore_callbacks.TerminateOnNaN()])
    assert model.stop_training and history.epoch == [0, 1]
    assert capsys.readouterr().out == (
        "Batch 0: Invalid loss, terminating training\n")
    logs[1]["loss"] = float("inf")
    with pytest.raises(RuntimeError, match="NaN or Inf loss"):
        fit(mlcore_callbacks, model, logs,
            callbacks=[mlcore_callbacks.TerminateOnNaN(raise_error=True)])


def test_lambda_callback_hooks_are_called():
    calls = []
    hooks = mlcore_callbacks.LambdaCallback(
        on_train_begin=lambda logs: calls.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch", epoch)),
        on_train_batch_end=lambda batch, logs: calls.append(("batch", batch)),
        on_epoch_end=lambda epoch, logs: calls.append(logs["val_loss"]),
        on_train_end=lambda logs: calls.append("train_end"),
        on_test_end=lambda logs: calls.append(("test", logs["loss"])),
    )
    fit(mlcore_callbacks, FakeModel(), losses(0.5, 0.25), callbacks=[hooks],
        steps=2)
    assert calls == [
        "train_begin", ("epoch", 0), ("batch", 0), ("batch", 1),
        ("test", 0.5), 0.5, ("epoch", 1), ("batch", 0), ("batch", 1),
        ("test", 0.25), 0.25, "train_end"]


# ---------------------------------------------------------------- Progbar


@contextlib.contextmanager
def fake_clock(step):
    """time.time() advancing by `step` per call: both bars read equal times."""
    ticks = itertools.count()
    real = time.time
    time.time = lambda: 1_000_000.0 + step * next(ticks)
    try:
        yield
    finally:
        time.time = real


def printed(action):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        action()
    return out.getvalue()


def drive(progbar_class, script, **kwargs):
    def action():
        bar = progbar_class(**kwargs)
        for method, args in script:
            getattr(bar, method)(*args)
    return printed(action)


TRAIN = [("update", (i, [("accuracy", 0.5), ("loss", 1 / i)]))
         for i in range(1, 11)]
SCRIPTS = {
    "train": TRAIN,
    "tiny_and_negative": [("update", (i, [("loss", 1e-5 * i), ("x", -i)]))
                          for i in range(1, 6)],
    "add": [("add", (3, [("loss", 0.3)])), ("add", (7, [("loss", 0.1)]))],
    "unknown_length": [("update", (i, [("loss", 0.1 * i)]))
                       for i in range(1, 5)]
    + [("update", (4, [("loss", 0.4)], True))],
}
BARS = [dict(target=10), dict(target=10, verbose=2), dict(target=None),
        dict(target=10, stateful_metrics=["loss"]),
        dict(target=10, stateless_metrics=[]),
        dict(target=1000, width=30, unit_name="sample")]


@pytest.mark.parametrize("seconds_per_call", [1e-7, 0.003, 0.3, 90, 5000])
@pytest.mark.parametrize("script", list(SCRIPTS))
def test_progbar_output_is_keras_output(keras, script, seconds_per_call):
    for kwargs in BARS:
        outputs = []
        for progbar_class in (keras.utils.Progbar, Progbar):
            with fake_clock(seconds_per_call):
                outputs.append(drive(progbar_class, SCRIPTS[script],
                                     **kwargs))
        assert outputs[0] == outputs[1], kwargs


def mask_timing(text):
    """Timings, and the widths that depend on them, replaced by fixed text."""
    for pattern, replacement in [
        (r"\d+(ms|us|s)/step", "T/step"),  # time per step
        (r"\x1b\[1m[\d:]+s?\x1b\[0m", "ETA"),  # bar: ETA or elapsed
        (r" - \d+s - ", " - Ts - "),  # verbose=2: elapsed
        (r"\x08+", "\x08"),  # backspaces over the previous bar
        (r" +(?=[\x08\n]|$)", ""),  # padding over the previous bar
    ]:
        text = re.sub(pattern, replacement, text)
    return text


@pytest.mark.parametrize("verbose", [1, 2])
def test_progbar_real_clock_matches_keras_up_to_timings(keras, verbose):
    outputs = [mask_timing(drive(cls, TRAIN, target=10, verbose=verbose,
                                 interval=3600))
               for cls in (keras.utils.Progbar, Progbar)]
    assert outputs[0] == outputs[1]


def plain(text):
    """The last redraw of a bar, without colours and backspaces."""
    return re.sub(r"\x1b\[\d+m", "", text.split("\r")[-1]).rstrip("\b")


def test_progbar_formats():
    with fake_clock(0.003):
        line = drive(Progbar, TRAIN, target=10, verbose=2)
    # The finalizing update's values replace the running averages.
    assert line == "10/10 - 0s - 3ms/step - accuracy: 0.5000 - loss: 0.1000\n"
    with fake_clock(0.003):
        bar = drive(Progbar, TRAIN, target=10)
    assert plain(bar) == ("10/10 ━━━━━━━━━━━━━━━━━━━━ 0s 3ms/step"
                          " - accuracy: 0.5000 - loss: 0.1000\n")
    with fake_clock(0.003):
        bar = drive(Progbar, TRAIN[:4], target=10, interval=0)
    # Mid-epoch: averages over the steps seen (1, 1/2, 1/3, 1/4), an ETA.
    assert plain(bar) == (" 4/10 ━━━━━━━━━━━━━━━━━━━━ 0s 3ms/step"
                          " - accuracy: 0.5000 - loss: 0.5208")
    assert "\x1b[32m━━━━━━━━\x1b[0m\x1b[37m━━━━━━━━━━━━" in bar
    with fake_clock(100):
        eta = drive(Progbar, [("update", (1,)), ("update", (2,))], target=100)
    assert plain(eta) == "  2/100 ━━━━━━━━━━━━━━━━━━━━ 2:43:20 100s/step"
    assert drive(Progbar, TRAIN, target=10, verbose=0) == ""


def test_progbar_falls_back_to_ascii_bar_on_narrow_consoles():
    out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    with contextlib.redirect_stdout(out):
        Progbar(2).update(2)
    out.seek(0)
    assert "====================" in out.read()


# --------------------------------------------------------- ProgbarLogger


def logged(cb, verbose, epochs=2, steps=3, run="fit"):
    """What ProgbarLogger prints for a fit, evaluate or predict run."""
    logs = [{"loss": 0.5 / (e + 1), "accuracy": 0.25, "val_loss": 0.75}
            for e in range(epochs)]
    # Batch-end hooks keep Keras's dispatch synchronous (deterministic).
    noop = lambda batch, logs=None: None  # noqa: E731
    sync = cb.LambdaCallback(on_train_batch_end=noop, on_test_batch_end=noop,
                             on_predict_batch_end=noop)

    def action():
        if run == "fit":
            fit(cb, FakeModel(), logs, callbacks=[sync], steps=steps,
                verbose=verbose)
            return
        hooks = cb.CallbackList([sync], add_progbar=True, model=FakeModel(),
                                verbose=verbose, epochs=1, steps=steps)
        getattr(hooks, f"on_{run}_begin")()
        for step in range(steps or 4):
            getattr(hooks, f"on_{run}_batch_begin")(step)
            getattr(hooks, f"on_{run}_batch_end")(step, {"loss": 0.5})
        getattr(hooks, f"on_{run}_end")({"loss": 0.5, "accuracy": 0.75})

    with fake_clock(0.01):
        return printed(action)


@pytest.mark.parametrize("verbose", [1, 2, "auto"])
@pytest.mark.parametrize("run,epochs,steps", [
    ("fit", 2, 3), ("fit", 1, 3), ("fit", 2, None),
    ("test", 1, 3), ("predict", 1, 3), ("predict", 1, None)])
def test_progbar_logger_matches_keras(keras, verbose, run, epochs, steps):
    expected = logged(keras.callbacks, verbose, epochs, steps, run)
    assert logged(mlcore_callbacks, verbose, epochs, steps, run) == expected


def test_progbar_logger_prints_epoch_headers_and_summary_lines():
    out = logged(mlcore_callbacks, verbose=2)
    assert out == (
        "Epoch 1/2\n"
        "3/3 - 0s - 3ms/step - accuracy: 0.2500 - loss: 0.5000"
        " - val_loss: 0.7500\n"
        "Epoch 2/2\n"
        "3/3 - 0s - 3ms/step - accuracy: 0.2500 - loss: 0.2500"
        " - val_loss: 0.7500\n")
    assert not logged(mlcore_callbacks, verbose=2, epochs=1).startswith(
        "Epoch")


def test_unknown_mode_warns_and_keras1_epsilon_alias():
    with pytest.warns(UserWarning, match="mode 'up' is unknown"):
        stopper = mlcore_callbacks.EarlyStopping(mode="up")
    assert stopper.mode == "auto"
    with pytest.warns(UserWarning, match="`epsilon` argument is deprecated"):
        reducer = mlcore_callbacks.ReduceLROnPlateau(epsilon=0.5)
    assert reducer.min_delta == 0.5
    with pytest.raises(TypeError, match="cooldwn"):
        mlcore_callbacks.ReduceLROnPlateau(cooldwn=2)

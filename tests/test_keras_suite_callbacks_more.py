"""Callbacks beside Keras 3's own, on the same weights and data: learning-rate callbacks and
SwapEMAWeights with a MultiOptimizer (each inner optimizer's rate set, logged as
learning_rate_<name>, and its averages swapped) and inside a LossScaleOptimizer, MonitorCallback's
monitor_op (Keras's ops.less / ops.greater), BackupAndRestore's batch count with
steps_per_execution and its fallback to the previous backup, and the messages that go to the
logger when interactive logging is off.  What Keras's callback tests found (see docs/KERAS_SUITE.md)."""
import json
import logging

import numpy as np
import pytest

import mlcore as mk

pytestmark = pytest.mark.usefixtures("numpy_backend")

_rng = np.random.default_rng(11)
X = _rng.normal(size=(16, 3)).astype("float32")
Y = X @ np.array([[1.0], [-2.0], [0.5]], "float32")
WEIGHTS = [_rng.normal(size=shape).astype("float32") * 0.3 for shape in [(3, 4), (4,), (4, 1), (1,)]]


def _model(lib, optimizer, steps_per_execution=1):
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(4, name="encoder"), lib.layers.Dense(1, name="head")])
    model.set_weights(WEIGHTS)
    model.compile(optimizer=optimizer, loss="mse", steps_per_execution=steps_per_execution)
    return model


def _multi(lib, ema=False, loss_scale=False):
    """Adam for the encoder, SGD (with moving averages if ema) for the head."""
    optimizer = lib.optimizers.MultiOptimizer(lib.optimizers.OptimizerMap(
        lib.optimizers.SGD(0.1, name="sgd_head", use_ema=ema, ema_momentum=0.5),
        {"encoder/.*": lib.optimizers.Adam(0.01, name="adam_encoder")}))
    return lib.optimizers.LossScaleOptimizer(optimizer) if loss_scale else optimizer


def _fit(lib, make_optimizer, make_callback, epochs=4):
    """A fit of lib's model; the optimizer and the callback are made for lib by the functions given."""
    model = _model(lib, make_optimizer(lib))
    history = model.fit(X, Y, batch_size=4, epochs=epochs, shuffle=False, verbose=0, validation_data=(X, Y),
                        callbacks=[make_callback(lib)])
    return model, history.history


def _assert_same_runs(keras_run, run):
    (keras_model, keras_history), (model, history) = keras_run, run
    assert sorted(history) == sorted(keras_history)
    for key in keras_history:
        np.testing.assert_allclose(history[key], keras_history[key], rtol=1e-5, err_msg=key)
    for got, expected in zip(model.get_weights(), keras_model.get_weights()):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def _both(keras, capsys, *args, **kwargs):
    """The same run with Keras's callbacks and mlcore's, and what each printed."""
    keras_run = _fit(keras, *args, **kwargs)
    keras_printed = capsys.readouterr().out
    run = _fit(mk, *args, **kwargs)
    assert capsys.readouterr().out == keras_printed
    _assert_same_runs(keras_run, run)
    return run[1], keras_printed


def test_learning_rate_scheduler_sets_and_logs_each_inner_rate(keras, capsys):
    history, printed = _both(keras, capsys, _multi,
                             lambda lib: lib.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5, verbose=1))
    np.testing.assert_allclose(history["learning_rate_adam_encoder"], [0.005, 0.0025, 0.00125, 0.000625])
    np.testing.assert_allclose(history["learning_rate_sgd_head"], [0.05, 0.025, 0.0125, 0.00625])
    assert "\nEpoch 4: LearningRateScheduler setting sgd_head learning rate to 0.00625" in printed


def test_reduce_lr_on_plateau_reduces_each_inner_rate_down_to_min_lr(keras, capsys):
    """Adam stops at min_lr while SGD goes on; a reduction of either starts the cooldown."""
    history, printed = _both(keras, capsys, _multi,
                             lambda lib: lib.callbacks.ReduceLROnPlateau(
                                 "loss", factor=0.5, patience=1, min_delta=10, min_lr=0.004, verbose=1), epochs=6)
    np.testing.assert_allclose(history["learning_rate_adam_encoder"], [0.01, 0.01, 0.005, 0.004, 0.004, 0.004])
    np.testing.assert_allclose(history["learning_rate_sgd_head"], [0.1, 0.1, 0.05, 0.025, 0.0125, 0.00625])
    assert "\nEpoch 2: ReduceLROnPlateau reducing adam_encoder learning rate to 0.00499" in printed


def test_learning_rate_scheduler_refuses_a_multi_optimizer_inside_a_loss_scale_optimizer(keras):
    """Keras looks for inner optimizers on the model's optimizer only: the wrapper's rate is the MultiOptimizer's."""
    for lib in (keras, mk):
        with pytest.raises(ValueError, match='Optimizer must have a "learning_rate" attribute.'):
            _fit(lib, lambda lib: _multi(lib, loss_scale=True),
                 lambda lib: lib.callbacks.LearningRateScheduler(lambda epoch, lr: lr))


@pytest.mark.parametrize("swap_on_epoch", [False, True])
@pytest.mark.parametrize("loss_scale", [False, True])
def test_swap_ema_weights_swaps_the_inner_optimizers_with_use_ema(keras, capsys, swap_on_epoch, loss_scale):
    """Validation with the head's moving averages (the encoder's Adam keeps none); fit ends on them."""
    history, _ = _both(keras, capsys, lambda lib: _multi(lib, ema=True, loss_scale=loss_scale),
                       lambda lib: lib.callbacks.SwapEMAWeights(swap_on_epoch))
    assert history["val_loss"][-1] < history["val_loss"][0]


def test_swap_ema_weights_looks_inside_a_loss_scale_optimizer(keras, capsys):
    _both(keras, capsys, lambda lib: lib.optimizers.LossScaleOptimizer(lib.optimizers.SGD(0.1, use_ema=True)),
          lambda lib: lib.callbacks.SwapEMAWeights())


def test_swap_ema_weights_needs_an_inner_optimizer_with_use_ema(keras):
    messages = []
    for lib in (keras, mk):
        with pytest.raises(ValueError) as error:
            _fit(lib, _multi, lambda lib: lib.callbacks.SwapEMAWeights())
        messages.append(str(error.value))
    assert messages[0] == messages[1]
    assert "Received a MultiOptimizer with all inner optimizers having `use_ema=False`." in messages[1]


_MONITORS = [("max", "val_mse"), ("min", "val_loss"), ("auto", "val_mse"), ("auto", "loss"), ("auto", "acc"),
             ("auto", "val_accuracy"), ("auto", "hinge"), ("auto", "f1_score")]


def test_monitor_op_is_ops_less_or_ops_greater(keras):
    """As Keras's own test reads it: the direction of each metric, as the ops function Keras holds."""
    directions = []
    for lib in (keras, mk):
        model = _model(lib, "adam")
        model.compile(loss="mae", optimizer="adam",
                      metrics=["mse", "acc", "accuracy", "hinge", lib.metrics.F1Score(name="f1_score")])
        stoppers = [lib.callbacks.EarlyStopping(monitor, mode=mode, patience=10) for mode, monitor in _MONITORS]
        model.fit(X, Y, batch_size=8, epochs=1, verbose=0, validation_data=(X, Y), callbacks=stoppers)
        assert all(stopper.monitor_op in (lib.ops.less, lib.ops.greater) for stopper in stoppers)
        directions.append([stopper.monitor_op is lib.ops.greater for stopper in stoppers])
    assert directions[1] == directions[0] == [True, False, False, False, True, True, False, True]


def test_min_delta_counts_against_an_improvement(keras):
    """EarlyStopping's comparisons in "max" mode with min_delta=0.5 (Keras's test_min_delta's numbers)."""
    comparisons = []
    for lib in (keras, mk):
        stopper = lib.callbacks.EarlyStopping(mode="max", min_delta=0.5)
        stopper._set_monitor_op()
        comparisons.append([bool(stopper._is_improvement(value, best))
                            for value, best in [(0.75, 0), (0.5, None), (0.5, 0), (0.2, 0.5)]])
    assert comparisons[1] == comparisons[0] == [True, True, False, False]


def _interrupt(lib, hook, calls):
    """A callback of lib's that raises at the calls-th call of hook ("on_train_batch_end", ...)."""
    seen = []

    def count(*args, **kwargs):
        seen.append(args)
        if len(seen) == calls:
            raise RuntimeError("interrupted")
    return lib.callbacks.LambdaCallback(**{hook: count})


@pytest.mark.parametrize("steps_per_execution, save_freq, saved", [
    (1, 2, {"epoch": 0, "batch": 3}), (2, 2, {"epoch": 0, "batch": 7}), (2, 3, {"epoch": 0, "batch": 7}),
    (3, 2, {"epoch": 1, "batch": 5})])
def test_backup_and_restore_counts_batches_with_steps_per_execution(keras, tmp_path, steps_per_execution,
                                                                    save_freq, saved):
    """Interrupted at the 5th batch-end call (16 samples in batches of 2: 8 batches an epoch, one call per
    steps_per_execution of them), the backup holds the same epoch, batch and weights as Keras's, and a
    new fit resumed from it ends where Keras's does (from the start of the epoch saved: Keras does not
    use the batch)."""
    runs = []
    for lib in (keras, mk):
        backup_dir = tmp_path / lib.__name__
        backup = lib.callbacks.BackupAndRestore(str(backup_dir), save_freq=save_freq)
        model = _model(lib, lib.optimizers.SGD(0.05, momentum=0.9), steps_per_execution)
        with pytest.raises(RuntimeError, match="interrupted"):
            model.fit(X, Y, batch_size=2, epochs=3, shuffle=False, verbose=0,
                      callbacks=[backup, _interrupt(lib, "on_train_batch_end", 5)])
        metadata = json.loads((backup_dir / "training_metadata.json").read_text())
        resumed = _model(lib, lib.optimizers.SGD(0.05, momentum=0.9), steps_per_execution)
        history = resumed.fit(X, Y, batch_size=2, epochs=3, shuffle=False, verbose=0,
                              callbacks=[lib.callbacks.BackupAndRestore(str(backup_dir), save_freq=save_freq)])
        runs.append((metadata, backup._last_batch_seen, history.epoch, resumed.get_weights()))
    (*keras_counts, keras_weights), (*counts, weights) = runs
    assert counts == keras_counts and counts[0] == saved
    for got, expected in zip(weights, keras_weights):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_backup_and_restore_falls_back_to_the_previous_backup(keras, tmp_path):
    """latest.weights.h5 cut short: the .bkp files take its place on disk and training resumes from their
    epoch (the loaders' error for an unreadable file is an OSError in both libraries)."""
    runs = []
    for lib in (keras, mk):
        backup_dir = tmp_path / lib.__name__
        model = _model(lib, lib.optimizers.SGD(0.05, momentum=0.9))
        with pytest.raises(RuntimeError, match="interrupted"):
            model.fit(X, Y, batch_size=4, epochs=5, shuffle=False, verbose=0, callbacks=[
                lib.callbacks.BackupAndRestore(str(backup_dir), double_checkpoint=True),
                _interrupt(lib, "on_epoch_end", 3)])
        (backup_dir / "latest.weights.h5").write_text("0")
        resumed = _model(lib, lib.optimizers.SGD(0.05, momentum=0.9))
        history = resumed.fit(X, Y, batch_size=4, epochs=5, shuffle=False, verbose=0, callbacks=[
            lib.callbacks.BackupAndRestore(str(backup_dir), double_checkpoint=True, delete_checkpoint=False)])
        metadata = json.loads((backup_dir / "training_metadata.json").read_text())
        runs.append((history.epoch, metadata, resumed.get_weights()))
    (keras_epochs, keras_metadata, keras_weights), (epochs, metadata, weights) = runs
    assert epochs == keras_epochs == [2, 3, 4]      # from the previous backup (2 epochs done), not the latest (3)
    assert metadata == keras_metadata == {"epoch": 5, "batch": 0}
    for got, expected in zip(weights, keras_weights):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


@pytest.fixture
def non_interactive(keras):
    """Interactive logging off in Keras (its messages go to absl's logger, at INFO) and in mlcore."""
    from absl import logging as absl_logging
    verbosity = absl_logging.get_verbosity()
    absl_logging.set_verbosity(absl_logging.INFO)
    for config in (keras.config, mk.config):
        config.disable_interactive_logging()
    yield
    for config in (keras.config, mk.config):
        config.enable_interactive_logging()
    absl_logging.set_verbosity(verbosity)


@pytest.mark.parametrize("callback, expected", [
    (lambda lib: lib.callbacks.LearningRateScheduler(lambda epoch: 0.1 / (1.0 + epoch), verbose=1),
     "\nEpoch 2: LearningRateScheduler setting learning rate to 0.05."),
    (lambda lib: lib.callbacks.ReduceLROnPlateau(patience=1, min_delta=100, verbose=1),
     "\nEpoch 2: ReduceLROnPlateau reducing learning rate to 0.010000000149011612.")])
def test_callback_messages_go_to_the_logger_when_not_interactive(keras, non_interactive, caplog, callback, expected):
    logged = []
    for lib in (keras, mk):
        caplog.clear()
        with caplog.at_level(logging.INFO):
            _fit(lib, lambda lib: lib.optimizers.SGD(0.1), callback, epochs=2)
        logged.append([record.getMessage() for record in caplog.records if "Epoch" in record.getMessage()])
    assert logged[1] == logged[0] and expected in logged[1]

"""ModelCheckpoint: save the model or its weights during training."""
import os
import warnings

import numpy as np

from mlcore.callbacks.monitor_callback import MonitorCallback
from mlcore.utils.progbar import print_msg


def check_save_freq(save_freq):
    """Keras's error for a save_freq that is neither "epoch" nor an int."""
    if save_freq != "epoch" and not isinstance(save_freq, int):
        raise ValueError(
            f"Unrecognized save_freq: {save_freq}. "
            "Expected save_freq are 'epoch' or integer values"
        )


def batches_run(last_batch_seen, batch):
    """Batches run since batch index `last_batch_seen` up to `batch`; the
    indices restart at 0 each epoch (and with steps_per_execution a hook
    may see only every n-th batch)."""
    if last_batch_seen is None or batch <= last_batch_seen:
        return batch + 1
    return batch - last_batch_seen


class ModelCheckpoint(MonitorCallback):
    """Saves the model (or only its weights) each epoch or every N batches.

    Args:
        filepath: where to save; formatted with `epoch` (1-based), `batch`
            (1-based, with an integer `save_freq`) and the log keys, e.g.
            "w.{epoch:02d}-{val_loss:.2f}.weights.h5".
        monitor: the log key that decides what "best" is.
        verbose: 1 prints a line per decision.
        save_best_only: only save when `monitor` improved.
        save_weights_only: `model.save_weights` (path must end in
            ".weights.h5", or ".h5" in mlcore) instead of `model.save`
            (".keras" or ".h5").
        mode: "auto", "min" or "max".
        save_freq: "epoch", or an integer number of batches.
        initial_value_threshold: the value to beat for the first save.
    """

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
        save_freq="epoch",
        initial_value_threshold=None,
    ):
        super().__init__(monitor, mode, initial_value_threshold)
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = None
        self._current_epoch = 0
        check_save_freq(save_freq)
        if save_weights_only:
            if not self.filepath.endswith(".h5"):
                raise ValueError(
                    "When using `save_weights_only=True` in "
                    "`ModelCheckpoint`, the filepath provided must end in "
                    "`.weights.h5` (Keras weights format). "
                    f"Received: filepath={self.filepath}"
                )
        elif not self.filepath.endswith((".keras", ".h5")):
            raise ValueError(
                "The filepath provided must end in `.keras` "
                f"(Keras model format). Received: filepath={self.filepath}"
            )

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _should_save_on_batch(self, batch):
        """Counts batches across epochs (batch indices restart at 0)."""
        if self.save_freq == "epoch":
            return False
        self._batches_seen_since_last_saving += batches_run(
            self._last_batch_seen, batch
        )
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _should_save_model(self, epoch, logs, filepath):
        if not self.save_best_only:
            if self.verbose > 0:
                print_msg(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(
                f"Can save best model only with {self.monitor} available.",
                stacklevel=3,
            )
            return True
        if np.ndim(current) > 0:
            warnings.warn(
                "Can save best model only when `monitor` is a scalar value. "
                f"Received: {current}. "
                "Falling back to `save_best_only=False`.",
                stacklevel=3,
            )
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        best = "None" if self.best is None else f"{self.best:.5f}"
        if not self._is_improvement(current, self.best):
            if self.verbose > 0:
                print_msg(
                    f"\nEpoch {epoch + 1}: {self.monitor} did not improve "
                    f"from {best}"
                )
            return False
        if self.verbose > 0:
            print_msg(
                f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} "
                f"to {current:.5f}, saving model to {filepath}"
            )
        self.best = current
        return True

    def _save_model(self, epoch, batch, logs):
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise IOError(
                "Please specify a non-directory filepath for "
                "ModelCheckpoint. Filepath used is an existing directory: "
                f"{filepath}"
            )
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath)
        else:
            self.model.save(filepath)
        if self.verbose > 0:
            print_msg(
                f"\nEpoch {epoch + 1}: finished saving model to {filepath}"
            )

    def _get_file_path(self, epoch, batch, logs):
        logs = logs or {}
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(
                epoch=epoch + 1, batch=batch + 1, **logs
            )
        except KeyError as e:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}".'
                f" Reason: {e}"
            )

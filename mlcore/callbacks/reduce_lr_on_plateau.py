"""ReduceLROnPlateau: lower the learning rate when a metric stalls."""
import warnings

import numpy as np

from mlcore.callbacks.learning_rate_scheduler import (
    log_learning_rates, named_rate, rated_optimizers)
from mlcore.callbacks.monitor_callback import MonitorCallback
from mlcore.utils.progbar import print_msg


class ReduceLROnPlateau(MonitorCallback):
    """Multiplies the learning rate (each inner optimizer's of a
    MultiOptimizer) by `factor` after `patience` epochs without
    improvement, then waits `cooldown` epochs before watching again.

    Args:
        monitor: the log key to watch.
        factor: the multiplier, < 1.
        patience: epochs without improvement before reducing.
        verbose: 1 prints each reduction.
        mode: "auto", "min" or "max".
        min_delta: smaller changes do not count as improvement
            (Keras 1/2's `epsilon` is accepted as an alias).
        cooldown: epochs after a reduction during which none happens.
        min_lr: the rate is never set below this.
    """

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
        **kwargs,
    ):
        if "epsilon" in kwargs:
            warnings.warn(
                "`epsilon` argument is deprecated, use `min_delta` instead.",
                stacklevel=2,
            )
            min_delta = kwargs.pop("epsilon")
        if kwargs:
            raise TypeError(f"Unexpected keyword arguments: {list(kwargs)}")
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(
                "ReduceLROnPlateau does not support a factor >= 1.0. "
                f"Received factor={factor}"
            )
        self.factor = factor
        self.min_lr = min_lr
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        log_learning_rates(self.model.optimizer, logs)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                "Learning rate reduction is conditioned on metric "
                f"`{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs)}.",
                stacklevel=2,
            )
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                reduced = [self._reduce_lr(name, optimizer, epoch) for name, optimizer
                           in rated_optimizers(self.model.optimizer)]
                if any(reduced):
                    self.cooldown_counter = self.cooldown
                    self.wait = 0

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _reduce_lr(self, name, optimizer, epoch):
        """Lowers the rate unless already at `min_lr`; True if it did."""
        old_lr = float(np.asarray(optimizer.learning_rate))
        if old_lr <= np.float32(self.min_lr):
            return False
        new_lr = max(old_lr * self.factor, self.min_lr)
        optimizer.learning_rate = new_lr
        if self.verbose > 0:
            print_msg(
                f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing "
                f"{named_rate(name)} to {new_lr}."
            )
        return True

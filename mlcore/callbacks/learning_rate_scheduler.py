"""LearningRateScheduler: set the learning rate from a function of the epoch."""
import numpy as np

from mlcore.callbacks.callback import Callback
from mlcore.utils.progbar import print_msg


def rated_optimizers(optimizer):
    """(name, optimizer) for each learning rate a callback sets: a MultiOptimizer (it has
    `.optimizers`) has no rate of its own, so, as Keras, each inner optimizer's under its name;
    any other optimizer's own under None."""
    if hasattr(optimizer, "optimizers"):
        return [(inner.name, inner) for inner in optimizer.optimizers]
    return [(None, optimizer)]


def named_rate(name):
    """"learning rate" in a callback's message, preceded by the inner optimizer's name if any."""
    return f"{name} learning rate" if name else "learning rate"


def log_learning_rates(optimizer, logs):
    """Keras's log keys: `learning_rate`, or `learning_rate_<name>` for each
    inner optimizer of a MultiOptimizer (so History and CSVLogger record
    the rates of each epoch)."""
    for name, inner in rated_optimizers(optimizer):
        key = f"learning_rate_{name}" if name else "learning_rate"
        logs[key] = float(np.asarray(inner.learning_rate))


class LearningRateScheduler(Callback):
    """Before each epoch, sets `optimizer.learning_rate = schedule(epoch, lr)`
    (each inner optimizer's of a MultiOptimizer, from its own rate).

    Args:
        schedule: `f(epoch, lr) -> float` (0-based epoch, current rate); a
            one-argument `f(epoch)` (Keras 1/2 style) also works.
        verbose: 1 prints the new rate each epoch.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def _update_rate(self, optimizer, epoch):
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        try:
            learning_rate = self.schedule(
                epoch, float(np.asarray(optimizer.learning_rate))
            )
        except TypeError:  # a one-argument schedule
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError(
                "The output of the `schedule` function should be a float. "
                f"Got: {learning_rate}"
            )
        optimizer.learning_rate = learning_rate
        return learning_rate

    def on_epoch_begin(self, epoch, logs=None):
        for name, optimizer in rated_optimizers(self.model.optimizer):
            learning_rate = self._update_rate(optimizer, epoch)
            if self.verbose > 0:
                print_msg(
                    f"\nEpoch {epoch + 1}: LearningRateScheduler setting "
                    f"{named_rate(name)} to {learning_rate}."
                )

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            log_learning_rates(self.model.optimizer, logs)

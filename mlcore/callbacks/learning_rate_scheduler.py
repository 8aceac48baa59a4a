"""LearningRateScheduler: set the learning rate from a function of the epoch."""
import numpy as np

from mlcore.callbacks.callback import Callback
from mlcore.utils.progbar import print_msg


class LearningRateScheduler(Callback):
    """Before each epoch, sets `optimizer.learning_rate = schedule(epoch, lr)`.

    Args:
        schedule: `f(epoch, lr) -> float` (0-based epoch, current rate); a
            one-argument `f(epoch)` (Keras 1/2 style) also works.
        verbose: 1 prints the new rate each epoch.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
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
        if self.verbose > 0:
            print_msg(
                f"\nEpoch {epoch + 1}: LearningRateScheduler setting "
                f"learning rate to {learning_rate}."
            )

    def on_epoch_end(self, epoch, logs=None):
        # Logged so History and CSVLogger record the rate of each epoch.
        if logs is not None:
            logs["learning_rate"] = float(
                np.asarray(self.model.optimizer.learning_rate)
            )

"""History: the per-epoch record that `fit` returns."""
from mlcore.callbacks.callback import Callback


class History(Callback):
    """Records each epoch's logs.

    `history` maps each log key ("loss", "val_accuracy", ...) to a list with
    one value per epoch; `epoch` lists the epoch indices; `params` is the
    loop's params dict.
    """

    def __init__(self):
        super().__init__()
        self.history = {}

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        # Re-attached each epoch so model.history is current mid-training.
        self.model.history = self

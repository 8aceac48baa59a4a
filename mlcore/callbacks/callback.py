"""The hooks a training, evaluation or prediction loop calls (Keras 3's API)."""


class Callback:
    """Base class: override the hooks for the stages you care about.

    Attributes:
        model: the model being trained, set by `set_model`.
        params: dict of loop parameters (`verbose`, `epochs`, `steps`), set
            by `set_params`.

    `logs` holds the metrics so far (`{"loss": 0.2, "accuracy": 0.7}`; the
    epoch-end logs add validation results as `val_loss`, ...).
    `on_batch_begin`/`on_batch_end` are Keras 2's names for the train-batch
    hooks: by default `on_train_batch_*` calls them.
    """

    def __init__(self):
        self.params = None
        self.model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self.model = model

    def on_batch_begin(self, batch, logs=None):
        """Keras 2 alias of `on_train_batch_begin`."""

    def on_batch_end(self, batch, logs=None):
        """Keras 2 alias of `on_train_batch_end`."""

    def on_epoch_begin(self, epoch, logs=None):
        """Start of training epoch `epoch` (0-based)."""

    def on_epoch_end(self, epoch, logs=None):
        """End of a training epoch; `logs` has train and `val_` metrics."""

    def on_train_batch_begin(self, batch, logs=None):
        """Start of a training batch (`batch` is 0-based within the epoch)."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        """End of a training batch; `logs` aggregates the epoch so far."""
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Start of an evaluate (or validation) batch."""

    def on_test_batch_end(self, batch, logs=None):
        """End of an evaluate (or validation) batch."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Start of a predict batch."""

    def on_predict_batch_end(self, batch, logs=None):
        """End of a predict batch; `logs` has the batch's `outputs`."""

    def on_train_begin(self, logs=None):
        """Start of `fit`."""

    def on_train_end(self, logs=None):
        """End of `fit`; `logs` are the last epoch's logs."""

    def on_test_begin(self, logs=None):
        """Start of `evaluate` or of a validation run."""

    def on_test_end(self, logs=None):
        """End of `evaluate` or of a validation run; `logs` has the results."""

    def on_predict_begin(self, logs=None):
        """Start of `predict`."""

    def on_predict_end(self, logs=None):
        """End of `predict`."""

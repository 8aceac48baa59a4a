"""CallbackList: the one object `fit`, `evaluate` and `predict` call."""
from mlcore.callbacks.callback import Callback
from mlcore.callbacks.history import History
from mlcore.callbacks.progbar_logger import ProgbarLogger


def _flatten(callbacks):
    for cb in callbacks:
        if isinstance(cb, (list, tuple)):
            yield from _flatten(cb)
        else:
            yield cb


def pythonify_logs(logs):
    """A new dict with sorted keys, nested dicts merged, numbers as floats.

    Sorting is why Keras shows `accuracy` before `loss`; the fresh dict is
    shared by all callbacks of one hook call (so a callback that adds
    `learning_rate` to it is seen by History).
    """
    result = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, dict):
            result.update(pythonify_logs(value))
            continue
        try:
            value = float(value)
        except (TypeError, ValueError, OverflowError):
            pass
        result[key] = value
    return result


class CallbackList(Callback):
    """Calls every callback's hook in order, with pythonified logs.

    Args:
        callbacks: list of `Callback`s (nested lists are flattened).
        add_history: append a `History` unless one is already there.
        add_progbar: append a `ProgbarLogger` unless one is already there.
        model: the model, passed to each callback (`model.history` is set
            to the History).
        **params: `verbose`, `epochs`, `steps`, passed to each callback's
            `set_params`.
    """

    def __init__(
        self,
        callbacks=None,
        add_history=False,
        add_progbar=False,
        model=None,
        **params,
    ):
        super().__init__()
        self.callbacks = list(_flatten(callbacks or []))
        self._history = next(
            (cb for cb in self.callbacks if isinstance(cb, History)), None
        )
        self._progbar = next(
            (cb for cb in self.callbacks if isinstance(cb, ProgbarLogger)),
            None,
        )
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        self.set_model(model)
        self.set_params(params)

    def set_params(self, params):
        self.params = params
        if params:
            for callback in self.callbacks:
                callback.set_params(params)

    def set_model(self, model):
        if model is None:
            return
        super().set_model(model)
        if self._history:
            model.history = self._history
        for callback in self.callbacks:
            callback.set_model(model)

    def calls_batch_hooks(self, train):
        """Whether any callback does something at the start or end of a train (or test) batch.
        When none does, fit need not fetch each step's statistics before the next step starts
        (Keras 2's CallbackList makes the same check)."""
        hooks = (("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end") if train
                 else ("on_test_batch_begin", "on_test_batch_end"))
        return any(hook in vars(callback) or getattr(type(callback), hook) is not getattr(Callback, hook)
                   for callback in self.callbacks for hook in hooks)

    def _call(self, hook, *args, logs=None):
        logs = pythonify_logs(logs)
        for callback in self.callbacks:
            getattr(callback, hook)(*args, logs)

    def on_batch_begin(self, batch, logs=None):
        self._call("on_batch_begin", batch, logs=logs)

    def on_batch_end(self, batch, logs=None):
        self._call("on_batch_end", batch, logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs=logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs=logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, logs=logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs=logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, logs=logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs=logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs=logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs=logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs=logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs=logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs=logs)

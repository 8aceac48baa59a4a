"""LambdaCallback: a callback made of plain functions."""
from mlcore.callbacks.callback import Callback


class LambdaCallback(Callback):
    """Uses the given functions as hooks, e.g.
    `LambdaCallback(on_epoch_end=lambda epoch, logs: print(logs["loss"]))`.

    The six named hooks are the common ones; any other hook
    (`on_test_end=...`, `on_batch_end=...`) can be passed by name too.
    Each function takes the hook's arguments: `(epoch, logs)`,
    `(batch, logs)` or `(logs)`.
    """

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
        **kwargs,
    ):
        super().__init__()
        hooks = dict(
            kwargs,
            on_epoch_begin=on_epoch_begin,
            on_epoch_end=on_epoch_end,
            on_train_begin=on_train_begin,
            on_train_end=on_train_end,
            on_train_batch_begin=on_train_batch_begin,
            on_train_batch_end=on_train_batch_end,
        )
        for name, function in hooks.items():
            if function is not None:
                setattr(self, name, function)

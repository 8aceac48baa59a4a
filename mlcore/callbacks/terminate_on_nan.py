"""TerminateOnNaN: stop training as soon as the loss is NaN or infinite."""
import numpy as np

from mlcore.callbacks.callback import Callback
from mlcore.utils.progbar import print_msg


class TerminateOnNaN(Callback):
    """Checks each training batch's loss.

    Args:
        raise_error: raise RuntimeError instead of setting
            `model.stop_training` (which still runs `on_train_end`).
    """

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or np.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(
                f"NaN or Inf loss encountered at batch {batch}. "
                f"Loss value: {loss}. Terminating training immediately."
            )
        print_msg(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True

"""Shared logic of callbacks that watch one metric for improvement."""
import warnings

from mlcore import ops
from mlcore.callbacks.callback import Callback

# Name fragments of metrics that improve upwards / downwards, matching the
# direction Keras 3 gives its built-in metrics (`acc` is Keras 1/2's name).
_UP = (
    "acc", "auc", "precision", "recall", "f1_score", "fbeta_score", "iou",
    "r2_score", "cosine_similarity", "correlation", "sensitivity",
    "specificity",
)
_DOWN = (
    "loss", "error", "mse", "mae", "mape", "msle", "crossentropy", "hinge",
    "divergence", "kld", "poisson", "log_cosh", "logcosh", "huber",
)


def _metric_direction(model, name):
    """"up", "down" or None: from the model's metric objects, else the name."""
    for metric in getattr(model, "metrics", None) or ():
        for m in getattr(metric, "metrics", None) or [metric]:
            if getattr(m, "name", None) == name and hasattr(m, "_direction"):
                return m._direction
    if any(fragment in name for fragment in _UP):
        return "up"
    if any(fragment in name for fragment in _DOWN):
        return "down"
    return None


class MonitorCallback(Callback):
    """Compares `logs[monitor]` with the best value so far.

    mode "min"/"max" fixes the direction; "auto" takes it from the metric
    (loss and errors go down, accuracy/AUC/... go up) and raises, as Keras
    does, when it cannot tell.
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None,
                 min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"{type(self).__name__} mode '{mode}' is unknown, "
                "fallback to auto mode.",
                stacklevel=2,
            )
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self):
        if self.mode == "auto":
            name = self.monitor.removeprefix("val_")
            direction = (
                "down" if name == "loss"
                else _metric_direction(self.model, name)
            )
            if direction is None:
                raise ValueError(
                    f"{type(self).__name__} callback received "
                    f"monitor={self.monitor}, but Keras isn't able to "
                    "automatically determine whether that metric should be "
                    "maximized or minimized. Pass `mode='max'` in order to "
                    "monitor based on the highest metric value, or pass "
                    "`mode='min'` in order to use the lowest value."
                )
        else:
            direction = "down" if self.mode == "min" else "up"
        # ops.less / ops.greater, the functions Keras's callbacks hold here
        self.monitor_op = ops.less if direction == "down" else ops.greater
        if self.monitor_op is ops.less:
            self.min_delta *= -1

    def _is_improvement(self, monitor_value, reference_value):
        """Better than `reference_value` by more than `min_delta`."""
        if reference_value is None:
            return True
        return self.monitor_op(monitor_value - self.min_delta,
                               reference_value)

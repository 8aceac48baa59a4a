"""Model.metrics and model.metrics_variables as Keras 3 lists them: a Mean loss tracker ("loss"),
the CompileMetrics that holds compile()'s metrics, and with several outputs one Mean per output
loss ("a_loss").

mlcore adds each step's loss to running sums in Python (models/step_functions.py, StepBuilder.totals);
the loss trackers are Mean metrics whose total and count variables hold those sums, set when the
list is read.  Keras's metrics_names is [m.name for m in model.metrics] (['loss', 'compile_metrics']);
mlcore's stays the logs' keys (['loss', 'mae']), the names evaluate()'s list follows.
"""
import numpy as np

from mlcore.metrics.mean_metrics import Mean
from mlcore.models import custom_loss
from mlcore.models.data_adapters import to_list


class CompileMetrics:
    """Keras's CompileMetrics: compile()'s metrics as one object whose result() is their logs by name."""

    name = "compile_metrics"

    def __init__(self, steps):
        self._steps = steps

    @property
    def metrics(self):
        compiled = self._steps.metrics
        return compiled.metrics if compiled is not None else []

    @property
    def variables(self):
        return [v for metric in self.metrics for v in metric.variables]

    def result(self):
        compiled = self._steps.metrics
        return compiled.logs() if compiled is not None else {}

    def reset_state(self):
        if self._steps.metrics is not None:
            self._steps.metrics.reset()

    def stateless_update_state(self, metric_variables, y_true, y_pred, sample_weight=None):
        """Keras 3's (jax): the new values of self.variables after each metric's update (mlcore/stateless.py)."""
        targets, preds = to_list(y_true), to_list(y_pred)
        new, start = [], 0
        for i, metric, weighted in self._steps.metrics.entries:
            end = start + len(metric.variables)
            new += metric.stateless_update_state(metric_variables[start:end], targets[i], preds[i],
                                                 sample_weight=sample_weight if weighted else None)
            start = end
        return new

    def stateless_result(self, metric_variables):
        """Keras 3's (jax): the metrics' results by name, from these values of self.variables."""
        logs, start = {}, 0
        for metric in self.metrics:
            end = start + len(metric.variables)
            value = metric.stateless_result(metric_variables[start:end])
            logs.update(value if isinstance(value, dict) else {metric.name: value})
            start = end
        return logs

    def __repr__(self):
        return "<CompileMetrics name=compile_metrics>"


class ModelMetrics:
    """Mixed into Model with Trainer: the metrics attributes of a compiled model."""

    @property
    def metrics(self):
        """[Mean loss tracker, CompileMetrics (if compile() got metrics), the metrics an own compute_loss
        updates (models/custom_loss.py), each output's loss tracker]."""
        if not self.compiled:
            return []
        steps = self._steps
        steps.resolve()
        names = ["loss"] + [name for name in steps.totals or {} if name != "loss"]     # those of a built step
        sums = [None if steps.totals is None else steps.totals.get(name, (0.0, 0.0)) for name in names]
        trackers = [self._loss_tracker(name, s) for name, s in zip(names, sums)]
        compiled = [CompileMetrics(steps)] if _has_metrics(steps) else []
        own = custom_loss.held_metrics(self) if steps.own_loss else []
        return trackers[:1] + compiled + own + trackers[1:]

    @property
    def metrics_variables(self):
        return [v for metric in self.metrics for v in metric.variables]

    def _loss_tracker(self, name, sums):
        """The Mean named name (made once per compile), its total and count set to the running sums
        of the built-in steps (sums None: as a custom train_step left them)."""
        trackers = self._steps.__dict__.setdefault("loss_trackers", {})
        if name not in trackers:
            trackers[name] = Mean(name=name)
            if name != "loss":          # Keras's CompileLoss holds the per-output trackers
                for variable in trackers[name].variables:
                    variable.path = "compile_loss/" + variable.path
        tracker = trackers[name]
        for variable, value in zip((tracker.total, tracker.count), sums or ()):
            variable.set_value(np.asarray(value, dtype=variable.dtype))
        return tracker


def _has_metrics(steps):
    """Whether compile() got metrics or weighted_metrics for any output."""
    specs = steps.metric_specs + steps.weighted_specs
    return any(s is not None for spec in specs for s in (spec if isinstance(spec, (list, tuple)) else [spec]))

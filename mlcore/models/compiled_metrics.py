"""The metrics given to compile() (Keras's CompileMetrics): their names in the logs, their updates
inside the train and test step graphs, and their values read back after each step."""
import numpy as np

from mlcore.graph import ops
from mlcore.metrics.base import tracing_updates


class CompiledMetrics:
    """The metric objects of a compiled model, as (output index, metric, weighted) in Keras 3's
    order: every output's metrics, then every output's weighted metrics."""

    def __init__(self, metric_specs, weighted_specs, output_names, loss_fns, y_vars, preds, own_metrics=()):
        """Each metric is renamed to its log key as Keras names it: the output's name in front where
        there are several outputs, a name met again numbered (mae_1), a weighted metric whose name is
        taken prefixed weighted_.  base_names keeps the names before that, which evaluate()'s list
        order depends on.  own_metrics are those the model's own compute_loss updates
        (models/custom_loss.py), logged after compile()'s."""
        from mlcore import metrics as metrics_module
        self.entries, self.base_names, taken = [], [], {}
        for weighted, spec_lists in ((False, metric_specs), (True, weighted_specs)):
            for i, specs in enumerate(spec_lists):
                for spec in (specs if isinstance(specs, (list, tuple)) else [specs]):
                    if spec is None:
                        continue
                    metric = metrics_module.get(spec, loss=loss_fns[i], y_true=y_vars[i], y_pred=preds[i])
                    prefix = output_names[i] + "_" if len(preds) > 1 else ""
                    name = prefix + ("weighted_" if weighted and prefix + metric.name in taken else "") + metric.name
                    taken[name] = taken.get(name, 0) + 1
                    self.base_names.append(metric.name)
                    metric.name = name if taken[name] == 1 else "%s_%d" % (name, taken[name] - 1)
                    self.entries.append((i, metric, weighted))
        self.own_metrics = list(own_metrics)
        self.layout = None      # (log name, shape) of each value, in the order the step returns them
        self.all_scalars = True
        self.reset()            # a metric object given to compile() may have been used on its own before

    @property
    def metrics(self):
        return [metric for _, metric, _ in self.entries]

    def trace(self, y_vars, preds, sample_weights, rows, own_results=()):
        """(updates, values) of one batch: the assignments of every metric's update_state, and in the
        same graph each metric's result() after them (a scalar or an array of static shape), then
        own_results, the (name, value) of the own metrics traced with the model's compute_loss.
        Unweighted metrics take `rows` as their weights (None, or 0 for a padding copy of a row)."""
        with tracing_updates() as state:
            for i, metric, weighted in self.entries:
                metric.update_state(y_vars[i], preds[i], sample_weight=sample_weights[i] if weighted else rows)
            results = [(name, state.current(ops.as_tensor_variable(value)))
                       for metric in self.metrics for name, value in named_results(metric)]
        results += list(own_results)
        unknown = [name for name, value in results if None in value.type.shape]
        if unknown:
            raise ValueError("The result() of metric(s) %s has no static shape; mlcore needs one to log it" % unknown)
        self.layout = [(name, value.type.shape) for name, value in results]
        self.all_scalars = all(value.ndim == 0 for _, value in results)
        return state.updates, [value for _, value in results]

    @property
    def width(self):
        """How many numbers a step returns for the metrics."""
        return sum(int(np.prod(shape)) for _, shape in self.layout or [])

    def reset(self):
        for metric in self.metrics + self.own_metrics:
            metric.reset_state()
        self.values = None      # the values after the last step read, None after a reset

    def read(self, numbers):
        """Take the metric values from a step's outputs (a list of floats): a float per scalar
        result, else an array."""
        if self.all_scalars:
            self.values = numbers
            return
        self.values, start = [], 0
        for _, shape in self.layout:
            size = int(np.prod(shape))
            part = np.asarray(numbers[start:start + size])
            self.values.append(float(part[0]) if shape == () else part.reshape(shape))
            start += size

    def logs(self):
        """The metric values by log name: those read after the last step, or, before any step since
        the last reset, each metric's result() computed now."""
        if self.values is not None:
            return {name: value for (name, _), value in zip(self.layout, self.values)}
        return {name: _as_log_value(value) for metric in self.metrics + self.own_metrics
                for name, value in named_results(metric)}


def named_results(metric):
    """(log name, value) of a metric's result(): one under the metric's name, or a dict's items."""
    value = metric.result()
    return list(value.items()) if isinstance(value, dict) else [(metric.name, value)]


def _as_log_value(value):
    value = np.asarray(value)
    return float(value) if value.ndim == 0 else value

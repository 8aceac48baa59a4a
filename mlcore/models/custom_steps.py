"""fit() and evaluate() with the model's own train_step / test_step, in Keras 3's jax form.

Keras 3 on jax calls `train_step(self, state, data)` with `state`, the values of
(trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables), and expects
`(logs, state)` back, the new values in the same layout; `test_step(self, state, data)` gets and
returns (trainable_variables, non_trainable_variables, metrics_variables).  As Keras's jax trainer
does, the step runs under jax.jit, the state stays in jax arrays from batch to batch, and it is
written back to the variables at the end of each epoch or evaluation.  The step's code builds on
the stateless API (mlcore/stateless.py, models/stateless_model.py), so it needs jax.

Keras 2's `train_step(self, data)`, which computes gradients with tf.GradientTape, has no
counterpart here: mlcore's own steps are compiled graphs (models/step_functions.py).
"""
import inspect

import numpy as np

from mlcore import stateless
from mlcore.models.data_adapters import one_or_list, pack_x_y_sample_weight
from mlcore.models.model_metrics import _has_metrics

def custom_step(model, train):
    """The name of the model's own train_step (or test_step), or None where it has none."""
    name = "train_step" if train else "test_step"
    step = getattr(model, name, None)
    if step is None:
        return None
    if len(inspect.signature(step).parameters) != 2:
        raise TypeError("%s.%s takes (data): that is Keras 2's form, built on tf.GradientTape, which mlcore has "
                        "not. mlcore runs Keras 3's jax form, %s(self, state, data) -> (logs, state), built on "
                        "stateless_call, jax.value_and_grad and optimizer.stateless_apply"
                        % (type(model).__name__, name, name))
    return name


def run_epoch(model, name, data, cbks, train):
    """One pass of the model's own step over data; returns the last step's logs, flattened."""
    step = _jit(model, name)
    hook_begin = cbks.on_train_batch_begin if train else cbks.on_test_batch_begin
    hook_end = cbks.on_train_batch_end if train else cbks.on_test_batch_end
    variables, state, logs = None, None, {}
    for k, (x_list, y_list, sw_list) in enumerate(data.batches()):
        if variables is None:       # compile()'s metrics exist once the targets' types are known
            variables = _state_variables(model, y_list, train)
            state = tuple(stateless.values_of(group) for group in variables)
        hook_begin(k)
        x, y = one_or_list(x_list), one_or_list(y_list)
        logs, state = step(tuple(state), pack_x_y_sample_weight(x, y, sw_list[0] if sw_list else None))
        logs = pythonify_logs(logs)
        hook_end(k, logs)
        if train and model.stop_training:
            break
    for group, values in zip(variables or (), state or ()):       # Keras's order: the metrics' last
        for variable, value in zip(group, values):
            variable.set_value(np.asarray(value))
    return logs


def _jit(model, name):
    """The step under jax.jit, made once per compile() (which freezes a model's behaviour, as in Keras)."""
    stateless.jax_numpy()       # jax set up as mlcore's graphs need it, before anything is traced
    import jax
    jitted = model._steps.custom_steps
    if name not in jitted:
        jitted[name] = jax.jit(getattr(model, name))
    return jitted[name]


def _state_variables(model, y_list, train):
    """The variables whose values make the state, in Keras's layout, the metrics reset first."""
    steps = model._steps
    steps.resolve()
    if y_list and _has_metrics(steps):
        y_vars = [steps.target_type(k, y)() for k, y in enumerate(steps.adapt_targets(y_list))]
        steps.make_metrics(y_vars, model.outputs)
    steps.totals = None         # the loss tracker keeps what the step gives it (model_metrics.py)
    for metric in model.metrics:
        metric.reset_state()
    groups = [model.trainable_variables, model.non_trainable_variables]
    if train:
        model.optimizer.build(model.trainable_variables)
        groups.append(model.optimizer.variables)
    return groups + [model.metrics_variables]


def pythonify_logs(logs):
    """Logs as Keras's fit shows them: a metric's dict of results flattened into them (CompileMetrics'),
    in sorted order, numbers as floats."""
    flat = {}
    for key, value in sorted(logs.items()):
        if isinstance(value, dict):
            flat.update(pythonify_logs(value))
        else:
            value = np.asarray(value)
            flat[key] = float(value) if value.ndim == 0 else value
    return flat

"""A model's own compute_loss(x, y, y_pred, sample_weight, training) in the compiled train and test
steps: Keras 3's hook for a loss that compile()'s per-output losses cannot express (the teacher-student
loss of keras.distillation.Distiller).

It runs once, symbolically, while a step graph is built, in place of compile()'s loss and the layers'
penalties, as Keras's override replaces its base compute_loss.  The metrics the model holds in its
attributes (Keras tracks them in model.metrics) may be updated inside it: their assignments become
updates of the step, and their results are logged after compile()'s metrics, as Keras logs them.
"""
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.layers.tracking import held_layers
from mlcore.metrics.base import Metric, tracing_updates
from mlcore.models.compiled_metrics import named_results
from mlcore.models.data_adapters import one_or_list


def has_own_compute_loss(model):
    """Whether the model's class defines compute_loss (mlcore's Model has none of its own)."""
    return callable(getattr(type(model), "compute_loss", None))


def held_metrics(model):
    """The metrics the model's attributes hold, in the order they were set (Keras's model._metrics)."""
    return held_layers(model, Metric)


def trace(model, inputs, y_vars, preds, sample_weights, training):
    """(loss, updates, [(log name, value)]): the model's compute_loss on the step's symbolic inputs
    (in the model's structure), targets and outputs (one tensor for one output, else a list, as Keras
    passes them), the assignments of the metric updates it made, and each held metric's result after them."""
    with tracing_updates() as state:
        loss = model.compute_loss(x=inputs, y=one_or_list(y_vars), y_pred=one_or_list(preds),
                                  sample_weight=one_or_list(sample_weights), training=training)
        results = [(name, state.current(as_tensor_variable(value)))
                   for metric in held_metrics(model) for name, value in named_results(metric)]
    loss = as_tensor_variable(loss)
    if loss.ndim:
        raise ValueError("%s.compute_loss must return a scalar loss; it returned one of shape %s"
                         % (type(model).__name__, loss.type.shape))
    return loss, state.updates, results

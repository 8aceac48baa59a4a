"""Keras 3's stateless model methods (its jax backend's): stateless_call (on the model's inputs) and
stateless_compute_loss.

They are what a custom `train_step(self, state, data)` differentiates with `jax.value_and_grad`
(Keras's guide "Customizing what happens in fit() with JAX"): the forward pass and the compiled
loss as functions of the variables' values, which they neither read from the model nor assign to
it.  Each is the model's graph run by mlcore/stateless.py; the forward graph is built once per
`training` flag on the model's own inputs, as fit's step is, and jax traces it once per shape.
"""
from mlcore import stateless
from mlcore.graph import ops
from mlcore.layers.base import flatten
from mlcore.models.data_adapters import to_list
from mlcore.models.functional_inputs import step_inputs


class StatelessModel:
    """Mixed into Model."""

    def _stateless_call_inputs(self, args, kwargs):
        """stateless_call's graph (mlcore/layers/stateless_call.py) on the inputs fit's step is built on
        (functional_inputs.step_inputs), one per `training` flag and set of inputs given."""
        training = bool(kwargs.pop("training", False))
        if kwargs:
            raise TypeError("stateless_call() got unexpected keyword argument(s) %s" % sorted(kwargs))
        if self._input_structure is None:
            raise ValueError("Model '%s' must be built before stateless_call(): call it on data or build() it "
                             "first" % self.name)
        values = flatten(args[0] if len(args) == 1 else list(args))
        given = tuple(value is not None for value in values)      # None for an optional Input, as fit takes it
        inputs, tensors = step_inputs(self, given)
        return ((training, given), tensors, [value for value in values if value is not None],
                lambda: self.call_for_step(inputs, training))

    def stateless_compute_loss(self, trainable_variables, non_trainable_variables, metrics_variables, x=None,
                               y=None, y_pred=None, sample_weight=None, training=True):
        """(loss, (trainable_variables, non_trainable_variables, metrics_variables)): compile()'s loss of
        y_pred against y, weighted by sample_weight, plus the weights' regularization penalties, computed
        from these values; the variables come back unchanged, as Keras 3.15's compute_loss updates none."""
        steps = self._steps
        steps.resolve()
        targets = steps.adapt_targets(to_list(y)) if steps.loss_names else []
        preds, weights = to_list(y_pred), to_list(sample_weight)
        values = targets + preds + weights

        def build():
            y_vars = [steps.target_type(k, t)() for k, t in enumerate(targets)]
            pred_vars = [stateless.placeholder(p, out.dtype) for p, out in zip(preds, self.outputs)]
            sw_vars = [stateless.placeholder(w, pred_vars[0].dtype) for w in weights]
            total = ops.zeros((), pred_vars[0].dtype)
            if y_vars:
                batch = pred_vars[0].shape[0]
                ones = ops.ones((batch,), pred_vars[0].dtype)
                sw = sw_vars * len(y_vars) if len(sw_vars) == 1 else sw_vars or [ones] * len(y_vars)
                total, _ = steps.compiled_loss(y_vars, pred_vars, sw, ops.cast(batch, pred_vars[0].dtype))
            for penalty in self._symbolic_losses():
                total = total + penalty
            return stateless.StatelessGraph(y_vars + pred_vars + sw_vars, [total], name="%s.compute_loss" % self.name)
        graph = stateless.cached(self, ("loss", stateless.signature(values)), build)
        (loss,), _ = graph(values, self._bound(trainable_variables, non_trainable_variables))
        return loss, (trainable_variables, non_trainable_variables, metrics_variables)

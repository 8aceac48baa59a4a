"""compile()'s loss, loss_weights and metrics arguments read per output of the model.

Each may be a dict by output name, a list with one entry per output, or one entry for all outputs.
An output's loss entry may itself be a list of losses (Keras 3's `loss=["mse", ["mse", "mae"]]`): they
are added, each with its weight, into one loss of that output (SummedLosses), and a flat loss_weights
list then gives one weight per loss rather than per output, as Keras packs it.
"""
from mlcore.losses import Loss, LossFunctionWrapper


def per_output(spec, names, what):
    """A loss/metric spec for each output: a dict by output name, a list with one entry per output
    (Keras 3's reading; loss=["mse"] too for a single output), or else one spec for all outputs (Keras 2's
    reading of metrics=["accuracy"])."""
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - set(names))
        if unknown and "metrics" in what:       # Keras's words for each
            raise ValueError("Invalid `%s`: %s given for unknown output(s) %s. `%s` should contain metrics objects "
                             "and either be a dict or a list matching the output names of the model %s. Received: "
                             "%s=%s" % (what, what, unknown, what, names, what, spec))
        if unknown:
            raise ValueError("%s given for unknown output(s) %s: Expected keys %s in %s dict, but found %s.keys()=%s"
                             % (what, unknown, names, what, what, list(spec)))
        return [spec.get(n) for n in names]
    if isinstance(spec, (list, tuple)) and len(spec) == len(names) and (len(names) > 1 or "metrics" not in what):
        return list(spec)
    return [spec] * len(names)


class SummedLosses(Loss):
    """Several losses of one output, each weighted, added into one."""

    def __init__(self, losses, weights):
        super().__init__(name=losses[0].name if isinstance(losses[0], Loss) else losses[0].__name__)
        self.losses = [loss if isinstance(loss, Loss) else LossFunctionWrapper(loss) for loss in losses]
        self.weights = list(weights)

    def __call__(self, y_true, y_pred, sample_weight=None):
        return sum(weight * loss(y_true, y_pred, sample_weight=sample_weight)
                   for loss, weight in zip(self.losses, self.weights))


def output_losses(loss, loss_weights, names, dict_outputs=False):
    """(the loss of each output, or None; the weight of each output): an output given a list of losses
    gets their SummedLosses, weighted by the entries of loss_weights that belong to them.  A loss dict
    naming an output that a model of dict outputs lacks is Keras's KeyError (its path in the structure)."""
    from mlcore import losses
    if dict_outputs and isinstance(loss, dict):
        for key in loss:
            if key not in names and loss[key] is not None:
                raise KeyError("The path: %r in the `loss` argument, can't be found in either the model's output "
                               "(`y_pred`) or in the labels (`y_true`)." % ((key,),))
    specs = per_output(loss, names, "loss")
    counts = [len(s) if isinstance(s, (list, tuple)) else 1 for s in specs]
    if isinstance(loss_weights, (list, tuple)) and len(loss_weights) == sum(counts) != len(names):
        # Keras packs a flat list of weights into the structure of the losses: one weight per loss
        starts = [sum(counts[:k]) for k in range(len(counts))]
        weights = [list(loss_weights[start:start + count]) for start, count in zip(starts, counts)]
    else:
        weights = per_output(loss_weights if loss_weights is not None else 1.0, names, "loss_weights")
    fns, output_weights = [], []
    for spec, weight in zip(specs, weights):
        if isinstance(spec, (list, tuple)):
            spread = weight if isinstance(weight, (list, tuple)) else [1.0] * len(spec)
            fns.append(SummedLosses([losses.get(s) for s in spec], spread))
            output_weights.append(1.0 if isinstance(weight, (list, tuple)) else weight)
        else:
            fns.append(losses.get(spec))
            output_weights.append(weight)
    return fns, output_weights

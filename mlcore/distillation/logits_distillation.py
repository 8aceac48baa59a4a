"""keras.distillation.LogitsDistillation: the student's logits pulled towards the teacher's, both
softened by a temperature (Hinton et al., 2015)."""
from mlcore import losses, ops, tree
from mlcore.distillation.distillation_loss import (DistillationLoss, loss_config, loss_from_config, required_losses,
                                                   summed_losses)


class LogitsDistillation(DistillationLoss):
    """temperature divides both models' logits (a higher one gives softer distributions); loss compares
    them: a name, a Loss, or a list/dict of them per output (None skips one).  As in Keras, only a
    KLDivergence instance compares softmax probabilities, scaled by temperature**2; any other loss,
    the default name "kl_divergence" (a function) too, is applied to the scaled logits themselves."""

    def __init__(self, temperature=3.0, loss="kl_divergence"):
        self.temperature = temperature
        self.loss = required_losses(loss, "At least one loss must be non-`None`.")
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
            raise ValueError("LogitsDistillation: temperature must be a number, got %s" % type(temperature))
        if temperature <= 0.0:
            raise ValueError("LogitsDistillation: temperature must be positive, got %s." % temperature)

    def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        def scaled(outputs):
            return tree.map_structure(lambda logits: ops.divide(logits, self.temperature), outputs)
        return summed_losses(self._apply_loss, self.loss, scaled(teacher_outputs), scaled(student_outputs))

    def _apply_loss(self, loss_fn, teacher_logits, student_logits):
        if isinstance(loss_fn, losses.KLDivergence):
            probabilities = loss_fn(ops.softmax(teacher_logits, axis=-1), ops.softmax(student_logits, axis=-1))
            return ops.mean(probabilities) * self.temperature ** 2
        return ops.mean(loss_fn(teacher_logits, student_logits))

    def get_config(self):
        return {"temperature": self.temperature, "loss": loss_config(self.loss)}

    @classmethod
    def from_config(cls, config):
        return cls(**dict(config, loss=loss_from_config(config["loss"])))

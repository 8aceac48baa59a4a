"""keras.distillation.FeatureDistillation: the output of a student layer pulled towards that of a
teacher layer (or the final outputs), so the student learns the teacher's representations too."""
from mlcore import ops, tree
from mlcore.distillation.distillation_loss import (DistillationLoss, loss_config, loss_from_config, required_losses,
                                                   summed_losses)


class FeatureDistillation(DistillationLoss):
    """loss compares the features: a name ("mse", "cosine_similarity"), a Loss, or a list/dict of them
    per output (None skips one).  teacher_layer_name / student_layer_name pick the layers whose outputs
    are compared; None takes the model's final output.  Layers by name need functional or Sequential
    models, whose layers' outputs are symbolic tensors a feature extractor can return."""

    def __init__(self, loss="mse", teacher_layer_name=None, student_layer_name=None):
        self.teacher_layer_name = teacher_layer_name
        self.student_layer_name = student_layer_name
        self.loss = required_losses(loss, "The `loss` argument in `FeatureDistillation` must contain at least one "
                                          "non-`None` value.")

    def validate_model_compatibility(self, teacher, student):
        """Named layers must exist, in models with a graph to take them from."""
        named = [("teacher", teacher, self.teacher_layer_name), ("student", student, self.student_layer_name)]
        if self.teacher_layer_name is not None or self.student_layer_name is not None:
            subclassed = [role for role, model, _ in named if not has_layer_graph(model)]
            if subclassed:
                raise ValueError("FeatureDistillation with specific layer names requires Functional or Sequential "
                                 "models. The %s model(s) appear to be subclassed (no symbolic inputs/outputs). "
                                 "Either use Functional/Sequential models, or use FeatureDistillation without "
                                 "layer names (to distill final outputs only), or use LogitsDistillation instead."
                                 % " and ".join(subclassed))
        for role, model, layer_name in named:
            if layer_name is not None:
                try:
                    model.get_layer(name=layer_name)
                except ValueError as err:
                    raise ValueError("In %s model: %s" % (role, err)) from None

    def validate_outputs(self, teacher_outputs, student_outputs):
        """As the base class, and one loss (or None) per output."""
        super().validate_outputs(teacher_outputs, student_outputs)
        try:
            tree.assert_same_structure(self.loss, teacher_outputs)
        except (TypeError, ValueError) as err:
            raise ValueError("Loss structure mismatch. Loss structure: %s, Output structure: %s. Error: %s"
                             % (_structure(self.loss), _structure(teacher_outputs), err)) from None

    def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        return summed_losses(lambda fn, teacher, student: ops.mean(fn(teacher, student)), self.loss,
                             teacher_outputs, student_outputs)

    def get_config(self):
        return {"loss": loss_config(self.loss), "teacher_layer_name": self.teacher_layer_name,
                "student_layer_name": self.student_layer_name}

    @classmethod
    def from_config(cls, config):
        return cls(**dict(config, loss=loss_from_config(config["loss"])))


def has_layer_graph(model):
    """Whether a model is functional or Sequential: its layers' outputs are tensors of its graph."""
    return bool(getattr(model, "_nodes", None))


def _structure(value):
    """A structure with its leaves shown as *, for error messages."""
    return tree.map_structure(lambda _: "*", value)

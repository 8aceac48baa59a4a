"""keras.distillation.DistillationLoss: the base class of the teacher-to-student losses a Distiller
combines, and what its built-in losses share: loss structures resolved by name, summed into one scalar,
written to and read from configs."""
from mlcore import losses, ops, tree


class DistillationLoss:
    """How a student is pulled towards its teacher.  Subclass it and override compute_loss to return
    a scalar; validate_outputs and validate_model_compatibility let a loss refuse what it cannot compare
    before training starts, not in the middle of a step."""

    def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        """The loss between the teacher's and the student's outputs (tensors, or lists of them)."""
        raise NotImplementedError("Subclasses must implement compute_loss")

    def validate_outputs(self, teacher_outputs, student_outputs):
        """Teacher and student outputs must have one structure (one tensor each, or lists of one length)."""
        tree.assert_same_structure(teacher_outputs, student_outputs)

    def validate_model_compatibility(self, teacher, student):
        """Whether this loss can compare these two models; the base class accepts any."""


def resolved_losses(loss):
    """A loss, or a nested list/dict of them (None skips an output), with names resolved as
    keras.losses.get does: "mse" gives the function mean_squared_error, "KLDivergence" an instance."""
    return tree.map_structure(lambda item: item if item is None or callable(item) else losses.get(item), loss)


def required_losses(loss, error):
    """resolved_losses(loss), which must hold at least one loss (error: the message otherwise)."""
    resolved = resolved_losses(loss)
    if all(fn is None for fn in tree.flatten(resolved)):
        raise ValueError(error)
    return resolved


def summed_losses(apply_loss, loss, teacher_outputs, student_outputs):
    """apply_loss(fn, teacher, student) for each loss and its pair of outputs, summed into a scalar;
    an output whose loss is None adds 0."""
    values = tree.map_structure(lambda fn, teacher, student: 0.0 if fn is None else apply_loss(fn, teacher, student),
                                loss, teacher_outputs, student_outputs)
    return ops.sum(ops.stack(tree.flatten(values)))


def loss_config(loss):
    """A loss structure as Keras's serialize_keras_object writes it (functions by name)."""
    from mlcore.saving.serialization_lib import serialize_keras_object     # it imports this package
    return serialize_keras_object(loss)


def loss_from_config(config):
    from mlcore.saving.serialization_lib import deserialize_keras_object
    return deserialize_keras_object(config)

"""keras.distillation.Distiller: a Model that trains a student on its labels and on what a frozen
teacher outputs.  compile/fit/evaluate run mlcore's compiled steps with the Distiller's compute_loss
(models/custom_loss.py); predict gives the student's outputs."""
from mlcore import ops, tree
from mlcore.distillation.distillation_loss import resolved_losses
from mlcore.distillation.feature_extractors import FINAL_OUTPUT, feature_extractor, layer_names
from mlcore.distillation.model_checks import check_models
from mlcore.layers.base import Layer
from mlcore.metrics import Mean
from mlcore.models import Model


class Distiller(Model):
    """teacher: a trained Model, frozen here.  student: the Model trained.  distillation_losses: one
    DistillationLoss or a list of them, weighted by distillation_loss_weights (1 each by default).
    The loss is student_loss_weight * (compile()'s loss of the student against the labels) +
    (1 - student_loss_weight) * (the weighted distillation losses); fit logs both parts and their sum
    as student_loss, distillation_loss and total_loss (per-batch means, as Keras's trackers)."""

    def __init__(self, teacher, student, distillation_losses, distillation_loss_weights=None,
                 student_loss_weight=0.5, name="distiller", **kwargs):
        super().__init__(name=name, **kwargs)
        check_models(teacher, student)
        self.teacher = teacher
        self.student = student
        if isinstance(student_loss_weight, bool) or not isinstance(student_loss_weight, (int, float)):
            raise ValueError("student_loss_weight must be a number, got %s" % type(student_loss_weight))
        if not 0.0 <= student_loss_weight <= 1.0:
            raise ValueError("student_loss_weight must be between 0.0 and 1.0, got %s" % student_loss_weight)
        self.student_loss_weight = student_loss_weight
        self.distillation_losses, self.distillation_loss_weights = _weighted_losses(distillation_losses,
                                                                                    distillation_loss_weights)
        for distillation_loss in self.distillation_losses:
            distillation_loss.validate_model_compatibility(teacher, student)
        self._teacher_feature_extractor = feature_extractor(
            teacher, layer_names(self.distillation_losses, "teacher_layer_name"))
        self._student_feature_extractor = feature_extractor(
            student, layer_names(self.distillation_losses, "student_layer_name"))
        self.teacher.trainable = False
        self.student_loss_tracker = Mean(name="student_loss")
        self.distillation_loss_tracker = Mean(name="distillation_loss")
        self.total_loss_tracker = Mean(name="total_loss")

    def compile(self, optimizer="adam", loss=None, metrics=None, **kwargs):
        """loss is the student's against the labels (a name, a Loss, or one per output); it is applied
        in compute_loss, not as compile()'s per-output loss (so, as in Keras, the saved compile arguments have
        no loss, and a loaded Distiller is compiled again by hand)."""
        if loss is None:
            raise ValueError("'loss' cannot be `None`.")
        if metrics is not None and not isinstance(metrics, (list, tuple)):
            raise ValueError("metrics must be a list or tuple, got %s" % type(metrics))
        self._student_loss = resolved_losses(loss)
        super().compile(optimizer=optimizer, loss=None, metrics=metrics, **kwargs)

    def call(self, inputs, training=None):
        return self.student(inputs, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The weighted sum of the student's loss and the distillation losses, as Keras computes it
        (sample_weight is not used); the three loss trackers are updated with this batch's values."""
        if y_pred is None:
            y_pred = self(x, training=training)
        student_loss = 0.0
        if self.student_loss_weight > 0.0 and y is not None:
            student_loss = self._student_part(y, y_pred)
        distillation_loss = 0.0
        if self.student_loss_weight < 1.0:
            distillation_loss = self._distillation_part(x, y_pred)
        total_loss = ops.add(ops.multiply(self.student_loss_weight, student_loss),
                             ops.multiply(ops.subtract(1.0, self.student_loss_weight), distillation_loss))
        self.student_loss_tracker.update_state(student_loss)
        self.distillation_loss_tracker.update_state(distillation_loss)
        self.total_loss_tracker.update_state(total_loss)
        return total_loss

    def _student_part(self, y, y_pred):
        """The compiled loss of each output, summed over outputs, then averaged to a scalar."""
        values = tree.flatten(tree.map_structure(lambda loss, target, pred: loss(target, pred),
                                                 self._student_loss, y, y_pred))
        value = ops.sum(ops.stack(values)) if len(values) > 1 else values[0]
        return ops.mean(value) if len(ops.shape(value)) else value

    def _distillation_part(self, x, y_pred):
        """Each distillation loss on the features it names (the final outputs by default), weighted and summed."""
        if self._teacher_feature_extractor is not None:
            teacher_features = self._teacher_feature_extractor(x, training=False)
        else:
            teacher_features = {FINAL_OUTPUT: self.teacher(x, training=False)}
        if self._student_feature_extractor is not None:
            student_features = self._student_feature_extractor(x, training=True)
        else:
            student_features = {FINAL_OUTPUT: y_pred}
        total = 0.0
        for distillation_loss, weight in zip(self.distillation_losses, self.distillation_loss_weights):
            if getattr(distillation_loss, "teacher_layer_name", None) is not None:
                teacher_output = _feature(teacher_features, distillation_loss, "teacher")
                student_output = _feature(student_features, distillation_loss, "student")
            else:
                teacher_output, student_output = teacher_features[FINAL_OUTPUT], y_pred
            distillation_loss.validate_outputs(teacher_output, student_output)
            value = distillation_loss.compute_loss(teacher_output, student_output)
            if len(ops.shape(value)):
                raise ValueError("Distillation loss %s returned a non-scalar loss with shape %s. The compute_loss "
                                 "method must return a scalar tensor." % (type(distillation_loss).__name__,
                                                                          tuple(ops.shape(value))))
            total = ops.add(total, ops.multiply(weight, value))
        return total

    def get_config(self):
        from mlcore.saving.serialization_lib import serialize_keras_object
        config = Layer.get_config(self)     # name, trainable, dtype; Model's own is a functional graph's
        config.update(teacher=serialize_keras_object(self.teacher), student=serialize_keras_object(self.student),
                      distillation_losses=[serialize_keras_object(loss) for loss in self.distillation_losses],
                      distillation_loss_weights=self.distillation_loss_weights,
                      student_loss_weight=self.student_loss_weight)
        return config

    @classmethod
    def from_config(cls, config):
        from mlcore.saving.serialization_lib import deserialize_keras_object
        config = dict(config, teacher=deserialize_keras_object(config["teacher"]),
                      student=deserialize_keras_object(config["student"]),
                      distillation_losses=[deserialize_keras_object(loss) for loss in config["distillation_losses"]])
        return cls(**config)


def _weighted_losses(distillation_losses, weights):
    """(losses, weights) as lists: one loss alone gets weight 1 (weights ignored, as in Keras); a list
    gets weights of 1 unless given, one per loss."""
    if distillation_losses is None:
        raise ValueError("'distillation_losses' cannot be `None`. Provide a distillation loss (e.g., "
                         "LogitsDistillation or FeatureDistillation) or a list of distillation losses.")
    if not isinstance(distillation_losses, (list, tuple)):
        return [distillation_losses], [1.0]
    if weights is None:
        return list(distillation_losses), [1.0] * len(distillation_losses)
    if len(weights) != len(distillation_losses):
        raise ValueError("Number of distillation_loss_weights (%d) must match number of distillation_losses (%d)"
                         % (len(weights), len(distillation_losses)))
    return list(distillation_losses), list(weights)


def _feature(features, distillation_loss, role):
    """The output of the layer a loss names for the teacher or the student (its final output if none)."""
    name = getattr(distillation_loss, role + "_layer_name") or FINAL_OUTPUT
    if name not in features:
        raise ValueError("%s: layer '%s' not found in the %s's extracted features. Available: %s"
                         % (type(distillation_loss).__name__, name, role, list(features)))
    return features[name]

"""The checks a Distiller makes on its teacher and student before anything is built: both are models,
and where both have symbolic inputs and outputs, these agree in rank, known dims and dtype (the student
is fed the teacher's data, and its outputs are compared with the teacher's)."""
from mlcore import tree


def check_models(teacher, student):
    from mlcore.models import Model     # mlcore.models is imported after this package
    for role, model in (("Teacher", teacher), ("Student", student)):
        if not isinstance(model, Model):
            raise ValueError("%s must be a keras.Model, got %s" % (role, type(model)))
    # a subclassed model not built yet has no tensors to compare
    pairs = [(attribute[:-1], getattr(teacher, attribute, None), getattr(student, attribute, None))
             for attribute in ("inputs", "outputs")]
    pairs = [(context, t, s) for context, t, s in pairs if t is not None and s is not None]
    for context, teacher_tensors, student_tensors in pairs:     # shapes first, then dtypes, as Keras checks
        tree.map_structure(lambda t, s: _check_shapes(t.type.shape, s.type.shape, context),
                           teacher_tensors, student_tensors)
    for context, teacher_tensors, student_tensors in pairs:
        tree.map_structure(lambda t, s: _check_dtypes(t.dtype, s.dtype, context), teacher_tensors, student_tensors)


def _check_shapes(teacher_shape, student_shape, context):
    if len(teacher_shape) != len(student_shape):
        raise ValueError("Teacher and student %s shapes have different dimensions. Teacher: %s, Student: %s."
                         % (context, tuple(teacher_shape), tuple(student_shape)))
    if any(t is not None and s is not None and t != s for t, s in zip(teacher_shape, student_shape)):
        raise ValueError("Teacher and student %s shapes are incompatible. Teacher: %s, Student: %s. All dimensions "
                         "must match." % (context, tuple(teacher_shape), tuple(student_shape)))


def _check_dtypes(teacher_dtype, student_dtype, context):
    if teacher_dtype != student_dtype:
        raise ValueError("Teacher and student %s dtypes must match. Teacher: %s, Student: %s."
                         % (context, teacher_dtype, student_dtype))

"""The models a Distiller reads features through: one functional model per teacher or student, on the
same layers, whose outputs are a dict of the final output and each named layer's output, so that
every feature a step needs comes from one forward pass."""
from mlcore.distillation.feature_distillation import has_layer_graph

FINAL_OUTPUT = "final_output"


def layer_names(distillation_losses, attribute):
    """The layer names the losses ask for (teacher_layer_name or student_layer_name), each once, in order."""
    names = []
    for loss in distillation_losses:
        name = getattr(loss, attribute, None)
        if name and name not in names:
            names.append(name)
    return names


def feature_extractor(model, names):
    """A Model from model's inputs to {FINAL_OUTPUT: its output, name: that layer's output...};
    None when no layer is named (the model's own output is all a step needs)."""
    from mlcore.models import Model, Sequential
    if not names:
        return None
    if not has_layer_graph(model):
        raise ValueError("Cannot create feature extractor for %s. The model has no symbolic inputs attribute."
                         % model.name)
    final_output = model.layers[-1].output if isinstance(model, Sequential) else model.output
    outputs = {FINAL_OUTPUT: final_output}
    outputs.update((name, model.get_layer(name=name).output) for name in names)
    return Model(inputs=model.inputs, outputs=outputs, name="%s_multi_feature_extractor" % model.name)

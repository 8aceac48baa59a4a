"""Ops applied to Keras tensors between layer calls, in a functional model: in
`h = Dense(3)(inputs); outputs = ops.relu(h) * 2 + 1`, the relu, * and + are no layer's work.
Keras 3 records such ops as operations of the model; here, the first time a functional model
meets a tensor made that way, the ops that made it (back to the Keras tensors they read) become
one GraphOperation node, which the model re-runs on new inputs as it re-runs its layers."""
from mlcore.graph.basic import Variable, clone
from mlcore.layers.base import Layer, Node, unique_name


class GraphOperation(Layer):
    """The ops between some Keras tensors (its inputs) and one tensor made from them (its output).
    Not a layer of the model's (Keras's model.layers lists layers only), and not saved in a config."""

    def __init__(self, sources, result):
        super().__init__(name=unique_name("operation"))
        self.sources, self.result = sources, result
        self.built = True

    def call(self, inputs):
        """The same ops on new inputs: the recorded graph with the sources replaced."""
        return clone(self.result, dict(zip(self.sources, inputs)))

    def get_config(self):
        raise NotImplementedError("A functional model with ops applied to its tensors (%s) cannot be saved "
                                  "as a config; wrap the ops in a Lambda layer, or save its weights" % self.name)


def record_operation(tensor):
    """Give a tensor that ops made from Keras tensors the keras_history of a GraphOperation node."""
    sources = _keras_tensors_read(tensor)
    if not sources:
        raise ValueError("%s is not the output of a Keras layer (nor an Input), nor of ops applied to one; "
                         "a functional model's tensors must come from Inputs" % (tensor,))
    operation = GraphOperation(sources, tensor)
    operation._inbound_nodes.append(Node(operation, sources, tensor, {}))
    tensor.tag["keras_history"] = (operation, 0, 0)


def _keras_tensors_read(tensor):
    """The Keras tensors (those with a keras_history) the ops that made tensor read, in first-met order."""
    found, seen, pending = [], set(), [tensor]
    while pending:
        variable = pending.pop()
        if id(variable) in seen:
            continue
        seen.add(id(variable))
        if variable is not tensor and "keras_history" in variable.tag:
            found.append(variable)
        elif variable.owner is not None:
            pending.extend(reversed([v for v in variable.owner.inputs if isinstance(v, Variable)]))
    return found

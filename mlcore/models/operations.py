"""Ops applied to Keras tensors between layer calls, in a functional model: in
`h = Dense(3)(inputs); outputs = ops.relu(h) * 2 + 1`, the relu, * and + are no layer's work.
Keras 3 records such ops as operations of the model; here, the first time a functional model
meets a tensor made that way, the ops that made it (back to the Keras tensors they read) become
one GraphOperation node, which the model re-runs on new inputs as it re-runs its layers.

Keras 3's .keras files keep each such op as a node of its own, a KerasOperation here: the masks
of Embedding(mask_zero=True) and Masking are ops (not_equal(x, 0), any(..., axis=-1)) in any
functional model that has one."""
from mlcore import ops
from mlcore.graph.basic import Variable, clone
from mlcore.layers.base import Layer, Node, unique_name
from mlcore.utils.naming import to_snake_case


class Operation(Layer):
    """Not a layer of the model's: Keras's model.layers lists layers only, and weight files skip ops."""


class GraphOperation(Operation):
    """The ops between some Keras tensors (its inputs) and one tensor made from them (its output).
    Not saved in a config."""

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


class KerasOperation(Operation):
    """One call of a keras.ops function as Keras 3's config saves it: the op's class (NotEqual), its
    config (axis=...), and the call's arguments with {"__input__": k} where its k-th tensor goes.
    It runs as the mlcore.ops function of the same name (not_equal)."""

    def __init__(self, keras_class, arguments, keywords=None, keras_module="keras.src.ops.numpy", **kwargs):
        super().__init__(**kwargs)
        self.keras_class, self.keras_module = keras_class, keras_module
        self.arguments, self.keywords = list(arguments), dict(keywords or {})
        self.function = getattr(ops, to_snake_case(keras_class), None)
        if self.function is None:
            raise ValueError("Keras operation %s (%r) has no mlcore.ops function %r"
                             % (keras_class, self.name, to_snake_case(keras_class)))
        self.built = True

    def call(self, inputs):
        tensors = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        return self.function(*self.call_arguments(lambda k: tensors[k]), **self.keywords)

    def call_arguments(self, tensor_at):
        """The call's arguments with tensor_at(k) in the k-th tensor's place."""
        return filled(self.arguments, tensor_at)

    def get_config(self):
        return {**super().get_config(), "keras_class": self.keras_class, "keras_module": self.keras_module,
                "arguments": self.arguments, "keywords": self.keywords}


def filled(value, tensor_at):
    """value with each {"__input__": k} replaced by tensor_at(k), through nested lists."""
    if isinstance(value, dict) and set(value) == {"__input__"}:
        return tensor_at(value["__input__"])
    if isinstance(value, (list, tuple)):
        return [filled(v, tensor_at) for v in value]
    return value

"""Ops applied to Keras tensors between layer calls, in a functional model: in
`h = Dense(3)(inputs); outputs = ops.relu(h) * 2 + 1`, the relu, * and + are no layer's work.
Keras 3 records each such op as an operation of the model, a node of its own, and so does mlcore the
first time a functional model meets a tensor made that way: each keras.ops call and Python operator
noted on the tensors it made (mlcore/ops/call_notes.py) becomes a KerasOperation node, saved as Keras
saves it (the op's class, its constructor's arguments as config, the tensors and values of its call)
and loaded from Keras's files the same way (the masks of Embedding(mask_zero=True) and Masking are such
ops: not_equal(x, 0), any(..., axis=-1)).  Ops that no Keras class stands for (the graph's own
functions, a layer's weight read directly) become one GraphOperation node back to the Keras tensors they
read: the model runs and trains, but has no config.  Either node re-runs on new inputs as layers do."""
import inspect

from mlcore import ops
from mlcore.backend import standardize_dtype
from mlcore.graph.basic import Constant, SharedVariable, Variable, clone
from mlcore.layers.base import Layer, Node, unique_name
from mlcore.models.keras_op_classes import KERAS_OP_CLASSES
from mlcore.ops.call_notes import OpCall
from mlcore.tree import flatten
from mlcore.utils.naming import to_snake_case
from mlcore.utils.walks import post_order

KERAS_OPS_MODULE = "keras.src.ops."
# Python's operator.<name> on tensors -> the keras.ops function Keras's KerasTensor calls for it
OPERATORS = {"add": "add", "sub": "subtract", "mul": "multiply", "truediv": "true_divide",
             "floordiv": "floor_divide", "mod": "mod", "pow": "power", "matmul": "matmul", "lt": "less",
             "le": "less_equal", "gt": "greater", "ge": "greater_equal", "and_": "bitwise_and",
             "or_": "bitwise_or", "xor": "bitwise_xor", "invert": "bitwise_invert", "neg": "negative",
             "abs": "absolute", "getitem": "get_item"}


class Operation(Layer):
    """Not a layer of the model's: Keras's model.layers lists layers only, and weight files skip ops.
    Its inputs keep their dtypes (a layer casts floats to its compute dtype; an op does not)."""
    _convert_input_args = False


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
    """Give a tensor that ops made from Keras tensors a keras_history: the KerasOperation node of the
    noted call that made it, else a GraphOperation node for all the ops back to the Keras tensors.
    The tensor arguments of noted calls get theirs first."""
    for made in _unrecorded_arguments_first(tensor):
        if "keras_history" not in made.tag and not _record_keras_call(made):
            _record_graph_operation(made)


def _unrecorded_arguments_first(tensor):
    """tensor and the tensors without a keras_history that the noted calls making it read, each after
    those it reads (a chain of ops may be thousands long)."""
    def arguments(variable):
        call = _noted_call(variable)
        read = () if call is None else flatten((call.args, call.kwargs))
        return variable, [v for v in read if isinstance(v, Variable) and not isinstance(v, (Constant, SharedVariable))
                          and "keras_history" not in v.tag]
    return post_order([tensor], id, arguments)


def _record_graph_operation(tensor):
    sources = _keras_tensors_read(tensor)
    if not sources:
        raise ValueError("%s is not the output of a Keras layer (nor an Input), nor of ops applied to one; "
                         "a functional model's tensors must come from Inputs" % (tensor,))
    _add_node(GraphOperation(sources, tensor), sources, tensor)


def _add_node(operation, sources, outputs):
    """The operation's one call, from sources to outputs, as the keras_history of each output."""
    operation._inbound_nodes.append(Node(operation, sources, outputs, {}))
    for index, out in enumerate(flatten(outputs)):
        out.tag["keras_history"] = (operation, 0, index)


def _record_keras_call(tensor):
    """Make the KerasOperation node of the keras.ops call or operator that made tensor, if one was noted
    and Keras has a class for it (its tensor arguments have their nodes already).  Whether it did."""
    call = _noted_call(tensor)
    saved = _keras_call(call) if call is not None else None
    if saved is None:
        return False
    module, keras_class, arguments, keywords = saved
    if any(isinstance(v, Variable) for v in flatten(keywords)) or \
            any(isinstance(v, SharedVariable) for v in flatten(arguments)):
        return False        # a tensor in the config, a weight read directly: no Keras op node takes them
    sources = []

    def slot(value):
        """A tensor argument (given its node already) as {"__input__": k}, the k-th input of the node; a
        constant as its value."""
        if isinstance(value, Constant):
            return value.data
        if isinstance(value, Variable):
            sources.append(value)
            return {"__input__": len(sources) - 1}
        if isinstance(value, (list, tuple)):
            return type(value)(slot(v) for v in value)
        return value
    arguments = [slot(value) for value in arguments]
    operation = KerasOperation(keras_class, arguments, keywords, keras_module=KERAS_OPS_MODULE + module,
                               name=unique_name(to_snake_case(keras_class)))
    _add_node(operation, sources, call.outputs)
    return True


def _at_default(parameter, value):
    if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
        return not value
    return value is parameter.default


def _noted_call(tensor):
    """The keras.ops call (mlcore/ops/call_notes.py) or Python operator (mlcore/graph/variable_methods.py)
    noted on tensor as an OpCall, or None."""
    if "keras_op" in tensor.tag:
        return tensor.tag["keras_op"]
    if "operator" in tensor.tag:
        operator, operands = tensor.tag["operator"]
        name = OPERATORS[operator]
        return OpCall(name, getattr(ops, name), operands, {}, tensor)
    return None


def _keras_call(call):
    """(module, class, call arguments, constructor arguments) of the Keras Operation for a noted call,
    or None where Keras has no class for it or mlcore's function takes an argument Keras's class lacks."""
    entry = KERAS_OP_CLASSES.get(call.name)
    if entry is None:
        return None
    module, keras_class, call_names, constructor_names = entry
    signature = inspect.signature(call.function)
    try:
        bound = signature.bind(*call.args, **call.kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    values = dict(bound.arguments)
    arguments = []
    for name in call_names:
        if name.startswith("*"):
            arguments.extend(values.pop(name[1:], ()))
        elif name in values:
            arguments.append(values.pop(name))
        else:
            return None
    keywords = {name: values.pop(name) for name in constructor_names if name in values}
    if keywords.get("dtype") is not None:       # a name, as Keras's op classes keep it (np.float16 too)
        keywords["dtype"] = standardize_dtype(keywords["dtype"])
    if not all(_at_default(signature.parameters[name], value) for name, value in values.items()):
        return None         # an argument of mlcore's own, not at its default: Keras could not save it
    return module, keras_class, arguments, keywords


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
    config (the constructor's arguments: axis=...), and the call's arguments with {"__input__": k}
    where its k-th tensor goes.  It runs as the mlcore.ops function Keras's class stands for."""

    def __init__(self, keras_class, arguments, keywords=None, keras_module="keras.src.ops.numpy", **kwargs):
        super().__init__(**kwargs)
        self.keras_class, self.keras_module = keras_class, keras_module
        self.arguments, self.keywords = list(arguments), dict(keywords or {})
        self.function, self.call_names = _mlcore_function(keras_module, keras_class)
        if self.function is None:
            raise ValueError("Keras operation %s (%r) has no mlcore.ops function %r"
                             % (keras_class, self.name, to_snake_case(keras_class)))
        self.built = True

    def call(self, inputs):
        tensors = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        positional, keywords = arguments_by_name(self.function, self.call_names,
                                        self.call_arguments(lambda k: tensors[k]), self.keywords)
        return self.function(*positional, **keywords)

    def call_arguments(self, tensor_at, value=lambda v: v):
        """The call's arguments with tensor_at(k) in the k-th tensor's place, value(v) in a value's."""
        return filled(self.arguments, tensor_at, value)

    def get_config(self):
        return {**super().get_config(), "keras_class": self.keras_class, "keras_module": self.keras_module,
                "arguments": self.arguments, "keywords": self.keywords}


def _mlcore_function(keras_module, keras_class):
    """The mlcore.ops function (of ops.image for Keras's image ops) a Keras op class stands for, and the
    parameter names of the class's call(), or () for a class the table does not know."""
    short = keras_module[len(KERAS_OPS_MODULE):] if keras_module.startswith(KERAS_OPS_MODULE) else ""
    namespace = ops.image if short == "image" else ops
    for name, (module, cls, call_names, _) in KERAS_OP_CLASSES.items():
        if (module, cls) == (short, keras_class) and hasattr(namespace, name):
            return getattr(namespace, name), call_names
    return getattr(namespace, to_snake_case(keras_class), None), ()


def arguments_by_name(function, call_names, arguments, keywords):
    """Positional and keyword arguments for function from the Keras call's arguments and config: each
    argument by the name Keras's call() gives it where function has that parameter (a call's order
    need not be the function's: full_like(x, fill_value, dtype) is FullLike(dtype)(x, fill_value)),
    in its place otherwise; those before function's *args go in their places."""
    parameters = inspect.signature(function).parameters
    variadic = any(p.kind is p.VAR_POSITIONAL for p in parameters.values())
    values, positional, rest = dict(keywords), [], list(arguments)
    for name in call_names:
        if not rest or name.startswith("*"):
            break
        if name not in parameters:
            positional.append(rest.pop(0))
            continue
        values[name] = rest.pop(0)
    for parameter in parameters.values():
        if parameter.kind is parameter.VAR_POSITIONAL:
            break
        if variadic and parameter.name in values:
            positional.append(values.pop(parameter.name))
    return positional + rest, values


def filled(value, tensor_at, value_of=lambda v: v):
    """value with each {"__input__": k} replaced by tensor_at(k), through nested lists and tuples, and
    each other leaf by value_of(leaf)."""
    if isinstance(value, dict) and set(value) == {"__input__"}:
        return tensor_at(value["__input__"])
    if isinstance(value, (list, tuple)):
        return type(value)(filled(v, tensor_at, value_of) for v in value)
    return value_of(value)

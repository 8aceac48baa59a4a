"""keras.Operation and keras.Function: user-defined ops, and a graph of ops reapplied to new inputs.

An Operation's call() is written with keras.ops.  Called on symbolic tensors (KerasTensors: graph
variables), it builds graph nodes, as keras.ops do, so a functional model or a Function that uses it
runs it compiled; on arrays it runs at once.  compute_output_spec() gives the outputs' shapes and
dtypes from specs alone (KerasTensors, or anything with .shape and .dtype).

A Function is the graph between some symbolic tensors (its inputs) and others (its outputs): a
Functional model without layers' state, as Keras's.  Called on symbolic tensors it rebuilds that
graph on them; on arrays it compiles the graph once and runs it (numpy arrays back).
"""
import inspect

import numpy as np

from mlcore import tree
from mlcore.graph.basic import Constant, SharedVariable, TensorType, Variable, clone, graph_inputs, toposort
from mlcore.rematerialization import get_current_remat_mode, rematerialized_call
from mlcore.scopes import SymbolicScope

_PLAIN = (str, int, float, bool, type(None))     # the argument types an automatic config may hold


def _is_symbolic(value):
    return isinstance(value, Variable) and not isinstance(value, Constant)


def _any_symbolic(args, kwargs):
    return any(_is_symbolic(v) for v in tree.flatten((list(args), kwargs)))


def as_symbolic(value, dtype=None):
    """value as a symbolic tensor: itself if it is one, a fresh one of its shape and dtype if it has them
    (a spec), else value unchanged (a Python number, None, a string)."""
    if isinstance(value, Variable) or not hasattr(value, "shape"):
        return value
    return TensorType(str(getattr(value, "dtype", None) or dtype or "float32"), tuple(value.shape))()


class Operation:
    """Subclass with call(*args, **kwargs) (and compute_output_spec where call cannot build a graph)."""

    def __new__(cls, *args, **kwargs):
        """Keep the constructor's arguments for get_config, where all are plain values (Keras's rule)."""
        instance = super().__new__(cls)
        instance._auto_config = _plain_arguments(cls.__init__, args, kwargs)
        return instance

    def __init__(self, name=None):
        from mlcore.layers.base import unique_name
        from mlcore.utils.naming import to_snake_case
        name = unique_name(to_snake_case(type(self).__name__)) if name is None else name
        if not isinstance(name, str) or "/" in name:
            raise ValueError("Argument `name` must be a string and cannot contain character `/`. "
                             "Received: name=%s (of type %s)" % (name, type(name)))
        self.name = name
        self._inbound_calls = []        # (inputs, outputs) of each symbolic call, first one first
        self._remat_mode = get_current_remat_mode()

    def __call__(self, *args, **kwargs):
        if _any_symbolic(args, kwargs):
            return self.symbolic_call(*args, **kwargs)
        return rematerialized_call(self, self.call, args, kwargs)(*args, **kwargs)

    def symbolic_call(self, *args, **kwargs):
        """call() building graph nodes on symbolic inputs; the call is recorded for .input and .output."""
        outputs = rematerialized_call(self, self.call, args, kwargs)(*args, **kwargs)
        self._inbound_calls.append(([v for v in tree.flatten((list(args), kwargs)) if _is_symbolic(v)], outputs))
        return outputs

    def call(self, *args, **kwargs):
        raise NotImplementedError("%s must implement call()" % type(self).__name__)

    def compute_output_spec(self, *args, **kwargs):
        """The symbolic outputs of a call on these specs (symbolic tensors or anything with a shape and a dtype)."""
        args, kwargs = tree.map_structure(as_symbolic, (list(args), kwargs))
        try:
            with SymbolicScope():
                return self.call(*args, **kwargs)
        except Exception as error:
            raise type(error)("Could not automatically infer the output shape / dtype of '%s' (of type %s). Either "
                              "the `%s.call()` method is incorrect, or you need to implement the `%s."
                              "compute_output_spec() / compute_output_shape()` method. Error encountered:\n\n%s"
                              % (self.name, type(self).__name__, type(self).__name__, type(self).__name__,
                                 error)) from error

    @property
    def input(self):
        """The symbolic inputs of the first symbolic call (one tensor, or a list)."""
        return self._first_call(0, "input")

    @property
    def output(self):
        """The outputs of the first symbolic call."""
        return self._first_call(1, "output")

    def _first_call(self, which, attribute):
        if not self._inbound_calls:
            raise AttributeError("The layer %s has never been called and thus has no defined %s."
                                 % (self.name, attribute))
        values = tree.flatten(self._inbound_calls[0][which])
        return values[0] if len(values) == 1 else values

    def get_config(self):
        """{"name": ...} and, for a subclass that does not write its own get_config, the constructor's
        arguments where all are plain values (str, int, float, bool, None)."""
        config = {"name": self.name}
        if type(self).get_config is not Operation.get_config:
            return config
        if self._auto_config is None:
            raise NotImplementedError("Object %s was created by passing non-serializable argument values in "
                                      "`__init__()`, and therefore the object must override `get_config()` in "
                                      "order to be serializable. Please implement `get_config()`."
                                      % type(self).__name__)
        config.update(self._auto_config)
        parameters = inspect.signature(self.__init__).parameters
        if "name" not in parameters and not any(p.kind == p.VAR_KEYWORD for p in parameters.values()):
            config.pop("name")
        return config

    @classmethod
    def from_config(cls, config):
        try:
            return cls(**config)
        except Exception as error:
            raise TypeError("Error when deserializing class '%s' using config=%s.\n\nException encountered: %s"
                            % (cls.__name__, config, error)) from error

    def __repr__(self):
        return "<Operation name=%s>" % self.name


def _plain_arguments(init, args, kwargs):
    """The constructor's arguments by name, defaults included and name left out, or None where one is
    positional-only, variadic or not a plain value."""
    signature = inspect.signature(init)
    try:
        bound = signature.bind(None, *args, **kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    arguments = dict(list(bound.arguments.items())[1:])
    for name, parameter in list(signature.parameters.items())[1:]:
        if parameter.kind == parameter.POSITIONAL_ONLY or (parameter.kind == parameter.VAR_POSITIONAL and
                                                           arguments.get(name)):
            return None
        if parameter.kind == parameter.VAR_KEYWORD:
            arguments.update(arguments.pop(name, {}))
        elif parameter.kind == parameter.VAR_POSITIONAL:
            arguments.pop(name, None)
    arguments.pop("name", None)
    if not all(isinstance(v, _PLAIN) for v in tree.flatten(arguments)):
        return None
    return arguments


class Function(Operation):
    """Function(inputs, outputs): the graph from inputs to outputs (nested structures of symbolic tensors)."""

    def __init__(self, inputs, outputs, name=None):
        super().__init__(name=name)
        self._inputs_struct, self._outputs_struct = inputs, outputs
        self._inputs, self._outputs = tree.flatten(inputs), tree.flatten(outputs)
        if not self._inputs:
            raise ValueError("`inputs` argument cannot be empty. Received:\ninputs=%s\noutputs=%s" % (inputs, outputs))
        if not self._outputs:
            raise ValueError("`outputs` argument cannot be empty. Received:\ninputs=%s\noutputs=%s" % (inputs, outputs))
        for role, values in (("inputs", self._inputs), ("outputs", self._outputs)):
            for value in values:
                if not isinstance(value, Variable):
                    raise ValueError("Function %s: every entry of `%s` must be a symbolic tensor (KerasTensor); "
                                     "received %r" % (self.name, role, value))
        self._check_connected()
        self._compiled = None

    def _check_connected(self):
        """Every tensor the outputs depend on must be computable from the inputs alone."""
        stand_ins = [v.type() for v in self._inputs]
        for path, output in zip(_paths(self._outputs_struct), self._outputs):
            reached = clone(output, list(zip(self._inputs, stand_ins)))
            missing = [v for v in graph_inputs([reached]) if not isinstance(v, (Constant, SharedVariable))
                       and not any(v is s for s in stand_ins)]
            if missing:
                raise ValueError("Graph disconnected: cannot find parent for tensor %s, which the output with path "
                                 "`%s` depends on: it is not among the inputs" % (missing[0], path))

    @property
    def inputs(self):
        """The symbolic inputs, flat."""
        return self._inputs

    @property
    def outputs(self):
        """The symbolic outputs, flat."""
        return self._outputs

    def call(self, inputs):
        """The outputs for new inputs: symbolic tensors rebuilt on symbolic inputs, arrays on arrays."""
        self._assert_input_compatibility(inputs)
        flat = tree.flatten(inputs)
        if any(_is_symbolic(v) for v in flat):
            return self._rebuilt_on(flat)
        if self._compiled is None:
            from mlcore.function import function
            placeholders = [v.type() for v in self._inputs]
            self._compiled = function(placeholders, clone(self._outputs, list(zip(self._inputs, placeholders))),
                                      on_unused_input="ignore", name=self.name)
        values = [np.asarray(v, dtype=x.dtype) for v, x in zip(flat, self._inputs)]
        return tree.pack_sequence_as(self._outputs_struct, self._compiled(*values))

    def _rebuilt_on(self, flat_inputs):
        from mlcore.graph.ops.common import as_tensor_variable
        tensors = [as_tensor_variable(v) for v in flat_inputs]
        return tree.pack_sequence_as(self._outputs_struct, reapplied(self._outputs, dict(zip(self._inputs, tensors))))

    def compute_output_spec(self, inputs):
        self._assert_input_compatibility(inputs)
        with SymbolicScope():
            return self._rebuilt_on([as_symbolic(v, x.dtype) for v, x in zip(tree.flatten(inputs), self._inputs)])

    def compute_output_shape(self, input_shape):
        flat = [TensorType(x.dtype, shape)() for shape, x in zip(_shapes(input_shape), self._inputs)]
        outputs = self.compute_output_spec(tree.pack_sequence_as(self._inputs_struct, flat))
        return tree.map_structure(lambda v: v.type.shape, outputs)

    def _assert_input_compatibility(self, inputs):
        try:
            tree.assert_same_structure(inputs, self._inputs_struct)
        except (ValueError, TypeError):
            raise ValueError("Function was called with an invalid input structure. Expected input structure: %s\n"
                             "Received input structure: %s" % (self._inputs_struct, inputs)) from None
        for value, reference in zip(tree.flatten(inputs), self._inputs):
            shape, expected = tuple(np.shape(value) if not isinstance(value, Variable) else value.type.shape), \
                reference.type.shape
            if len(shape) != len(expected) or any(a is not None and b is not None and a != b
                                                   for a, b in zip(shape, expected)):
                raise ValueError("%s was passed incompatible inputs. For input '%s', expected shape %s, but received "
                                 "instead a tensor with shape %s." % (type(self).__name__, reference.name, expected,
                                                                      shape))


def _paths(structure):
    """Each leaf's path in structure, as Keras names it in its messages ("0.y")."""
    return [".".join(str(p) for p in path) for path, _ in tree.flatten_with_path(structure)]


def _shapes(structure):
    """The shapes of a structure of shapes, in flatten's order."""
    found = []
    tree.map_shape_structure(lambda shape: found.append(tuple(shape)), structure)
    return found


def reapplied(outputs, replacements):
    """outputs rebuilt on the replacements {old variable: new one}, each op applied again downstream of
    them, so that the new tensors get the types (static shapes) their inputs give, as Keras's symbolic
    call infers them (clone copies the old types)."""
    new = {id(old): value for old, value in replacements.items()}
    for node in toposort(outputs):
        if not any(id(v) in new for v in node.inputs):
            continue
        remade = node.op.make_node(*[new.get(id(v), v) for v in node.inputs])
        for old, value in zip(node.outputs, remade.outputs):
            new.setdefault(id(old), value)      # a replaced variable keeps its replacement
    return [new.get(id(v), v) for v in outputs]

"""How a functional model takes its inputs, by Keras's rules (Functional._standardize_inputs): in the
structure it was made with (a dict by Input names, a list of one from a tensor), each of its Input's
rank (a trailing axis of size 1 squeezed or added) and dtype, None only for an optional Input, with
Keras's warnings and errors where a structure differs; and the input_spec that __call__ checks."""
import warnings

import numpy as np

from mlcore import ops
from mlcore.backend import is_keras_tensor
from mlcore.graph.basic import TensorType, Variable
from mlcore.keras_masks import get_keras_mask, set_keras_mask, with_keras_mask
from mlcore.keras_tensor import KerasTensor
from mlcore.layers.base import flatten, map_structure
from mlcore.layers.input_layer import InputLayer
from mlcore.layers.input_spec import InputSpec
from mlcore.tree import assert_same_structure, flatten_with_path, lists_to_tuples, pack_sequence_as


def input_name(tensor):
    """The name of a model input (its InputLayer's), by which calls and fit may give it in a dict."""
    return tensor.tag["keras_history"][0].name


def check_keras_tensors(structure, what):
    """Keras's check of Model(inputs, outputs): every value a symbolic tensor."""
    for x in flatten(structure):
        if not isinstance(x, KerasTensor):
            raise ValueError("All `%s` values must be KerasTensors. Received: %s=%s including invalid value %s of "
                             "type %s" % (what, what, structure, x, type(x)))


def warn_on_dict_keys(inputs):
    """Keras's warning where Model({key: Input}, ...) has a key that is not the Input's name: calls and fit
    with a dict of another structure find the inputs by their names, not by these keys."""
    if not isinstance(inputs, dict):
        return
    for key, tensor in inputs.items():
        made_by = tensor.tag["keras_history"][0] if is_keras_tensor(tensor) else None
        if isinstance(made_by, InputLayer) and key != input_name(tensor):
            warnings.warn("When providing `inputs` as a dict, all keys in the dict must match the names of the "
                          "corresponding tensors. Received key '%s' mapping to value %s which has name '%s'. Change "
                          "the tensor name to '%s' (via `Input(..., name='%s')`)"
                          % (key, tensor, input_name(tensor), key, key), stacklevel=3)


def _is_tensor(x):
    """A tensor or an array: a leaf of a call's inputs, not a structure of them."""
    return isinstance(x, Variable) or (hasattr(x, "shape") and hasattr(x, "dtype"))


def in_dtype_of(value, tensor):
    """Keras's conversion of an eager input array to its Input's dtype (float64 data for a float32 model);
    its mask kept."""
    if not isinstance(value, np.ndarray) or value.dtype == tensor.dtype:
        return value
    mask = get_keras_mask(value)
    converted = np.asarray(value, dtype=tensor.dtype)
    return converted if mask is None else with_keras_mask(converted, mask)


def _packed_as(expected, inputs):
    """inputs in the structure expected, where they hold as many tensors (a dict's extra keys left out)."""
    if isinstance(expected, dict) and isinstance(inputs, dict) and set(expected) <= set(inputs):
        inputs = {key: inputs[key] for key in expected}
    given = flatten(inputs)
    return pack_sequence_as(expected, given) if len(given) == len(flatten(expected)) else inputs


def _shape(x):
    return tuple(x.type.shape) if isinstance(x, Variable) else np.shape(x)


def _with_rank_of(x, tensor, path):
    """Keras's rank standardization: x with a trailing axis of size 1 dropped, or added, to have the rank of
    the model input tensor (at path in the inputs' structure); a symbolic x keeps its mask."""
    shape, expected = _shape(x), tensor.type.shape
    if x is None or len(shape) == len(expected):
        return x
    squeeze = len(shape) == len(expected) + 1 and shape[-1] == 1
    if not squeeze and not (len(shape) == len(expected) - 1 and expected[-1] == 1):
        raise ValueError("Invalid input shape for input %s with name '%s' and path '%s'. Expected shape %s, but "
                         "input has incompatible shape %s" % (x, input_name(tensor), path, expected, shape))
    if not isinstance(x, Variable):
        return np.squeeze(x, axis=-1) if squeeze else np.expand_dims(x, axis=-1)
    adjusted = ops.squeeze(x, axis=-1) if squeeze else ops.expand_dims(x, axis=-1)
    if get_keras_mask(x) is not None:
        set_keras_mask(adjusted, get_keras_mask(x))
    return adjusted


def is_array_data(x):
    """Whether fit/predict data are arrays (or a structure of them) that go in as a call's inputs would."""
    return isinstance(x, (list, tuple, dict, np.ndarray)) and all(
        a is None or isinstance(a, np.ndarray) for a in flatten(x))


def step_inputs(model, given):
    """(inputs, tensors): what the compiled steps of fit, evaluate and predict call a model on, in the
    structure of its Inputs, and the tensors among them, which the step takes.  Keras's steps run on
    whatever batch comes: an Input that declares a batch size (Input(batch_shape=(64, 3)), build((64, 3)))
    is stood in for by a tensor of its type with the batch dim free, while the Input, and so the model's
    shapes, summary and config, keep the size given.  Not in a model with a stateful layer: its states
    hold that many samples, and Keras takes no other batch size there.  Where the data give None for an
    Input (given[k] false: an optional one), the step gets None, as an eager call does; other Inputs are
    used as they are."""
    free_batch = not _has_stateful_layer(model)

    def step_input(tensor, present):
        shape = tuple(tensor.type.shape)
        if not present:
            return None
        if not free_batch or not shape or shape[0] is None:
            return tensor
        return TensorType(tensor.dtype, (None,) + shape[1:])(tensor.name)
    inputs = [step_input(tensor, present) for tensor, present in zip(flatten(model._input_structure), given)]
    return pack_sequence_as(model._input_structure, inputs), [t for t in inputs if t is not None]


def _has_stateful_layer(layer):
    """Whether a layer or any layer inside it keeps states across batches (a stateful RNN)."""
    return any(getattr(inner, "stateful", False) or _has_stateful_layer(inner)
               for inner in getattr(layer, "layers", None) or [])


def _input_spec(tensor, name):
    """Keras's spec of a functional model's input: its shape with the batch dim free."""
    layer, shape = tensor.tag["keras_history"][0], tuple(tensor.type.shape)
    return InputSpec(shape=(None,) + shape[1:] if shape else (), allow_last_axis_squeeze=True, name=name,
                     optional=isinstance(layer, InputLayer) and layer.optional)


class InputStructure:
    """Mixed into Model: the inputs of a call (or of fit's batches) in the model's structure."""

    @property
    def input_spec(self):
        """Keras's Functional.input_spec, which __call__ checks: per input, its shape without the batch dim
        (a trailing 1 free to be squeezed), named after its Input, or after its key in a dict of Inputs
        (none for a deeper dict); none for a model without a graph.  One set is kept."""
        if "_manual_input_spec" in self.__dict__ or not getattr(self, "_nodes", None):
            return self.__dict__.get("_manual_input_spec")
        if isinstance(self._input_structure, dict):
            if not all(_is_tensor(t) for t in self._input_structure.values()):
                return None
            return [_input_spec(self._input_structure[key], key) for key in sorted(self._input_structure)]
        return [_input_spec(t, input_name(t)) for t in self.inputs]

    @input_spec.setter
    def input_spec(self, value):
        self._manual_input_spec = value

    def _standardize_inputs(self, inputs):
        """Keras's Functional._standardize_inputs: the inputs in the model's structure (_restructured),
        flat, with None only for an optional Input, each of its Input's rank."""
        given = flatten(self._restructured(inputs, warn=False))
        if len(given) != len(self.inputs):
            raise ValueError("Model '%s' expects %d input(s), got %d" % (self.name, len(self.inputs), len(given)))
        return self._checked_ranks(given)

    def _checked_ranks(self, given):
        """The inputs given flat, in the model's order: None only for an optional Input, each of its Input's
        rank."""
        self._check_required(given)
        paths = [".".join(map(str, path)) for path, _ in flatten_with_path(self._input_structure)]
        return [_with_rank_of(x, tensor, path) for x, tensor, path in zip(given, self.inputs, paths)]

    def _restructured(self, inputs, warn):
        """The inputs in the model's structure, by Keras's rules: a tensor for a model made with a list of
        one goes in that list; a dict for a model made with one Input or a flat list of them gives them by
        name, and one for a model made with a dict gives its keys (other keys ignored); any other structure
        goes in flat order.  Where the structure differs, Keras's warning (if warn), or its ValueError where
        the model's dict keys are not sorted (a list could not be matched to them)."""
        expected, raises = self._input_structure, False
        if isinstance(expected, list) and len(expected) == 1 and _is_tensor(inputs):
            inputs = [inputs]
        elif isinstance(inputs, dict) and not isinstance(expected, dict):
            flat = isinstance(expected, (list, tuple)) and all(_is_tensor(t) for t in expected)
            names = [input_name(t) for t in flatten(expected)] if flat or _is_tensor(expected) else None
            raises = names is None or not set(names) <= set(inputs)
            inputs = inputs if raises else [inputs[name] for name in names]
        if isinstance(expected, dict) and not isinstance(inputs, dict) and list(expected) != sorted(expected):
            raises = True
        if raises or warn:
            self._check_structure(inputs, raises)
        return _packed_as(expected, inputs)

    def _check_structure(self, inputs, raises):
        """Keras's warning (or error) for inputs whose structure is not the model's (lists and tuples alike)."""
        try:
            assert_same_structure(lists_to_tuples(inputs), lists_to_tuples(self._input_structure))
        except (ValueError, TypeError):
            expected = map_structure(lambda t: "None" if t is None else input_name(t), self._input_structure)
            received = map_structure(lambda x: "None" if x is None else "Tensor(shape=%s)" % (_shape(x),), inputs)
            message = ("The structure of `inputs` doesn't match the expected structure.\nExpected: %s\nReceived: "
                       "inputs=%s" % (expected, received))
            if raises:
                raise ValueError(message) from None
            warnings.warn(message)

    def _check_required(self, given):
        """Keras's error for None given for an Input that is not optional."""
        for value, tensor in zip(given, self.inputs):
            layer = tensor.tag["keras_history"][0]
            if value is None and isinstance(layer, InputLayer) and not layer.optional:
                raise ValueError("The input '%s' is not optional, but None was passed. Please provide a valid "
                                 "tensor." % layer.name)

"""Sequential: a plain stack of layers, each feeding the next."""
import inspect

import numpy as np

from mlcore.layers.base import Layer, collect_extras
from mlcore.layers.input_layer import Input, InputLayer
from mlcore.models.functional import Model
from mlcore.models.legacy_methods import ClassPredictions
from mlcore.tree import flatten, flatten_with_path, map_structure


def _check_single_positional(layer, err):
    """Keras's error where a layer that failed in the stack takes no input, or more than one, positionally."""
    if not isinstance(err, TypeError):
        return
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    positional = [p for p in inspect.signature(layer.call).parameters.values() if p.kind in kinds]
    if not positional:
        raise ValueError("Layers added to a Sequential model should have a single positional argument, the input "
                         "tensor. Layer %s has no positional arguments." % type(layer).__name__) from err
    required = [p for p in positional if p.default is inspect.Parameter.empty]
    if len(required) > 1:
        raise ValueError("Layers added to a Sequential model can only have a single required positional argument, "
                         "the input tensor. Layer %s has multiple required positional arguments: %s"
                         % (type(layer).__name__, required)) from err


class EmptyModelError(IndexError, TypeError):
    """pop() on a model without layers.  Keras 3 raises IndexError there (it pops an empty list),
    Keras 2 TypeError("There are no layers in the model."): code written for either catches this."""


class Sequential(ClassPredictions, Model):
    """Sequential(layers=None, trainable=True, name=None), Keras 3's argument order.  The graph is built as soon as the input
    shape is known: from an Input/InputLayer, a first layer's input_shape=, or the
    data passed to fit/predict/build."""

    input_spec = None       # as Keras's Sequential: its layers check their inputs

    def __init__(self, layers=None, trainable=True, name=None, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._stack = []
        self._input_layer = None
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        return list(self._stack)

    @layers.setter
    def layers(self, _):
        raise AttributeError("`Sequential.layers` attribute is reserved and should not be used. Use `add()` and "
                             "`pop()` to change the layers in this model.")

    def add(self, layer, rebuild=True):
        if not isinstance(layer, Layer):
            if hasattr(layer, "type") and "keras_history" in getattr(layer, "tag", {}):
                layer = layer.tag["keras_history"][0]       # an Input() tensor
            else:
                raise ValueError("Only instances of `keras.Layer` can be added to a Sequential model. Received: %s "
                                 "(of type %s)" % (layer, type(layer)))
        if isinstance(layer, InputLayer):
            if self._input_layer is not None:
                raise ValueError("Sequential model '%s' has already been configured to use input shape %s. You "
                                 "cannot add a different Input layer to it."
                                 % (self.name, self._input_layer.batch_shape))
            if self._stack:
                raise ValueError("Sequential '%s': an InputLayer can only come first" % self.name)
            self._input_layer = layer
        else:
            if any(l.name == layer.name for l in self._stack):
                raise ValueError("All layers added to a Sequential model should have unique names; "
                                 "'%s' is already in '%s'" % (layer.name, self.name))
            self._stack.append(layer)
        if rebuild:
            self._rebuild()

    def pop(self, rebuild=True):
        """Remove the last layer and return it."""
        if not self._stack:
            raise EmptyModelError("There are no layers in the model.")
        layer = self._stack.pop()
        if rebuild:
            self._rebuild()
        return layer

    def _declared_input_shape(self):
        if self._input_layer is not None:
            return self._input_layer.batch_shape
        if self._stack and self._stack[0]._batch_input_shape is not None:
            return self._stack[0]._batch_input_shape
        first = self._stack[0] if self._stack else None
        if isinstance(first, Model) and first._nodes and len(first.inputs) == 1:
            return first.input_shape        # a functional or built Sequential model first, as Keras reads it
        return None

    def _rebuild(self):
        shape = self._declared_input_shape()
        if shape is None or not self._stack:
            self._nodes, self._layers, self.built = [], list(self._stack), False
            return
        self.build(shape)

    def build(self, input_shape=None):
        """Wire the layers on an Input of this batch shape, e.g. build((None, 60)).  A nested input (the
        image layers' dict of images, masks and boxes) has no single Input: as in Keras, no graph is
        wired and call() runs the layers in turn."""
        if input_shape is None:
            input_shape = self._declared_input_shape()
        if input_shape is None:
            raise ValueError("Sequential '%s' cannot be built: its input shape is unknown. Add an Input "
                             "layer, pass input_shape= to the first layer, or call build((None, ...))" % self.name)
        if isinstance(input_shape, dict) or any(isinstance(d, (tuple, list, dict)) for d in input_shape):
            return
        if not self._stack:
            raise ValueError("Sequential model %s cannot be built because it has no layers. Call `model.add(layer)`."
                             % self.name)
        if self._input_layer is None:
            self._input_layer = Input(batch_shape=tuple(input_shape)).tag["keras_history"][0]
        elif tuple(self._input_layer.batch_shape) != tuple(input_shape):
            raise ValueError("Sequential model '%s' has already been configured to use input shape %s. You cannot "
                             "build it with input_shape %s" % (self.name, self._input_layer.batch_shape, input_shape))
        with collect_extras():      # the wiring's losses and updates belong to no step (nor to an eager call's)
            x = inputs = self._input_layer.output_tensor
            for layer in self._stack:
                try:
                    x = layer(x)
                except (ValueError, TypeError) as err:
                    _check_single_positional(layer, err)
                    raise type(err)("In Sequential '%s', layer '%s' (%s): %s"
                                    % (self.name, layer.name, type(layer).__name__, err)) from err
        self._init_graph(inputs, x)
        self._layers = list(self._stack)

    def _call_without_graph(self, inputs, training):
        """Nested inputs (see build): each layer in turn, as Keras's Sequential does."""
        for layer in self._stack:
            inputs = layer(inputs) if training is None else layer(inputs, training=training)
        return inputs

    def _adapt(self, x, *args, **kwargs):
        """A dict of arrays given to a model without a graph is one nested input (the image layers'
        {"images", "labels", ...}), not arrays keyed by input name: predict() traces the layers on
        Inputs of that structure and feeds its arrays in the structure's order."""
        if isinstance(x, dict) and not self._nodes:
            self._trace_nested(x)
            x = flatten(x)
        return super()._adapt(x, *args, **kwargs)

    def _trace_nested(self, arrays):
        """Give the graph-less model inputs and outputs for arrays' structure (one Input per array,
        its batch dim free), unless its last trace had that structure and these layers."""
        def input_for(array):
            return Input(batch_shape=(None,) + np.shape(array)[1:], dtype=np.asarray(array).dtype.name)
        layout = [(path, np.shape(a)[1:], np.asarray(a).dtype) for path, a in flatten_with_path(arrays)]
        if getattr(self, "_nested_trace", None) == (layout, self._stack):
            return
        self._input_structure = map_structure(input_for, arrays)
        self._output_structure = self(self._input_structure, training=False)
        self.inputs, self.outputs = flatten(self._input_structure), flatten(self._output_structure)
        self._nested_trace = (layout, list(self._stack))

    def _graph_version(self):
        """The recorded layer calls, or without them the last nested trace: predict() compiles again
        for a dict of another structure or shape."""
        return self._nodes or getattr(self, "_nested_trace", None)

    def _ensure_built(self, arrays):
        self.build((None,) + tuple(arrays[0].shape[1:]))

    def get_config(self):
        """Keras 3's layout, as .keras archives hold it."""
        from mlcore.saving.keras3_config import keras_sequential_config
        return keras_sequential_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=True):
        from mlcore.models.serialization import layer_from_config
        if "name" not in config:
            raise ValueError("A Sequential model configuration must be a dictionary containing the 'name' and "
                             "'layers' keys. Received: config=%s" % (config,))
        # as Keras's: the model takes the global policy (its layers' own policies are in their configs)
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for spec in config["layers"]:
            model.add(layer_from_config(spec, custom_objects, safe_mode, build=False), rebuild=False)
        shape = config.get("build_input_shape")
        if shape is None and config["layers"]:     # no Input: the first layer's build_config has the shape
            shape = (config["layers"][0].get("build_config") or {}).get("input_shape")
        if shape is not None and not model.layers:
            model.add(InputLayer(batch_shape=tuple(shape)))     # an Input alone: nothing to build
        elif shape is not None:
            model.build(tuple(shape))
        else:       # no shape for the model: its layers built by build() alone are built again, as Keras's
            for layer, spec in zip(model.layers, config["layers"]):
                if spec.get("build_config") and not layer.built:
                    layer.build_from_config(spec["build_config"])
        return model

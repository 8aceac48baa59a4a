"""Model: layers wired into a graph (Keras's functional API), usable as a layer.

Model(inputs, outputs) walks back from the outputs through the Nodes that layer
calls recorded, to find the layers in order.  Calling the model again (on new
tensors, or with training=True for the training graph) re-runs those layer
calls in that order.
"""
from mlcore import config
from mlcore.backend import is_keras_tensor
from mlcore.keras_masks import with_masks
from mlcore.layers.base import Layer, collect_extras, flatten, map_shapes, map_structure, shape_of, unique_name
from mlcore.layers.input_layer import Input, InputLayer
from mlcore.layers.layer_state import current_path, layer_scope
from mlcore.layers.tracking import held_layers, inherited_training
from mlcore.models.functional_inputs import (InputStructure, check_keras_tensors, in_dtype_of, is_array_data,
                                             warn_on_dict_keys)
from mlcore.models.operations import KerasOperation, Operation, record_operation
from mlcore.models.model_metrics import ModelMetrics
from mlcore.models.model_quantization import ModelQuantization
from mlcore.models.stateless_model import StatelessModel
from mlcore.models.state_tree import StateTree
from mlcore.models.legacy_methods import GeneratorMethods
from mlcore.models.trainer import Trainer
from mlcore.tree import flatten_with_path, pack_sequence_as
from mlcore.utils.walks import post_order


def _history(tensor):
    if "keras_history" not in tensor.tag:
        record_operation(tensor)        # ops applied to Keras tensors (mlcore.models.operations)
    return tensor.tag["keras_history"]


def producer(tensor):
    """The node (layer call) that made a tensor."""
    layer, node_index, _ = _history(tensor)
    return layer._inbound_nodes[node_index]


def get_source_inputs(tensor):
    """keras.utils.get_source_inputs: the Input tensors a Keras tensor is computed from, each once,
    in the order a walk back through its inputs meets them; any other value is returned as it is."""
    if not is_keras_tensor(tensor):
        return tensor
    node = producer(tensor)
    if isinstance(node.layer, InputLayer):
        return [node.outputs]
    sources = []
    for t in node.input_tensors:
        sources += [s for s in get_source_inputs(t) if all(s is not seen for seen in sources)]
    return sources


def trace_nodes(inputs, outputs):
    """The layer calls between inputs and the outputs (a structure), each after the calls it depends on,
    and the order in which a depth-first walk from the outputs first meets each layer (Keras's tie-break
    for layer order).  An output that the inputs do not reach raises Keras's error."""
    input_ids, first_met = {id(t) for t in inputs}, {}

    def calls_read(tensor):
        node = producer(tensor)
        if id(tensor) in input_ids and not isinstance(node.layer, InputLayer):
            return None, ()                 # an intermediate tensor given as an input: its maker is outside
        first_met.setdefault(node.layer, len(first_met))
        return node, () if id(tensor) in input_ids else node.input_tensors + node.keyword_tensors
    order = post_order(flatten(outputs), lambda tensor: id(producer(tensor)), calls_read)
    seen = {id(node) for node in order}
    for tensor in inputs:       # an Input no output reads is the model's still, first among the shallowest
        node = producer(tensor)
        if isinstance(node.layer, InputLayer) and id(node) not in seen:
            seen.add(id(node))
            order.insert(0, node)
            first_met[node.layer] = -1
    _check_connected(order, inputs, outputs)
    return order, first_met


def _check_connected(nodes, inputs, outputs):
    """Keras's error for an output that needs a tensor the inputs do not give (another Input's)."""
    known = {id(t) for t in inputs}
    for node in nodes:
        if not isinstance(node.layer, InputLayer) and all(id(t) in known for t in node.input_tensors +
                                                          node.keyword_tensors):
            known.update(id(t) for t in node.output_tensors)
    for path, out in flatten_with_path(outputs):
        if id(out) not in known:
            raise ValueError("Output with path `%s` is not connected to `inputs`" % ".".join(map(str, path)))


def run_nodes(nodes, sources, values, outputs, operation_fn=None, call_fn=None, **call_kwargs):
    """The layer calls of nodes again, on values in place of the source tensors, with call_kwargs added
    to each call: the outputs' structure of what they give.  clone_model's hooks, as Keras's:
    operation_fn(layer) gives the layer to call instead, call_fn(layer, args, **kwargs) calls it."""
    computed = {id(t): v for t, v in zip(sources, values)}
    for node in nodes:
        if isinstance(node.layer, InputLayer):
            continue
        layer = operation_fn(node.layer) if operation_fn else node.layer
        args = map_structure(lambda t: computed[id(t)], node.inputs)
        kwargs = map_structure(lambda v: computed.get(id(v), v), dict(node.kwargs))   # initial_state=[h, c]
        kwargs.update(call_kwargs)
        outs = call_fn(layer, args, **kwargs) if call_fn else layer(args, **kwargs)
        for t, v in zip(node.output_tensors, flatten(outs)):
            computed[id(t)] = v
    return map_structure(lambda t: computed[id(t)], outputs)


def clone_graph_nodes(inputs, outputs):
    """Keras's: a model made from intermediate tensors (Model(encoded, outputs)) starts from new Inputs in
    their place, on which the layer calls between them and the outputs run again, so that its layers
    begin with InputLayers and its config can be saved."""
    nodes, _ = trace_nodes(flatten(inputs), outputs)
    new_inputs = map_structure(_input_in_place_of, inputs)
    with collect_extras():      # the calls' losses and updates belong to no step
        return new_inputs, run_nodes(nodes, flatten(inputs), flatten(new_inputs), outputs)


def _input_in_place_of(tensor):
    """An Input's tensor as it is; an intermediate tensor as a new Input of its type, named as Keras's
    clone (<name>CLONE) after the layer that made it."""
    layer = _history(tensor)[0]
    if isinstance(layer, InputLayer):
        return tensor
    return Input(batch_shape=tensor.type.shape, dtype=tensor.dtype, name=unique_name(layer.name + "CLONE"))


def depths(nodes):
    """Keras's depths: a node's longest distance to an output, raised to its layer's (a layer's depth is
    the largest of its nodes'). nodes in trace_nodes order."""
    in_graph = {id(node) for node in nodes}
    node_depth, layer_depth = {}, {}
    for node in reversed(nodes):
        depth = max(node_depth.get(id(node), 0), layer_depth.get(id(node.layer), 0))
        node_depth[id(node)] = layer_depth[id(node.layer)] = depth
        for t in node.input_tensors + node.keyword_tensors:
            parent = id(producer(t))
            if parent in in_graph:
                node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    return node_depth, layer_depth


def keras_class_name(layer):
    """The class name Keras 3 shows for a layer (summary, plot_model): its functional models are Functionals,
    an op between layers is its op's class (Relu)."""
    if isinstance(layer, KerasOperation):
        return layer.keras_class
    return "Functional" if type(layer) is Model else type(layer).__name__


class Model(InputStructure, ModelMetrics, ModelQuantization, StatelessModel, StateTree, GeneratorMethods, Trainer,
            Layer):
    """Functional model: Model(inputs, outputs, name=None).  Or subclass it, create layers in
    __init__ and use them in call(inputs, training=None): the model is built on first use (fit,
    predict, a call, or build(input_shape)), and its layers are those its attributes hold."""

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True, **kwargs):
        inputs, outputs = kwargs.pop("input", inputs), kwargs.pop("output", outputs)     # Keras 1's names
        if name is None and inputs is not None and type(self) is Model:
            name = unique_name("functional")        # Keras 3 names them after its Functional class
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._nodes = []
        self._layers = []
        self._input_structure = None
        if inputs is not None and outputs is not None:
            warn_on_dict_keys(inputs)
            self._init_graph(inputs, outputs)
            self.output_names = [t.tag["keras_history"][0].name for t in self.outputs]  # as Keras's Functional

    def _init_graph(self, inputs, outputs):
        check_keras_tensors(inputs, "inputs")
        check_keras_tensors(outputs, "outputs")
        if not all(isinstance(_history(t)[0], InputLayer) for t in flatten(inputs)):
            inputs, outputs = clone_graph_nodes(inputs, outputs)
        self._input_structure, self._output_structure = inputs, outputs
        self.inputs, self.outputs = flatten(inputs), flatten(outputs)
        self._nodes, first_met = trace_nodes(self.inputs, outputs)
        _, layer_depth = depths(self._nodes)
        # Keras 3's layer order (and so its order of weights, and of layers in h5 files): deepest first
        layers = sorted(first_met, key=lambda layer: (-layer_depth[id(layer)], first_met[layer]))
        self._operations = layers           # as Keras's Functional._operations: the ops too (plot_model draws them)
        self._layers = [layer for layer in layers if not isinstance(layer, Operation)]
        if not self.trainable:
            self.trainable = False          # Model(..., trainable=False) freezes its layers
        names = [layer.name for layer in layers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError("All layers in a model must have unique names; repeated: %s" % duplicates)
        if self._path is None:          # Keras's functional models have their name as path
            with layer_scope(self):
                self._path = current_path()
        self.built = True

    @property
    def layers(self):
        return list(self._layers) if self._nodes else held_layers(self, Layer)

    @layers.setter
    def layers(self, _):
        raise AttributeError("`Model.layers` attribute is reserved and should not be used. Please use another name.")

    @property
    def operations(self):
        """Keras's Functional.operations: the model's layers and the ops between them, deepest first."""
        if not self._nodes:
            raise AttributeError("'%s' object has no attribute 'operations': only a model made from inputs and "
                                 "outputs has them" % type(self).__name__)
        return list(self._operations)

    @property
    def _convert_input_args(self):
        """A functional model (Sequential too) takes its inputs as they come, each of its layers casting
        its own, as Keras's Functional; a subclassed model casts float inputs to its compute dtype, as any
        layer.  (Keras's Sequential casts them too; here a float64 model keeps its float64 inputs whatever
        the global policy.)"""
        return type(self).call is not Model.call

    @property
    def _subclassed(self):
        return not self._nodes and type(self).call is not Model.call

    def _sublayers(self):
        """Its layers (whose trainable flags follow the model's, as Keras's: a frozen BatchNormalization
        then runs in inference mode); none while Layer.__init__ sets the flag, before the graph exists."""
        return self.layers if hasattr(self, "_nodes") else []

    def _all_weights(self):
        return self._with_own([w for layer in self.layers for w in layer.weights], self._weights)

    def _with_own(self, layers_weights, own):
        """The layers' weights in order with the model's own, each once (a layer held twice, in a model and
        its extractor): the own ones first for a subclassed model, as Keras's Layer lists its own
        variables before its sublayers', else last."""
        ordered = own + layers_weights if self._subclassed else layers_weights + own
        return list({id(w): w for w in ordered}.values())

    @property
    def weights(self):
        """Layer by layer, each layer's trainable then non-trainable weights (Keras 3's order)."""
        return self._all_weights()

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return self._with_own([w for layer in self.layers for w in layer.trainable_weights],
                              [w for w in self._weights if w.trainable])

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self._all_weights()
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self._all_weights() if id(w) not in trainable]

    def reset_states(self):
        """Zero the states of every stateful layer (Keras 2's model.reset_states())."""
        for layer in self.layers:
            if getattr(layer, "stateful", False) and hasattr(layer, "reset_states"):
                layer.reset_states()

    def get_layer(self, name=None, index=None):
        if index is not None:
            if not -len(self._layers) <= index < len(self._layers):
                raise ValueError("Model '%s' has %d layers; no layer at index %d" % (self.name, len(self._layers), index))
            return self._layers[index]
        for layer in self._layers:
            if layer.name == name:
                return layer
        raise ValueError("No such layer: %s. Existing layers are: %s" % (name, [l.name for l in self._layers]))

    def call(self, inputs, training=None, mask=None):
        """Re-run the recorded layer calls on new input tensors; mask (one per input, or None) is
        attached to the inputs first, as the mask an Embedding or Masking layer would have given them."""
        if mask is not None:
            inputs = with_masks(inputs, mask)
        if not self._nodes:
            return self._call_without_graph(inputs, training)
        return self._run_through_graph(self._standardize_inputs(inputs),
                                       **({} if training is None else {"training": training}))

    def _adapt(self, x, *args, **kwargs):
        """Arrays given to fit, evaluate or predict go in as a call's inputs would (Keras calls the model
        on each batch): in its structure, each of its Input's rank, with Keras's warnings and errors."""
        if self._nodes and is_array_data(x):
            given = flatten(self._restructured(x, warn=True))
            x = self._checked_ranks(given) if len(given) == len(self.inputs) else x   # else fit's error says it
        return super()._adapt(x, *args, **kwargs)

    def _call_eagerly(self, inputs, *args, **kwargs):
        """An eager call (on arrays) takes its inputs in the model's structure first, with Keras's warning
        where theirs differs (as in Keras, a symbolic call draws none), each array in its Input's dtype; it
        gives the one output of a model made with outputs=[y] alone, as Keras's eager call does."""
        if not self._nodes:
            return super()._call_eagerly(inputs, *args, **kwargs)
        inputs = self._restructured(inputs, warn=True)
        given = flatten(inputs)
        if len(given) == len(self.inputs):
            inputs = pack_sequence_as(inputs, [in_dtype_of(x, t) for x, t in zip(given, self.inputs)])
        outputs = super()._call_eagerly(inputs, *args, **kwargs)
        return outputs[0] if isinstance(outputs, (list, tuple)) and len(outputs) == 1 else outputs

    def _call_without_graph(self, inputs, training):
        """call() of a model that recorded no layer calls (Sequential runs its layers on nested inputs)."""
        raise NotImplementedError("Model '%s' has no graph: pass inputs and outputs, or subclass Model "
                                  "and implement call()" % self.name)

    def _run_through_graph(self, inputs, operation_fn=None, call_fn=None, **call_kwargs):
        """The recorded layer calls on new inputs (run_nodes)."""
        return run_nodes(self._nodes, self.inputs, flatten(inputs), self._output_structure, operation_fn, call_fn,
                         **call_kwargs)

    def __call__(self, inputs, *args, **kwargs):
        """training not given (nor by an enclosing call) stays None, so that each layer takes its own call's
        default, as in Keras: model(x) augments through the image layers (training=True by default), while
        Dropout and BatchNormalization infer."""
        if self._nodes:
            kwargs["training"] = inherited_training(kwargs.get("training"))
            self._check_required(flatten(inputs))      # before input_spec's checks, as Keras's
        return super().__call__(inputs, *args, **kwargs)

    def build(self, input_shape):
        """A subclassed model is built by calling it on Inputs of input_shape (one shape, or a list
        of shapes for several inputs), as Keras's model.build((None, 4))."""
        if self._subclassed and self._input_structure is None:
            self._trace(map_shapes(lambda shape: Input(batch_shape=shape), input_shape))
        self.built = True

    def _maybe_build(self, inputs, kwargs):
        """A subclassed model that its first call builds (Model's build) traces itself with the batch dim
        free, so that later calls, fit and predict take any batch size, as Keras's eager calls do; an
        explicit build(input_shape) keeps the shape given."""
        if not self.built and self._subclassed and self._input_structure is None and type(self).build is Model.build:
            self.build(map_structure(lambda t: (None,) + tuple(t.type.shape[1:]), inputs))
        super()._maybe_build(inputs, kwargs)

    def _ensure_built(self, arrays):
        """Build a subclassed model from the first batch of data: one Input per array, of its
        shape (the batch dim left free) and dtype (floats as floatx)."""
        def input_for(array):
            dtype = config.floatx() if array.dtype.kind == "f" else array.dtype.name
            return Input(batch_shape=(None,) + array.shape[1:], dtype=dtype)
        if self._subclassed:
            inputs = [input_for(a) for a in arrays]
            self._trace(inputs[0] if len(inputs) == 1 else inputs)

    def _trace(self, inputs):
        """The subclassed model's own call on Inputs, recorded as its first node, gives it
        inputs and outputs as a functional model has (the step functions start from them).
        Its build(), Model's or the subclass's own, runs first, inside that call.  The losses and updates
        the trace adds belong to no step (a step builds its own): kept apart, they are dropped, even when
        the trace runs inside an eager call's graph."""
        self._input_structure = inputs
        with collect_extras():
            outputs = self(inputs, training=False)
        self._output_structure = outputs
        self.inputs, self.outputs = flatten(inputs), flatten(outputs)

    @property
    def input_shape(self):
        return shape_of(self._input_structure) if self._input_structure is not None else super().input_shape

    @property
    def output_shape(self):
        return shape_of(self._output_structure) if self._input_structure is not None else super().output_shape

    @property
    def input(self):
        return self._input_structure if self._input_structure is not None else super().input

    @property
    def output(self):
        return self._output_structure if self._input_structure is not None else super().output

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        from mlcore.models.summary import print_summary
        print_summary(self, line_length, positions, print_fn, expand_nested, show_trainable, layer_range)

    def get_config(self):
        """Keras 3's layout, as .keras archives hold it; a subclassed model without a graph of its own has
        Keras's auto-config instead (the plain arguments it was made with), so it saves and loads."""
        if not self._nodes:
            from mlcore.layers.auto_config import with_arguments
            config = super().get_config()
            return with_arguments(self, config) if type(self).get_config is Model.get_config else config
        from mlcore.saving.keras3_config import keras_functional_config
        return keras_functional_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=True):
        """A functional model's graph; for a subclass, its __init__ arguments, as Keras reads them."""
        if cls is not Model and "layers" not in config:
            return cls(**config)
        from mlcore.models.serialization import functional_from_config
        return functional_from_config(cls, config, custom_objects, safe_mode)

    def to_json(self, **kwargs):
        from mlcore.models.serialization import model_to_json
        return model_to_json(self, **kwargs)

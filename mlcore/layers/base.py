"""The Layer base class, as Keras's: weights, build/call, and the bookkeeping that
lets layers be chained into functional models.

A layer called on symbolic tensors (graph Variables) builds graph ops and
records a Node (layer, inputs, outputs), from which a functional Model later
finds its layers.  Called on numpy arrays, it compiles and runs at once.
"""
import collections
import inspect
import warnings
from contextlib import contextmanager, nullcontext

import numpy as np

from mlcore import constraints, dtype_policies, initializers, regularizers, scopes
from mlcore.graph import ops
from mlcore.graph.basic import Constant, SharedVariable, Variable, graph_inputs
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.keras_masks import get_keras_mask, set_keras_mask, with_keras_mask
from mlcore.layers.auto_config import made_with, with_arguments
from mlcore.layers.autocasting import call_scope, cast_inputs
from mlcore.layers.input_spec import assert_input_compatibility
from mlcore.layers.layer_state import LayerState, layer_scope
from mlcore.layers.quantization import check_quantize_args, not_implemented
from mlcore.layers.stateless_call import StatelessCall
from mlcore.layers.structure import flatten, map_structure  # noqa: F401  (also imported from here)
from mlcore.layers.tracking import held_layers, inherited_training, tracing, training_scope
from mlcore.layers.weight import Weight  # noqa: F401  (also imported from here)
from mlcore.rematerialization import get_current_remat_mode, rematerialized_call
from mlcore.utils.naming import to_snake_case

_name_counts = {}
_update_collectors = []


def clear_session():
    """Forget the automatic layer-name counters (Keras's clear_session)."""
    _name_counts.clear()


def unique_name(base):
    """Keras's naming: dense, dense_1, dense_2, ..."""
    count = _name_counts.get(base, 0)
    _name_counts[base] = count + 1
    return base if count == 0 else "%s_%d" % (base, count)


class UnrecognizedArgumentError(ValueError, TypeError):
    """An unknown layer argument: Keras 3 raises a ValueError, Python (and Keras 2) a TypeError; code written
    for either catches this."""


class GraphExtras:
    """What layers add while a model's graph is built: updates (BatchNormalization's
    moving statistics) and losses (activity regularizers, add_loss in call)."""

    def __init__(self):
        self.updates = []
        self.losses = []
        self.loss_owners = []       # the layer that added each loss
        self.seed_draws = {}        # id(SeedGenerator) -> how many keys it gave this graph (mlcore/random.py)


def current_extras():
    """The GraphExtras of the graph being built, None outside any."""
    return _update_collectors[-1] if _update_collectors else None


@contextmanager
def collect_extras():
    extras = GraphExtras()
    _update_collectors.append(extras)
    try:
        yield extras
    finally:
        _update_collectors.pop()


class Node:
    """One call of a layer on symbolic inputs (Keras's Node)."""

    def __init__(self, layer, inputs, outputs, kwargs):
        self.layer = layer
        self.inputs = inputs        # as passed: a tensor or a list of tensors
        self.outputs = outputs
        self.kwargs = kwargs

    @property
    def input_tensors(self):
        return flatten(self.inputs)

    @property
    def keyword_tensors(self):
        """Tensors passed as keyword arguments (an RNN's initial_state): inputs of the call too."""
        return [t for value in self.kwargs.values() for t in flatten(value) if isinstance(t, Variable)]

    @property
    def output_tensors(self):
        return flatten(self.outputs)


def _fresh_output(inputs):
    """A layer that returns an input unchanged (Dropout at inference), or one of its weights, still
    gets an output of its own, so each tensor's keras_history names the one layer call that made it.
    A weight the call assigned is read as its new value, as Keras reads a variable after assign(),
    and an eager call gives the weight itself back (tag "weight"), as Keras's does."""
    from mlcore.graph.ops.shape import DimShuffle
    input_ids = {id(t) for t in flatten(inputs)}

    def fresh(out):
        if isinstance(out, Weight):
            weight = out
            out = DimShuffle(tuple(range(out.ndim)))(dict(current_extras().updates).get(weight, weight))
            out.tag["weight"] = weight
            return out
        return DimShuffle(tuple(range(out.ndim)))(out) if id(out) in input_ids else out
    return fresh


def _runs_eagerly(inputs):
    """Keras's eager call: outside any graph being built, on arrays or constant tensors (what
    ops.convert_to_tensor gives).  A layer called on arrays or constants inside another's call stays in
    that graph (an Embedding of `ops.arange` positions), so its weights get gradients, as they do in
    Keras's traced calls."""
    if _update_collectors:
        return not any(_is_tensor(t) for t in flatten(inputs))
    return all(isinstance(t, Constant) for t in flatten(inputs) if isinstance(t, Variable))


def _as_graph_inputs(inputs):
    """The arrays among a symbolic call's inputs as constants of the graph."""
    return map_structure(lambda t: as_tensor_variable(t) if isinstance(t, np.ndarray) else t, inputs)


def _value(array):
    """The numbers of an array or of a constant tensor."""
    return array.data if isinstance(array, Constant) else np.asarray(array)


def _is_tensor(value):
    return isinstance(value, (Variable, np.ndarray))


def _shapes_or_none(structure):
    return map_structure(lambda t: tuple(t.type.shape) if isinstance(t, Variable) else getattr(t, "shape", None),
                         structure)


def map_shapes(fn, shapes):
    """fn applied to each shape (a tuple of ints and None) of one shape or a structure of shapes."""
    if isinstance(shapes, (tuple, list)) and all(d is None or isinstance(d, int) for d in shapes):
        return fn(tuple(shapes))
    if isinstance(shapes, dict):
        return {k: map_shapes(fn, v) for k, v in shapes.items()}
    return type(shapes)(map_shapes(fn, s) for s in shapes)


def _unique(variables):
    seen = set()
    return [v for v in variables if not (id(v) in seen or seen.add(id(v)))]


def shape_of(structure):
    return map_structure(lambda t: t.type.shape, structure)


class Layer(StatelessCall, LayerState):
    """Subclass and implement build(input_shape) (create weights with add_weight)
    and call(inputs, training=None)."""

    supports_jit = True       # Keras's flag: the layer can run inside a compiled (jitted) program

    # True where each sample's output depends on that sample alone, in training too (mlcore's own
    # Dense, Conv2D...; not BatchNormalization).  fit may then pad a short batch with copies of its
    # rows, so that jax compiles one program per batch size (models/step_functions.py).
    rowwise = False
    input_spec = None       # an InputSpec (or a list of them) that __call__ checks the inputs against
    _convert_input_args = True  # whether __call__ casts float inputs to the compute dtype (autocasting.py)

    def __new__(cls, *args, **kwargs):
        layer = super().__new__(cls)
        layer._auto_config = made_with(cls, args, kwargs)    # a custom layer's config, where it writes none
        return layer

    def __init__(self, trainable=True, name=None, dtype=None, input_shape=None, input_dim=None,
                 batch_input_shape=None, batch_size=None, autocast=True, activity_regularizer=None, **kwargs):
        if kwargs:
            raise UnrecognizedArgumentError("Unrecognized keyword arguments passed to %s: %s"
                                            % (type(self).__name__, kwargs))
        if not isinstance(trainable, (bool, np.bool_)):
            raise ValueError("Expected `trainable` to be a boolean. Received: trainable=%s (of type %s)"
                             % (trainable, type(trainable)))
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self._weights = []
        self.trainable = trainable
        self.dtype = dtype       # a dtype, a DTypePolicy or its name; None: the global policy
        self.autocast = autocast    # Keras's: False keeps inputs and weights in their own dtypes
        if activity_regularizer is not None:
            self.activity_regularizer = regularizers.get(activity_regularizer)
        self.built = False
        self._inbound_nodes = []
        self._losses = []
        self._eager_losses = []
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            batch_size, input_shape = batch_input_shape[0], tuple(batch_input_shape[1:])
        self._batch_input_shape = None if input_shape is None else (batch_size,) + tuple(input_shape)
        parameters = inspect.signature(self.call).parameters
        self._call_accepts_training = "training" in parameters
        self._call_accepts_mask = "mask" in parameters
        self._call_arguments = list(parameters)
        self._call_first_arg = next(iter(parameters), "inputs")
        self._call_later_args = [n for n, p in list(parameters.items())[1:] if p.kind == p.POSITIONAL_OR_KEYWORD]
        self._remat_mode = get_current_remat_mode()     # the RematScope it was created in, as Keras's
        self._activity_loss_added = False   # whether the call being built added its activity penalty
        self._call_depth = 0                # calls of this layer running now (their state is locked, as Keras's)

    def _build_at_init(self):
        """Keras's: a stateless layer that keeps Layer's build() is built once made (Activation, Dropout...);
        it then gets no path and no build config, as in Keras."""
        if type(self).build is Layer.build:
            self.built = True

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Keras's: the weights made trainable, and the sublayers, follow the layer's flag."""
        self._trainable = bool(value)
        for weight in self._weights:
            if weight.created_trainable:
                weight.trainable = self._trainable
        for layer in self._sublayers():
            layer.trainable = self._trainable

    # --- weights ---------------------------------------------------------------------------------
    @property
    def weights(self):
        """Keras 3's order: its own weights (trainable ones first), then each sublayer's; freezing a
        sublayer does not reorder them."""
        return self._all_weights()

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return _unique([w for w in self._own_weights() if w.trainable] +
                       [w for layer in held_layers(self, Layer) for w in layer.trainable_weights])

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self._all_weights()
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self._all_weights() if id(w) not in trainable]

    @property
    def variables(self):
        """Keras's: the weights, and the states of the SeedGenerators held by the layer (after its own
        weights) and by its sublayers (after theirs), which weights leave out."""
        own = self._own_weights()
        seeds = [generator.state for generator in self._seed_generators]
        return _unique(own + seeds + [v for layer in self._sublayers() for v in layer.variables])

    trainable_variables = trainable_weights     # a seed state is never trainable

    @property
    def non_trainable_variables(self):
        """non_trainable_weights and the seed states, in the order of variables (Keras's)."""
        if not self.trainable:
            return self.variables
        trainable = {id(w) for w in self.trainable_weights}
        return [v for v in self.variables if id(v) not in trainable]

    @property
    def _seed_generators(self):
        """The SeedGenerators the layer's attributes hold (Keras's layer._seed_generators)."""
        from mlcore.random import SeedGenerator
        return held_layers(self, SeedGenerator)

    def _sublayers(self):
        return held_layers(self, Layer)

    def _flatten_layers(self, include_self=True, recursive=True):
        """This layer (include_self) and the layers it holds, each once, in Keras's order (a layer's
        own sublayers go to the front of the queue, last first): code written for Keras walks a
        model's layers with it (it is private there, and much used)."""
        found, seen = [self] if include_self else [], set()
        queue = collections.deque(self._sublayers())
        while queue:
            layer = queue.popleft()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            found.append(layer)
            if recursive:
                queue.extendleft(layer._sublayers())
        return found

    @property
    def metrics(self):
        """Keras's: the metrics the layer's attributes hold, then its sublayers'."""
        from mlcore.metrics.base import Metric
        return held_layers(self, Metric) + [metric for layer in self._sublayers() for metric in layer.metrics]

    @property
    def metrics_variables(self):
        return [variable for metric in self.metrics for variable in metric.variables]

    def _own_weights(self):
        """Its own weights, those made trainable first, as Keras lists them: freezing one later (LoRA's kernel)
        does not move it."""
        return [w for w in self._weights if w.created_trainable] + [w for w in self._weights if not w.created_trainable]

    def _all_weights(self):
        """Its own weights, trainable ones first, then those of the layers its attributes hold."""
        return _unique(self._own_weights() + [w for layer in self._sublayers() for w in layer.weights])

    def get_weights(self):
        return [w.get_value() for w in self.weights]

    def set_weights(self, weights):
        """Set all weights at once; the counts and shapes are checked before anything changes."""
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError("Layer '%s' expects %d weight arrays, got %d" % (self.name, len(own), len(weights)))
        arrays = []
        for w, value in zip(own, weights):
            value = np.asarray(value)
            if tuple(value.shape) != tuple(w.shape):
                raise ValueError("Layer '%s': weight '%s' has shape %s; the value given has shape %s"
                                 % (self.name, w.path, tuple(w.shape), value.shape))
            arrays.append(value)
        for w, value in zip(own, arrays):
            w.set_value(value)

    def count_params(self):
        """The number of scalars in the weights; an unbuilt layer has none yet, so Keras refuses."""
        if not self.built:
            raise ValueError("You tried to call `count_params` on layer '%s', but the layer isn't built. "
                             "You can build it manually via: `layer.build(input_shape)`." % self.name)
        return int(sum(np.prod(w.shape) for w in self.weights))

    # --- losses and updates ----------------------------------------------------------------------
    def add_loss(self, loss):
        """A symbolic loss term: to the graph being built if any, else kept on the layer."""
        if _update_collectors:
            _update_collectors[-1].losses.append(loss)
            _update_collectors[-1].loss_owners.append(self)
        else:
            self._losses.append(loss)

    @property
    def losses(self):
        """In Keras's order: the losses add_loss added (kept on the layer, or the values its last eager
        call added), this layer's then its sublayers', then the penalties of the trainable weights.
        Read while a graph is being built (a traced call, a training step) they are graph expressions;
        read outside one, the terms made of weights alone are computed, as Keras gives values."""
        terms = self._symbolic_losses()
        if _update_collectors or tracing():
            return terms
        of_weights = [k for k, t in enumerate(terms) if isinstance(t, Variable) and not isinstance(t, Constant)
                      and all(isinstance(i, (Constant, SharedVariable)) for i in graph_inputs([t]))]
        if of_weights:
            for k, value in zip(of_weights, scopes.run_graph([], [terms[k] for k in of_weights], [], [])):
                terms[k] = value
        return terms

    def _symbolic_losses(self):
        """The terms of losses as graph expressions: what a training step adds to its loss."""
        return self._added_losses() + [w.regularizer(w) for w in self.trainable_weights if w.regularizer is not None]

    def _added_losses(self):
        return list(self._losses) + self._eager_losses + [loss for layer in self._sublayers()
                                                          for loss in layer._added_losses()]

    def _clear_eager_losses(self):
        """Forget the losses of the last eager call, here and in the layers below, as Keras resets
        them at each call (and a training step's forward pass)."""
        self._eager_losses = []
        for layer in held_layers(self, Layer):
            layer._clear_eager_losses()

    def add_activity_loss(self, outputs):
        """Keras 3's activity regularization: the penalty of each output over its batch size (none for an empty
        batch).  A call that adds it itself (Dense's, after its activation) keeps __call__ from adding it again."""
        from mlcore.ops import divide_no_nan
        self._activity_loss_added = True
        if self.activity_regularizer is None:
            return
        for output in [t for t in flatten(outputs) if isinstance(t, Variable)]:
            loss = self.activity_regularizer(output)
            self.add_loss(divide_no_nan(loss, ops.cast(output.shape[0], loss.dtype)) if output.ndim else loss)

    def add_update(self, variable, value):
        """Record a non-gradient update (moving averages) for the training step being built."""
        if _update_collectors:
            _update_collectors[-1].updates.append((variable, value))

    # --- building and calling --------------------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def call(self, *args, **kwargs):
        raise NotImplementedError("Layer %s does not have a `call` method implemented." % type(self).__name__)

    def compute_output_shape(self, input_shape):
        """Infer by building the graph on placeholders of that shape."""
        from mlcore.graph.basic import TensorType
        return shape_of(self(map_shapes(lambda shape: TensorType(self.dtype, shape)(), input_shape)))

    def _maybe_build(self, inputs, kwargs):
        if not self.built:
            shapes = {self._call_first_arg + "_shape": _shapes_or_none(inputs)}
            shapes.update((name + "_shape", _shapes_or_none(value)) for name, value in kwargs.items()
                          if name not in ("mask", "training") and any(_is_tensor(t) for t in flatten(value)))
            self.build(**self._build_arguments(shapes))
            self.built = True

    def _build_arguments(self, shapes):
        """Keras's rule: a build() of one argument gets the first input's shape; one of several gets the shapes of
        the call arguments they name, each `<argument>_shape`."""
        parameters = [name for name, p in inspect.signature(self.build).parameters.items()
                      if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if len(parameters) <= 1:
            return {parameters[0]: next(iter(shapes.values()))} if parameters else {}
        preamble = ("For a `build()` method with more than one argument, all arguments should have a `_shape` "
                    "suffix and match an argument from `call()`. E.g. `build(self, foo_shape, bar_shape)` For layer "
                    "'%s', " % type(self).__name__)
        for name in parameters:
            if not name.endswith("_shape"):
                raise ValueError(preamble + "Received `build()` argument `%s`, which does not end in `_shape`." % name)
            if name[:-len("_shape")] not in self._call_arguments:
                raise ValueError(preamble + "received `build()` argument `%s`, but `call()` does not have argument "
                                 "`%s`." % (name, name[:-len("_shape")]))
        return {name: shapes[name] for name in parameters if name in shapes}

    def __call__(self, *args, **kwargs):
        inputs, args, kwargs = self._split_inputs(args, kwargs)
        if args and len(args) <= len(self._call_later_args):
            # layer(a, b) as call(a, b=b): a model's graph records, replays and saves b as a keyword tensor
            for arg in flatten(args):
                if not (arg is None or _is_tensor(arg)):
                    raise ValueError("Only input tensors may be passed as positional arguments. The following argument "
                                     "value should be passed as a keyword argument: %s (of type %s)" % (arg, type(arg)))
            kwargs, args = {**kwargs, **dict(zip(self._call_later_args, args))}, ()
        if self.input_spec is not None:
            assert_input_compatibility(self.input_spec, inputs, self.name)
        if _runs_eagerly(inputs):
            return self._call_eagerly(inputs, *args, **kwargs)
        inputs = _as_graph_inputs(inputs)
        self._maybe_build(inputs, kwargs)
        training = inherited_training(kwargs.get("training"))
        if not self._call_accepts_training:
            kwargs.pop("training", None)
        # training still None: left out, so the call's own default holds (Keras's rule: an image augmentation
        # layer augments, Dropout does not)
        call_kwargs = dict(kwargs, training=training) if self._call_accepts_training and training is not None else \
            {k: v for k, v in kwargs.items() if k != "training"}
        previous_mask = kwargs.get("mask")
        if previous_mask is None:
            previous_mask = map_structure(get_keras_mask, inputs)
            if self._call_accepts_mask and any(m is not None for m in flatten(previous_mask)):
                call_kwargs = dict(call_kwargs, mask=previous_mask)
        call_inputs, args, call_kwargs = cast_inputs(self, (inputs, args, call_kwargs))
        # the losses and updates of a call that builds no step (wiring a model) belong to no graph: drop them
        with nullcontext() if _update_collectors else collect_extras(), training_scope(training), layer_scope(self), \
                call_scope(self):
            call = self.rematerialized_call(self.call, call_inputs, *args, **call_kwargs)     # keras.RematScope
            self._activity_loss_added = False
            self._call_depth += 1
            try:
                outputs = map_structure(_fresh_output(inputs), call(call_inputs, *args, **call_kwargs))
            finally:
                self._call_depth -= 1
            if not self._activity_loss_added:
                self.add_activity_loss(outputs)
        self._pass_mask_on(inputs, outputs, previous_mask)
        self._inbound_nodes.append(Node(self, inputs, outputs, kwargs))
        for k, out in enumerate(flatten(outputs)):
            if out is not None:         # a call may return None (one that only checks or assigns), as in Keras
                out.tag["keras_history"] = (self, len(self._inbound_nodes) - 1, k)
        return outputs

    def _split_inputs(self, args, kwargs):
        """(inputs, the other positional arguments, kwargs): the inputs are the first positional argument, or
        the keyword argument named as call()'s first, as Keras takes layer(x1=a, x2=b)."""
        if args:
            return args[0], args[1:], kwargs
        if self._call_first_arg not in kwargs:
            raise TypeError("%s.__call__() is missing its inputs: the `%s` argument of call()"
                            % (type(self).__name__, self._call_first_arg))
        kwargs = dict(kwargs)
        return kwargs.pop(self._call_first_arg), (), kwargs

    def rematerialized_call(self, layer_call, *args, **kwargs):
        """layer_call as the RematScope the layer was made in says (Keras's): itself, or rematerialized
        (mlcore/rematerialization.py); the arguments are those it will be called with."""
        return rematerialized_call(self, layer_call, args, kwargs)

    def quantize(self, mode=None, type_check=True, config=None):
        """Keras's: only quantizable layers (Dense, EinsumDense, Embedding, ...) implement it; the
        arguments are checked first, as Keras's wrapper of quantize checks them."""
        from mlcore.quantizers.quantization_config import validate_and_resolve_config
        check_quantize_args(self, validate_and_resolve_config(mode, config).mode)
        raise not_implemented(self, "quantize")

    def quantized_build(self, input_shape, mode):
        raise not_implemented(self, "quantized_build")

    def call_for_step(self, inputs, training, mask=None):
        """call() on the symbolic inputs of a step being built: training goes to it if it takes
        one, and to every layer it calls (Keras's call context); so does a mask."""
        kwargs = {"training": training} if self._call_accepts_training else {}
        if mask is not None and self._call_accepts_mask:
            kwargs["mask"] = mask
        self._clear_eager_losses()
        with training_scope(training):
            return self.call(inputs, **kwargs)

    # --- masks (mlcore/keras_masks.py) ----------------------------------------------------
    @property
    def supports_masking(self):
        """Whether the layer passes masks on: by default where it defines compute_mask, as in Keras."""
        return self.__dict__.get("_supports_masking", type(self).compute_mask is not Layer.compute_mask)

    @supports_masking.setter
    def supports_masking(self, value):
        self._supports_masking = bool(value)

    def compute_mask(self, inputs, previous_mask=None):
        """The outputs' mask: the inputs' one, unchanged."""
        return previous_mask

    def _pass_mask_on(self, inputs, outputs, previous_mask):
        """Give the outputs the mask compute_mask says, unless call set one; a layer that does not
        support masking drops its input's mask, with Keras's warning."""
        if not self.supports_masking:
            if any(m is not None for m in flatten(previous_mask)):
                warnings.warn("Layer '%s' (of type %s) was passed an input with a mask attached to it. However, "
                              "this layer does not support masking and will therefore destroy the mask "
                              "information. Downstream layers will not see the mask."
                              % (self.name, type(self).__name__), stacklevel=3)
            return
        flat_outputs = flatten(outputs)
        if all(get_keras_mask(t) is not None for t in flat_outputs):
            return
        masks = self.compute_mask(inputs, previous_mask)
        if masks is None:
            return
        for tensor, mask in zip(flat_outputs, flatten(masks)):
            if get_keras_mask(tensor) is None and mask is not None:
                set_keras_mask(tensor, mask if isinstance(mask, Variable) else as_tensor_variable(mask))

    def _call_eagerly(self, inputs, *args, **kwargs):
        """layer(numpy_array): build a graph for these shapes, compile it and run it.  Its updates
        (BatchNormalization's moving statistics when training=True) apply, as in Keras's eager calls;
        the inputs' masks go in, and the outputs come back with their masks (keras_masks.MaskedOutput)."""
        from mlcore.graph.basic import TensorType
        # None (for a model's optional input) stays None: the layers that take it see None
        arrays = map_structure(lambda a: None if a is None else _value(a), inputs)
        casts = self.autocast and self._convert_input_args     # else floats are taken as they come (autocasting.py)
        placeholders = map_structure(lambda a: None if a is None else TensorType(
            self.input_dtype if casts and a.dtype.kind == "f" else a.dtype, a.shape)(), arrays)  # all known, as Keras
        feeds = [(p, np.asarray(a, dtype=p.dtype)) for a, p in zip(flatten(arrays), flatten(placeholders))
                 if a is not None]
        for given, placeholder in zip(flatten(inputs), flatten(placeholders)):
            mask = get_keras_mask(given)
            if mask is not None:
                mask = _value(mask)
                set_keras_mask(placeholder, TensorType(mask.dtype, mask.shape)())
                feeds.append((get_keras_mask(placeholder), mask))
        with collect_extras() as extras, self._leaving_no_nodes():
            outputs = self(placeholders, *args, **kwargs)
        computed = [t for t in flatten(outputs) if t is not None]
        masks = [get_keras_mask(t) for t in computed]
        results = scopes.run_graph([v for v, _ in feeds], computed + [m for m in masks if m is not None] +
                                   extras.losses, extras.updates, [value for _, value in feeds])
        split = len(results) - len(extras.losses)
        results, loss_values = results[:split], results[split:]
        scopes.collect_losses(loss_values)
        self._clear_eager_losses()
        for owner, value in zip(extras.loss_owners, loss_values):
            owner._eager_losses = owner._eager_losses + [value]
        mask_values = iter(results[len(masks):])
        values = iter([value if mask is None else with_keras_mask(value, next(mask_values))
                       for value, mask in zip(results, masks)])
        return map_structure(lambda out: None if out is None else out.tag.get("weight", next(values)), outputs)

    @contextmanager
    def _leaving_no_nodes(self):
        """The calls made inside (an eager call's graph on placeholders) add no Node to this layer or to
        the layers it holds, as Keras's eager calls add none: `layer.output` stays that of its functional
        call, and a model's summary shows its own nodes only."""
        before = {id(layer): len(layer._inbound_nodes) for layer in self._flatten_layers()}
        try:
            yield
        finally:
            for layer in self._flatten_layers():
                del layer._inbound_nodes[before.get(id(layer), 0):]

    # --- introspection ---------------------------------------------------------------------------
    def _node_tensors(self, which, node_index=0):
        if not self._inbound_nodes:
            raise AttributeError("Layer '%s' has never been called and thus has no defined %s"
                                 % (self.name, which))
        node = self._inbound_nodes[node_index]
        return node.inputs if which == "input" else node.outputs

    @property
    def input(self):
        return self._node_tensors("input")

    @property
    def output(self):
        return self._node_tensors("output")

    @property
    def input_shape(self):
        return shape_of(self.input)

    @property
    def output_shape(self):
        return shape_of(self.output)

    def get_config(self):
        """Keras 3's base keys: the policy serialized, an activity regularizer only where there is one,
        no input shape (a model's InputLayer or build_config holds it)."""
        config_ = {"name": self.name}
        if type(self).get_config is Layer.get_config:   # a custom layer without get_config(): Keras's auto-config
            config_ = with_arguments(self, config_)
        config_.update(trainable=self.trainable, dtype=dtype_policies.serialize(self.dtype_policy))
        if self.activity_regularizer is not None:
            config_["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config_

    @classmethod
    def from_config(cls, config):
        """Keras's keys that mlcore's layer lacks (quantization_config=None...) are read at their off value.  A
        serialized policy reaches __init__ as Keras gives it: a float policy as its name, any other as a policy.
        A config the class refuses raises Keras's TypeError, naming the class and the config."""
        from mlcore.saving.keras_only_arguments import without_keras_only_arguments
        if isinstance(config.get("dtype"), dict):
            policy = dtype_policies.deserialize(config["dtype"])
            plain = not isinstance(policy, dtype_policies.DTypePolicyMap) and policy.quantization_mode is None
            config = dict(config, dtype=policy.name if plain else policy)
        try:
            return cls(**without_keras_only_arguments(cls, config))
        except Exception as error:          # Keras's wording and type, which loaders and tests match
            raise TypeError("Error when deserializing class '%s' using config=%s.\n\nException encountered: %s"
                            % (cls.__name__, config, error)) from error

    def __repr__(self):
        return "<%s name=%s, built=%s>" % (type(self).__name__, self.name, self.built)


class KernelBiasOptions:
    """The weight options of a layer with a kernel and an optional bias (Dense, Conv2D), in one
    place so that both read, build and save them alike."""

    def set_kernel_bias_options(self, keras1, kernel_initializer, bias_initializer, kernel_regularizer,
                                bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint):
        """keras1: Keras 1 arguments (init=, W_regularizer=, ...) under their Keras 3 names; they win."""
        self.kernel_initializer = initializers.get(keras1.get("kernel_initializer", kernel_initializer))
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(keras1.get("kernel_regularizer", kernel_regularizer))
        self.bias_regularizer = regularizers.get(keras1.get("bias_regularizer", bias_regularizer))
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(keras1.get("kernel_constraint", kernel_constraint))
        self.bias_constraint = constraints.get(keras1.get("bias_constraint", bias_constraint))

    def add_kernel_and_bias(self, kernel_shape, float_kernel=True):
        """The kernel, and with use_bias a bias over the kernel's last dim (units or filters);
        float_kernel=False: the bias only (an int8 layer's quantized_build made its kernel)."""
        if float_kernel:
            self.kernel = self.add_weight(kernel_shape, self.kernel_initializer, regularizer=self.kernel_regularizer,
                                          constraint=self.kernel_constraint, name="kernel")
        self.bias = self.add_weight(kernel_shape[-1:], self.bias_initializer, regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint, name="bias") if self.use_bias else None

    def bias_and_activation(self, out, bias=None):
        """What follows the kernel's product: the bias (self.bias unless given) if any, the activation, its
        activity loss."""
        bias = self.bias if bias is None else bias
        if bias is not None:
            out = out + bias
        if self.activation is not None:     # as Keras's, a layer's activation may be set to None after it is made
            out = self.activation(out)
        self.add_activity_loss(out)
        return out

    def kernel_bias_config(self):
        return {"kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}

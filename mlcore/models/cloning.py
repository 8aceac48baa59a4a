"""keras.models.clone_model: the same architecture with new, freshly initialised weights."""
from mlcore.backend import is_keras_tensor
from mlcore.layers.base import map_structure
from mlcore.layers.input_layer import Input, InputLayer
from mlcore.models.functional import Model
from mlcore.models.operations import Operation
from mlcore.models.sequential import Sequential
from mlcore.tree import assert_same_structure, flatten


def clone_model(model, input_tensors=None, clone_function=None, call_function=None, recursive=False,
                **kwargs):
    """A Sequential or functional model rebuilt from clones of its layers, on new Inputs (or on
    input_tensors); clone_function(layer) makes each clone (by default from the layer's config, so
    weights are initialised anew), call_function(layer, *args, **kwargs) calls it in a functional
    model, and with recursive the nested models are cloned the same way. A subclassed model is
    rebuilt from its get_config(). The clone is compiled as the model was."""
    cache = kwargs.pop("cache", None)
    if kwargs:
        raise ValueError("clone_model: Unexpected keyword argument(s): %s" % (tuple(kwargs),))
    functional = isinstance(model, Model) and bool(model._nodes) and not isinstance(model, Sequential)
    if isinstance(model, Sequential) or functional:
        clone_layer = _clone_function(clone_function, call_function, recursive, {} if cache is None else cache)
        if isinstance(model, Sequential):
            if call_function is not None:
                raise ValueError("clone_model: `call_function` argument is not supported with Sequential models. "
                                 "In a Sequential model, layers aren't called at model-construction time (they're "
                                 "merely listed). Use `call_function` with Functional models only. Received model "
                                 "of type '%s', with call_function=%s" % (type(model).__name__, call_function))
            clone = _clone_sequential(model, clone_layer, input_tensors)
        else:
            clone = _clone_functional(model, clone_layer, call_function, input_tensors)
        if model.compiled:
            clone.compile_from_config(model.get_compile_config())
        return clone
    if clone_function is not None or input_tensors is not None:
        raise ValueError("clone_model: Arguments `clone_function` and `input_tensors` are only supported for "
                         "Sequential models or Functional models. Received model of type '%s', with "
                         "clone_function=%s and input_tensors=%s"
                         % (type(model).__name__, clone_function, input_tensors))
    if call_function is not None:
        raise ValueError("clone_model: Argument `call_function` is only supported for Functional models. "
                         "Received model of type '%s', with call_function=%s" % (type(model).__name__, call_function))
    return _clone_subclassed(model)


def _clone_function(clone_function, call_function, recursive, cache):
    """clone_function, by default a layer from its config, made once per layer (a shared layer stays
    shared); with recursive, nested models go through clone_model instead. Ops between layers
    (mlcore.models.operations) hold no weights and are reused."""
    def clone(layer):
        if isinstance(layer, Operation):
            return layer
        if id(layer) not in cache:
            if recursive and isinstance(layer, Model) and not layer._subclassed:
                nested_call = None if isinstance(layer, Sequential) else call_function
                cache[id(layer)] = clone_model(layer, clone_function=clone_function, call_function=nested_call,
                                               recursive=True, cache=cache)
            elif clone_function is not None:
                cache[id(layer)] = clone_function(layer)
            else:
                cache[id(layer)] = type(layer).from_config(layer.get_config())
        return cache[id(layer)]
    return clone


def _clone_sequential(model, clone_layer, input_tensors):
    layers = [clone_layer(layer) for layer in model.layers]
    if input_tensors is not None:
        if isinstance(input_tensors, (list, tuple)):
            if len(input_tensors) != 1:
                raise ValueError("clone_model: Argument `input_tensors` must contain a single tensor; got %d"
                                 % len(input_tensors))
            input_tensors = input_tensors[0]
        if not (is_keras_tensor(input_tensors) and isinstance(input_tensors.tag["keras_history"][0], InputLayer)):
            raise ValueError("clone_model: Argument `input_tensors` of a Sequential model must be a KerasTensor "
                             "made by Input(). Received invalid value: input_tensors=%r" % (input_tensors,))
        layers.insert(0, input_tensors)
    elif model._input_layer is not None:
        reference = model._input_layer
        layers.insert(0, Input(batch_shape=reference.batch_shape, dtype=reference.dtype, name=reference.name))
    return Sequential(layers, name=model.name, trainable=model.trainable)


def _clone_functional(model, clone_layer, call_function, input_tensors):
    if input_tensors is None:
        input_tensors = map_structure(lambda t: Input(batch_shape=t.type.shape, dtype=t.dtype,
                                                      name=t.tag["keras_history"][0].name), model.input)
    else:
        if not all(is_keras_tensor(t) for t in flatten(input_tensors)):
            raise ValueError("clone_model: All entries in `input_tensors` must be KerasTensors. Received invalid "
                             "values: input_tensors=%r" % (input_tensors,))
        try:
            assert_same_structure(input_tensors, model.input)
        except ValueError as err:
            raise ValueError("clone_model: `input_tensors` must have the same structure as model.input\nReference "
                             "structure: %s\nReceived structure: %s" % (model.input, input_tensors)) from err
    outputs = model._run_through_graph(input_tensors, operation_fn=clone_layer, call_fn=call_function)
    return Model(input_tensors, outputs, name=model.name)


def _clone_subclassed(model):
    """Keras's way for a subclassed model: type(model).from_config(model.get_config())."""
    if type(model).get_config is Model.get_config:
        raise NotImplementedError("clone_model: the subclassed model %s ('%s') does not override get_config(), "
                                  "so it cannot be cloned: implement get_config() (and from_config() if "
                                  "__init__ takes objects)" % (type(model).__name__, model.name))
    clone = type(model).from_config(model.get_config())
    if model.built and model._input_structure is not None:
        clone.build(model.input_shape)
    return clone

"""Model configs as Keras 3's ``.keras`` archives store them (config.json), translated both ways in one place.

get_config() writes Keras 3's configs (Sequential and Model.get_config() come from here); older mlcore
configs and Keras 2's are read too:

- every object is ``{"module", "class_name", "config", "registered_name"}``: mlcore's own layers go under
  ``keras.layers``, nested objects under ``keras.<family>`` (older mlcore configs said ``mlcore.<family>``);
  other classes keep their Python module and are looked up by registered name or class name in
  custom_objects on loading;
- a Sequential lists its InputLayer first; a functional model's calls are ``{"args": [...], "kwargs": {}}``
  with each input as ``{"class_name": "__keras_tensor__", "config": {"shape", "dtype", "keras_history"}}``
  (mlcore's own configs keep Keras 2's ``[[layer, node, tensor, kwargs]]`` lists);
- dtypes are DTypePolicy objects (older configs' dtype names load too);
- the compiled state is ``compile_config``: optimizer, loss, metrics as serialized objects or names.

Keras arguments that mlcore's layers do not have load only at the value that leaves them off.
"""
import inspect

from mlcore.layers.input_layer import InputLayer
from mlcore.models.operations import KerasOperation
from mlcore.models.serialization import check_spec, functional_config, layer_registry, saved_call_kwargs
from mlcore.saving.object_registration import get_registered_name, known_custom_objects

from .compile_specs import revived_spec, saved_spec
from .keras_only_arguments import without_keras_only_arguments

SEQUENTIAL = {"module": "keras", "class_name": "Sequential", "registered_name": None}
FUNCTIONAL = {"module": "keras.src.models.functional", "class_name": "Functional", "registered_name": "Functional"}
KERAS_TENSOR = "__keras_tensor__"
KERAS_OPS_MODULE = "keras.src.ops."      # where the op classes of saved keras.ops calls live
# Config entries that hold layers' own specs: an RNN's cell, Bidirectional's and TimeDistributed's layers,
# StackedRNNCells' list of cells, Pipeline's layers.
NESTED_LAYER_KEYS = ("cell", "layer", "backward_layer", "cells", "layers")
COMPILE_ARGUMENTS = ("optimizer", "loss", "loss_weights", "metrics", "weighted_metrics", "run_eagerly",
                     "steps_per_execution", "jit_compile")


# --- mlcore -> Keras 3 ------------------------------------------------------------------------------------
def keras_model_spec(model):
    """config.json's content for ``model``: serialize_keras_object's layout."""
    spec = keras_layer_spec(model)
    if hasattr(model, "compiled"):      # a model: Keras writes {} before compile()
        spec["compile_config"] = keras_compile_config(model) if model.compiled else {}
    return spec


def keras_layer_spec(layer):
    """One layer or model as Keras 3 serializes it, with its build_config where its input shape matters."""
    from mlcore.models import Model, Sequential     # mlcore.models imports this module
    if isinstance(layer, Sequential):
        spec = dict(SEQUENTIAL, config=keras_sequential_config(layer))
        spec["build_config"] = {"input_shape": spec["config"].get("build_input_shape")}
        return spec
    if type(layer) is Model:
        return dict(FUNCTIONAL, config=keras_functional_config(layer), build_config={"input_shape": None})
    if isinstance(layer, Model) and layer._nodes:   # a subclass made from inputs and outputs: its graph, and the
        config = keras_functional_config(layer)     # keys its get_config adds (its constructor's), as Keras's
        config.update((key, value) for key, value in layer.get_config().items() if key not in config)
        return {**_identity(type(layer)), "config": config, "build_config": {"input_shape": None}}
    # serialization_lib imports this module
    from mlcore.saving.serialization_lib import serialize_keras_object, serialize_nested_objects
    if isinstance(layer, KerasOperation):
        return {"module": layer.keras_module, "class_name": layer.keras_class, "registered_name": layer.keras_class,
                "config": {"name": layer.name, **serialize_keras_object(layer.keywords)}}
    config = _keras_modules(serialize_nested_objects(layer.get_config()))
    config.pop("batch_input_shape", None)  # the model's InputLayer holds the input shape
    _keras_nested_layers(config)
    spec = {**_identity(type(layer)), "config": config}
    if isinstance(layer, InputLayer):
        return spec
    if layer._inbound_nodes:    # Keras's: every layer built by a call
        # a layer built from several shapes (MultiHeadAttention) says how Keras is to rebuild it
        spec["build_config"] = layer.get_build_config() or {"input_shape": layer.input_shape}
    elif layer.get_build_config():      # built by build() alone: Sequential([built_layer]) without an Input
        spec["build_config"] = layer.get_build_config()
    return spec


def _keras_nested_layers(config):
    """The layer specs nested in a layer's config (mlcore's {"class_name", "config"}) in Keras's form."""
    def keras_spec(spec):
        cls = layer_registry().get(spec["class_name"])
        identity = _identity(cls) if cls is not None else {"module": None, "class_name": spec["class_name"],
                                                           "registered_name": None}
        inner = dict(spec["config"])
        inner.pop("batch_input_shape", None)
        _keras_nested_layers(inner)
        return {**identity, "config": inner, **{k: spec[k] for k in ("build_config",) if k in spec}}
    _map_nested_specs(config, keras_spec)


def _map_nested_specs(config, convert):
    """Replace each layer spec nested in a config, alone or in a list, by convert(spec)."""
    def is_spec(value):
        return isinstance(value, dict) and "class_name" in value and "config" in value
    for key in NESTED_LAYER_KEYS:
        value = config.get(key)
        if is_spec(value):
            config[key] = convert(value)
        elif isinstance(value, list) and value and all(is_spec(v) for v in value):
            config[key] = [convert(v) for v in value]


def _identity(cls):
    if cls.__module__.startswith("mlcore.layers"):
        # the name Keras exports the class under, where its Python name differs (GroupedQueryAttention)
        return {"module": "keras.layers", "class_name": getattr(cls, "keras_class_name", cls.__name__),
                "registered_name": None}
    if cls.__module__.startswith("mlcore.distillation"):       # the Distiller, exported as Keras exports it
        return {"module": "keras.distillation", "class_name": cls.__name__, "registered_name": None}
    return {"module": cls.__module__, "class_name": cls.__name__, "registered_name": get_registered_name(cls)}


def keras_sequential_config(model):
    """Sequential.get_config(): its layers serialized, the InputLayer first once the model is built."""
    from mlcore import dtype_policies
    config = {"name": model.name, "trainable": model.trainable, "dtype": dtype_policies.serialize(model.dtype_policy),
              "layers": [keras_layer_spec(layer) for layer in model.layers]}
    if model.built:
        input_layer = model.inputs[0].tag["keras_history"][0]
        config["layers"].insert(0, keras_layer_spec(input_layer))
    shape = model._declared_input_shape()
    if shape is not None:
        config["build_input_shape"] = tuple(shape)
    return config


def keras_functional_config(model):
    """Model.get_config() of a functional model."""
    config = functional_config(model, keras_layer_spec, _keras_node)
    for key in ("input_layers", "output_layers"):
        if isinstance(config[key], list) and len(config[key]) == 1:   # Keras keeps a single one unnested
            config[key] = config[key][0]
    return config


def _keras_node(node, ref):
    def tensor(t):
        return {"class_name": KERAS_TENSOR,
                "config": {"shape": tuple(t.type.shape), "dtype": t.dtype, "keras_history": ref(t)}}
    if isinstance(node.layer, KerasOperation):      # its values as Keras writes them (slices, arrays)
        from mlcore.saving.serialization_lib import serialize_keras_object
        tensors = [tensor(t) for t in node.input_tensors]
        return {"args": node.layer.call_arguments(lambda k: tensors[k], serialize_keras_object), "kwargs": {}}
    inputs = node.inputs
    return {"args": ([tensor(t) for t in inputs] if isinstance(inputs, (list, tuple)) else tensor(inputs),),
            "kwargs": saved_call_kwargs(node, tensor)}


def _keras_modules(value):
    """Nested mlcore objects (initializers, regularizers, losses...) under Keras's module names."""
    if isinstance(value, (list, tuple)):
        return type(value)(_keras_modules(v) for v in value)
    if not isinstance(value, dict):
        return value
    value = {k: _keras_modules(v) for k, v in value.items()}
    module = value.get("module")
    if isinstance(module, str) and module.startswith("mlcore."):
        value["module"] = "keras." + module[len("mlcore."):]
        value.setdefault("registered_name", None)
    return value


def keras_compile_config(model):
    """model.compile()'s arguments as Keras 3's get_compile_config writes them."""
    from mlcore import losses, metrics
    compiled = model.get_compile_config()
    return _keras_modules({
        "optimizer": {"module": "mlcore.optimizers", **compiled["optimizer"]},
        "loss": saved_spec(compiled["loss"], losses.serialize),
        "loss_weights": compiled["loss_weights"],
        "metrics": saved_spec(compiled["metrics"], metrics.serialize),
        "weighted_metrics": saved_spec(compiled["weighted_metrics"], metrics.serialize),
        "steps_per_execution": compiled["steps_per_execution"],
    })


# --- Keras 3 -> mlcore ------------------------------------------------------------------------------------
def mlcore_spec(spec, custom_objects=None, safe_mode=True):
    """A Keras 3 layer or model spec as mlcore's ``{"class_name", "config"}`` (for layer_from_config)."""
    check_spec(spec)
    custom_objects = known_custom_objects(custom_objects)
    registered = spec.get("registered_name")
    class_name = registered if registered in custom_objects else spec["class_name"]
    config = dict(spec.get("config") or {})
    if isinstance(config.get("dtype"), dict):
        config["dtype"] = _dtype_name(config["dtype"])
    if class_name == "Sequential":
        config["layers"] = [mlcore_spec(s, custom_objects, safe_mode) for s in config["layers"]]
    elif class_name in ("Functional", "Model") or _is_functional_config(config):   # a subclass's too
        config = mlcore_functional_config(config, custom_objects, safe_mode)
    else:
        cls = layer_registry(custom_objects).get(class_name)
        if cls is not None:
            config = without_keras_only_arguments(cls, config)
        _map_nested_specs(config, lambda nested: mlcore_spec(nested, custom_objects, safe_mode))
    if spec.get("build_config") and class_name not in ("Sequential", "Functional", "Model"):
        return {"class_name": class_name, "config": config, "build_config": spec["build_config"]}
    return {"class_name": class_name, "config": config}


def _is_functional_config(config):
    """Whether a config is a functional model's (a Model subclass made from inputs and outputs saves one)."""
    return {"layers", "input_layers", "output_layers"} <= set(config) and \
        all(isinstance(s, dict) and "inbound_nodes" in s for s in config["layers"])


def _dtype_name(policy):
    """A saved policy as dtype= takes it: its name, or a DTypePolicyMap itself (it has no one name)."""
    from mlcore import dtype_policies
    policy = dtype_policies.deserialize(policy)
    return policy if isinstance(policy, dtype_policies.DTypePolicyMap) else policy.name


def mlcore_functional_config(config, custom_objects, safe_mode):
    """A Keras 3 functional config as mlcore's (Keras 2's layout), which functional_from_config replays."""
    layers, registry = [], layer_registry(custom_objects)
    for spec in config["layers"]:
        if str(spec.get("module")).startswith(KERAS_OPS_MODULE):
            entry = _mlcore_operation(spec)
        else:
            entry = mlcore_spec(spec, custom_objects, safe_mode)
            cls = registry.get(entry["class_name"])
            entry["inbound_nodes"] = [_legacy_node(node, spec["name"], cls) for node in spec["inbound_nodes"]]
        entry["name"] = spec["name"]
        layers.append(entry)
    return {**config, "layers": layers, "input_layers": _refs(config["input_layers"]),
            "output_layers": _refs(config["output_layers"])}


def _mlcore_operation(spec):
    """A keras.ops call saved as a node (keras.src.ops.numpy NotEqual) as a KerasOperation: its
    arguments with {"__input__": k} for the k-th tensor, which becomes the node's k-th input."""
    nodes = spec["inbound_nodes"]
    if len(nodes) != 1 or nodes[0].get("kwargs"):
        raise ValueError("Keras operation %r: mlcore replays an op called once with positional arguments; "
                         "its saved calls are %r" % (spec["name"], nodes))
    from mlcore.saving.serialization_lib import deserialize_keras_object    # it imports this module
    refs = []

    def slot(value):
        if _is_keras_tensor(value):
            refs.append(list(value["config"]["keras_history"]))
            return {"__input__": len(refs) - 1}
        return [slot(v) for v in value] if isinstance(value, (list, tuple)) else deserialize_keras_object(value)
    arguments = slot(nodes[0]["args"])
    keywords = {k: deserialize_keras_object(v) for k, v in spec["config"].items() if k != "name"}
    return {"class_name": "KerasOperation", "inbound_nodes": [[ref + [{}] for ref in refs]],
            "config": {"name": spec["name"], "keras_class": spec["class_name"], "keras_module": spec["module"],
                       "arguments": arguments, "keywords": keywords}}


def _legacy_node(node, layer_name, cls=None):
    """A Keras 3 call ({"args", "kwargs"}) as Keras 2's list of [layer, node, tensor, kwargs], a tensor
    among the kwargs (initial_state) as its [layer, node, tensor] reference.  Positional arguments after
    the first (MultiHeadAttention's value) become keyword ones, named as cls.call names them."""
    if isinstance(node, list):
        return node
    args = node["args"]
    kwargs = {k: _history_refs(v) for k, v in (node.get("kwargs") or {}).items() if v is not None}
    names = list(inspect.signature(cls.call).parameters)[2:] if cls is not None and len(args) > 1 else []
    if 1 < len(args) <= len(names) + 1:         # call(self, first, *names)
        kwargs.update({name: _history_refs(v) for name, v in zip(names, args[1:])})
        args = args[:1]
    if len(args) != 1:
        raise ValueError("Layer %r is called with arguments mlcore's functional models cannot replay: "
                         "args=%r" % (layer_name, args))
    inputs = args[0] if isinstance(args[0], list) else [args[0]]
    if any(not _is_keras_tensor(t) for t in inputs):
        raise ValueError("Layer %r takes inputs that are not model tensors: %r" % (layer_name, args[0]))
    return [list(t["config"]["keras_history"]) + [kwargs] for t in inputs]


def _is_keras_tensor(value):
    return isinstance(value, dict) and value.get("class_name") == KERAS_TENSOR


def _history_refs(value):
    """Saved kwargs with each Keras 3 tensor as its keras_history."""
    if _is_keras_tensor(value):
        return list(value["config"]["keras_history"])
    if isinstance(value, dict):
        return {k: _history_refs(v) for k, v in value.items()}
    return [_history_refs(v) for v in value] if isinstance(value, list) else value


def _refs(refs):
    """input_layers / output_layers as a list (or a dict, for a model made with dicts) of [layer, node,
    tensor]: Keras leaves a single one unnested."""
    if isinstance(refs, dict):
        return refs
    return [refs] if refs and isinstance(refs[0], str) else refs


def mlcore_compile_arguments(compile_config, custom_objects=None):
    """model.compile()'s keyword arguments from a Keras 3 compile_config."""
    from mlcore import losses, metrics, optimizers
    custom_objects = custom_objects or {}
    arguments = {k: compile_config[k] for k in COMPILE_ARGUMENTS if k in compile_config}
    optimizer = arguments.get("optimizer")
    if isinstance(optimizer, dict):
        arguments["optimizer"] = optimizers.deserialize(optimizer, custom_objects)
    arguments["loss"] = revived_spec(arguments.get("loss"), custom_objects, losses)
    for key in ("metrics", "weighted_metrics"):
        arguments[key] = revived_spec(arguments.get(key), custom_objects, metrics)
    return arguments

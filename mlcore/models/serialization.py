"""Model configs: get_config/from_config of layers and functional models, as Keras's JSON."""
import inspect
import json

from mlcore.graph.basic import Variable
from mlcore.layers.base import map_structure
from mlcore.layers.input_layer import InputLayer
from mlcore.saving.object_registration import custom_object_scope, known_custom_objects


def layer_registry(custom_objects=None):
    """Layer and model classes by name: mlcore's own, then the registered and given custom objects."""
    import mlcore.layers as layers_module
    from mlcore.distillation import Distiller
    from mlcore.layers.base import Layer
    from mlcore.models import Model, Sequential
    from mlcore.models.operations import KerasOperation
    found = {name: obj for name, obj in vars(layers_module).items()
             if isinstance(obj, type) and issubclass(obj, Layer)}
    found.update({"Model": Model, "Functional": Model, "Sequential": Sequential, "KerasOperation": KerasOperation,
                  "Distiller": Distiller})
    found.update(known_custom_objects(custom_objects))
    return found


def layer_config(layer):
    """A layer as Keras 3 serializes it inside a config (a wrapper's layer, a Sequential's layers)."""
    from mlcore.saving.keras3_config import keras_layer_spec      # it imports this module
    return keras_layer_spec(layer)


def check_spec(spec):
    """Keras's error for what is no layer spec (an empty dict in a config's list of layers)."""
    if not isinstance(spec, dict) or "config" not in spec or "class_name" not in spec:
        raise ValueError("The provided configuration is not a valid Keras configuration. Expected a dictionary "
                         "containing a 'config' key. Received: config=%s" % (spec,))


def layer_from_config(spec, custom_objects=None, safe_mode=True, build=True):
    """The layer a spec describes: Keras 3's ({"module", "class_name", "config", ...}) or mlcore's and
    Keras 2's older {"class_name", "config"}.  With build, a layer its build_config describes is built
    (a wrapper's inner layer); a model that rebuilds its layers itself, in its own scope so that their
    weights' paths start with its name, passes build=False (only a custom build_from_config runs then)."""
    check_spec(spec)
    if "module" in spec:
        from mlcore.saving.keras3_config import mlcore_spec
        spec = dict(mlcore_spec(spec, custom_objects, safe_mode), **{k: spec[k] for k in ("name", "inbound_nodes")
                                                                      if k in spec})
    registry = layer_registry(custom_objects)
    cls = registry.get(spec["class_name"])
    if cls is None:
        raise ValueError("Unknown layer class %r; pass it in custom_objects={'%s': %s}"
                         % (spec["class_name"], spec["class_name"], spec["class_name"]))
    accepted = inspect.signature(cls.from_config).parameters
    options = {k: v for k, v in (("custom_objects", custom_objects), ("safe_mode", safe_mode)) if k in accepted}
    with custom_object_scope(custom_objects):      # what the layer's config names (an activation) is found too
        layer = cls.from_config(dict(spec["config"]), **options)
    if spec.get("build_config") and not layer.built and (build or _builds_itself(layer)):
        layer.build_from_config(spec["build_config"])
    return layer


def _builds_itself(layer):
    from mlcore.layers.layer_state import LayerState
    return getattr(type(layer), "build_from_config", LayerState.build_from_config) is not LayerState.build_from_config


def _node_keys(model):
    """(layer name, index among that layer's calls in this model) for each traced node."""
    keys, counts = {}, {}
    for node in model._nodes:
        k = counts.get(node.layer.name, 0)
        counts[node.layer.name] = k + 1
        keys[id(node)] = (node.layer.name, k)
    return keys


def _tensor_ref(tensor, keys):
    layer, node_index, k = tensor.tag["keras_history"]
    name, index = keys[id(layer._inbound_nodes[node_index])]
    return [name, index, k]


def _legacy_node(node, ref):
    """One call of a layer as Keras 2 lists it: [[layer name, node index, tensor index, kwargs], ...],
    a tensor among the kwargs (an RNN's initial_state) written as [layer name, node index, tensor index]."""
    kwargs = saved_call_kwargs(node, ref)
    return [ref(t) + [kwargs] for t in node.input_tensors]


def saved_call_kwargs(node, encode):
    """The keyword arguments of a layer call, each tensor among them as encode(tensor); the rest must be
    JSON data, as in Keras's configs."""
    kwargs = map_structure(lambda v: encode(v) if isinstance(v, Variable) else v, dict(node.kwargs))
    try:
        json.dumps(kwargs)
    except TypeError:
        raise TypeError("Layer '%s' was called with keyword arguments a config cannot record: %r"
                        % (node.layer.name, node.kwargs)) from None
    return kwargs


def _is_tensor_ref(value, layer_names):
    """Keras 2's reference to a tensor in saved call kwargs: [layer name, node index, tensor index]."""
    return (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str) and value[0] in layer_names
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value[1:]))


def _call_refs(node, layer_names):
    """Every tensor a saved call reads: its inputs and the tensors among its kwargs."""
    refs = [tuple(entry[:3]) for entry in node]

    def visit(value):
        if _is_tensor_ref(value, layer_names):
            refs.append(tuple(value))
        elif isinstance(value, (list, dict)):
            for v in value.values() if isinstance(value, dict) else value:
                visit(v)
    visit(_call_kwargs(node))
    return refs


def _call_kwargs(node):
    return node[0][3] if node and len(node[0]) > 3 and node[0][3] else {}


def functional_config(model, describe_layer=layer_config, describe_node=_legacy_node):
    """The functional model's graph as Keras's config; describe_layer and describe_node(node, ref) give
    each layer's spec and each call's inputs (ref(tensor) is [layer name, node index, tensor index]),
    so that other layouts of the same graph (Keras 3's .keras archives) share this walk."""
    keys = _node_keys(model)

    def ref(tensor):
        return _tensor_ref(tensor, keys)
    # in Keras's order of the model's layers and ops (deepest first), each with its calls in the model
    entries = {layer.name: dict(describe_layer(layer), name=layer.name, inbound_nodes=[])
               for layer in model._operations}
    for node in model._nodes:
        if not isinstance(node.layer, InputLayer):
            entries[node.layer.name]["inbound_nodes"].append(describe_node(node, ref))
    return {"name": model.name, "trainable": model.trainable, "layers": list(entries.values()),
            "input_layers": _tensor_refs(model._input_structure, ref),
            "output_layers": _tensor_refs(model._output_structure, ref)}


def _tensor_refs(structure, ref):
    """The model's inputs or outputs as Keras's config names them: their structure (dicts, lists, tuples,
    nested) with ref(tensor) for each tensor.  One tensor, or a list of one, goes inside a list, as Keras 2
    wrote it (and as Keras 3's layout, which keeps a single entry unnested, takes it)."""
    refs = map_structure(ref, structure)
    return [refs] if isinstance(refs, list) and (len(refs) == 1 or isinstance(refs[0], str)) else refs


FUNCTIONAL_KEYS = ("name", "trainable", "layers", "input_layers", "output_layers")


def functional_from_config(cls, config_, custom_objects=None, safe_mode=True):
    if any("module" in spec for spec in config_["layers"]):       # Keras 3's layout (get_config's)
        from mlcore.saving.keras3_config import mlcore_functional_config
        config_ = mlcore_functional_config(config_, custom_objects, safe_mode)
    layers, produced = {}, {}
    for spec in config_["layers"]:
        layers[spec["name"]] = layer_from_config(spec, custom_objects, safe_mode, build=False)
        if isinstance(layers[spec["name"]], InputLayer):
            produced[(spec["name"], 0)] = [layers[spec["name"]].output_tensor]
    pending = [(spec["name"], k, node) for spec in config_["layers"] for k, node in enumerate(spec["inbound_nodes"])]
    _check_inbound_layers(pending, layers)

    def tensor(ref):
        return produced[(ref[0], ref[1])][ref[2]]

    def with_tensors(value):
        """value with each reference [layer, node, tensor] in it as that tensor."""
        if _is_tensor_ref(value, layers):
            return tensor(value)
        if isinstance(value, dict):
            return {k: with_tensors(v) for k, v in value.items()}
        return type(value)(with_tensors(v) for v in value) if isinstance(value, (list, tuple)) else value
    while pending:
        remaining = []
        for name, k, node in pending:
            if all(r[:2] in produced for r in _call_refs(node, layers)):
                args = [tensor(ref) for ref in node]
                out = layers[name](args if len(args) > 1 else args[0], **with_tensors(_call_kwargs(node)))
                produced[(name, k)] = list(out) if isinstance(out, (list, tuple)) else [out]
            else:
                remaining.append((name, k, node))
        if len(remaining) == len(pending):
            raise ValueError("Invalid Functional model configuration. The graph of the Functional model either has "
                             "loops or disconnected nodes. The following nodes failed to be resolved: %s"
                             % {name: node for name, _, node in remaining})
        pending = remaining
    inputs, outputs = (_tensors_of(config_[key], with_tensors, layers) for key in ("input_layers", "output_layers"))
    from mlcore.models import Model
    # a subclass's own constructor arguments (those its get_config added) go to it, as Keras passes them
    extra = {} if cls is Model else {key: value for key, value in config_.items() if key not in FUNCTIONAL_KEYS}
    return cls(inputs, outputs, name=config_.get("name"), trainable=config_.get("trainable", True), **extra)


def _check_inbound_layers(pending, layers):
    """Keras's error for a call whose input comes from a layer the config does not have."""
    for _, _, node in pending:
        for entry in node:
            if entry[0] not in layers:
                raise ValueError("Invalid Functional model configuration. Missing node: %s" % entry[0])


def _tensors_of(refs, with_tensors, layer_names):
    """What a config's input_layers / output_layers name, in its structure; a list of one reference
    (Keras 2's way to name one tensor) as that tensor."""
    single = isinstance(refs, list) and len(refs) == 1 and _is_tensor_ref(refs[0], layer_names)
    return with_tensors(refs[0] if single else refs)


def model_to_json(model, **kwargs):
    return json.dumps({"class_name": type(model).__name__, "config": model.get_config(),
                       "keras_version": "3.0.0", "backend": "mlcore"}, **kwargs)


def model_from_json(json_string, custom_objects=None, safe_mode=True):
    return layer_from_config(json.loads(json_string), custom_objects, safe_mode)

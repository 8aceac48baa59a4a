"""compile()'s losses and metrics in saved files: one spec, or a list or dict of them per output, turned into
JSON's terms and back. Both whole-model formats (h5's training_config, .keras's compile_config) use this."""


def saved_spec(spec, serialize):
    """A loss/metric spec with every object replaced by serialize(object): a name or a config dict."""
    if isinstance(spec, (list, tuple)):
        return [saved_spec(s, serialize) for s in spec]
    if isinstance(spec, dict):
        return {k: saved_spec(v, serialize) for k, v in spec.items()}
    return serialize(spec)


def revived_spec(spec, custom_objects, module):
    """The inverse of saved_spec: config dicts become objects (module.deserialize); names, and Keras 3's
    {"class_name": "function", "config": name}, stay names for compile() to resolve, unless custom_objects
    has them."""
    if isinstance(spec, dict) and spec.get("class_name") == "function":
        spec = spec["config"]
    if isinstance(spec, list):
        return [revived_spec(s, custom_objects, module) for s in spec]
    if isinstance(spec, dict) and "class_name" not in spec:
        return {k: revived_spec(v, custom_objects, module) for k, v in spec.items()}
    if isinstance(spec, dict):
        return module.deserialize(spec, custom_objects)
    return custom_objects.get(spec, spec) if isinstance(spec, str) else spec

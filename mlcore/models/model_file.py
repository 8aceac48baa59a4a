"""model.save("m.h5") and load_model: architecture (JSON config), weights and optimizer
state in one h5 file, laid out as Keras 2's full-model files."""
import json
import os

import h5py
import numpy as np

from mlcore.saving.h5_layouts import atomic_h5, write_legacy_group


def save_model(model, filepath, include_optimizer=True):
    path = os.fspath(filepath)
    if not path.endswith((".h5", ".hdf5", ".keras")):
        raise ValueError("mlcore saves whole models to '.h5' (or '.keras', same layout) files; got %r. "
                         "For weights only use model.save_weights('x.weights.h5')" % path)
    with atomic_h5(path) as f:
        f.attrs["model_config"] = json.dumps({"class_name": type(model).__name__, "config": model.get_config()})
        f.attrs["keras_version"] = "3.0.0"
        f.attrs["backend"] = "mlcore"
        write_legacy_group(f.create_group("model_weights"), model)
        optimizer = getattr(model, "optimizer", None)
        if include_optimizer and optimizer is not None:
            f.attrs["training_config"] = json.dumps(_training_config(model))
            group = f.create_group("optimizer_weights")
            variables = getattr(optimizer, "variables", [])
            for k, var in enumerate(variables):
                group.create_dataset("%d" % k, data=np.asarray(var.get_value()))
            group.attrs["count"] = len(variables)


class ModelFileNotFoundError(FileNotFoundError, ValueError):
    """load_model of a missing file: Keras 2 raised an IOError, Keras 3 a ValueError; this is both."""


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Rebuild a model saved with model.save; Lambda code runs only with safe_mode=False."""
    from mlcore import losses, metrics, optimizers
    from mlcore.models.serialization import layer_from_config
    path = os.fspath(filepath)
    if not os.path.exists(path):
        raise ModelFileNotFoundError("File not found: filepath=%r" % path)
    with h5py.File(path, "r") as f:
        if "model_config" not in f.attrs:
            raise ValueError("%r has no model_config: it holds weights only; build the model and call "
                             "load_weights" % path)
        spec = json.loads(f.attrs["model_config"])
        training = json.loads(f.attrs["training_config"]) if "training_config" in f.attrs else None
        opt_values = [f["optimizer_weights"][str(k)][()] for k in range(int(f["optimizer_weights"].attrs["count"]))] \
            if "optimizer_weights" in f else []
    model = layer_from_config(spec, custom_objects, safe_mode)
    model.load_weights(path)
    if compile and training is not None and training.get("loss") is not None:
        opt_spec = training["optimizer_config"]
        optimizer = optimizers.get({"class_name": opt_spec["class_name"], "config": opt_spec["config"]})
        custom_objects = custom_objects or {}
        model.compile(optimizer=optimizer, loss=_revive(training["loss"], custom_objects, losses),
                      metrics=_revive(training.get("metrics"), custom_objects, metrics),
                      weighted_metrics=_revive(training.get("weighted_metrics"), custom_objects, metrics),
                      loss_weights=training.get("loss_weights"),
                      steps_per_execution=training.get("steps_per_execution", 1))
        if opt_values:
            optimizer.build(model.trainable_weights)
            for var, value in zip(optimizer.variables, opt_values):
                var.set_value(value)
    return model


def _training_config(model):
    """compile()'s arguments as Keras 2's training_config: losses and metrics by name or config."""
    from mlcore import losses, metrics
    compiled = model.get_compile_config()
    return {"optimizer_config": compiled["optimizer"], "loss": _saved(compiled["loss"], losses.serialize),
            "metrics": _saved(compiled["metrics"], metrics.serialize),
            "weighted_metrics": _saved(compiled["weighted_metrics"], metrics.serialize),
            "loss_weights": compiled["loss_weights"], "steps_per_execution": compiled["steps_per_execution"]}


def _saved(spec, serialize):
    """A loss/metric spec (one, or a list or dict of them per output) in JSON's terms."""
    if isinstance(spec, (list, tuple)):
        return [_saved(s, serialize) for s in spec]
    if isinstance(spec, dict):
        return {k: _saved(v, serialize) for k, v in spec.items()}
    return serialize(spec)


def _revive(spec, custom_objects, module):
    """The inverse of _saved: names stay names for compile() to resolve, unless custom_objects has them."""
    if isinstance(spec, list):
        return [_revive(s, custom_objects, module) for s in spec]
    if isinstance(spec, dict) and "class_name" not in spec:
        return {k: _revive(v, custom_objects, module) for k, v in spec.items()}
    if isinstance(spec, dict):
        return module.deserialize(spec, custom_objects)
    return custom_objects.get(spec, spec) if isinstance(spec, str) else spec

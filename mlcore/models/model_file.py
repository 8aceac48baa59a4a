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
            f.attrs["training_config"] = json.dumps({
                "optimizer_config": {"class_name": type(optimizer).__name__, "config": optimizer.get_config()},
                "loss": model.loss if isinstance(model.loss, (str, list, dict)) else None})
            group = f.create_group("optimizer_weights")
            variables = getattr(optimizer, "variables", [])
            for k, var in enumerate(variables):
                group.create_dataset("%d" % k, data=np.asarray(var.get_value()))
            group.attrs["count"] = len(variables)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Rebuild a model saved with model.save; Lambda code runs only with safe_mode=False."""
    from mlcore import optimizers
    from mlcore.models.serialization import layer_from_config
    path = os.fspath(filepath)
    if not os.path.exists(path):
        raise FileNotFoundError("No such model file: %r" % path)
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
        model.compile(optimizer=optimizer, loss=training["loss"])
        if opt_values:
            optimizer.build(model.trainable_weights)
            for var, value in zip(optimizer.variables, opt_values):
                var.set_value(value)
    return model

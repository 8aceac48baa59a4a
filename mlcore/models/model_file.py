"""model.save and load_model: architecture, weights and optimizer state in one file, chosen by suffix:
".keras" is Keras 3's zip archive (mlcore.saving.keras_archive), ".h5" / ".hdf5" the h5 layout of
Keras 2's full-model files (here)."""
import json
import logging
import os

import h5py

from mlcore.saving.compile_specs import revived_spec, saved_spec
from mlcore.saving.h5_layouts import atomic_h5, read_dataset, write_dataset, write_legacy_group
from mlcore.saving.keras_archive import is_archive_folder, load_archive, save_archive
from mlcore.saving.orbax_checkpoints import is_orbax_checkpoint, load_orbax_model
from mlcore.saving.overwrite import may_write

# Keras logs its saving notices (absl.logging, which is Python logging's "absl" logger); mlcore logs them to
# the "mlcore" logger
LOGGER = logging.getLogger("mlcore")
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
LEGACY_H5_WARNING = ("You are saving your model as an HDF5 file via `model.save()` or "
                     "`keras.saving.save_model(model)`. This file format is considered legacy. We recommend using "
                     "instead the native Keras format, e.g. `model.save('my_model.keras')` or "
                     "`keras.saving.save_model(model, 'my_model.keras')`. ")


def save_model(model, filepath, overwrite=True, zipped=None, include_optimizer=True, **kwargs):
    """zipped=False writes the .keras archive's members into a folder (Keras 3's unzipped format; its name
    must not end in ".keras"); overwrite=False asks before replacing an existing file or folder.  Keras 3's
    other keywords are refused as Keras refuses them (save_format, where the name does not give it)."""
    path = os.fspath(filepath)
    _check_keras3_arguments(path, kwargs)
    if path.endswith((".h5", ".hdf5")):
        LOGGER.warning(LEGACY_H5_WARNING)
    if not may_write(path, overwrite):
        return
    if zipped is False:
        return save_archive(model, path, include_optimizer, zipped=False)
    if path.endswith(".keras"):
        return save_archive(model, path, include_optimizer)
    if not path.endswith((".h5", ".hdf5")):
        raise ValueError("Invalid filepath extension for saving. Use '.keras' (Keras 3's format) or '.h5' "
                         "(legacy h5 format); for weights only, model.save_weights('x.weights.h5'). "
                         "Received: filepath=%s" % path)
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
                write_dataset(group, "%d" % k, var.get_value())
            group.attrs["count"] = len(variables)


def _check_keras3_arguments(path, kwargs):
    """Keras 3's save_model keywords beyond mlcore's: save_format is deprecated (logged where the name
    gives the format, else refused), any other one refused."""
    save_format = kwargs.pop("save_format", False)
    if save_format and path.endswith((".h5", ".hdf5", ".keras")):
        LOGGER.warning("The `save_format` argument is deprecated in Keras 3. We recommend removing this argument "
                       "as it can be inferred from the file path. Received: save_format=%s" % save_format)
    elif save_format:
        raise ValueError("The `save_format` argument is deprecated in Keras 3. Please remove this argument and pass "
                         "a file path with either `.keras` or `.h5` extension. Received: save_format=%s" % save_format)
    if kwargs:
        raise ValueError("The following argument(s) are not supported: %s" % list(kwargs))


def _format_not_supported(path, why):
    """Keras 3's words for a file load_model cannot read, with why not and what it reads."""
    return ("File format not supported: filepath=%s (%s). load_model reads `.keras` files (zipped, or the folder "
            "save_model(zipped=False) writes), legacy H5 format files (`.h5` / `.hdf5`) and Orbax checkpoint "
            "folders" % (path, why))


EXPORT_FORMATS = ("tf_saved_model", "onnx", "openvino", "litert", "torch")


def export_model(model, filepath, format):
    """model.export(): Keras's checks of the format, then why mlcore cannot write it."""
    if format not in EXPORT_FORMATS:
        raise ValueError("Unrecognized format=%s. Supported formats are: %s." % (format, list(EXPORT_FORMATS)))
    if format == "litert":
        raise ValueError("LiteRT export requires TensorFlow or PyTorch backend.")
    if format == "torch":
        raise ValueError("Torch export requires PyTorch backend.")
    raise cannot_export("Model '%s' cannot be exported to %s (%s)" % (model.name, format, filepath))


def cannot_export(refusal):
    """The error of an export mlcore cannot write (refusal says what), with the way out."""
    return NotImplementedError("%s: Keras writes that format through TensorFlow (jax2tf) or the format's own "
                               "converter, which mlcore's graphs do not run on; save the model with "
                               "model.save('model.keras'), which Keras 3 loads and exports" % refusal)


class ModelFileNotFoundError(FileNotFoundError, ValueError):
    """load_model of a missing file: Keras 2 raised an IOError, Keras 3 a ValueError; this is both."""


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Rebuild a model saved with model.save; Lambda code runs only with safe_mode=False."""
    from mlcore import config, losses, metrics, optimizers
    from mlcore.models.serialization import layer_from_config
    safe_mode = config.effective_safe_mode(safe_mode)
    path = os.fspath(filepath)
    if not os.path.exists(path):
        raise ModelFileNotFoundError("File not found: filepath=%r" % path if path.endswith(MODEL_SUFFIXES)
                                     else _format_not_supported(path, "no such file"))
    # (mlcore wrote h5 under ".keras" names before)
    if path.endswith(".keras") and not h5py.is_hdf5(path) or is_archive_folder(path):
        return load_archive(path, custom_objects, compile, safe_mode)
    if is_orbax_checkpoint(path):
        return load_orbax_model(path, custom_objects, compile, safe_mode)
    if not h5py.is_hdf5(path):
        raise ValueError(_format_not_supported(path, "not a zip archive, HDF5 file or Orbax checkpoint"))
    with h5py.File(path, "r") as f:
        if "model_config" not in f.attrs:
            raise ValueError("%r has no model_config: it holds weights only; build the model and call "
                             "load_weights" % path)
        spec = json.loads(f.attrs["model_config"])
        training = json.loads(f.attrs["training_config"]) if "training_config" in f.attrs else None
        opt_values = [read_dataset(f["optimizer_weights"], str(k))
                      for k in range(int(f["optimizer_weights"].attrs["count"]))] if "optimizer_weights" in f else []
    model = layer_from_config(spec, custom_objects, safe_mode)
    model.load_weights(path)
    if compile and training is not None and training.get("loss") is not None:
        opt_spec = training["optimizer_config"]
        optimizer = optimizers.get({"class_name": opt_spec["class_name"], "config": opt_spec["config"]})
        custom_objects = custom_objects or {}
        model.compile(optimizer=optimizer, loss=revived_spec(training["loss"], custom_objects, losses),
                      metrics=revived_spec(training.get("metrics"), custom_objects, metrics),
                      weighted_metrics=revived_spec(training.get("weighted_metrics"), custom_objects, metrics),
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
    return {"optimizer_config": compiled["optimizer"], "loss": saved_spec(compiled["loss"], losses.serialize),
            "metrics": saved_spec(compiled["metrics"], metrics.serialize),
            "weighted_metrics": saved_spec(compiled["weighted_metrics"], metrics.serialize),
            "loss_weights": compiled["loss_weights"], "steps_per_execution": compiled["steps_per_execution"]}

"""keras.saving: weights files in every Keras h5 layout, with Theano-ordering conversion (see weights.py
for the rules), the custom-object registry, and load_model/save_model (from mlcore.models)."""
from .h5_layouts import LayerEntry, WeightsFile, read_h5, write_legacy_h5, write_weights_h5
from .object_registration import (CustomObjectScope, custom_object_scope, get_custom_objects,  # noqa: F401
                                  get_registered_name, get_registered_object, register_keras_serializable)
from .theano_conversion import TheanoConversion, detect_conversion
from .weights import load_weights, save_weights

__all__ = [
    "LayerEntry",
    "TheanoConversion",
    "WeightsFile",
    "detect_conversion",
    "load_weights",
    "read_h5",
    "save_weights",
    "write_legacy_h5",
    "write_weights_h5",
]


def __getattr__(name):
    """load_model, save_model, (de)serialize_keras_object and KerasFileEditor, imported on first use
    (mlcore.models imports this package)."""
    if name in ("load_model", "save_model"):
        from mlcore.models import model_file
        return getattr(model_file, name)
    if name == "KerasFileEditor":
        from mlcore.saving.file_editor import KerasFileEditor
        return KerasFileEditor
    if name in ("serialize_keras_object", "deserialize_keras_object"):
        from mlcore.saving import serialization_lib
        return getattr(serialization_lib, name)
    raise AttributeError("module 'mlcore.saving' has no attribute %r" % name)

"""Utilities, as keras.utils: get_file, to_categorical, set_random_seed, PyDataset (Sequence), image
helpers, model_to_dot and plot_model, the custom-object registry (register_keras_serializable,
custom_object_scope), pad_sequences, Progbar, timeseries_dataset_from_array, image_dataset_from_directory,
text_dataset_from_directory, audio_dataset_from_directory (datasets with tf.data's methods; AUTOTUNE as
tf.data's), split_dataset, FeatureSpace, and the helpers that live with layers and models (clear_session,
get_source_inputs, serialize_keras_object, pack_x_y_sample_weight, ...)."""
import importlib

from mlcore.config import (disable_interactive_logging, enable_interactive_logging,  # noqa: F401
                           is_interactive_logging_enabled)
from mlcore.utils.config import Config  # noqa: F401
from mlcore.utils import data_utils, np_utils  # noqa: F401  (Keras 1/2's modules: np_utils.to_categorical)
from mlcore.utils.file_utils import get_file  # noqa: F401
from mlcore.utils.model_visualization import model_to_dot, plot_model  # noqa: F401
from mlcore.utils import vis_utils  # noqa: F401  (Keras 2's module: vis_utils.plot_model)
from mlcore.utils.numerical import normalize, to_categorical  # noqa: F401
from mlcore.utils.progbar import Progbar  # noqa: F401
from mlcore.utils.py_dataset import PyDataset, Sequence  # noqa: F401
from mlcore.utils.sequence_utils import pad_sequences  # noqa: F401
from mlcore.utils.timeseries import timeseries_dataset_from_array  # noqa: F401
from mlcore.utils.image_dataset import image_dataset_from_directory  # noqa: F401
from mlcore.utils.text_dataset import text_dataset_from_directory  # noqa: F401
from mlcore.utils.audio_dataset import audio_dataset_from_directory  # noqa: F401
from mlcore.utils.dataset_ops import AUTOTUNE  # noqa: F401
from mlcore.utils.dataset_split import split_dataset  # noqa: F401
from mlcore.preprocessing.image_utils import array_to_img, img_to_array, load_img, save_img  # noqa: F401
from mlcore.saving.object_registration import (CustomObjectScope, custom_object_scope,  # noqa: F401
                                               get_custom_objects, get_registered_name, get_registered_object,
                                               register_keras_serializable)


def set_random_seed(seed):
    """Seed Python's, numpy's and mlcore's generators (weights, dropout, shuffling)."""
    from mlcore.utils.rng import set_random_seed as _set
    _set(seed)


# imported on first use: these modules import mlcore.layers, which imports this package
_LAZY = {"clear_session": "mlcore.backend", "is_keras_tensor": "mlcore.backend",
         "get_source_inputs": "mlcore.models.functional",
         "serialize_keras_object": "mlcore.saving.serialization_lib",
         "deserialize_keras_object": "mlcore.saving.serialization_lib",
         "pack_x_y_sample_weight": "mlcore.models.data_adapters",
         "unpack_x_y_sample_weight": "mlcore.models.data_adapters"}
_LAZY["standardize_dtype"] = "mlcore.backend"
_LAZY["FeatureSpace"] = "mlcore.utils.feature_space"
_LAZY["bounding_boxes"] = "mlcore.utils.bounding_boxes"     # a submodule, as keras.utils.bounding_boxes
_LAZY["legacy"] = "mlcore.utils.legacy"     # a submodule: Keras 2's serializers
_LAZY["generic_utils"] = "mlcore.utils.generic_utils"     # Keras 2's submodules
_LAZY["layer_utils"] = "mlcore.utils.layer_utils"


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError("module 'mlcore.utils' has no attribute %r" % name)
    module = importlib.import_module(_LAZY[name])
    return module if module.__name__ == __name__ + "." + name else getattr(module, name)

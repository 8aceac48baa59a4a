"""Data preprocessing, as keras.preprocessing: `mlcore.preprocessing.image`, Keras 2's `sequence` and `text`
modules (pad_sequences, skipgrams, Tokenizer, ...), and Keras 2's paths to image_dataset_from_directory and
text_dataset_from_directory."""
import importlib

from mlcore.preprocessing import image
from mlcore.preprocessing import sequence  # noqa: F401  (keras.preprocessing.sequence.pad_sequences)
from mlcore.preprocessing import text  # noqa: F401  (keras.preprocessing.text.Tokenizer)

__all__ = ["image", "image_dataset_from_directory", "text_dataset_from_directory"]
__all__ += ["sequence", "text", "timeseries_dataset_from_array"]

# imported on first use: mlcore.utils imports mlcore.preprocessing.image_utils, so this package first
_LAZY = {"image_dataset_from_directory": "mlcore.utils.image_dataset",
         "text_dataset_from_directory": "mlcore.utils.text_dataset",
         "timeseries_dataset_from_array": "mlcore.utils.timeseries"}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError("module 'mlcore.preprocessing' has no attribute %r" % name)
    return getattr(importlib.import_module(_LAZY[name]), name)

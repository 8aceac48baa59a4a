"""Keras 1/2's module path keras.utils.layer_utils, kept so that `from mlcore.utils.layer_utils import
print_summary, get_source_inputs, layer_from_config` imports.  Re-exports only: print_summary (what
model.summary() prints) lives in mlcore/models/summary.py; get_source_inputs in mlcore/models/functional.py;
layer_from_config (Keras 1's name: a layer from its {"class_name", "config"} dict) in
mlcore/models/serialization.py."""
from mlcore.models.functional import get_source_inputs  # noqa: F401
from mlcore.models.serialization import layer_from_config  # noqa: F401
from mlcore.models.summary import print_summary  # noqa: F401

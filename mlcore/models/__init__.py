"""Models: Sequential, the functional Model, whole-model files, and clone_model."""
from mlcore.models.cloning import clone_model  # noqa: F401
from mlcore.models.functional import Model  # noqa: F401
from mlcore.models.model_file import load_model, save_model  # noqa: F401
from mlcore.models.sequential import Sequential  # noqa: F401
from mlcore.models.serialization import model_from_json  # noqa: F401

"""keras.legacy: what Keras 3 keeps of Keras 2 for old code and files (saving)."""
from mlcore.legacy import saving  # noqa: F401

"""Keras 1/2's module path keras.engine.training, where Model lived (see mlcore.engine).  Re-exports only."""
from mlcore.models.functional import Model  # noqa: F401

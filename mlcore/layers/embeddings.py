"""Keras 1/2's module path keras.layers.embeddings, kept so that `from mlcore.layers.embeddings import
Embedding` (as the classic tutorials write it) imports.  Re-exports only: the layer lives in
mlcore/layers/embedding.py, Keras 3's name for the module."""
from mlcore.layers.embedding import Embedding  # noqa: F401

"""Data preprocessing, as keras.preprocessing: `mlcore.preprocessing.image`."""

from mlcore.preprocessing import image

__all__ = ["image"]

"""Keras 1/2's module path keras.utils.np_utils, kept so that `from mlcore.utils.np_utils import
to_categorical` (as the classic tutorials write it) imports.  Re-exports only: the functions live in
mlcore/utils/numerical.py, Keras 3's name for the module."""
from mlcore.utils.numerical import normalize, to_categorical  # noqa: F401

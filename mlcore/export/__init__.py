"""keras.export: Keras's ExportArchive writes a TensorFlow SavedModel (through jax2tf on Keras's jax
backend).  mlcore's graphs do not run on TensorFlow, so the archive says so when it is made, as
Keras's own does where TensorFlow is not installed, and points at the file Keras 3 can export from."""
from mlcore.models.model_file import cannot_export


class ExportArchive:
    """keras.export.ExportArchive: refused at construction, before anything is tracked or written."""

    def __init__(self):
        raise cannot_export("ExportArchive cannot write a TensorFlow SavedModel")


__all__ = ["ExportArchive"]

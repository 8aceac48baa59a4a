"""keras.export: Keras's ExportArchive writes a TensorFlow SavedModel (through jax2tf on Keras's jax
backend).  mlcore's graphs do not run on TensorFlow, so the archive says so when it is made, as
Keras's own does where TensorFlow is not installed, and points at the file Keras 3 can export from."""
from mlcore.models.model_file import cannot_export


class ExportArchive:
    """keras.export.ExportArchive: refused at construction, before anything is tracked or written."""

    def __init__(self, format="saved_model", **kwargs):
        if format not in ("saved_model", "neptune_model"):
            raise ValueError("Unsupported format: %s" % (format,))
        raise cannot_export("ExportArchive cannot write a TensorFlow SavedModel (format=%r)" % (format,))


__all__ = ["ExportArchive"]

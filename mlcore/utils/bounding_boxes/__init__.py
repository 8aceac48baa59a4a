"""keras.utils.bounding_boxes: converting boxes between formats, clipping, cropping, padding and
moving them with an image's affine transform, their IoU and CIoU, and their deltas to anchors.

Each function builds graph nodes from mlcore's ops, so it works inside layers and compiled functions
on every backend; on values (numpy arrays, lists) it runs at once and gives numpy arrays, as
Keras's do outside a traced function.
"""
import importlib

import mlcore.ops  # noqa: F401  (first: it imports the image layers, which import the modules below)

_MODULES = {"convert_format": "formats", "clip_to_image_size": "geometry", "crop": "geometry", "pad": "geometry",
            "affine_transform": "geometry", "compute_iou": "iou", "compute_ciou": "iou",
            "encode_box_to_deltas": "deltas", "decode_deltas_to_boxes": "deltas"}
__all__ = sorted(_MODULES)


def __getattr__(name):
    """The functions wrapped to run at once on values, each made on first use."""
    if name not in _MODULES:
        raise AttributeError("module %r has no attribute %r" % (__name__, name))
    from mlcore.ops.eager import on_values
    function = on_values(getattr(importlib.import_module(__name__ + "." + _MODULES[name]), name))
    globals()[name] = function
    return function

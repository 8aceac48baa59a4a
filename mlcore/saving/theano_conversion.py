"""Converting weights saved by Keras on Theano into mlcore's (and TensorFlow's) ordering.

Theano's conv2d is a true convolution: it flips the kernel before sliding it. mlcore, TensorFlow and JAX
compute cross-correlation. Three fixes exist, and which apply depends on the file:

(i)   transpose: Keras 1 stored Conv2D kernels in the layer's dim ordering; with 'th' ordering that is
      (out, in, h, w). mlcore keeps (h, w, in, out), so these become ``kernel.transpose(2, 3, 1, 0)``.
(ii)  flip: a kernel trained with Theano's convolution works as a cross-correlation kernel once both spatial
      axes are reversed: ``k[::-1, ::-1]`` on (h, w, in, out).
(iii) reorder the rows of the first weighted layer after a Flatten, when it is a Dense: a 'th' model
      flattened (c, h, w) feature maps, a target that flattens (h, w, c) needs row ``c*H*W + h*W + w``
      of the file at row ``h*W*C + w*C + c``. A target flattens (c, h, w) itself, and nothing moves, when
      channels_first maps reach a Flatten whose data_format is not "channels_first" (a Keras 2+ Flatten
      with data_format="channels_first" transposes its input to channels_last before flattening).

``detect_conversion`` decides:

- "none": nothing.
- "auto", kernels stored (out, in, h, w): the k-th 4-D array of the file, in file order, has the transposed
  shape of the model's k-th 4-D weight (and not its shape) for some k. Only Keras 1 files with 'th' ordering
  look like this, and their kernels are taken as Theano kernels: (i) + (ii) + (iii). (The rarer Keras 1
  'th' files saved with TensorFlow kernels look the same and would need (i) + (iii) without (ii).)
- "auto", file attr backend == "theano" (Keras 2 on Theano): kernels are already (h, w, in, out): (ii) only.
  The file doesn't record its Flatten ordering, so (iii) is not guessed: give the target model the source
  model's data_format.
- "auto", anything else (TensorFlow, JAX, Keras 1 'tf' files, every Keras 3 native file): nothing.
- "theano": as "auto", but flips kernels (ii) even when the file has no backend attribute.
"""
import math
from dataclasses import dataclass

import numpy as np

from .h5_layouts import NATIVE, legacy_weights

CONVERSIONS = ("auto", "none", "theano")
_CONV_CLASSES = ("Conv2D", "Convolution2D")


@dataclass(frozen=True)
class TheanoConversion:
    """Which of (i) transpose, (ii) flip and (iii) Dense-row reordering to apply to matched weight values."""

    transpose: bool = False
    flip: bool = False
    reorder_dense: bool = False

    def __bool__(self):
        return self.transpose or self.flip or self.reorder_dense

    def apply(self, model, values):
        """Returns a copy of ``values`` ({id(weight): array}, the file's arrays matched to the model's
        weights) with Conv2D kernels and the Dense kernel after each Flatten converted."""
        values = dict(values)
        if not self:
            return values
        leaves = list(_leaf_layers(model))
        for layer in leaves:
            kernel = _first_weight(layer) if _is_a(layer, _CONV_CLASSES) else None
            array = values.get(id(kernel))
            if array is None or array.ndim != 4:
                continue
            if self.transpose:
                array = array.transpose(2, 3, 1, 0)
            if self.flip:
                array = array[::-1, ::-1]
            values[id(kernel)] = np.ascontiguousarray(array)
        if self.reorder_dense:
            _reorder_dense_rows(leaves, values)
        return values


def detect_conversion(file_description, model, conversion="auto"):
    """Chooses the TheanoConversion for loading ``file_description`` (a WeightsFile) into ``model``."""
    if conversion not in CONVERSIONS:
        raise ValueError(f"conversion must be one of {CONVERSIONS}, got {conversion!r}")
    if conversion == "none":
        return TheanoConversion()
    if file_description.layout != NATIVE and _stored_out_in_h_w(file_description, model):
        return TheanoConversion(transpose=True, flip=True, reorder_dense=True)
    if conversion == "theano" or file_description.backend == "theano":
        return TheanoConversion(flip=True)
    return TheanoConversion()


def _stored_out_in_h_w(file_description, model):
    """Pairs the file's 4-D arrays with the model's 4-D weights in order (the order legacy files share
    with the model) and looks for one stored (out, in, h, w)."""
    file_shapes = [a.shape for entry in file_description.layers for _, a in entry.weights if a.ndim == 4]
    model_shapes = [
        tuple(w.shape) for layer in model.layers for w in legacy_weights(layer) if len(w.shape) == 4
    ]
    return any(f != m and f == (m[3], m[2], m[0], m[1]) for f, m in zip(file_shapes, model_shapes))


def _leaf_layers(model):
    for layer in model.layers:
        if hasattr(layer, "layers"):
            yield from _leaf_layers(layer)
        else:
            yield layer


def _is_a(layer, class_names):
    return any(cls.__name__ in class_names for cls in type(layer).__mro__)


def _first_weight(layer):
    weights = legacy_weights(layer)
    return weights[0] if weights else None


def _reorder_dense_rows(leaves, values):
    for i, flatten in enumerate(leaves):
        if not _is_a(flatten, ("Flatten",)):
            continue
        before, after = leaves[:i], leaves[i + 1 :]
        dense = next((layer for layer in after if legacy_weights(layer)), None)
        if dense is None or not _is_a(dense, ("Dense",)) or _flattens_chw(flatten, before):
            continue
        key = id(_first_weight(dense))
        kernel = values.get(key)
        if kernel is None or kernel.ndim != 2:
            continue
        h, w, c = _feature_map_shape(flatten, dense, before, kernel.shape[0])
        reordered = kernel.reshape(c, h, w, -1).transpose(1, 2, 0, 3).reshape(kernel.shape)
        values[key] = np.ascontiguousarray(reordered)


def _feature_format(before):
    """The data_format of the maps reaching a Flatten: that of the last layer before it that has one."""
    formats = [getattr(layer, "data_format", None) for layer in before]
    return next((f for f in reversed(formats) if f), "channels_last")


def _flattens_chw(flatten, before):
    """True when the target model itself flattens (c, h, w), as the Theano source model did."""
    return _feature_format(before) == "channels_first" and getattr(flatten, "data_format", None) != (
        "channels_first"
    )


def _feature_map_shape(flatten, dense, before, rows):
    """(h, w, c) of the maps entering the Flatten: from its input_shape, else from the last conv's output
    channels and the Dense row count, assuming square maps."""
    shape = getattr(flatten, "input_shape", None)
    if shape is not None and len(shape) == 4 and None not in shape[1:]:
        dims = tuple(int(d) for d in shape[1:])
        h, w, c = (dims[1], dims[2], dims[0]) if _feature_format(before) == "channels_first" else dims
        if h * w * c == rows:
            return h, w, c
    convs = [layer for layer in before if _is_a(layer, _CONV_CLASSES)]
    if convs:
        c = int(tuple(_first_weight(convs[-1]).shape)[-1])
        side = math.isqrt(rows // c)
        if side * side * c == rows:
            return side, side, c
    raise ValueError(
        f"Cannot reorder the rows of Dense '{dense.name}' after Flatten '{flatten.name}' from Theano's "
        f"(c, h, w) order: the feature-map shape is unknown ({rows} rows). "
        "Build the model with an input shape."
    )

"""Keras 2's module path keras.layers.merge, kept so that `from mlcore.layers.merge import concatenate`
(as Keras 2 code writes it) imports.  Re-exports only: the layers live in mlcore/layers/merging.py,
Keras 3's name for the module.  Keras 1's `Merge` layer and `merge()` function (removed in Keras 2.2)
are not here: use the layers below, e.g. `concatenate([a, b])` for `merge([a, b], mode="concat")`."""
from mlcore.layers.merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply,  # noqa: F401
                                   Subtract, add, average, concatenate, dot, maximum, minimum, multiply,
                                   subtract)

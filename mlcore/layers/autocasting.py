"""How a layer's dtype policy reaches the graph its call builds, as in Keras 3's Layer.__call__:
its floating inputs are cast to its compute dtype, and its call runs in an autocast scope
(mlcore/graph/autocast.py), inside which the ops read its float32 weights as compute-dtype views.
So a "mixed_float16" Dense computes in float16 and trains float32 weights, with no line of its own.

Which scope a call runs in is Keras's rule, made for nesting (a model's call holds its layers'):
- outside any scope, a layer opens one only when its policy is mixed (compute dtype != variable dtype);
- inside one, a layer that computes in the same dtype keeps it; one that computes in another float
  dtype opens its own (the float32 softmax that ends a mixed model reads its weights as they are);
  one that does not autocast (layer.autocast False: LayerNormalization, Embedding) or does not
  compute in floats turns autocasting off for its call.
A float32 policy outside any scope opens nothing and casts nothing: its graph is unchanged.
A compiled step (fit, predict) runs the model's call() itself, outside the model's own scope, as Keras's
jax trainer does (its stateless_call): the layers inside decide, each as above.
"""
from contextlib import nullcontext

import numpy as np

from mlcore.graph.autocast import AutocastScope, get_autocast_scope
from mlcore.graph.basic import Variable
from mlcore.graph.ops.common import is_float_dtype
from mlcore.graph.ops.elemwise import cast
from mlcore.keras_masks import get_keras_mask, set_keras_mask
from mlcore.layers.structure import flatten, map_structure


def call_scope(layer):
    """The autocast scope the layer's call runs in (a context manager)."""
    current = get_autocast_scope()
    if current is not None:
        if not layer.autocast or not is_float_dtype(layer.compute_dtype):
            return AutocastScope(None)
        return AutocastScope(layer.compute_dtype) if current.dtype != layer.compute_dtype else nullcontext()
    if layer.compute_dtype != layer.variable_dtype:
        return AutocastScope(layer.compute_dtype)
    return nullcontext()


def cast_inputs(layer, structure):
    """The float tensors of structure in the layer's input dtype, their masks kept (Keras's
    convert_input); unchanged where the layer does not autocast or takes its inputs as they come, and
    where its input dtype is not a float (Keras's integer-dtype layers each opt out of the cast)."""
    dtype = layer.input_dtype
    if not (layer.autocast and layer._convert_input_args and is_float_dtype(dtype)):
        return structure

    def needs_cast(x):
        return isinstance(x, (Variable, np.ndarray)) and x.dtype != dtype and is_float_dtype(x.dtype)

    def convert(x):
        if not needs_cast(x):
            return x
        if isinstance(x, np.ndarray):       # an array passed beside the symbolic inputs
            return x.astype(dtype)
        converted = cast(x, dtype)
        if get_keras_mask(x) is not None:
            set_keras_mask(converted, get_keras_mask(x))
        return converted
    return map_structure(convert, structure) if any(map(needs_cast, flatten(structure))) else structure

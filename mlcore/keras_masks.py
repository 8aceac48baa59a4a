"""Keras masks: which time steps of a padded sequence are real.

A mask is a boolean tensor of a tensor's leading dims, (batch, time) for (batch, time, features)
inputs, True where a step is real.  Embedding(mask_zero=True) and Masking make one; layers that
support masking (Dense, Dropout, LSTM...) pass it on (Layer.compute_mask), and a layer whose call
takes `mask=` receives its input's mask: an RNN then skips the padded steps, GlobalAveragePooling1D
averages the real ones only, and the loss and metrics of a masked output leave them out.

A symbolic tensor carries its mask in its tag (x._keras_mask reads it, as on a KerasTensor); a
layer run on numpy arrays returns a masked output as a MaskedOutput, a numpy array with the mask as
its `_keras_mask` attribute (Keras's guides print `embedding(padded)._keras_mask`), so that eager
calls chain as symbolic ones do.
"""
import numpy as np

from mlcore.graph.basic import Variable
from mlcore.graph.ops.shape import dimshuffle


class MaskedOutput(np.ndarray):
    """A layer's output computed on arrays, with its mask as `._keras_mask`, as Keras's tensors carry
    it (a plain numpy array takes no attributes).  Arithmetic on it gives plain arrays: the mask
    belongs to the layer's output, not to what is computed from it."""
    _keras_mask = None

    def __array_wrap__(self, array, context=None, return_scalar=False):
        array = array.view(np.ndarray)
        return array[()] if return_scalar else array


def with_keras_mask(array, mask):
    """array as a MaskedOutput carrying mask."""
    masked = np.asarray(array).view(MaskedOutput)
    masked._keras_mask = mask
    return masked


def get_keras_mask(x):
    """The mask a tensor or an eager layer output carries, or None."""
    if isinstance(x, Variable):
        return x.tag.get("keras_mask")
    return getattr(x, "_keras_mask", None)


def over_trailing_axes(mask, ndim):
    """The mask with new trailing axes up to ndim, to broadcast over a tensor's remaining dims
    ((batch, time) over (batch, time, features); a step's (batch,) over (batch, units))."""
    return dimshuffle(mask, *range(mask.ndim), *["x"] * (ndim - mask.ndim))


def set_keras_mask(x, mask):
    """Attach mask to a symbolic tensor x (None removes it)."""
    x.tag["keras_mask"] = mask
    if mask is None:
        del x.tag["keras_mask"]


def with_masks(inputs, masks):
    """inputs (a structure of tensors or arrays) each carrying its mask from masks (one per input,
    None for an unmasked one), as a model's call(inputs, mask=) receives them."""
    from mlcore.graph.ops.common import as_tensor_variable
    from mlcore.tree import flatten, pack_sequence_as
    values, masks = flatten(inputs), flatten(masks)
    if len(masks) != len(values):
        raise ValueError("mask= gives %d mask(s) for %d input(s)" % (len(masks), len(values)))
    masked = []
    for value, mask in zip(values, masks):
        if mask is not None and isinstance(value, Variable):
            set_keras_mask(value, mask if isinstance(mask, Variable) else as_tensor_variable(np.asarray(mask)))
        elif mask is not None:
            value = with_keras_mask(value, np.asarray(mask))
        masked.append(value)
    return pack_sequence_as(inputs, masked)

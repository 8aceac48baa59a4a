"""Keras masks: which time steps of a padded sequence are real.

A mask is a boolean tensor of a tensor's leading dims, (batch, time) for (batch, time, features)
inputs, True where a step is real.  Embedding(mask_zero=True) and Masking make one; layers that
support masking (Dense, Dropout, LSTM...) pass it on (Layer.compute_mask), and a layer whose call
takes `mask=` receives its input's mask: an RNN then skips the padded steps, GlobalAveragePooling1D
averages the real ones only, and the loss and metrics of a masked output leave them out.

A symbolic tensor carries its mask in its tag (x._keras_mask reads it, as on a KerasTensor); a
layer run on numpy arrays registers its outputs' masks here, keyed by the array, so that eager
calls chain as symbolic ones do.
"""
import weakref

from mlcore.graph.basic import Variable
from mlcore.graph.ops.shape import dimshuffle

_eager_masks = {}       # id(array) -> (a weak reference to the array, its mask)


def get_keras_mask(x):
    """The mask a tensor or an eager layer output carries, or None."""
    if isinstance(x, Variable):
        return x.tag.get("keras_mask")
    entry = _eager_masks.get(id(x))
    return entry[1] if entry is not None and entry[0]() is x else None


def over_trailing_axes(mask, ndim):
    """The mask with new trailing axes up to ndim, to broadcast over a tensor's remaining dims
    ((batch, time) over (batch, time, features); a step's (batch,) over (batch, units))."""
    return dimshuffle(mask, *range(mask.ndim), *["x"] * (ndim - mask.ndim))


def set_keras_mask(x, mask):
    """Attach mask to x (None removes it)."""
    if isinstance(x, Variable):
        x.tag["keras_mask"] = mask
        if mask is None:
            del x.tag["keras_mask"]
        return
    key = id(x)
    _eager_masks.pop(key, None)
    if mask is not None:
        _eager_masks[key] = (weakref.ref(x, lambda _: _eager_masks.pop(key, None)), mask)

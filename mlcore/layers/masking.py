"""Masking: the steps whose features all equal a value are padding (see mlcore/keras_masks.py)."""
from mlcore import ops
from mlcore.layers.base import Layer
from mlcore.keras_masks import over_trailing_axes, set_keras_mask


class Masking(Layer):
    """Masks the time steps whose features all equal mask_value: they become zeros, and the output's
    mask is False there, so the layers after it that support masking skip them."""
    rowwise = True
    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self._build_at_init()

    def compute_mask(self, inputs, mask=None):
        return ops.any(ops.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        keep = self.compute_mask(inputs)
        outputs = ops.where(over_trailing_axes(keep, inputs.ndim), inputs, ops.cast(0, inputs.dtype))
        set_keras_mask(outputs, keep)
        return outputs

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}

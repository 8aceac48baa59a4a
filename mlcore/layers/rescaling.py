"""Rescaling: inputs * scale + offset, e.g. pixel values from [0, 255] to [0, 1] with scale=1/255."""
import numpy as np

from mlcore import config, ops
from mlcore.layers.base import Layer


def _from_keras_value(value):
    """A number or list as saved; an array as Keras 3 saves it ({"class_name": "__numpy__", ...})."""
    if isinstance(value, dict) and value.get("class_name") == "__numpy__":
        return np.asarray(value["config"]["value"], dtype=value["config"]["dtype"])
    return value


def _to_config_value(value):
    return np.asarray(value).tolist() if isinstance(value, (np.ndarray, np.generic, list, tuple)) else value


class Rescaling(Layer):
    """scale and offset are numbers, or per-channel sequences; with channels_first images (the configured
    data format, as Keras reads it) a per-channel scale applies along axis 1.  Inputs of any dtype come out
    in the layer's float dtype."""
    supports_masking = True
    rowwise = True

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset

    def call(self, inputs):
        scale = np.asarray(self.scale, dtype=self.compute_dtype)
        if scale.ndim and config.image_data_format() == "channels_first":
            scale = scale.reshape(scale.shape + (1,) * (3 - scale.ndim))
        return ops.cast(inputs, self.compute_dtype) * scale + np.asarray(self.offset, dtype=self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "scale": _to_config_value(self.scale),
                "offset": _to_config_value(self.offset)}

    @classmethod
    def from_config(cls, config):
        return cls(**dict(config, scale=_from_keras_value(config["scale"]),
                          offset=_from_keras_value(config["offset"])))

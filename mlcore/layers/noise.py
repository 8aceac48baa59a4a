"""Random regularization layers, active only in training: GaussianNoise, GaussianDropout, AlphaDropout,
SpatialDropout1D, SpatialDropout2D and SpatialDropout3D.

Each draws from a SeedGenerator of its own (in its non_trainable_variables), seeded by `seed` or else
by mlcore's generator (as Dropout), so a compiled training step draws fresh noise on every call.
"""
import math

from mlcore import ops
from mlcore.activations import _SELU_ALPHA, _SELU_SCALE
from mlcore.layers.base import Layer
from mlcore.layers.convolutional import check_rank, pop_keras1, standardize_data_format
from mlcore.layers.core import Dropout, noise_shape_of
from mlcore.utils.rng import layer_streams


def check_unit_interval(value, name):
    if value is None or not 0 <= value <= 1:
        raise ValueError("Invalid value received for argument `%s`. Expected a float value between 0 and 1. "
                         "Received: %s=%r" % (name, name, value))
    return value


class GaussianNoise(Layer):
    """Adds zero-mean normal noise of standard deviation `stddev` in training."""
    supports_masking = True
    rowwise = True

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.stddev = check_unit_interval(stddev, "stddev")
        self.seed = seed
        if self.stddev > 0:         # as in Keras, no random state where no noise is drawn
            self.seed_generator = layer_streams(seed)
        self._build_at_init()

    def call(self, inputs, training=None):
        if not training or self.stddev == 0:
            return inputs
        return inputs + self.seed_generator.normal(inputs.shape, 0.0, self.stddev, dtype=inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(Layer):
    """Multiplies by normal noise of mean 1 and standard deviation sqrt(rate / (1 - rate)) in training: the
    variance of Dropout(rate)'s mask, without its zeros."""
    supports_masking = True
    rowwise = True

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_unit_interval(rate, "rate")
        self.seed = seed
        if self.rate > 0:
            self.seed_generator = layer_streams(seed)
        self._build_at_init()

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return inputs * self.seed_generator.normal(inputs.shape, 1.0, stddev, dtype=inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class AlphaDropout(Layer):
    """Dropout for SELU networks: dropped inputs become SELU's negative saturation value, and an affine
    map brings the mean and variance back to the inputs' (Klambauer et al., 2017)."""
    supports_masking = True
    rowwise = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_unit_interval(rate, "rate")
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        if self.rate > 0:
            self.seed_generator = layer_streams(seed)
        self._build_at_init()

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        uniform = self.seed_generator.uniform(noise_shape_of(inputs, self.noise_shape), dtype=inputs.dtype)
        kept = ops.cast(ops.greater_equal(uniform, self.rate), inputs.dtype)
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1 - self.rate) * (1 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        return a * (inputs * kept + alpha_p * (1 - kept)) + b

    def get_config(self):
        noise_shape = None if self.noise_shape is None else list(self.noise_shape)
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": noise_shape}


class _SpatialDropout(Dropout):
    """Dropout of whole feature maps: one keep-or-drop per sample and channel, shared along the axes where
    a subclass's spatial_noise_shape has 1."""
    rank = None
    spatial_noise_shape = None

    def __init__(self, rate, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)

    def call(self, inputs, training=None):
        check_rank(self, inputs.type.shape, self.rank)
        return super().call(inputs, training)

    def _noise_shape(self):
        return self.spatial_noise_shape

    def get_config(self):
        """Keras's keys only (its spatial dropouts take no trainable= or noise_shape=, and write the dtype's
        name rather than the policy)."""
        config = super().get_config()
        del config["trainable"], config["noise_shape"]
        return dict(config, dtype=self.dtype_policy.name)


class SpatialDropout1D(_SpatialDropout):
    """Drops whole channels of (samples, timesteps, channels) inputs."""
    rank = 3
    spatial_noise_shape = (None, 1, None)


class _ChannelsDropout(_SpatialDropout):
    """Drops whole channels of images or volumes, in either data format (Keras 1's dim_ordering= too)."""

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None, **kwargs):
        old = pop_keras1(kwargs, {"dim_ordering": "data_format"})
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)
        self.data_format = standardize_data_format(old.get("data_format", data_format))

    @property
    def spatial_noise_shape(self):
        spatial = (1,) * (self.rank - 2)
        return (None, None) + spatial if self.data_format == "channels_first" else (None,) + spatial + (None,)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class SpatialDropout2D(_ChannelsDropout):
    """Drops whole channels of images."""
    rank = 4


class SpatialDropout3D(_ChannelsDropout):
    """Drops whole channels of volumes."""
    rank = 5

"""Weight initializers, as keras.initializers: callables (shape, dtype=None) -> numpy array.

Initial values are plain numpy: they are computed once, before any graph exists.
A seeded initializer gives the same values on every call (Keras 3); an unseeded
one draws from mlcore.utils.rng's generator, so set_random_seed() makes model
construction reproducible.
"""
import math

import numpy as np

from mlcore import config
from mlcore.graph.ops.random import TRUNCATED_STD
from mlcore.saving.object_registration import keras_serialized
from mlcore.utils import rng
from mlcore.utils.naming import to_snake_case
from mlcore.utils.registry import ObjectRegistry


def _dtype(dtype):
    return np.dtype(dtype or config.floatx())


class Initializer:
    def __call__(self, shape, dtype=None):
        raise NotImplementedError("Initializer subclasses must implement __call__(shape, dtype=None)")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return self.__class__.from_config(self.get_config())

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join("%s=%r" % kv for kv in self.get_config().items()))


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return np.zeros(shape, _dtype(dtype))


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return np.ones(shape, _dtype(dtype))


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype)
        return np.asarray(self.value, dtype) * np.ones(shape, dtype)

    def get_config(self):
        value = self.value.tolist() if isinstance(self.value, np.ndarray) else self.value
        return {"value": value}


class Identity(Initializer):
    """gain times the identity matrix (2-d shapes only)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices. "
                             "Received: shape=%s of rank %d." % (tuple(shape), len(shape)))
        return (self.gain * np.eye(*shape)).astype(_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}      # Keras 3.15 saves {} and reloads gain 1.0; mlcore keeps it


class RandomInitializer(Initializer):
    """Holds the seed: an int gives the same draw on every call, None draws from mlcore's generator, a
    keras.random.SeedGenerator a new draw at each call from its state (a sequence its seed repeats)."""

    def __init__(self, seed=None):
        from mlcore.random import SeedGenerator
        if seed is not None and not isinstance(seed, SeedGenerator) and \
                (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool)):
            raise ValueError("`seed` argument should be an instance of `keras.random.SeedGenerator()` or an "
                             "integer or None. Received: seed=%r" % (seed,))
        self.seed = seed

    def generator(self):
        if self.seed is None:
            return rng.get_generator()
        if isinstance(self.seed, (int, np.integer)):
            return np.random.default_rng(self.seed)
        return np.random.default_rng(self.seed.next_value().tolist())

    def get_config(self):
        if isinstance(self.seed, (int, np.integer, type(None))):
            return {"seed": self.seed}
        return {"seed": keras_serialized(self.seed, self.seed.get_config(), "keras.random")}

    @classmethod
    def from_config(cls, config):
        from mlcore.random import SeedGenerator
        seed = config.get("seed")
        if isinstance(seed, dict):      # a SeedGenerator, as get_config (and Keras) write it
            config = {**config, "seed": SeedGenerator.from_config(seed["config"])}
        return cls(**config)


def _truncated_normal(generator, shape, mean, stddev):
    """Normal samples redrawn until within two standard deviations (TF's and JAX's truncation)."""
    values = generator.standard_normal(shape)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = generator.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2
    return mean + stddev * values


class RandomNormal(RandomInitializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        return self.generator().normal(self.mean, self.stddev, shape).astype(_dtype(dtype))

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomNormal):
    """A normal distribution cut at two standard deviations from the mean."""

    def __call__(self, shape, dtype=None):
        return _truncated_normal(self.generator(), shape, self.mean, self.stddev).astype(_dtype(dtype))


class RandomUniform(RandomInitializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval = minval, maxval
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        return rng.uniform(self.generator(), self.minval, self.maxval, shape, _dtype(dtype))

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


def compute_fans(shape, input_axes=None, output_axes=None):
    """(fan_in, fan_out) as Keras computes them; conv kernels (..., in, out) count the receptive field."""
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return int(np.prod([shape[a] for a in input_axes])), int(np.prod([shape[a] for a in output_axes]))
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    receptive_field = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return int(shape[-2] * receptive_field), int(shape[-1] * receptive_field)


class VarianceScaling(RandomInitializer):
    """Samples with variance scale / n, n the fan in, fan out or their average."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        if scale <= 0.0:
            raise ValueError("Argument `scale` must be positive float. Received: scale=%r" % (scale,))
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError("Invalid `mode` argument: %r. Please use one of fan_in, fan_out, fan_avg" % (mode,))
        distribution = distribution.lower()
        distribution = "truncated_normal" if distribution == "normal" else distribution
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError("Invalid `distribution` argument: %r. Please use one of uniform, "
                             "truncated_normal, untruncated_normal" % (distribution,))
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.input_axes, self.output_axes = input_axes, output_axes
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, fan)
        generator = self.generator()
        if self.distribution == "truncated_normal":  # the constant is the std of a standard normal cut at 2
            values = _truncated_normal(generator, shape, 0.0, math.sqrt(scale) / TRUNCATED_STD)
        elif self.distribution == "untruncated_normal":
            values = generator.normal(0.0, math.sqrt(scale), shape)
        else:
            limit = math.sqrt(3.0 * scale)
            values = rng.uniform(generator, -limit, limit, shape, _dtype(dtype))
        return values.astype(_dtype(dtype))

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "input_axes": self.input_axes, "output_axes": self.output_axes}


def _variance_scaling(class_name, scale, mode, distribution):
    """A named VarianceScaling preset taking only seed (and axes), as Keras's Glorot/He/Lecun classes."""
    def __init__(self, seed=None, input_axes=None, output_axes=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed, input_axes, output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}

    doc = "VarianceScaling(scale=%s, mode=%r, distribution=%r)." % (scale, mode, distribution)
    return type(class_name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config, "__doc__": doc})


GlorotUniform = _variance_scaling("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _variance_scaling("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _variance_scaling("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _variance_scaling("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _variance_scaling("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _variance_scaling("LecunNormal", 1.0, "fan_in", "truncated_normal")


class Orthogonal(RandomInitializer):
    """A (flattened to 2-d) orthogonal matrix times gain, from the QR decomposition of a normal draw."""

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional. "
                             "Received: shape=%s of rank %d." % (tuple(shape), len(shape)))
        rows, cols = int(np.prod(shape[:-1])), int(shape[-1])
        q, r = np.linalg.qr(self.generator().standard_normal((max(rows, cols), min(rows, cols))))
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(_dtype(dtype))

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


_CLASSES = (Zeros, Ones, Constant, Identity, RandomNormal, TruncatedNormal, RandomUniform, VarianceScaling,
            GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Orthogonal)
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update({to_snake_case(cls.__name__): cls for cls in _CLASSES})
# Keras 1/2 names, with their old meaning (uniform/normal were +-0.05 and std 0.05, as these defaults)
ALL_OBJECTS_DICT.update({"zero": Zeros, "one": Ones, "uniform": RandomUniform, "normal": RandomNormal,
                         "IdentityInitializer": Identity, "OrthogonalInitializer": Orthogonal})
zeros, ones, constant, identity, random_normal, truncated_normal, random_uniform = (
    Zeros, Ones, Constant, Identity, RandomNormal, TruncatedNormal, RandomUniform)
variance_scaling, glorot_uniform, glorot_normal, he_uniform, he_normal = (
    VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal)
lecun_uniform, lecun_normal, orthogonal = LecunUniform, LecunNormal, Orthogonal
IdentityInitializer, OrthogonalInitializer = Identity, Orthogonal     # Keras 3's other names of the classes


from mlcore.stft_initializer import STFT  # noqa: E402  (it subclasses Initializer, defined above)
STFTInitializer = stft = STFT
ALL_OBJECTS_DICT.update({"STFT": STFT, "STFTInitializer": STFT, "stft": STFT})
_registry = ObjectRegistry("initializer", "keras.initializers", Initializer, ALL_OBJECTS_DICT)
deserialize = _registry.deserialize


def serialize(initializer):
    """Keras's {"module", "class_name", "config", "registered_name"} dict (a function, so that
    serialize(initializer=...) works as in Keras)."""
    return _registry.serialize(initializer)


def get(identifier):
    """An initializer from a name, a serialized dict, a class, an instance, a function or an array."""
    if isinstance(identifier, (np.ndarray, np.generic)):
        return _from_array(np.asarray(identifier))
    return _registry.get(identifier)


def _from_array(array):
    def initialize(shape, dtype=None):
        if tuple(shape) != array.shape:
            raise ValueError("Expected `shape` to be %s for direct tensor as initializer. Received shape=%s"
                             % (array.shape, tuple(shape)))
        return array.astype(_dtype(dtype))
    return initialize

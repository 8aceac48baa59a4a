"""mlcore's random state: one numpy Generator behind initial weights and layer seeds.

Initializers with seed=None and layers without a seed (Dropout) draw from
get_generator(), so set_random_seed(n) makes building a model reproducible,
as keras.utils.set_random_seed does.
"""
import random

import numpy as np

_generator = np.random.default_rng()


def set_random_seed(seed):
    """Seed Python's random, numpy's global RNG and mlcore's generator."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ValueError("Expected `seed` argument to be an integer. Received: seed=%r" % (seed,))
    global _generator
    random.seed(int(seed))
    np.random.seed(int(seed) % 2 ** 32)
    _generator = np.random.default_rng(int(seed))


def get_generator():
    """The numpy Generator that unseeded initializers and layers draw from."""
    return _generator


def layer_streams(seed=None):
    """The random state of a layer's draws (Dropout, noise, an RNN's dropout masks): a SeedGenerator
    (mlcore/random.py SeedStreams) from its seed, or from get_generator() without one, so that
    set_random_seed makes them reproducible."""
    from mlcore.random import SeedStreams
    return SeedStreams(seed)


def uniform(generator, low, high, size, dtype):
    """generator.uniform's draws in dtype, kept in [low, high): a float64 draw just below high rounds up
    to high itself in float32 (one in a few million draws for RandomUniform(-1, 3))."""
    values = np.asarray(generator.uniform(low, high, size)).astype(dtype)
    if np.issubdtype(values.dtype, np.floating):
        below_high = np.nextafter(np.asarray(high, values.dtype), np.asarray(low, values.dtype))
        values = np.minimum(values, below_high).astype(values.dtype)
    return values

"""keras.random: Keras 3's random functions and SeedGenerator on mlcore's RandomVariable.

Each draw is a RandomVariable node fed a key (graph/ops/random.py).  Outside a graph being built
(no symbolic argument, no layer call being traced) the node is run at once and numpy comes back,
as Keras's eager ops return arrays; inside one, the draw is a graph variable whose key moves on at
each call of the compiled function, so predict and fit get fresh noise per batch.  The seed says
where keys come from, with Keras's rules: an int is one fixed key (the same numbers each call), a
SeedGenerator advances its state at each draw, None is a fresh generator per draw.
"""

import numpy as np

from mlcore import config
from mlcore.graph import ops
from mlcore.graph.ops.common import as_tensor_variable, is_float_dtype
from mlcore.graph.ops.extra_ops import dims
from mlcore.graph.ops.random import TWO_SIGMA, RandomVariable, truncated_standard_normal
from mlcore.graph.ops.shape import _shape_vector
from mlcore.layers.base import current_extras, unique_name
from mlcore.layers.core import noise_shape_of
from mlcore.layers.layer_state import current_path
from mlcore.layers.tracking import tracing
from mlcore.layers.weight import Weight
from mlcore.ops.along_axis import argsort, take_along_axis
from mlcore.ops.eager import _has_symbolic_input, evaluate
from mlcore.utils.rng import get_generator

_STEP = np.array([0, 1], dtype="uint32")


class SeedGenerator:
    """A random state [seed, counter] that each draw moves on (Keras's SeedGenerator): draws from one
    generator differ, and two generators made with the same seed give the same sequence."""

    keras_module = "keras.random"       # where Keras's files say the class lives

    def __init__(self, seed=None, name=None, **kwargs):
        kwargs.pop("backend", None)          # Keras's choice of backend: mlcore's graph runs on any
        if kwargs:
            raise ValueError("Unrecognized keyword arguments: %s" % (kwargs,))
        self.name = name or unique_name("seed_generator")
        self._initial_seed = seed
        if seed is None:
            seed = int(get_generator().integers(1, 10 ** 9))   # set_random_seed makes it reproducible
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise ValueError("Argument `seed` must be an integer. Received: seed=%r" % (seed,))
        # Keras's non-trainable variable "<name>/seed_generator_state", under the scope it is made in: the
        # layers holding the generator list it in variables and non_trainable_variables, not in weights
        path = "/".join(p for p in (current_path(), self.name, "seed_generator_state") if p)
        self.state = Weight(np.array([int(seed) & 0xFFFFFFFF, 0], dtype="uint32"), "seed_generator_state", path,
                            trainable=False, autocast=False)
        self._most_draws = 0        # the most keys any graph took: how far each call moves the state on

    def next(self, ordered=True):
        """The key of the next draw (ordered is Keras's argument; mlcore's state always counts up)."""
        return self._key(tracing())

    def _key(self, symbolic):
        """Outside a graph: the state's value, the state moving on by one.  In a graph: the state plus
        k for its k-th draw from this generator, so that a graph draws as Keras's step does from the
        same state, whatever was traced before; and the state moving past the draws of any graph at each
        call of a compiled function (its default update), so that no two calls share a key.  The first
        key is the state itself: a scan's step moves on the shared keys it draws with (Theano's rule),
        so each step draws anew."""
        if not symbolic:
            value = self.state.get_value()
            self.state.set_value(value + _STEP)
            return value
        graph = current_extras()        # None: a graph built outside any layer call; its keys follow all others
        k = self._most_draws if graph is None else graph.seed_draws.get(id(self), 0)
        if graph is not None:
            graph.seed_draws[id(self)] = k + 1
        self._most_draws = max(self._most_draws, k + 1)
        self.state.default_update = self.state + _STEP * np.uint32(self._most_draws)
        return self.state + _STEP * np.uint32(k) if k else self.state

    def next_value(self):
        """The next key as numbers, the state moving on, even while a graph is being built: the draw of
        an initializer, which makes a weight's value at once."""
        return self._key(symbolic=False)

    def get_config(self):
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class SeedStreams(SeedGenerator):
    """The random state of one of mlcore's layers (utils/rng.py layer_streams): a SeedGenerator, so the
    layer tracks it as Keras's layers do theirs, drawing with Theano's RandomStreams methods.  rng, a
    numpy Generator from the same seed, seeds the layers that the layer makes (RandAugment's)."""

    def __init__(self, seed=None, name=None):
        super().__init__(seed, name)
        self.rng = np.random.default_rng(int(self.state.get_value()[0]))

    def uniform(self, size=(), low=0.0, high=1.0, dtype=None):
        return uniform(size, low, high, dtype, seed=self)

    def normal(self, size=(), avg=0.0, std=1.0, dtype=None):
        return normal(size, avg, std, dtype, seed=self)

    def binomial(self, size=(), n=1, p=0.5, dtype="int64"):
        return binomial(size, n, p, dtype, seed=self)


def _key_of(seed, symbolic):
    """The key a draw with this seed uses: symbolic (moving on at each call) in a graph being built."""
    if isinstance(seed, SeedGenerator):
        return seed._key(symbolic)
    if seed is None:
        return SeedGenerator()._key(symbolic)
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.array([int(seed) & 0xFFFFFFFF, 0], dtype="uint32")
    raise ValueError("Argument `seed` must be either an integer or an instance of `SeedGenerator`. "
                     "Received: seed=%r (of type %s)" % (seed, type(seed)))


def _building(arguments):
    """Whether a graph is being built: a layer's call is traced, or an argument is symbolic."""
    return tracing() or _has_symbolic_input(arguments)


def _sample(build, seed, *arguments):
    """build(key), a graph, as a graph variable where one is being built, else run at once to numpy."""
    symbolic = _building(arguments)
    out = build(as_tensor_variable(_key_of(seed, symbolic)))
    return out if symbolic else evaluate(out)


def _draw(dist, dtype, key, shape, a, b):
    """(next key, sample): one RandomVariable node."""
    return RandomVariable(dist, dtype)(key, _shape_vector(shape), a, b)


def _float_dtype(dtype, function):
    dtype = dtype or config.floatx()
    if not is_float_dtype(dtype):
        raise ValueError("`keras.random.%s` requires a floating point `dtype`. Received: dtype=%s "
                         % (function, dtype))
    return dtype


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Draws from N(mean, stddev**2)."""
    dtype = dtype or config.floatx()
    return _sample(lambda key: _draw("normal", dtype, key, shape, mean, stddev)[1], seed, shape, mean, stddev)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Draws from the uniform distribution on [minval, maxval)."""
    dtype = _float_dtype(dtype, "uniform")
    return _sample(lambda key: _draw("uniform", dtype, key, shape, minval, maxval)[1], seed, shape, minval, maxval)


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Draws integers uniformly from [minval, maxval)."""
    if dtype and np.dtype(dtype).kind not in "iu":
        raise ValueError("`keras.random.randint` requires an integer `dtype`. Received: dtype=%s " % (dtype,))
    return _sample(lambda key: _draw("randint", dtype or "int32", key, shape, minval, maxval)[1],
                   seed, shape, minval, maxval)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Draws from N(mean, stddev**2) conditioned on lying within 2 stddevs of the mean: the inverse
    normal CDF of a uniform draw between the CDF's values at -2 and 2."""
    dtype = dtype or config.floatx()

    def build(key):
        u = _draw("uniform", dtype, key, shape, TWO_SIGMA, 1.0 - TWO_SIGMA)[1]
        return ops.cast(mean + stddev * truncated_standard_normal(u), dtype)
    return _sample(build, seed, shape, mean, stddev)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """num_samples class indices per row of logits (batch_size, num_classes), each drawn with
    probability softmax(logits): the Gumbel-max trick, argmax(logits + Gumbel noise)."""
    logits = as_tensor_variable(logits)
    if logits.ndim != 2:
        raise ValueError("`logits` should be a 2-D tensor with shape [batch_size, num_classes]. Received: "
                         "logits=%s" % (logits,))
    batch, classes = dims(logits)
    floatx = config.floatx()

    def build(key):
        u = _draw("uniform", floatx, key, [batch, num_samples, classes], float(np.finfo(floatx).tiny), 1.0)[1]
        gumbel = -ops.log(-ops.log(u))
        return ops.cast(ops.argmax(ops.dimshuffle(logits, 0, "x", 1) + gumbel, axis=-1), dtype)
    return _sample(build, seed, logits)


def dropout(inputs, rate, noise_shape=None, seed=None):
    """inputs with a fraction `rate` of entries (or of noise_shape's slices) zeroed and the rest
    scaled by 1 / (1 - rate)."""
    if rate == 0.0:
        return inputs
    inputs = as_tensor_variable(inputs)
    if rate == 1.0:
        zeros = ops.zeros_like(inputs)
        return zeros if _building([inputs]) else evaluate(zeros)
    keep_prob = 1.0 - rate

    def build(key):
        keep = _draw("binomial", "int8", key, noise_shape_of(inputs, noise_shape), 1, keep_prob)[1]
        return ops.switch(keep, inputs / np.asarray(keep_prob, inputs.dtype), ops.zeros_like(inputs))
    return _sample(build, seed, inputs, rate)


def shuffle(x, axis=0, seed=None):
    """x with the entries along axis put in random order, each slice its own order (as Keras's
    numpy and jax backends shuffle: numpy's permuted)."""
    x = as_tensor_variable(x)

    def build(key):
        order = argsort(_draw("uniform", "float32", key, dims(x), 0.0, 1.0)[1], axis=axis)
        return take_along_axis(x, order, axis=axis)
    return _sample(build, seed, x)


def gamma(shape, alpha, dtype=None, seed=None):
    """Draws from the gamma distribution of shape alpha and scale 1."""
    dtype = dtype or config.floatx()
    return _sample(lambda key: _draw("gamma", dtype, key, shape, alpha, 1.0)[1], seed, shape, alpha)


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Draws the number of successes in `counts` trials of probability `probabilities`."""
    dtype = dtype or config.floatx()
    return _sample(lambda key: _draw("binomial", dtype, key, shape, counts, probabilities)[1],
                   seed, shape, counts, probabilities)


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Draws from the beta distribution: X / (X + Y) for X ~ Gamma(alpha), Y ~ Gamma(beta), Y drawn
    with the key that follows X's."""
    dtype = dtype or config.floatx()

    def build(key):
        next_key, x = _draw("gamma", dtype, key, shape, alpha, 1.0)
        y = _draw("gamma", dtype, next_key, shape, beta, 1.0)[1]
        return x / (x + y)
    return _sample(build, seed, shape, alpha, beta)

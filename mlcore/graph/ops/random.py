"""Random sampling as a pure function of a key: (key, shape, params) -> (next key, sample).

The key is a uint32[2] shared variable whose default update is the next key, so
each call of a compiled function draws fresh numbers (Theano's RandomStreams
behaviour) while every backend stays functional (JAX's model).  Draws differ
between backends; their distributions do not.  Theano's RandomStreams, built on
these draws, is in mlcore/tensor/shared_randomstreams.py.
"""
import math

import numpy as np

from mlcore.graph.basic import Apply, Op, SharedVariable, TensorType
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.elemwise import clip, unbroadcast
from mlcore.graph.ops.elemwise_math import erfinv
from mlcore.graph.ops.shape import static_entries

TWO_SIGMA = 0.5 * math.erfc(math.sqrt(2.0))     # P(z < -2) for z ~ N(0, 1): where a truncated normal is cut
TRUNCATED_STD = 0.87962566103423978             # the standard deviation of N(0, 1) cut at -2 and 2


class RandomVariable(Op):
    __props__ = ("dist", "dtype")
    foldable = False
    # (low, high), (mean, std), (n, p), (shape k, scale theta), (low, high) of integers, (rate lam,)
    n_params = {"uniform": 2, "normal": 2, "binomial": 2, "gamma": 2, "randint": 2, "poisson": 1}

    def __init__(self, dist, dtype):
        if dist not in self.n_params:
            raise ValueError("unknown distribution %r, expected one of %s" % (dist, sorted(self.n_params)))
        self.dist = dist
        self.dtype = np.dtype(dtype).name

    def make_node(self, key, shape_vector, *params):
        key, shape_vector = as_tensor_variable(key), as_tensor_variable(shape_vector)
        if len(params) != self.n_params[self.dist]:
            raise TypeError("%s takes %d parameters, got %d" % (self.dist, self.n_params[self.dist], len(params)))
        if shape_vector.ndim != 1 or shape_vector.type.shape[0] is None:
            raise ValueError("%s: the size must be a vector of known length, got %s (give ndim= for a symbolic "
                             "size)" % (self.dist, shape_vector.type))
        params = [as_tensor_variable(p) for p in params]
        dims = static_entries(shape_vector, shape_vector.type.shape[0])     # a constant 1 broadcasts
        return Apply(self, [key, shape_vector] + params, [key.type, TensorType(self.dtype, dims)])

    def pullback(self, inputs, outputs, output_grads):
        """The reparameterization gradient of the location-scale draws, as jax's: a normal draw is
        mean + std * z and a uniform one low + (high - low) * u, with z and u fixed by the key.  The
        other distributions' draws are discrete (or, for gamma, not written so): no gradient."""
        grads, g = [None] * len(inputs), output_grads[1]
        if g is None or self.dist not in ("normal", "uniform"):
            return grads
        draws, (first, second) = outputs[1], inputs[2:]
        if self.dist == "normal":
            z = (draws - first) / second
            grads[2:] = [_to_param(g, first), _to_param(g * z, second)]
        else:
            u = (draws - first) / (second - first)
            grads[2:] = [_to_param(g * (1 - u), first), _to_param(g * u, second)]
        return grads


def _to_param(g, param):
    """g, of the draws' shape, summed to the shape of the parameter it flows to."""
    if g.ndim > param.ndim:
        from mlcore.graph.ops.reduce import sum_
        g = sum_(g, tuple(range(g.ndim - param.ndim)))
    return unbroadcast(g, param)


def truncated_standard_normal(u):
    """N(0, 1) draws cut at -2 and 2: the inverse normal CDF of uniform draws u in
    [TWO_SIGMA, 1 - TWO_SIGMA), the CDF's values at -2 and 2."""
    return clip(math.sqrt(2.0) * erfinv(2.0 * u - 1.0), -2.0, 2.0)   # rounding stays inside


def key_value(seed):
    """The uint32[2] key of a 64-bit seed."""
    seed = int(seed) & 0xFFFFFFFFFFFFFFFF
    return np.array([seed >> 32, seed & 0xFFFFFFFF], dtype="uint32")


class RandomKeyState(np.random.RandomState):
    """What a RandomStreams draw's rng.get_value() gives: a numpy RandomState, as Theano's was, for
    the calls Theano's tutorial makes on it.  seed(), get_state() and set_state() read and write the
    stream's counter-based key, and np.asarray of it is that key, so rng.set_value takes it back.
    (Its own numpy draws, rng_val.uniform(), are not the ones the graph makes.)"""

    def __init__(self, key):
        super().__init__(0)
        self.set_state(key)

    def seed(self, seed=None):
        super().seed(seed)
        self.key = key_value(np.random.SeedSequence().entropy if seed is None else seed)

    def get_state(self, legacy=True):
        return self.key.copy()

    def set_state(self, state):
        key = np.asarray(state)
        if key.shape != (2,) or key.dtype.kind not in "iu":
            raise ValueError("a random stream's state is a key of two uint32 (rng.get_value()), got %r" % (state,))
        self.key = key.astype("uint32")

    def __array__(self, dtype=None, copy=None):
        return self.key if dtype is None else self.key.astype(dtype)

    def __reduce__(self):
        return RandomKeyState, (self.key,)


class RandomStateSharedVariable(SharedVariable):
    """A random stream's state (Theano's RandomStateSharedVariable): a uint32[2] key in the graph;
    get_value() gives it as a RandomKeyState, as Theano gave its numpy RandomState."""

    def get_value(self, borrow=False, return_internal_type=False):
        if return_internal_type:
            return super().get_value(borrow, return_internal_type)
        return RandomKeyState(super().get_value())

    def set_value(self, value, borrow=False):
        """A key (rng.get_value(), or its array), or any numpy RandomState: its state seeds the key,
        so the same state gives the same draws (Theano's streams took a RandomState)."""
        if isinstance(value, np.random.RandomState) and not isinstance(value, RandomKeyState):
            value = key_of_state(value)
        super().set_value(value, borrow)


def key_of_state(random_state):
    """The key a numpy RandomState's current state seeds (its draws are not the graph's)."""
    _, words, position, *_ = random_state.get_state()
    return np.random.SeedSequence([int(w) for w in words] + [int(position)]).generate_state(2)


def new_key(seed):
    """A fresh key variable, updated after every call of a function that uses it."""
    return RandomStateSharedVariable(key_value(seed), name="rng_key", shape=(2,))

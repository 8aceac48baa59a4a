"""Random sampling as a pure function of a key: (key, shape, params) -> (next key, sample).

The key is a uint32[2] shared variable whose default update is the next key, so
each call of a compiled function draws fresh numbers (Theano's RandomStreams
behaviour) while every backend stays functional (JAX's model).  Draws differ
between backends; their distributions do not.
"""
import numpy as np

from mlcore.graph.basic import Apply, Op, TensorType, shared
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.shape import _shape_vector, static_entries


class RandomVariable(Op):
    __props__ = ("dist", "dtype")
    foldable = False
    # (low, high), (mean, std), (n, p), (shape k, scale theta), (low, high) of integers
    n_params = {"uniform": 2, "normal": 2, "binomial": 2, "gamma": 2, "randint": 2}

    def __init__(self, dist, dtype):
        if dist not in self.n_params:
            raise ValueError("unknown distribution %r, expected one of %s" % (dist, sorted(self.n_params)))
        self.dist = dist
        self.dtype = np.dtype(dtype).name

    def make_node(self, key, shape_vector, *params):
        key, shape_vector = as_tensor_variable(key), as_tensor_variable(shape_vector)
        params = [as_tensor_variable(p) for p in params]
        dims = static_entries(shape_vector, shape_vector.type.shape[0])     # a constant 1 broadcasts
        return Apply(self, [key, shape_vector] + params, [key.type, TensorType(self.dtype, dims)])

    def pullback(self, inputs, outputs, output_grads):
        return [None] * len(inputs)


def new_key(seed):
    """A fresh key variable, updated after every call of a function that uses it."""
    seed = int(seed) & 0xFFFFFFFFFFFFFFFF
    return shared(np.array([seed >> 32, seed & 0xFFFFFFFF], dtype="uint32"), name="rng_key", shape=(2,))


class RandomStreams:
    """Theano's RandomStreams(seed): uniform, normal and binomial draws as graph variables.

    As in Theano, each draw's state is a shared variable, sample.rng (here a counter-based key, not
    a numpy RandomState), and state_updates lists the (state, next state) pairs: copying the states'
    values from one stream to another puts them in step."""

    def __init__(self, seed=None):
        self.rng = np.random.default_rng(seed)
        self.state_updates = []

    def _draw(self, dist, size, params, dtype):
        from mlcore import config
        key = new_key(self.rng.integers(2 ** 63))
        next_key, sample = RandomVariable(dist, dtype or config.floatx())(key, _shape_vector(size), *params)
        key.default_update = next_key
        self.state_updates.append((key, next_key))
        sample.rng = key
        return sample

    def uniform(self, size=(), low=0.0, high=1.0, dtype=None):
        return self._draw("uniform", size, (low, high), dtype)

    def normal(self, size=(), avg=0.0, std=1.0, dtype=None):
        return self._draw("normal", size, (avg, std), dtype)

    def binomial(self, size=(), n=1, p=0.5, dtype="int64"):
        return self._draw("binomial", size, (n, p), dtype)

    def seed(self, seed):
        """Reseed every stream drawn so far (Theano's RandomStreams.seed)."""
        self.rng = np.random.default_rng(seed)
        for key, _ in self.state_updates:
            key.set_value(new_key(self.rng.integers(2 ** 63)).get_value())

"""theano.tensor.shared_randomstreams.RandomStreams: random draws as graph variables, with Theano's
methods, arguments and defaults.

Each method call is one stream: a key shared variable (sample.rng) whose default update is the key
after the call's draws, so each call of a compiled function draws anew; state_updates lists the
(key, next key) pairs.  The draws are the graph's RandomVariable nodes (uniform, normal, binomial,
poisson, integers); choice, permutation and multinomial are built from them with graph ops, so they
run on every backend and their gradients are those ops'."""
import numpy as np

from mlcore import config
from mlcore.graph.basic import Constant, Variable
from mlcore.graph.ops.along_axis import argsort, cumsum
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.elemwise import cast, clip, ge, log, maximum, switch, true_div
from mlcore.graph.ops.extra_ops import broadcast_dims, dims
from mlcore.graph.ops.random import RandomStateSharedVariable, RandomVariable, key_value, new_key  # noqa: F401
from mlcore.graph.ops.reduce import prod, sum_
from mlcore.graph.ops.shape import Alloc, _shape_vector, cast_int, concatenate, pad_left, reshape, specify_shape, stack
from mlcore.tensor.basic import permute_row_elements


def _float_dtype(dtype, *params):
    """Theano's default dtype of a continuous draw: floatX, widened by the dtypes of tensor parameters."""
    if dtype is not None:
        return np.dtype(dtype).name
    tensors = [p.dtype for p in params if isinstance(p, (Variable, np.ndarray))]
    return np.result_type(config.floatx(), *tensors).name


def size_vector(size, ndim, params=()):
    """Theano's size argument as an int64 vector of known length: a tuple of ints and scalars, a
    symbolic vector (ndim= gives its length when it is not known), or None for the parameters'
    broadcast shape."""
    if size is None:
        size = broadcast_dims(*[dims(as_tensor_variable(p)) for p in params])
    vector = cast_int(_shape_vector(size))
    if vector.ndim != 1:
        raise TypeError("size must be a tuple of ints or scalars, or an int vector, got %s" % (vector.type,))
    length = vector.type.shape[0]
    if ndim is not None and length is None:
        return specify_shape(vector, (ndim,))
    if ndim is not None and length != ndim:
        raise ValueError("size has %d dims but ndim=%d" % (length, ndim))
    if length is None:
        raise ValueError("the length of size %s is not known while building: give ndim=" % (size,))
    return vector


def _appended(vector, n):
    """The size vector with one more dim of length n."""
    return concatenate([vector, stack([cast_int(as_tensor_variable(n))])], 0)


def categorical(u, p):
    """Indices drawn from the distributions p (..., L) given uniform draws u in [0, 1) broadcasting
    against p's leading dims: the first k whose cumulative probability passes u times p's total."""
    p = as_tensor_variable(p)
    cdf = cumsum(p, axis=-1)
    total = cdf[..., -1:]
    below = ge(u.dimshuffle(*range(u.ndim), "x") * pad_left(total, u.ndim + 1), pad_left(cdf, u.ndim + 1))
    return clip(sum_(cast(below, "int64"), axis=-1), 0, dims(p)[-1] - 1)


def weighted_order(u, p=None):
    """A random order of the positions of the last dim, from uniform draws u of its length: where p
    weighs each position, the order of numpy's draws without replacement (the keys log(u) / p from the
    largest, Efraimidis and Spirakis)."""
    return argsort(u if p is None else -true_div(log(u), as_tensor_variable(p)), axis=-1)


class RandomStreams:
    """Theano's RandomStreams(seed): a seed-making generator, and the streams drawn so far."""

    def __init__(self, seed=None):
        self.default_instance_seed = seed
        self.gen_seedgen = np.random.default_rng(seed)
        self.state_updates = []

    def updates(self):
        """The (state, next state) pairs of every stream, as a function's updates=."""
        return list(self.state_updates)

    def seed(self, seed=None):
        """Reseed every stream drawn so far (None: this object's seed) and the streams to come."""
        self.gen_seedgen = np.random.default_rng(self.default_instance_seed if seed is None else seed)
        for key, _ in self.state_updates:
            key.set_value(key_value(self.gen_seedgen.integers(2 ** 63)))

    def _stream(self, build):
        """One stream: build(draw) makes the sample, draw(dist, size_vector, params, dtype) one node
        each; the draws are chained, key to next key, and the stream's state is updated to the last."""
        key = new_key(self.gen_seedgen.integers(2 ** 63))
        state = [key]

        def draw(dist, size, params, dtype):
            state[0], sample = RandomVariable(dist, dtype)(state[0], size, *params)
            return sample
        sample = build(draw)
        key.default_update = state[0]
        self.state_updates.append((key, state[0]))
        sample.rng, sample.update = key, (key, state[0])
        return sample

    def uniform(self, size=None, low=0.0, high=1.0, ndim=None, dtype=None):
        """Draws in [low, high)."""
        dtype = _float_dtype(dtype, low, high)
        return self._stream(lambda draw: draw("uniform", size_vector(size, ndim, (low, high)), (low, high), dtype))

    def normal(self, size=None, avg=0.0, std=1.0, ndim=None, dtype=None):
        """Draws from the normal distribution of mean avg and standard deviation std."""
        dtype = _float_dtype(dtype, avg, std)
        return self._stream(lambda draw: draw("normal", size_vector(size, ndim, (avg, std)), (avg, std), dtype))

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", prob=None):
        """The number of successes in n trials of probability p (prob: Theano's old name of p)."""
        p = p if prob is None else prob
        return self._stream(lambda draw: draw("binomial", size_vector(size, ndim, (n, p)), (n, p), dtype))

    def random_integers(self, size=None, low=0, high=1, ndim=None, dtype="int64"):
        """Integers from low to high, both included."""
        return self._stream(lambda draw: draw("randint", size_vector(size, ndim, (low, high)),
                                              (low, as_tensor_variable(high) + 1), dtype))

    def poisson(self, size=None, lam=None, ndim=None, dtype="int64"):
        """Draws from the Poisson distribution of rate lam (1.0 when not given, as numpy's)."""
        lam = 1.0 if lam is None else lam
        return self._stream(lambda draw: draw("poisson", size_vector(size, ndim, (lam,)), (lam,), dtype))

    def choice(self, size=None, a=2, replace=True, p=None, ndim=None, dtype="int64"):
        """Entries of the vector a, or of range(a) for a scalar a, with or without replacement, with
        the probabilities p (a vector) or uniformly, as numpy's choice."""
        a = as_tensor_variable(a)
        if a.ndim > 1:
            raise ValueError("choice: a must be a scalar or a vector, got %s" % (a.type,))
        count = dims(a)[0] if a.ndim else int(a.data) if isinstance(a, Constant) else a
        vector = size_vector(() if size is None else size, ndim)

        def build(draw):
            if replace and p is None:
                picked = draw("randint", vector, (0, count), "int64")
            elif replace:
                picked = categorical(draw("uniform", vector, (0.0, 1.0), config.floatx()), p)
            else:
                picked = self._without_replacement(draw, vector, count, p)
            return cast(picked if a.ndim == 0 else a[picked], dtype)
        return self._stream(build)

    @staticmethod
    def _without_replacement(draw, vector, count, p):
        """Distinct positions below count, as many as the size asks: the first of a random order, where
        p (when given) weighs each position."""
        if isinstance(vector, Constant) and isinstance(count, int) and int(np.prod(vector.data)) > count:
            raise ValueError("choice: cannot take a larger sample (%d) than the population (%d) without "
                             "replacement" % (int(np.prod(vector.data)), count))
        u = draw("uniform", stack([cast_int(as_tensor_variable(count))]), (0.0, 1.0), "float64")
        order = weighted_order(u, p)
        length = vector.type.shape[0]
        return reshape(order[:prod(vector)], vector, ndim=length) if length else order[0]

    def permutation(self, size=None, n=1, ndim=None, dtype="int64"):
        """Permutations of range(n), one for each entry of size: the result has size's dims and n."""
        vector = size_vector(() if size is None else size, ndim)
        return self._stream(lambda draw: cast(argsort(draw("uniform", _appended(vector, n), (0.0, 1.0), "float64"),
                                                      axis=-1), dtype))

    def multinomial(self, size=None, n=1, pvals=(0.5, 0.5), ndim=None, dtype="int64"):
        """Counts of each of the L outcomes in n trials with the probabilities pvals (..., L): the
        result has size's dims (None: pvals' leading dims) and L.  Drawn as numpy draws it, one
        binomial per outcome of the trials left; the last outcome takes the rest."""
        pvals = as_tensor_variable(pvals)
        outcomes = pvals.type.shape[-1] if pvals.ndim else None
        if outcomes is None:
            raise ValueError("multinomial: the number of outcomes (pvals' last dim) must be known while "
                             "building, got %s" % (pvals.type,))
        vector = size_vector(size, ndim, (n, pvals[..., 0]))

        def build(draw):
            left, mass, counts = as_tensor_variable(n), 1.0, []
            for k in range(outcomes - 1):
                chance = clip(switch(ge(mass, 1e-12), pvals[..., k] / maximum(mass, 1e-12), 0.0), 0.0, 1.0)
                counts.append(draw("binomial", vector, (left, chance), "int64"))
                left, mass = left - counts[-1], mass - pvals[..., k]
            counts.append(left if counts else Alloc()(left, vector))
            return cast(stack(counts, axis=-1), dtype)
        return self._stream(build)

    def shuffle_row_elements(self, input):
        """input with the entries of each row (last dim) in a random order; the permutation used is
        the result's .permutation."""
        input = as_tensor_variable(input)
        lead = dims(input)[:-1]
        perm = self.permutation(size=lead, n=dims(input)[-1], ndim=input.ndim - 1)
        shuffled = permute_row_elements(input, perm)
        shuffled.permutation = perm
        return shuffled

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
from mlcore.graph.ops.elemwise import cast, clip, eq, ge, log, lt, maximum, switch, true_div, zeros_like
from mlcore.graph.ops.extra_ops import broadcast_dims, dims
from mlcore.graph.ops.random import RandomStateSharedVariable, RandomVariable, key_value, new_key  # noqa: F401
from mlcore.graph.ops.reduce import max_, prod, sum_
from mlcore.graph.ops.shape import (Alloc, _shape_vector, arange, cast_int, concatenate, pad_left, reshape,
                                   specify_shape, stack)
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
    total = cdf[..., -1].dimshuffle(*range(p.ndim - 1), "x")      # a static 1: it broadcasts
    below = ge(u.dimshuffle(*range(u.ndim), "x") * pad_left(total, u.ndim + 1), pad_left(cdf, u.ndim + 1))
    return clip(sum_(cast(below, "int64"), axis=-1), 0, dims(p)[-1] - 1)


def weighted_order(u, p=None):
    """A random order of the positions of the last dim, from uniform draws u of its length: where p
    weighs each position, the order of numpy's draws without replacement (the keys log(u) / p from the
    largest, Efraimidis and Spirakis)."""
    return argsort(u if p is None else -true_div(log(u), as_tensor_variable(p)), axis=-1)


def _given_p(p):
    """choice's p, None where it is not given: Theano took `p or []`, so a 0 or an empty list is None."""
    if p is None or isinstance(p, Variable) or isinstance(p, np.ndarray):
        return p
    return p if np.size(p) and np.any(p) else None


def binomial_counts(draw, vector, n, pvals):
    """Multinomial counts for a known number of outcomes, as numpy draws them: one binomial per
    outcome of the trials left; the last outcome takes the rest."""
    left, mass, counts = n, 1.0, []
    for k in range(pvals.type.shape[-1] - 1):
        chance = clip(switch(ge(mass, 1e-12), pvals[..., k] / maximum(mass, 1e-12), 0.0), 0.0, 1.0)
        counts.append(draw("binomial", vector, (left, chance), "int64"))
        left, mass = left - counts[-1], mass - pvals[..., k]
    counts.append(left if counts else Alloc()(left, vector))
    return stack(counts, axis=-1)


def trial_counts(draw, vector, n, pvals):
    """Multinomial counts where the number of outcomes is known only when run: max(n) trials drawn
    for every entry (their outcomes from pvals), those past the entry's own n not counted.  The
    draws' low bound has pvals' leading shape, so a size they do not fit is refused when run."""
    trials = max_(n) if n.ndim else n
    low = zeros_like(pvals[..., :1])
    u = draw("uniform", _appended(vector, trials), (low, 1.0), "float64")
    outcome = categorical(u, pvals.dimshuffle(*range(pvals.ndim - 1), "x", pvals.ndim - 1))
    counted = lt(arange(trials), n.dimshuffle(*range(n.ndim), "x"))
    hits = eq(outcome.dimshuffle(*range(outcome.ndim), "x"), arange(dims(pvals)[-1]))
    return sum_(cast(hits * counted.dimshuffle(*range(counted.ndim), "x"), "int64"), axis=-2)


class RandomStreams:
    """Theano's RandomStreams(seed): a seed-making generator, and the streams drawn so far."""

    def __init__(self, seed=None):
        self.default_instance_seed = seed
        self.gen_seedgen = np.random.default_rng(seed)
        self.state_updates = []

    def updates(self):
        """The (state, next state) pairs of every stream, as a function's updates=."""
        return list(self.state_updates)

    def __getitem__(self, item):
        """random[sample.rng]: that stream's state, as its get_value(borrow=True) gives it."""
        return self._own(item).get_value(borrow=True)

    def __setitem__(self, item, value):
        """random[sample.rng] = state: a state from rng.get_value(), or a numpy RandomState (which
        seeds the stream: the same state, the same draws)."""
        self._own(item).set_value(value, borrow=True)

    def _own(self, item):
        """item, if it is the state of one of this object's streams; else a KeyError naming it."""
        if not any(item is key for key, _ in self.state_updates):
            raise KeyError("RandomStreams: %r is not the state of a stream of this RandomStreams "
                           "(use sample.rng)" % (item,))
        return item

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
        a, p = as_tensor_variable(a), _given_p(p)
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
        result has size's dims (None: pvals' leading dims and n's) and L."""
        pvals = as_tensor_variable(pvals)
        if pvals.ndim == 0:
            raise ValueError("multinomial: pvals must have a dim of outcomes, got the scalar %s" % (pvals,))
        vector = size_vector(size, ndim, (n, pvals[..., 0]))
        counts = binomial_counts if pvals.type.shape[-1] is not None else trial_counts
        return self._stream(lambda draw: cast(counts(draw, vector, as_tensor_variable(n), pvals), dtype))

    def shuffle_row_elements(self, input):
        """input with the entries of each row (last dim) in a random order; the permutation used is
        the result's .permutation."""
        input = as_tensor_variable(input)
        lead = dims(input)[:-1]
        perm = self.permutation(size=lead, n=dims(input)[-1], ndim=input.ndim - 1)
        shuffled = permute_row_elements(input, perm)
        shuffled.permutation = perm
        return shuffled

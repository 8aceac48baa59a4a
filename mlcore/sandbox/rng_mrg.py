"""theano.sandbox.rng_mrg.MRG_RandomStreams: Theano's streams for every device, with their own
arguments and defaults.  Here they draw from the same counter-based keys as T.random.RandomStreams
(which also run on every backend and device), so the numbers differ from Theano's MRG31k3p ones
and nstreams, the number of MRG generators Theano ran in parallel, changes nothing.  As Theano's,
uniform draws exclude both bounds, a size with a dim <= 0 is refused, the seed is an int in
[1, M2) or six of them (rstate), and broadcastable= sets the draws' broadcast pattern."""
import warnings

import numpy as np

from mlcore import config
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.elemwise import cast, clip, le
from mlcore.graph.ops.extra_ops import dims
from mlcore.graph.ops.random import TRUNCATED_STD, TWO_SIGMA, truncated_standard_normal
from mlcore.graph.ops.shape import patternbroadcast
from mlcore.tensor.shared_randomstreams import RandomStreams, _float_dtype, categorical, size_vector, weighted_order

M1, M2 = 2147483647, 2147462579     # the moduli of MRG31k3p's two components: bounds of the seeds


def guess_n_streams(size, warn=False):
    """Theano's guess at a good number of MRG streams for a draw of this size: a sixth of its
    numbers, at most 60 * 256 (also the answer, with a warning if warn, for a symbolic size)."""
    if isinstance(size, (tuple, list)) and all(isinstance(d, (int, np.integer)) for d in size):
        count = int(np.prod(size, dtype="int64"))
        return min(count // 6 if count > 6 else count, 60 * 256)
    if warn:
        warnings.warn("MRG_RandomStreams can't determine #streams from size (%s), guessing 60*256" % (size,),
                      stacklevel=2)
    return 60 * 256


def _check_size(method, size):
    """Theano's check of a size given as numbers: no dim <= 0."""
    if isinstance(size, (tuple, list)) and any(isinstance(d, (int, np.integer)) and d <= 0 for d in size):
        raise ValueError("MRG_RandomStreams.%s: the size %s contains a dimension with value <= 0" % (method, size))


def _shaped(sample, source, broadcastable):
    """sample with the broadcast pattern asked for (None: its own), carrying source's stream state."""
    if broadcastable is not None:
        if any(b and d not in (None, 1) for b, d in zip(broadcastable, sample.type.shape)):
            raise ValueError("MRG_RandomStreams: broadcastable=%s does not fit draws of shape %s"
                             % (tuple(broadcastable), sample.type.shape))
        sample = patternbroadcast(sample, broadcastable)
    sample.rng, sample.update = source.rng, source.update
    return sample


def _first_distinct(order, size):
    """The first size positions of each row's random order: more than a row has is a ValueError,
    while building where both are known, else when run."""
    from mlcore.tensor.nnet.checks import Assert
    columns = order.type.shape[1]
    message = "MRG_RandomStreams.choice: without replacement, size=%s is more than p's %s columns" % (
        size if isinstance(size, (int, np.integer)) else "(given when run)", columns or "")
    if isinstance(size, (int, np.integer)) and columns is not None:
        if size > columns:
            raise ValueError(message)
        return order[:, :size]
    return Assert(message)(order[:, :size], le(size, dims(order)[1]))


class MRG_RandomStreams(RandomStreams):
    """Theano's MRG_RandomStreams(seed=12345); use_cuda is accepted (every backend draws alike)."""

    def __init__(self, seed=12345, use_cuda=None):
        self.set_rstate(seed)
        super().__init__(seed)

    def set_rstate(self, seed):
        """rstate, Theano's int32[6] MRG state, from an int seed in [1, M2) or six ints (the first
        three below M1 and not all 0, the last three below M2 and not all 0)."""
        if isinstance(seed, (int, np.integer)):
            if not 0 < seed < M2:
                raise ValueError("MRG_RandomStreams: the seed must be in [1, %d), got %d" % (M2, seed))
            seed = [seed] * 6
        elif np.shape(seed) != (6,):
            raise TypeError("MRG_RandomStreams: the seed must be an int or 6 ints, got %r" % (seed,))
        first, last = np.asarray(seed[:3], "int64"), np.asarray(seed[3:], "int64")
        if not (first.any() and last.any()) or (first < 0).any() or (last < 0).any() \
                or (first >= M1).any() or (last >= M2).any():
            raise ValueError("MRG_RandomStreams: of a seed of 6 ints, the first 3 must be in [0, %d) and the last 3 "
                             "in [0, %d), neither all 0; got %r" % (M1, M2, list(seed)))
        self.rstate = np.asarray(seed, dtype="int32")

    def seed(self, seed=None):
        """Reseed every stream (None: the seed this object was made with) and rstate."""
        self.set_rstate(self.default_instance_seed if seed is None else seed)
        super().seed(seed)

    def uniform(self, size, low=0.0, high=1.0, ndim=None, dtype=None, nstreams=None, broadcastable=None,
                **kwargs):
        """Draws in the open interval (low, high): neither bound is ever drawn, as in Theano."""
        _check_size("uniform", size)
        dtype = _float_dtype(dtype, low, high)
        unit = super().uniform(size, 0.0, 1.0, ndim, dtype)
        inside = clip(unit, np.finfo(dtype).epsneg, 1.0 - np.finfo(dtype).epsneg)    # exact 0s leave [0, 1)
        low, high = cast(low, dtype), cast(high, dtype)
        return _shaped(low + (high - low) * inside, unit, broadcastable)

    def normal(self, size, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None, truncate=False,
               broadcastable=None, **kwargs):
        """Normal draws; truncate=True cuts them at two standard deviations from avg, scaled so that
        the draws' standard deviation is still std, as Theano's."""
        _check_size("normal", size)
        if not truncate:
            sample = super().normal(size, avg, std, ndim, dtype)
            return _shaped(sample, sample, broadcastable)
        u = super().uniform(size, TWO_SIGMA, 1.0 - TWO_SIGMA, ndim, dtype)
        return _shaped(avg + (std / TRUNCATED_STD) * truncated_standard_normal(u), u, broadcastable)

    def truncated_normal(self, size, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None, **kwargs):
        """normal(..., truncate=True)."""
        return self.normal(size, avg, std, ndim, dtype, nstreams, truncate=True, **kwargs)

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", nstreams=None, broadcastable=None,
                 **kwargs):
        """The number of successes in n trials of probability p (Theano's MRG took only n=1)."""
        _check_size("binomial", size)
        sample = super().binomial(size, n, p, ndim, dtype)
        return _shaped(sample, sample, broadcastable)

    def multinomial(self, size=None, n=1, pvals=None, ndim=None, dtype="int64", nstreams=None, broadcastable=None,
                    **kwargs):
        """One draw of n trials for each row of pvals (a matrix: one distribution a row)."""
        _check_size("multinomial", size)
        if pvals is None:
            raise TypeError("multinomial: pvals must be given")
        sample = super().multinomial(size, n, pvals, ndim, dtype)
        return _shaped(sample, sample, broadcastable)

    def choice(self, size=1, a=None, replace=True, p=None, ndim=None, dtype="int64", nstreams=None, **kwargs):
        """size positions drawn from each row of the matrix p (one distribution a row): an (rows,
        size) matrix, distinct positions in a row when replace=False.  a must be None, as in Theano."""
        if a is not None:
            raise TypeError("MRG_RandomStreams.choice draws positions from p's rows: a must be None")
        if p is None:
            raise TypeError("choice: p must be given, a matrix with one distribution a row")
        p = as_tensor_variable(p)
        if p.ndim != 2:
            raise ValueError("choice: p must be a matrix, one distribution a row, got %s" % (p.type,))

        def build(draw):
            if replace:
                u = draw("uniform", size_vector((dims(p)[0], size), None), (0.0, 1.0), config.floatx())
                return cast(categorical(u, p.dimshuffle(0, "x", 1)), dtype)
            u = draw("uniform", size_vector(dims(p), None), (0.0, 1.0), "float64")
            return cast(_first_distinct(weighted_order(u, p), size), dtype)
        return self._stream(build)

    def multinomial_wo_replacement(self, size=None, n=1, pvals=None, ndim=None, dtype="int64", nstreams=None,
                                   **kwargs):
        """Theano's older name of choice(size=n, p=pvals, replace=False)."""
        return self.choice(n, None, False, pvals, ndim, dtype, nstreams)

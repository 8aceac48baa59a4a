"""theano.sandbox.rng_mrg.MRG_RandomStreams: Theano's streams for every device, with their own
arguments and defaults.  Here they draw from the same counter-based keys as T.random.RandomStreams
(which also run on every backend and device), so nstreams, the number of MRG generators Theano ran
in parallel, changes nothing."""
from mlcore import config
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.elemwise import cast
from mlcore.graph.ops.extra_ops import dims
from mlcore.graph.ops.random import TRUNCATED_STD, TWO_SIGMA, truncated_standard_normal
from mlcore.tensor.shared_randomstreams import RandomStreams, categorical, size_vector, weighted_order


class MRG_RandomStreams(RandomStreams):
    """Theano's MRG_RandomStreams(seed=12345)."""

    def __init__(self, seed=12345):
        super().__init__(seed)

    def uniform(self, size, low=0.0, high=1.0, ndim=None, dtype=None, nstreams=None, **kwargs):
        return super().uniform(size, low, high, ndim, dtype)

    def normal(self, size, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None, truncate=False, **kwargs):
        """Normal draws; truncate=True cuts them at two standard deviations from avg, scaled so that
        the draws' standard deviation is still std, as Theano's."""
        if not truncate:
            return super().normal(size, avg, std, ndim, dtype)
        u = super().uniform(size, TWO_SIGMA, 1.0 - TWO_SIGMA, ndim, dtype)
        sample = avg + (std / TRUNCATED_STD) * truncated_standard_normal(u)
        sample.rng, sample.update = u.rng, u.update
        return sample

    def truncated_normal(self, size, avg=0.0, std=1.0, ndim=None, dtype=None, nstreams=None, **kwargs):
        """normal(..., truncate=True)."""
        return self.normal(size, avg, std, ndim, dtype, nstreams, truncate=True)

    def binomial(self, size=None, n=1, p=None, ndim=None, dtype="int64", nstreams=None, **kwargs):
        if p is None:
            raise TypeError("binomial: p, the probability of success, must be given")
        return super().binomial(size, n, p, ndim, dtype)

    def multinomial(self, size=None, n=1, pvals=None, ndim=None, dtype="int64", nstreams=None, **kwargs):
        """One draw of n trials for each row of pvals (a matrix: one distribution a row)."""
        if pvals is None:
            raise TypeError("multinomial: pvals must be given")
        return super().multinomial(size, n, pvals, ndim, dtype)

    def choice(self, size=1, a=None, replace=True, p=None, ndim=None, dtype="int64", nstreams=None, **kwargs):
        """size positions drawn from each row of the matrix p (one distribution a row): an (rows,
        size) matrix, distinct positions in a row when replace=False.  a must be None, as in Theano."""
        if a is not None:
            raise NotImplementedError("MRG_RandomStreams.choice draws positions from p's rows: a must be None")
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
            return cast(weighted_order(u, p)[:, :size], dtype)
        return self._stream(build)

    def multinomial_wo_replacement(self, size=None, n=1, pvals=None, ndim=None, dtype="int64", nstreams=None,
                                   **kwargs):
        """Theano's older name of choice(size=n, p=pvals, replace=False)."""
        return self.choice(n, None, False, pvals, ndim, dtype, nstreams)

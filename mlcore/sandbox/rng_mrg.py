"""theano.sandbox.rng_mrg.MRG_RandomStreams: the same counter-based streams as T.random.RandomStreams,
which, like MRG's, run on every backend and device."""
from mlcore.graph.ops.random import RandomStreams as MRG_RandomStreams  # noqa: F401

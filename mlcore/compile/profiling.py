"""theano.compile.profiling: ProfileStats, which function(..., profile=) fills and prints (the
profiler itself is mlcore.profiling)."""
from mlcore.profiling import ProfileStats  # noqa: F401

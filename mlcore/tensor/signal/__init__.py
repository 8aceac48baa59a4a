"""T.signal: pooling (T.signal.pool) and the signal-processing conv2d (T.signal.conv)."""
from mlcore.tensor.signal import conv, pool  # noqa: F401

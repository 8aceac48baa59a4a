"""T.signal: pooling."""
from mlcore.tensor.signal import pool  # noqa: F401

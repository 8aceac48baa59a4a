"""theano.scalar: scalar variables and ops, and ScalarOp / Composite to write new ones
(mlcore.scalar.basic holds them, as theano.scalar.basic)."""
from mlcore.scalar.basic import *  # noqa: F401,F403

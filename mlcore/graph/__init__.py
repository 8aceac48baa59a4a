"""The symbolic core: variables, ops, gradients and rewrites.  No numeric kernels here."""
from mlcore.graph import variable_methods  # noqa: F401  (installs x + y, x.sum(), ... on Variable)
from mlcore.graph.basic import Apply, Constant, Op, SharedVariable, TensorType, Variable, clone, shared  # noqa: F401
from mlcore.graph.gradient import Lop, Rop, disconnected_grad, grad, zero_grad  # noqa: F401

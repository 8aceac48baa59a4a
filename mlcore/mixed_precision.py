"""keras.mixed_precision: the dtype policies under their Keras 2 names (mlcore.dtype_policies says
which policies mlcore's layers run)."""
from mlcore.dtype_policies import DTypePolicy, Policy, dtype_policy, set_dtype_policy
from mlcore.optimizers.loss_scale_optimizer import LossScaleOptimizer

global_policy = dtype_policy
set_global_policy = set_dtype_policy

__all__ = ["DTypePolicy", "LossScaleOptimizer", "Policy", "dtype_policy", "global_policy", "set_dtype_policy", "set_global_policy"]

"""keras.mixed_precision: the dtype policies under their Keras 2 names, and the LossScaleOptimizer
that compile() wraps a "mixed_float16" model's optimizer in.  set_global_policy("mixed_float16")
before building a model makes its layers keep float32 weights and compute in float16
(mlcore/layers/autocasting.py says how)."""
from mlcore.dtype_policies import DTypePolicy, Policy, dtype_policy, set_dtype_policy
from mlcore.optimizers.loss_scale_optimizer import LossScaleOptimizer

global_policy = dtype_policy
set_global_policy = set_dtype_policy

__all__ = ["DTypePolicy", "LossScaleOptimizer", "Policy", "dtype_policy", "global_policy", "set_dtype_policy", "set_global_policy"]

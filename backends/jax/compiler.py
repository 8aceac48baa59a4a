"""The jax backend: the graph is traced once into one jax.jit function.

Shared variables live on the device as jax arrays between calls; the buffers
of the shared variables a function updates are donated to it, so XLA can write
the new values in place.
"""
import jax
import numpy as np

from backends.base import Backend, Plan
from backends.jax.kernels import lower

jax.config.update("jax_enable_x64", True)  # float64 graphs stay float64; float32 ones keep explicit dtypes


class JaxBackend(Backend):
    name = "jax"
    lowering = lower
    description = "one jax.jit per function (XLA), shared values on the device, donated buffers"

    def devices(self):
        kinds = ["cpu"]
        try:
            if jax.devices("gpu"):
                kinds.append("gpu")
        except RuntimeError:
            pass
        return kinds

    def jax_device(self, device):
        return jax.devices(device or "cpu")[0]

    def adopt(self, value, device):
        target = self.jax_device(device)
        if isinstance(value, jax.Array) and not value.is_deleted() and value.devices() == {target}:
            return value
        return jax.device_put(np.asarray(value), target)

    def compile(self, fgraph, device=None, profile=None, donate=()):
        device = self.check_device(device)
        plan = Plan(fgraph, lower)
        constants = [c.data for c in plan.constants]
        target = self.jax_device(device)

        def traced(*inputs):
            return plan.run(list(inputs), constants)

        if profile is not None:
            profile.block = jax.block_until_ready
            run_graph = lambda *inputs: plan.run(list(inputs), constants, profile.timer)  # noqa: E731
        else:
            run_graph = jax.jit(traced, donate_argnums=tuple(donate))

        def run(*inputs):
            if device != "cpu":
                inputs = [jax.device_put(v, target) if isinstance(v, np.ndarray) else v for v in inputs]
            return run_graph(*inputs)
        run.plan, run.jitted = plan, run_graph
        return run

    def to_numpy(self, value):
        return np.asarray(value)

"""ScheduleFreeAdamW, as keras.optimizers.ScheduleFreeAdamW (Defazio et al. 2024): no learning-rate
schedule needed, the weights being an interpolation of an Adam-style sequence and its running average."""
from mlcore.graph.ops import elemwise as ew
from mlcore.optimizers.base import Optimizer


class ScheduleFreeAdamW(Optimizer):
    """Keras's rule, with t the step: z (the "momentum" slot, started at w) takes the step
    z <- z - lr * g / (sqrt(v / (1 - beta_2^t)) + epsilon); the average x, recovered from the weights
    y = (1 - beta_1) z + beta_1 x, becomes x + (z - x) / t, and y is rebuilt from the new z and x.
    warmup_steps > 0 scales lr by min(t / warmup_steps, 1)."""

    def __init__(self, learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8, warmup_steps=0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon, self.warmup_steps = beta_1, beta_2, epsilon, warmup_steps

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(variables, ["momentum", "velocity"])
        for momentum, variable in zip(self._momentums, variables):
            momentum.set_value(variable.get_value())

    def update_step(self, gradient, variable, learning_rate):
        lr = ew.cast(learning_rate, variable.dtype)
        gradient = ew.cast(gradient, variable.dtype)
        local_step = ew.cast(self.iterations + 1, variable.dtype)
        if self.warmup_steps > 0:
            lr = lr * ew.minimum(local_step / self.warmup_steps, 1.0)
        index = self._get_variable_index(variable)
        momentum, velocity = self._momentums[index], self._velocities[index]
        momentum_old, y_old = self.current(momentum), self.current(variable)
        velocity = self.assign_add(velocity, (ew.sqr(gradient) - velocity) * (1 - self.beta_2))
        denominator = ew.sqrt(velocity / (1 - self.beta_2 ** local_step)) + self.epsilon
        momentum = self.assign_sub(momentum, lr * gradient / denominator)
        weight = 1.0 / local_step
        x_old = (y_old - (1 - self.beta_1) * momentum_old) / self.beta_1
        x_new = (1 - weight) * x_old + weight * momentum
        self.assign(variable, (1 - self.beta_1) * momentum + self.beta_1 * x_new)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "warmup_steps": self.warmup_steps}

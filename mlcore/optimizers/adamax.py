"""Adamax, as keras.optimizers.Adamax."""
from mlcore import config
from mlcore.graph.ops import elemwise as ew
from mlcore.optimizers.base import Optimizer


class Adamax(Optimizer):
    """Adam with the infinity norm: u <- max(beta_2 * u, |g|);
    w <- w - lr * m / ((1 - beta_1^t) * (u + epsilon))."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2 = beta_1, beta_2
        self.epsilon = config.epsilon() if epsilon is None else epsilon

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._m, self._u = self.add_optimizer_variables(variables, ["momentum", "norm"])

    def update_step(self, gradient, variable, learning_rate):
        lr = ew.cast(learning_rate, variable.dtype)
        gradient = ew.cast(gradient, variable.dtype)
        local_step = ew.cast(self._local_iterations() + 1, variable.dtype)
        index = self._get_variable_index(variable)
        m, u = self._m[index], self._u[index]
        m = self.assign_add(m, (gradient - m) * (1 - self.beta_1))
        u = self.assign(u, ew.maximum(self.beta_2 * u, ew.abs_(gradient)))
        self.assign_sub(variable, lr * m / ((1 - self.beta_1 ** local_step) * (u + self.epsilon)))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}

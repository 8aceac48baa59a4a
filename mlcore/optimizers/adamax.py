"""Adamax, as keras.optimizers.Adamax."""
from mlcore.graph.ops import elemwise as ew
from mlcore.optimizers.adam import AdamFamily


class Adamax(AdamFamily):
    """Adam with the infinity norm: u <- max(beta_2 * u, |g|);
    w <- w - lr * m / ((1 - beta_1^t) * (u + epsilon))."""

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._m, self._u = self.add_optimizer_variables(variables, ["momentum", "norm"])

    def update_step(self, gradient, variable, learning_rate):
        lr = ew.cast(learning_rate, variable.dtype)
        gradient = ew.cast(gradient, variable.dtype)
        local_step = ew.cast(self.iterations + 1, variable.dtype)
        index = self._get_variable_index(variable)
        m, u = self._m[index], self._u[index]
        m = self.assign_add(m, (gradient - m) * (1 - self.beta_1))
        u = self.assign(u, ew.maximum(self.beta_2 * u, ew.abs_(gradient)))
        self.assign_sub(variable, lr * m / ((1 - self.beta_1 ** local_step) * (u + self.epsilon)))

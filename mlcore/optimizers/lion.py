"""Lion, as keras.optimizers.Lion."""
from mlcore.graph.ops import elemwise as ew
from mlcore.optimizers.base import Optimizer


class Lion(Optimizer):
    """Sign of an interpolated momentum: w <- w - lr * sign(beta_1 * m + (1 - beta_1) * g);
    then m <- beta_2 * m + (1 - beta_2) * g."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError("Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer "
                             "degenerates to SignSGD. Received: beta_1=%s." % beta_1)
        self.beta_1, self.beta_2 = beta_1, beta_2

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._momentums = self.add_optimizer_variables(variables, "momentum")

    def update_step(self, gradient, variable, learning_rate):
        lr = ew.cast(learning_rate, variable.dtype)
        gradient = ew.cast(gradient, variable.dtype)
        m = self._momentums[self._get_variable_index(variable)]
        self.assign_sub(variable, lr * ew.sign(m * self.beta_1 + gradient * (1.0 - self.beta_1)))
        self.assign(m, m * self.beta_2 + gradient * (1.0 - self.beta_2))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}

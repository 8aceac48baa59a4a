"""Adagrad, as keras.optimizers.Adagrad."""
from mlcore import config, initializers
from mlcore.graph.ops import elemwise as ew
from mlcore.optimizers.base import Optimizer


class Adagrad(Optimizer):
    """Per-parameter rates from the sum of squared gradients: a <- a + g^2; w <- w - lr * g / sqrt(a + epsilon)."""

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = config.epsilon() if epsilon is None else epsilon

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._accumulators = self.add_optimizer_variables(
            variables, "accumulator", initializers.Constant(self.initial_accumulator_value))

    def update_step(self, gradient, variable, learning_rate):
        lr = ew.cast(learning_rate, variable.dtype)
        gradient = ew.cast(gradient, variable.dtype)
        accumulator = self._accumulators[self._get_variable_index(variable)]
        accumulator = self.assign_add(accumulator, ew.sqr(gradient))
        self.assign_sub(variable, lr * gradient / ew.sqrt(accumulator + self.epsilon))

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}

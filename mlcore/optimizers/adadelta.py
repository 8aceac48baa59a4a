"""Adadelta, as keras.optimizers.Adadelta."""
from mlcore import config
from mlcore.graph.ops import elemwise as ew
from mlcore.optimizers.base import Optimizer


class Adadelta(Optimizer):
    """Steps scaled by the ratio of running RMS of past steps to running RMS of gradients
    (times learning_rate, which Keras 3 defaults to 0.001; Keras 1/2 used 1.0)."""

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = rho
        self.epsilon = config.epsilon() if epsilon is None else epsilon

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._accumulated_grads, self._accumulated_delta_vars = self.add_optimizer_variables(
            variables, ["accumulated_grad", "accumulated_delta_var"])

    def update_step(self, gradient, variable, learning_rate):
        lr = ew.cast(learning_rate, variable.dtype)
        gradient = ew.cast(gradient, variable.dtype)
        index = self._get_variable_index(variable)
        rho = self.rho
        accumulated_grad, accumulated_delta = self._accumulated_grads[index], self._accumulated_delta_vars[index]

        def rms(x):
            return ew.sqrt(x + self.epsilon)

        accumulated_grad = self.assign(accumulated_grad, rho * accumulated_grad + (1 - rho) * ew.sqr(gradient))
        delta = -(rms(accumulated_delta) * gradient / rms(accumulated_grad))
        self.assign(accumulated_delta, rho * accumulated_delta + (1 - rho) * ew.sqr(delta))
        self.assign_add(variable, lr * delta)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}

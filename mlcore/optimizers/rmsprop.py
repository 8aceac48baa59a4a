"""RMSprop, as keras.optimizers.RMSprop."""
from mlcore import config
from mlcore.graph.ops import elemwise as ew
from mlcore.optimizers.base import Optimizer


class RMSprop(Optimizer):
    """Divide the step by a running RMS of the gradient; epsilon sits inside the square root
    (Keras 3; Keras 2 added it outside): w <- w - lr * g / sqrt(v + epsilon)."""

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho, self.momentum, self.centered = rho, momentum, centered
        self.epsilon = config.epsilon() if epsilon is None else epsilon

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._velocities = self.add_optimizer_variables(variables, "velocity")
        self._momentums = self.add_optimizer_variables(variables, "momentum") if self.momentum > 0 else []
        self._average_gradients = self.add_optimizer_variables(variables, "average_gradient") if self.centered \
            else []

    def update_step(self, gradient, variable, learning_rate):
        lr = ew.cast(learning_rate, variable.dtype)
        gradient = ew.cast(gradient, variable.dtype)
        index = self._get_variable_index(variable)
        rho = self.rho
        velocity = self._velocities[index]
        velocity = self.assign(velocity, rho * velocity + (1 - rho) * ew.sqr(gradient))
        if self.centered:
            average_grad = self._average_gradients[index]
            average_grad = self.assign(average_grad, rho * average_grad + (1 - rho) * gradient)
            denominator = velocity - ew.sqr(average_grad) + self.epsilon
        else:
            denominator = velocity + self.epsilon
        increment = lr * gradient / ew.sqrt(denominator)
        if self.momentum > 0:
            momentum = self._momentums[index]
            increment = self.assign(momentum, self.momentum * momentum + increment)
        self.assign_sub(variable, increment)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}

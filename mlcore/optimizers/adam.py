"""Adam and AdamW, as keras.optimizers."""
from mlcore import config
from mlcore.graph.ops import elemwise as ew
from mlcore.optimizers.base import Optimizer


class AdamFamily(Optimizer):
    """The hyperparameters Adam, Adamax and Nadam share, taken and saved alike."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2 = beta_1, beta_2
        self.epsilon = config.epsilon() if epsilon is None else epsilon  # None: Keras 2's default

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Adam(AdamFamily):
    """Adaptive moment estimation, with Keras's placement of the bias correction and epsilon:
    w <- w - lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)
        self.amsgrad = amsgrad

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(variables, ["momentum", "velocity"])
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(variables, "velocity_hat")

    def update_step(self, gradient, variable, learning_rate):
        lr = ew.cast(learning_rate, variable.dtype)
        gradient = ew.cast(gradient, variable.dtype)
        local_step = ew.cast(self.iterations + 1, variable.dtype)
        alpha = lr * ew.sqrt(1 - self.beta_2 ** local_step) / (1 - self.beta_1 ** local_step)
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        m = self.assign_add(m, (gradient - m) * (1 - self.beta_1))
        v = self.assign_add(v, (ew.sqr(gradient) - v) * (1 - self.beta_2))
        if self.amsgrad:
            v_hat = self._velocity_hats[index]
            v = self.assign(v_hat, ew.maximum(v_hat, v))
        self.assign_sub(variable, m * alpha / (ew.sqrt(v) + self.epsilon))

    def get_config(self):
        return {**super().get_config(), "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay: w <- w - lr * weight_decay * w before each Adam step."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay=weight_decay, **kwargs)
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")

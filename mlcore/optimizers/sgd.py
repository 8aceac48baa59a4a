"""SGD, as keras.optimizers.SGD."""
from mlcore.graph.ops import elemwise as ew
from mlcore.optimizers.base import Optimizer


class SGD(Optimizer):
    """Gradient descent, with optional momentum and Nesterov momentum.

    m <- momentum * m - lr * g;  w <- w + m  (Nesterov: w <- w + momentum * m - lr * g).
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
            raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum = float(momentum)
        self.nesterov = nesterov

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = self.add_optimizer_variables(variables, "momentum") if self.momentum else []

    def update_step(self, gradient, variable, learning_rate):
        lr = ew.cast(learning_rate, variable.dtype)
        gradient = ew.cast(gradient, variable.dtype)
        if not self.momentum:
            self.assign_sub(variable, gradient * lr)
            return
        m = self.momentums[self._get_variable_index(variable)]
        m = self.assign(m, m * self.momentum - gradient * lr)
        self.assign_add(variable, m * self.momentum - gradient * lr if self.nesterov else m)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}

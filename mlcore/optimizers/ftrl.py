"""Ftrl, as keras.optimizers.Ftrl."""
from mlcore import initializers
from mlcore.graph.ops import elemwise as ew
from mlcore.optimizers.base import Optimizer


class Ftrl(Optimizer):
    """Follow The Regularized Leader (McMahan et al., 2013), with Keras's L1, L2 and shrinkage terms."""

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 l2_shrinkage_regularization_strength=0.0, beta=0.0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        for name, value in (("initial_accumulator_value", initial_accumulator_value),
                            ("l1_regularization_strength", l1_regularization_strength),
                            ("l2_regularization_strength", l2_regularization_strength),
                            ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength)):
            if value < 0.0:
                raise ValueError("`%s` needs to be positive or zero. Received: %s=%s." % (name, name, value))
        if learning_rate_power > 0.0:
            raise ValueError("`learning_rate_power` needs to be negative or zero. Received: "
                             "learning_rate_power=%s." % learning_rate_power)
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._accumulators, self._linears = self.add_optimizer_variables(
            variables, ["accumulator", "linear"],
            [initializers.Constant(self.initial_accumulator_value), "zeros"])

    def update_step(self, gradient, variable, learning_rate):
        lr = ew.cast(learning_rate, variable.dtype)
        gradient = ew.cast(gradient, variable.dtype)
        index = self._get_variable_index(variable)
        accum, linear = self._accumulators[index], self._linears[index]
        power = -self.learning_rate_power
        l2_reg = self.l2_regularization_strength + self.beta / (2.0 * lr)
        value = self.current(variable)
        grad_to_use = gradient + 2 * self.l2_shrinkage_regularization_strength * value
        new_accum = accum + ew.sqr(gradient)
        linear = self.assign_add(linear, grad_to_use - (new_accum ** power - accum ** power) / lr * value)
        quadratic = new_accum ** power / lr + 2 * l2_reg
        l1 = self.l1_regularization_strength
        self.assign(variable, (ew.clip(linear, -l1, l1) - linear) / quadratic)
        self.assign(accum, new_accum)

    def get_config(self):
        return {**super().get_config(), "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta}

"""Lamb, as keras.optimizers.Lamb (You et al. 2019, layer-wise adaptive large-batch Adam)."""
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.reduce import sum_
from mlcore.optimizers.adam import AdamFamily


class Lamb(AdamFamily):
    """Adam's bias-corrected step m_hat / (sqrt(v_hat) + epsilon), scaled per variable by the trust
    ratio ||w|| / ||step|| (1 where either norm is zero)."""

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(variables, ["momentum", "velocity"])

    def update_step(self, gradient, variable, learning_rate):
        lr = ew.cast(learning_rate, variable.dtype)
        gradient = ew.cast(gradient, variable.dtype)
        local_step = ew.cast(self.iterations + 1, variable.dtype)
        index = self._get_variable_index(variable)
        m = self.assign_add(self._momentums[index], (gradient - self._momentums[index]) * (1 - self.beta_1))
        v = self.assign_add(self._velocities[index], (ew.sqr(gradient) - self._velocities[index]) * (1 - self.beta_2))
        step = (m / (1 - self.beta_1 ** local_step)) / (ew.sqrt(v / (1 - self.beta_2 ** local_step)) + self.epsilon)
        w_norm, step_norm = ew.sqrt(sum_(ew.sqr(variable))), ew.sqrt(sum_(ew.sqr(step)))
        ratio = ew.switch(ew.gt(w_norm, 0), ew.switch(ew.gt(step_norm, 0), w_norm / step_norm, 1.0), 1.0)
        self.assign_sub(variable, ratio * lr * step)

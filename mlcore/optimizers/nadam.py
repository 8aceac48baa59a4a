"""Nadam, as keras.optimizers.Nadam."""
from mlcore import config, initializers
from mlcore.graph.ops import elemwise as ew
from mlcore.optimizers.adam import AdamFamily


class Nadam(AdamFamily):
    """Adam with Nesterov momentum and Keras's momentum schedule
    u_t = beta_1 * (1 - 0.5 * 0.96^t), whose running product is kept in a state variable."""

    def build(self, variables):
        if self.built:
            return
        variables = list(variables)
        dtype = variables[0].dtype if variables else config.floatx()
        super().build(variables)
        self._momentums, self._velocities = self.add_optimizer_variables(variables, ["momentum", "velocity"])
        self._u_product = self.add_variable((), initializers.Constant(1.0), dtype, name="u_product")

    def _backend_update_step(self, grads, variables, learning_rate):
        dtype = self._u_product.dtype
        decay = 1.0 - 0.5 * 0.96 ** ew.cast(self.iterations + 1, dtype)
        self.assign(self._u_product, self._u_product * self.beta_1 * decay)
        super()._backend_update_step(grads, variables, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ew.cast(learning_rate, dtype)
        gradient = ew.cast(gradient, dtype)
        local_step = ew.cast(self.iterations + 1, dtype)
        next_step = ew.cast(self.iterations + 2, dtype)
        u_t = self.beta_1 * (1.0 - 0.5 * 0.96 ** local_step)
        u_t_1 = self.beta_1 * (1.0 - 0.5 * 0.96 ** next_step)
        u_product_t = ew.cast(self.current(self._u_product), dtype)
        u_product_t_1 = u_product_t * u_t_1
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        m = self.assign_add(m, (gradient - m) * (1 - self.beta_1))
        v = self.assign_add(v, (ew.sqr(gradient) - v) * (1 - self.beta_2))
        m_hat = u_t_1 * m / (1 - u_product_t_1) + (1 - u_t) * gradient / (1 - u_product_t)
        v_hat = v / (1 - self.beta_2 ** local_step)
        self.assign_sub(variable, m_hat * lr / (ew.sqrt(v_hat) + self.epsilon))

"""Adafactor, as keras.optimizers.Adafactor (Shazeer and Stern 2018): the second moment of a matrix
kept as its row and column means (factored), so its state is O(rows + cols), not O(rows * cols)."""
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.reduce import mean
from mlcore.graph.ops.shape import dimshuffle
from mlcore.optimizers.base import Optimizer
from mlcore.optimizers.schedules import LearningRateSchedule


def _rms(x):
    return ew.sqrt(mean(ew.sqr(x)))


class Adafactor(Optimizer):
    """Keras's rule: beta_2 at step t is 1 - t^beta_2_decay; a variable of 2 or more dims keeps r and c,
    the decayed means of g^2 + epsilon_1 over its last and second-to-last axes, and v = r / mean(r)
    outer c; others keep v itself. The step g / sqrt(v), clipped to an RMS of clip_threshold, is scaled
    by max(epsilon_2, RMS(w)) * min(lr, 1 / sqrt(t)) (relative_step also caps a constant lr so)."""

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3, clip_threshold=1.0,
                 relative_step=True, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_2_decay, self.epsilon_1, self.epsilon_2 = beta_2_decay, epsilon_1, epsilon_2
        self.clip_threshold, self.relative_step = clip_threshold, relative_step

    def build(self, variables):
        """Slots in Keras's order: per variable r, c and its velocity; r and c of a variable of fewer than
        2 dims are unused int scalars, as Keras keeps them (so saved optimizer states line up)."""
        if self.built:
            return
        super().build(variables)
        self._r, self._c, self._v = [], [], []
        for variable in variables:
            shape = variable.get_value(borrow=True).shape
            name = (variable.name or "variable").replace("/", "_")
            r_shape, c_shape, dtype = ((shape[:-1], shape[:-2] + shape[-1:], variable.dtype) if len(shape) >= 2
                                       else ((), (), "int32"))
            self._r.append(self.add_variable(r_shape, dtype=dtype, name=name))
            self._c.append(self.add_variable(c_shape, dtype=dtype, name=name))
            self._v.append(self.add_variable_from_reference(variable, "velocity"))

    def update_step(self, gradient, variable, learning_rate):
        lr = ew.cast(learning_rate, variable.dtype)
        gradient = ew.cast(gradient, variable.dtype)
        local_step = ew.cast(self.iterations + 1, variable.dtype)
        if self.relative_step and not isinstance(self._learning_rate, LearningRateSchedule):
            lr = ew.minimum(lr, 1 / ew.sqrt(local_step))
        index = self._get_variable_index(variable)
        r, c, v = self._r[index], self._c[index], self._v[index]
        alpha = ew.maximum(self.epsilon_2, _rms(variable)) * ew.minimum(lr, 1 / ew.sqrt(local_step))
        squared = ew.sqr(gradient) + self.epsilon_1
        beta_2 = 1 - local_step ** self.beta_2_decay
        if variable.ndim >= 2:
            r = self.assign(r, beta_2 * r + (1 - beta_2) * mean(squared, axis=-1))
            c = self.assign(c, beta_2 * c + (1 - beta_2) * mean(squared, axis=-2))
            row_share = r / mean(r, axis=-1, keepdims=True)
            v = self.assign(v, _expand(row_share, -1) * _expand(c, -2))
        else:
            v = self.assign(v, beta_2 * v + (1 - beta_2) * squared)
        u = gradient / ew.sqrt(v)
        self.assign_sub(variable, alpha * u / ew.maximum(1.0, _rms(u) / self.clip_threshold))

    def get_config(self):
        return {**super().get_config(), "beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1,
                "epsilon_2": self.epsilon_2, "clip_threshold": self.clip_threshold,
                "relative_step": self.relative_step}


def _expand(x, axis):
    """x with a broadcastable dim inserted at axis (-1: last, -2: before the last)."""
    order = list(range(x.ndim))
    order.insert(x.ndim + 1 + axis, "x")
    return dimshuffle(x, *order)

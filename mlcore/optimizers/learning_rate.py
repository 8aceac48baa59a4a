"""What `optimizer.learning_rate` gives for a float rate: the rate as a float, that also answers what
Keras code calls on it.

Keras 3 returns the optimizer's learning-rate variable there, which code reads with `float()`,
`.numpy()` or `.value` and sets with `.assign()`; Keras 2 code calls `K.set_value(optimizer.lr, 0.01)`
and `K.get_value(optimizer.lr)`.  mlcore's variables are graph variables (`lr * 0.5` would be a graph),
so the rate is a float (arithmetic, formatting and logs stay numbers) whose variable methods reach the
optimizer's variable."""
import numpy as np


class LearningRate(float):
    """The rate now, as a float, bound to the optimizer's learning-rate variable."""

    def __new__(cls, variable):
        rate = super().__new__(cls, float(variable.get_value()))
        rate.variable = variable
        return rate

    @property
    def dtype(self):
        return self.variable.dtype

    @property
    def value(self):
        """The variable's current value (Keras's variable.value)."""
        return self.variable.get_value()

    def numpy(self):
        return self.variable.get_value()

    def get_value(self):
        return self.variable.get_value()

    def assign(self, value):
        """Set the optimizer's rate (Keras 3's variable.assign; K.set_value calls it as set_value)."""
        self.variable.set_value(np.asarray(value, dtype=self.variable.dtype))

    set_value = assign

    def __reduce__(self):
        return float, (float(self),)        # pickled (a History's logs) as the number it is

"""LossScaleOptimizer, as keras.optimizers.LossScaleOptimizer: dynamic loss scaling around another
optimizer, so that float16 gradients neither underflow (the scale grows) nor overflow (it shrinks)."""
from mlcore import initializers
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.extra_ops import all_, isfinite
from mlcore.optimizers.base import Optimizer

# Keras's base-optimizer arguments and the only values LossScaleOptimizer takes for them (older
# configs saved them); any other value belongs on the inner optimizer
_BASE_DEFAULTS = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
                  "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                  "loss_scale_factor": None, "gradient_accumulation_steps": None}


class LossScaleOptimizer(Optimizer):
    """The loss is multiplied by dynamic_scale (scale_loss) and the gradients divided by it before
    inner_optimizer's step.  A step whose gradients are not all finite is skipped (the weights and the
    inner optimizer's state, its iterations included, are kept) and halves the scale; after
    dynamic_growth_steps finite steps in a row the scale doubles."""

    def __init__(self, inner_optimizer, initial_scale=2.0 ** 15, dynamic_growth_steps=2000, name=None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError("LossScaleOptimizer no longer supports `dynamic=False`. Instead, simply set "
                             "`loss_scale_factor` directly on the `inner_optimizer`.")
        for argument, default in _BASE_DEFAULTS.items():
            if argument in kwargs and kwargs.pop(argument) != default:
                raise ValueError("LossScaleOptimizer does not support `%s`. Instead, set `%s` on the "
                                 "`inner_optimizer`." % (argument, argument))
        if kwargs:
            raise ValueError("LossScaleOptimizer does not support arguments: `%s`." % "`, `".join(kwargs))
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError("LossScaleOptimizer: `inner_optimizer` must be an Optimizer instance. Received: "
                            "inner_optimizer=%r" % (inner_optimizer,))
        super().__init__(0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale, self.dynamic_growth_steps = initial_scale, dynamic_growth_steps
        self.inner_optimizer.loss_scale_factor = None      # or the gradients would be unscaled twice

    def build(self, variables):
        if self.built:
            return
        self.step_counter = self.add_variable((), "zeros", "int64", "step_counter")
        self.dynamic_scale = self.add_variable((), initializers.Constant(self.initial_scale), "float32",
                                               "dynamic_scale")
        self.inner_optimizer.build(variables)
        super().build(variables)

    @property
    def variables(self):
        return self._variables + self.inner_optimizer.variables

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.inner_optimizer.learning_rate = value

    lr = learning_rate

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    def scale_loss(self, loss):
        return loss * (self.dynamic_scale if self.built else self.initial_scale)

    def get_updates(self, variables, grads):
        """The inner optimizer's updates on the unscaled gradients, each kept back when a gradient is
        not finite, and the scale's own bookkeeping."""
        variables = list(variables)
        self.build(variables)
        finite = None
        for g in grads:
            if g is not None:
                finite = all_(isfinite(g)) if finite is None else ew.and_(finite, all_(isfinite(g)))
        scale = self.dynamic_scale
        # as Keras: a variable overwritten with its gradient (float8 scales) takes it as it is, unscaled
        inner = self.inner_optimizer.get_updates(variables, [
            g if g is None or getattr(v, "overwrite_with_gradient", False) else g / scale
            for v, g in zip(variables, grads)])
        grow = ew.eq(self.step_counter, self.dynamic_growth_steps - 1)
        counter = ew.switch(finite, ew.switch(grow, 0, self.step_counter + 1), 0)
        new_scale = ew.switch(finite, ew.switch(grow, scale * 2.0, scale), scale * 0.5)
        return ([(v, ew.switch(finite, new, v)) for v, new in inner]
                + [(self.step_counter, ew.cast(counter, self.step_counter.dtype)),
                   (self.dynamic_scale, ew.cast(new_scale, self.dynamic_scale.dtype))])

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self):
        from mlcore.saving.serialization_lib import serialize_keras_object
        return {"name": self.name, "inner_optimizer": serialize_keras_object(self.inner_optimizer),
                "initial_scale": self.initial_scale, "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from mlcore.saving.serialization_lib import deserialize_keras_object
        config = dict(config)
        inner = deserialize_keras_object(config.pop("inner_optimizer"), custom_objects=custom_objects)
        return cls(inner, **config)

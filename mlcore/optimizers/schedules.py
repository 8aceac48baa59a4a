"""Learning-rate schedules, as keras.optimizers.schedules: callables step -> rate.

They are written with graph ops, so the optimizer calls them on its symbolic
iteration counter and the compiled training step computes the rate itself; called
with a number they give a number, as Keras's do.
"""
import math

from mlcore import config
from mlcore.graph.basic import Constant, SharedVariable, Variable
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.ops.eager import on_values
from mlcore.saving.object_registration import keras_serialized, known_custom_objects


def _float(value):
    return ew.cast(as_tensor_variable(value), config.floatx())


def evaluate(value):
    """A schedule's value for a concrete step, as a numpy scalar."""
    if not isinstance(value, Variable):
        return value
    if isinstance(value, Constant):
        return value.data
    if isinstance(value, SharedVariable):
        return value.get_value()
    from mlcore.function import function
    return function([], value, backend="numpy")()


class LearningRateSchedule:
    def __init_subclass__(cls, **kwargs):
        """A schedule called on a number gives a number, as Keras's (float(schedule(100))); on the
        optimizer's symbolic step it builds graph."""
        super().__init_subclass__(**kwargs)
        if "__call__" in vars(cls):
            cls.__call__ = on_values(vars(cls)["__call__"])

    def __call__(self, step):
        raise NotImplementedError("Learning rate schedule '%s' must override `__call__(self, step)`."
                                  % type(self).__name__)

    def get_config(self):
        raise NotImplementedError("Learning rate schedule '%s' must override `get_config()` in order to be "
                                  "serializable." % type(self).__name__)

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_steps(value, name="decay_steps"):
    if value <= 0:
        raise ValueError("Argument `%s` must be > 0. Received: %s=%s" % (name, name, value))


class ExponentialDecay(LearningRateSchedule):
    """initial_learning_rate * decay_rate ** (step / decay_steps), the exponent floored if staircase."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="ExponentialDecay"):
        _check_steps(decay_steps)
        self.initial_learning_rate, self.decay_steps, self.decay_rate = initial_learning_rate, decay_steps, decay_rate
        self.staircase, self.name = staircase, name

    def __call__(self, step):
        p = _float(step) / self.decay_steps
        if self.staircase:
            p = ew.floor(p)
        return self.initial_learning_rate * _float(self.decay_rate) ** p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class InverseTimeDecay(ExponentialDecay):
    """initial_learning_rate / (1 + decay_rate * step / decay_steps), floored if staircase."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="InverseTimeDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        p = _float(step) / self.decay_steps
        if self.staircase:
            p = ew.floor(p)
        return self.initial_learning_rate / (1.0 + self.decay_rate * p)


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[i] while boundaries[i-1] < step <= boundaries[i]."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError("The length of boundaries should be 1 less than the length of values. Received: "
                             "boundaries=%s of length %d, and values=%s of length %d."
                             % (boundaries, len(boundaries), values, len(values)))
        self.boundaries, self.values, self.name = boundaries, values, name

    def __call__(self, step):
        step = as_tensor_variable(step)
        rate = _float(0.0)
        lows = [None] + list(self.boundaries)
        highs = list(self.boundaries) + [None]
        for low, high, value in zip(lows, highs, self.values):
            inside = ew.le(step, high) if low is None else ew.gt(step, low) if high is None else \
                ew.and_(ew.gt(step, low), ew.le(step, high))
            rate = rate + ew.cast(inside, config.floatx()) * value
        return rate

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                 name="PolynomialDecay"):
        _check_steps(decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power, self.cycle, self.name = end_learning_rate, power, cycle, name

    def __call__(self, step):
        step = _float(step)
        decay_steps = _float(self.decay_steps)
        if self.cycle:  # the first multiple of decay_steps above step (1 at step 0)
            decay_steps = decay_steps * ew.switch(ew.eq(step, 0), 1.0, ew.ceil(step / self.decay_steps))
        else:
            step = ew.minimum(step, decay_steps)
        p = step / decay_steps
        return (self.initial_learning_rate - self.end_learning_rate) * (1 - p) ** _float(self.power) \
            + self.end_learning_rate

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Optional linear warmup to warmup_target, then a half cosine from there down to alpha times it."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None,
                 warmup_steps=0):
        _check_steps(decay_steps)
        self.initial_learning_rate, self.decay_steps, self.alpha, self.name = (initial_learning_rate, decay_steps,
                                                                               alpha, name)
        self.warmup_target, self.warmup_steps = warmup_target, warmup_steps

    def _decay(self, step, decay_from):
        cosine = 0.5 * (1.0 + ew.cos(math.pi * (step / self.decay_steps)))
        return decay_from * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        step = _float(step)
        if self.warmup_target is None:
            return self._decay(ew.minimum(step, self.decay_steps), self.initial_learning_rate)
        step = ew.minimum(step, self.decay_steps + self.warmup_steps)
        warmup = (self.warmup_target - self.initial_learning_rate) * (step / self.warmup_steps) \
            + self.initial_learning_rate
        return ew.switch(ew.lt(step, self.warmup_steps), warmup,
                         self._decay(step - self.warmup_steps, self.warmup_target))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay restarted every period, each period t_mul times longer and m_mul times lower (SGDR)."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                 name="SGDRDecay"):
        _check_steps(first_decay_steps, "first_decay_steps")
        self.initial_learning_rate, self.first_decay_steps = initial_learning_rate, first_decay_steps
        self._t_mul, self._m_mul, self.alpha, self.name = t_mul, m_mul, alpha, name

    def __call__(self, step):
        fraction = _float(step) / self.first_decay_steps
        if self._t_mul == 1.0:
            restart = ew.floor(fraction)
            fraction = fraction - restart
        else:
            restart = ew.floor(ew.log(1.0 - fraction * (1.0 - self._t_mul)) / math.log(self._t_mul))
            done = (1.0 - _float(self._t_mul) ** restart) / (1.0 - self._t_mul)
            fraction = (fraction - done) / _float(self._t_mul) ** restart
        cosine = 0.5 * _float(self._m_mul) ** restart * (1.0 + ew.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "first_decay_steps": self.first_decay_steps,
                "t_mul": self._t_mul, "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


ALL_OBJECTS_DICT = {cls.__name__: cls for cls in (
    ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, PolynomialDecay, CosineDecay, CosineDecayRestarts)}


def serialize(learning_rate_schedule):
    return keras_serialized(learning_rate_schedule, learning_rate_schedule.get_config(), "keras.optimizers.schedules")


def deserialize(config, custom_objects=None):
    table = {**ALL_OBJECTS_DICT, **known_custom_objects(custom_objects)}
    if config["class_name"] not in table:
        raise ValueError("Unknown learning rate schedule: %r. Valid names are: %s"
                         % (config["class_name"], ", ".join(sorted(table))))
    return table[config["class_name"]].from_config(config["config"])

"""The optimizer base: Keras 3's update rules, written as symbolic update pairs.

An optimizer turns (variables, gradients) into Theano-style updates: a list of
(shared variable, new value) pairs that mlcore.function applies after each call.
Its state (iteration count, learning rate, per-variable slots) lives in shared
variables, so it persists between calls and get_value()/set_value() see it.

Subclasses write update_step() as Keras does, with assign/assign_add/assign_sub.
Those record the new value of each variable (reading a variable after assigning
it gives the new value), so the pairs returned compute exactly Keras's sequence
of in-place assignments in one step.
"""
import re
import warnings

import numpy as np

from mlcore import config, initializers
from mlcore.graph.basic import SharedVariable, TensorType, Variable
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.reduce import sum_
from mlcore.layers.base import unique_name
from mlcore.layers.weight import Weight
from mlcore.optimizers import schedules
from mlcore.optimizers.learning_rate import LearningRate
from mlcore.optimizers.schedules import LearningRateSchedule
from mlcore.utils.naming import to_snake_case


class Optimizer:
    """Base class.  Keras 1/2's lr= is accepted for learning_rate, and decay= keeps its
    old meaning: the learning rate is divided by (1 + decay * iterations)."""

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        learning_rate = kwargs.pop("lr", learning_rate)
        self.decay = float(kwargs.pop("decay", None) or 0.0)
        if kwargs:
            raise ValueError("Argument(s) not recognized: %s" % (kwargs,))
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                             "clipnorm=%s, clipvalue=%s, global_clipnorm=%s" % (clipnorm, clipvalue, global_clipnorm))
        if use_ema and not 0 <= ema_momentum <= 1:
            raise ValueError("`ema_momentum` must be in the range [0, 1]. Received: ema_momentum=%s" % ema_momentum)
        if gradient_accumulation_steps is not None and gradient_accumulation_steps < 2:
            raise ValueError("`gradient_accumulation_steps` must be an integer >= 2. Received: "
                             "gradient_accumulation_steps=%s" % gradient_accumulation_steps)
        self.name = name or unique_name(to_snake_case(type(self).__name__))      # adam, adam_1... as Keras
        self.weight_decay, self.clipnorm, self.clipvalue = weight_decay, clipnorm, clipvalue
        self.global_clipnorm, self.use_ema, self.ema_momentum = global_clipnorm, use_ema, ema_momentum
        self.ema_overwrite_frequency, self.loss_scale_factor = ema_overwrite_frequency, loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.built = False
        self._variables = []
        self._values = None  # while get_updates runs: id(shared) -> (shared, current value)
        self._eager_steps = {}
        self._exclude_ids, self._exclude_pattern = set(), None
        self._iterations = self.add_variable((), initializer="zeros", dtype="int64", name="iteration")
        self._learning_rate = None
        self._set_learning_rate(learning_rate)

    # --- state -----------------------------------------------------------------------------------
    def add_variable(self, shape, initializer="zeros", dtype=None, name=None, layout=None):
        """A state variable, named "<optimizer>/<name>" (Keras's variable path); a Weight, so it has a
        Keras variable's numpy(), assign() and path.  layout: its keras.distribution TensorLayout."""
        value = initializers.get(initializer)(tuple(shape), dtype=dtype or config.floatx())
        path = "%s/%s" % (self.name, name)
        variable = Weight(np.asarray(value), path, path, trainable=False, autocast=False, layout=layout)
        self._variables.append(variable)
        return variable

    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """A slot shaped like a model variable, named "<variable path>_<slot>" as Keras names it (so a
        model's slots have distinct paths, as get_state_tree needs), and laid out over the devices as
        the variable is."""
        ref_name = (getattr(reference_variable, "path", None) or reference_variable.name or "variable")
        ref_name = ref_name.replace("/", "_").replace(":", "_")
        value = reference_variable.get_value(borrow=True)
        return self.add_variable(value.shape, initializer, value.dtype, "%s_%s" % (ref_name, name or "var"),
                                 layout=getattr(reference_variable, "_layout", None))

    def add_optimizer_variables(self, variables, name, initializer="zeros"):
        """One slot per variable for a name, or a tuple of lists for a list of names (created interleaved)."""
        names = [name] if isinstance(name, str) else list(name)
        inits = initializer if isinstance(initializer, (list, tuple)) else [initializer] * len(names)
        slots = tuple([] for _ in names)
        for variable in variables:
            for slot_list, slot_name, init in zip(slots, names, inits):
                slot_list.append(self.add_variable_from_reference(variable, slot_name, init))
        return slots[0] if isinstance(name, str) else slots

    def build(self, variables):
        """Create the slots for these model variables (the shared variables to be trained)."""
        if self.built:
            return
        variables = list(variables)
        self._trainable_variables = variables
        self._index = {id(v): i for i, v in enumerate(variables)}
        if self.use_ema:
            self._model_variables_moving_average = self.add_optimizer_variables(variables, "average")
        if self.gradient_accumulation_steps:
            self._accumulated_gradients = self.add_optimizer_variables(variables, "gradient_accumulator")
        self.built = True

    def _get_variable_index(self, variable):
        return self._index[id(variable)]

    @property
    def variables(self):
        """The state in Keras's order: iteration, learning_rate (unless a schedule), then the slots."""
        return list(self._variables)

    @property
    def iterations(self):
        """The count of applied steps (the one update rules and EMA read), as Keras's: the int64 shared
        counter, or under gradient accumulation the completed cycles, `_iterations // steps`, while the
        counter `_iterations` (and a learning-rate schedule, evaluated on it) counts every call."""
        if self.gradient_accumulation_steps:
            return AppliedSteps.of(self._iterations, self.gradient_accumulation_steps)
        return self._iterations

    def get_weights(self):
        return [v.get_value() for v in self.variables]

    def set_weights(self, weights):
        if not self.built:
            raise ValueError("You are calling `set_weights()` on an optimizer that has not yet been built. "
                             "Please call `optimizer.build(trainable_variables)` first.")
        for variable, value in zip(self.variables, weights):
            variable.set_value(np.asarray(value))

    # --- learning rate ---------------------------------------------------------------------------
    def _set_learning_rate(self, learning_rate):
        if isinstance(learning_rate, LearningRateSchedule):
            if isinstance(self._learning_rate, SharedVariable):
                self._variables.remove(self._learning_rate)
            self._learning_rate = learning_rate
        elif callable(learning_rate):
            # Keras's zero-argument callable, asked for the rate whenever a step is built: a compiled step keeps
            # what it returned then (a float, or a graph expression of variables it reads), as a jax.jit step does
            if isinstance(self._learning_rate, SharedVariable):
                self._variables.remove(self._learning_rate)
            self._learning_rate = learning_rate
        elif isinstance(learning_rate, (int, float, np.number)) and not isinstance(learning_rate, bool):
            if isinstance(self._learning_rate, LearningRateSchedule):
                raise TypeError("This optimizer was created with a `LearningRateSchedule` object as its "
                                "`learning_rate` constructor argument, hence its learning rate is not settable. "
                                "If you need the learning rate to be settable, you should instantiate the "
                                "optimizer with a float `learning_rate` argument.")
            if isinstance(self._learning_rate, SharedVariable):
                self._learning_rate.set_value(np.asarray(learning_rate, self._learning_rate.dtype))
            else:
                self._learning_rate = self.add_variable((), initializers.Constant(float(learning_rate)),
                                                        name="learning_rate")
        else:
            raise ValueError("Argument `learning_rate` should be float, or an instance of LearningRateSchedule, or "
                             "a callable (that takes in the current iteration value and returns the corresponding "
                             "learning rate value). Received instead: learning_rate=%r" % (learning_rate,))

    @property
    def learning_rate(self):
        """The current rate as a float (a schedule is evaluated at the current iteration; Keras 2's
        decay is not applied, as its lr was not); assigning a float takes effect without recompiling, and
        so do `.assign()` and `K.set_value()` of a float rate (optimizers/learning_rate.py)."""
        if isinstance(self._learning_rate, LearningRateSchedule):
            return float(schedules.evaluate(self._learning_rate(self._iterations.get_value())))
        if not isinstance(self._learning_rate, SharedVariable):
            return float(schedules.evaluate(self._learning_rate()))
        return LearningRate(self._learning_rate)

    @learning_rate.setter
    def learning_rate(self, value):
        self._set_learning_rate(value)

    lr = learning_rate  # Keras 1/2 name

    def _current_learning_rate(self, iterations):
        if isinstance(self._learning_rate, LearningRateSchedule):
            lr = self._learning_rate(iterations)
        elif not isinstance(self._learning_rate, SharedVariable):
            lr = ew.cast(as_tensor_variable(self._learning_rate()), config.floatx())
        else:
            lr = self._learning_rate
        if self.decay:
            lr = lr * (1.0 / (1.0 + self.decay * ew.cast(iterations, lr.dtype)))
        return lr

    # --- assignments -----------------------------------------------------------------------------
    def current(self, variable):
        """The variable's value at this point of the step being built."""
        if self._values is None:
            return variable
        return self._values.get(id(variable), (variable, variable))[1]

    def assign(self, variable, value):
        """Record the variable's new value in the step being built; outside one (update_step called on its
        own, as Keras code tests a custom optimizer), assign it at once, as Keras's eager assign does."""
        value = ew.cast(value, variable.dtype)
        if self._values is None:
            variable.assign(value)
            return variable
        self._values[id(variable)] = (variable, value)
        return value

    def assign_add(self, variable, value):
        return self.assign(variable, self.current(variable) + value)

    def assign_sub(self, variable, value):
        return self.assign(variable, self.current(variable) - value)

    # --- the update ------------------------------------------------------------------------------
    def scale_loss(self, loss):
        """The loss to differentiate: multiplied by loss_scale_factor when set."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def get_updates(self, variables, grads):
        """(shared variable, new value) pairs for one step: model variables, slots and the iteration count.

        A None gradient leaves its variable alone (with a warning, as Keras).
        """
        variables = list(variables)
        self.build(variables)
        missing = [v.name for v, g in zip(variables, grads) if g is None]
        pairs = [(v, g) for v, g in zip(variables, grads) if g is not None]
        if not pairs:
            raise ValueError("No gradients provided for any variable.")
        if missing:
            warnings.warn("Gradients do not exist for variables %s when minimizing the loss." % missing)
        for v, _ in pairs:
            if id(v) not in self._index:
                raise ValueError("Unknown variable: %s. This optimizer can only be called for the variables it "
                                 "was originally built with." % (v.name,))
        overwritten = [(v, g) for v, g in pairs if getattr(v, "overwrite_with_gradient", False)]
        pairs = [(v, g) for v, g in pairs if not getattr(v, "overwrite_with_gradient", False)]
        variables, grads = [v for v, _ in pairs], [g for _, g in pairs]
        if self.loss_scale_factor is not None:
            grads = [g / self.loss_scale_factor for g in grads]
        self._values = {}
        try:
            if variables and self.gradient_accumulation_steps:
                self._accumulate_and_apply(grads, variables)
            elif variables:
                self._apply(grads, variables)
            self._overwrite_with_gradients(overwritten)
            if self.use_ema:
                self._update_moving_averages()
            self.assign_add(self._iterations, 1)
            return list(self._values.values())
        finally:
            self._values = None

    def apply_gradients(self, grads_and_vars):
        """Keras's eager API: apply numpy gradients to shared variables now; returns the step counter."""
        grads, variables = zip(*grads_and_vars)
        self.apply(grads, variables)
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        """Keras's eager API: one step on numpy gradients, for the variables given or, without them, those
        the optimizer was built on, constraints applied after it (one compiled step per variable list,
        cached).  Training steps use get_updates instead."""
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError("When passing `grads` without `variables`, the optimizer must already be built "
                                 "on a list of variables. Call `optimizer.build(trainable_variables)` first.")
            if len(grads) != len(self._trainable_variables):
                raise ValueError("When passing `grads` as a list of gradient tensors, the gradients must match "
                                 "`optimizer.variables` one-to-one. Received a list of %d gradients, but the "
                                 "optimizer is tracking %d trainable variables."
                                 % (len(grads), len(self._trainable_variables)))
            trainable_variables = self._trainable_variables
        pairs = list(zip(grads, trainable_variables))
        missing = [v.name for g, v in pairs if g is None]
        pairs = [(g, v) for g, v in pairs if g is not None]
        if not pairs:
            raise ValueError("No gradients provided for any variable.")
        if missing:
            warnings.warn("Gradients do not exist for variables %s when minimizing the loss." % missing, stacklevel=2)
        grads, variables = zip(*pairs)
        key = tuple(id(v) for v in variables)
        if key not in self._eager_steps:
            from mlcore.function import function
            inputs = [TensorType(v.dtype, v.type.shape)("grad_" + (v.name or "")) for v in variables]
            # numpy's float64 gradients (and Python lists) are taken as their variable's dtype, as Keras casts them
            self._eager_steps[key] = function(inputs, [], updates=constrained(self.get_updates(variables, inputs)),
                                              allow_input_downcast=True)
        self._eager_steps[key](*grads)

    def stateless_apply(self, optimizer_variables, grads, trainable_variables):
        """Keras 3's (jax): (new trainable values, new optimizer variable values) after one step from
        these values, computed as jax arrays and assigned to nothing (mlcore/stateless.py)."""
        from mlcore import stateless
        return stateless.optimizer_apply(self, optimizer_variables, grads, trainable_variables)

    def __getstate__(self):
        return {**self.__dict__, "_eager_steps": {}}

    def _apply(self, grads, variables):
        grads = self._clip_gradients(grads)
        learning_rate = self._current_learning_rate(self._iterations)
        self._apply_weight_decay(variables, learning_rate)
        self._backend_update_step(grads, variables, learning_rate)

    def _apply_weight_decay(self, variables, learning_rate):
        """Decoupled weight decay before the update: w <- w - w * weight_decay * lr."""
        for variable in variables:
            rate = self._weight_decay_rate(variable)
            if rate is not None and self._use_weight_decay(variable):
                value = self.current(variable)
                self.assign(variable, value - value * rate * ew.cast(learning_rate, variable.dtype))

    def _weight_decay_rate(self, variable):
        """The decay for this variable (Muon has one for its matrices, another for the rest)."""
        return self.weight_decay

    def _backend_update_step(self, grads, variables, learning_rate):
        for grad, variable in zip(grads, variables):
            self.update_step(grad, variable, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        raise NotImplementedError

    def _overwrite_with_gradients(self, pairs):
        """Assign each overwrite_with_gradient variable its gradient, unscaled and unclipped (float8
        training's scales); with gradient accumulation, the largest gradient of the cycle, at its end."""
        for variable, grad in pairs:
            if not self.gradient_accumulation_steps:
                self.assign(variable, grad)
                continue
            is_update = ew.eq(ew.mod(self._iterations + 1, self.gradient_accumulation_steps), 0)
            accumulator = self._accumulated_gradients[self._get_variable_index(variable)]
            largest = ew.maximum(grad, accumulator)
            self.assign(variable, ew.switch(is_update, largest, variable))
            self.assign(accumulator, ew.switch(is_update, ew.zeros_like(accumulator), largest))

    def _accumulate_and_apply(self, grads, variables):
        """Every step adds the gradient to an accumulator; every n-th applies their mean (Keras's rule)."""
        steps = self.gradient_accumulation_steps
        is_update = ew.eq(ew.mod(self._iterations + 1, steps), 0)
        accumulators = [self._accumulated_gradients[self._get_variable_index(v)] for v in variables]
        self._apply([(g + acc) / steps for g, acc in zip(grads, accumulators)], variables)
        for variable, value in list(self._values.values()):
            self.assign(variable, ew.switch(is_update, value, variable))
        for g, acc in zip(grads, accumulators):
            self.assign(acc, ew.switch(is_update, ew.zeros_like(acc), acc + g))

    def _update_moving_averages(self):
        not_first_step = ew.cast(ew.neq(self.iterations, 0), config.floatx())
        momentum = not_first_step * self.ema_momentum
        for variable, average in zip(self._trainable_variables, self._model_variables_moving_average):
            new_average = self.assign(average, momentum * average + (1 - momentum) * self.current(variable))
            if self.ema_overwrite_frequency:
                overwrite = ew.eq(ew.mod(self.iterations + 1, self.ema_overwrite_frequency), 0)
                self.assign(variable, ew.switch(overwrite, new_average, self.current(variable)))

    def finalize_variable_values(self, var_list):
        """With use_ema, copy the moving averages into the model variables (end of fit)."""
        if self.use_ema and self.built:
            for variable in var_list:
                average = self._model_variables_moving_average[self._get_variable_index(variable)]
                variable.set_value(average.get_value())

    # --- clipping and weight decay ---------------------------------------------------------------
    def _clip_gradients(self, grads):
        if self.clipnorm and self.clipnorm > 0:
            return [self._clip_by_norm(g) for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0:
            return clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue and self.clipvalue > 0:
            return [ew.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def _clip_by_norm(self, values):
        l2sum = sum_(ew.sqr(values), keepdims=True)
        positive = ew.gt(l2sum, 0)
        l2norm = ew.switch(positive, ew.sqrt(ew.switch(positive, l2sum, 1)), l2sum)
        return values * self.clipnorm / ew.maximum(l2norm, self.clipnorm)

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Exempt variables, or those whose names contain one of var_names, from weight decay."""
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the optimizer is built.")
        self._exclude_ids = {id(v) for v in var_list or ()}
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None

    def _use_weight_decay(self, variable):
        if id(variable) in self._exclude_ids:
            return False
        return not (self._exclude_pattern and self._exclude_pattern.search(variable.name or ""))

    # --- configuration ---------------------------------------------------------------------------
    def get_config(self):
        if isinstance(self._learning_rate, LearningRateSchedule):
            learning_rate = schedules.serialize(self._learning_rate)
        elif not isinstance(self._learning_rate, SharedVariable):
            from mlcore.saving import serialize_keras_object
            learning_rate = serialize_keras_object(self._learning_rate)
        else:
            learning_rate = float(self._learning_rate.get_value())
        config = {"name": self.name, "learning_rate": learning_rate, "weight_decay": self.weight_decay,
                  "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
                  "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
                  "ema_overwrite_frequency": self.ema_overwrite_frequency,
                  "loss_scale_factor": self.loss_scale_factor,
                  "gradient_accumulation_steps": self.gradient_accumulation_steps}
        if self.decay:
            config["decay"] = self.decay
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)

    def __repr__(self):
        return "<%s name=%s>" % (type(self).__name__, self.name)


def constrained(updates):
    """The (variable, new value) pairs with each variable's constraint applied to its new value, as
    Keras applies them after each step."""
    return [(w, w.constraint(v)) if getattr(w, "constraint", None) is not None else (w, v) for w, v in updates]


def global_norm(values):
    return ew.sqrt(sum(sum_(ew.sqr(v)) for v in values))


def clip_by_global_norm(values, clip_norm):
    """Scale all gradients together so their joint L2 norm is at most clip_norm (NaN if it is not finite)."""
    norm = global_norm(values)
    scale = clip_norm * ew.minimum(1.0 / norm, 1.0 / clip_norm) + (norm - norm)
    return [v * scale for v in values]


class AppliedSteps(Variable):
    """`iterations` under gradient accumulation, as Keras's `_iterations // steps`: a graph expression, so that
    a step built on it (an update rule, a callable learning rate) reads the count when it runs, which also
    reads as the count now (int(), .numpy(), np.asarray, K.get_value), as Keras's eager tensor does."""

    @classmethod
    def of(cls, counter, steps):
        count = ew.int_div(counter, steps)
        count.__class__ = cls       # the node's own output, given the reading methods below
        return count

    def numpy(self):
        from mlcore.ops.eager import evaluate
        return evaluate(self)

    get_value = numpy

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.numpy(), dtype=dtype)

    def __int__(self):
        return int(self.numpy())

    def __float__(self):
        return float(self.numpy())

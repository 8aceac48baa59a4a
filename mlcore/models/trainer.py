"""compile / fit / evaluate / predict: Keras's training API on compiled graph functions.

The whole training step (forward, loss, gradients, optimizer and
BatchNormalization updates, constraints, the metrics' state updates and results)
is one function compiled once on the current backend.  With steps_per_execution=k,
k steps run in one call (a lax.scan on jax).  The loss is accumulated in Python as
a sample-weighted mean; the metrics keep their state in variables, reset before
each epoch and evaluation, as Keras does.
"""
import warnings

import numpy as np

from mlcore import config
from mlcore.models import custom_steps, data_adapters
from mlcore.models.functional_inputs import step_inputs
from mlcore.models.step_functions import StepBuilder
from mlcore.tree import flatten, pack_sequence_as


class NotCompiledError(RuntimeError, ValueError):
    """Training or evaluating before compile(): Keras 2 raised a RuntimeError, Keras 3 a ValueError;
    code written for either catches this one."""


class Trainer:
    """Mixed into Model: the Keras training and inference methods."""

    optimizer = None
    compiled = False
    run_eagerly = False
    jit_compile = True
    stop_training = False
    history = None

    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True,
                backend=None, device=None):
        """Configure training.  backend=/device= (mlcore's) pick where the steps compile;
        by default mlcore.config's backend and device.  Under the "mixed_float16" policy the optimizer
        is wrapped in a LossScaleOptimizer (unless auto_scale_loss=False), as Keras does, so that small
        float16 gradients do not underflow to 0."""
        from mlcore import optimizers
        self._compile_config = dict(optimizer=optimizer, loss=loss, loss_weights=loss_weights, metrics=metrics,
                                    weighted_metrics=weighted_metrics, steps_per_execution=steps_per_execution,
                                    backend=backend, device=device)
        self._compiled_optimizer = self.optimizer = optimizers.get(optimizer)
        scales_loss = auto_scale_loss and self.dtype_policy.name == "mixed_float16"
        if scales_loss and self.optimizer is not None and not isinstance(self.optimizer, optimizers.LossScaleOptimizer):
            self.optimizer = optimizers.LossScaleOptimizer(self.optimizer, name="loss_scale_optimizer")
        self.loss = loss
        self.steps_per_execution = max(1, int(steps_per_execution))
        self.run_eagerly = bool(run_eagerly)     # Keras's attributes; mlcore's steps are always compiled graphs
        self.jit_compile = not self.run_eagerly and jit_compile in ("auto", True)
        self._steps = StepBuilder(self, loss, loss_weights, metrics, weighted_metrics, backend, device)
        self.compiled = True

    def get_compile_config(self):
        """The compile() arguments, with the optimizer given to compile as its config (Keras 3's API)."""
        config_ = dict(self._compile_config)
        optimizer = self._compiled_optimizer
        config_["optimizer"] = {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
        return config_

    def compile_from_config(self, config):
        """compile(**config), unless the model's class has its own compile(): as in Keras, loading such a
        model (a Distiller, say) leaves it uncompiled with a warning, since its config may not be the
        arguments that compile() takes."""
        if type(self).compile is not Trainer.compile:
            warnings.warn("`compile()` was not called as part of model loading because the model's `compile()` "
                          "method is custom. All subclassed Models that have `compile()` overridden should also "
                          "override `get_compile_config()` and `compile_from_config(config)`. Alternatively, you "
                          "can call `compile()` manually after loading.", stacklevel=2)
            return
        self.compile(**config)

    def _require_compiled(self, what):
        if not self.compiled:
            raise NotCompiledError("You must call compile() on model '%s' before %s" % (self.name, what))

    def _adapt(self, x, y=None, sample_weight=None, batch_size=None, shuffle=False, steps=None,
               class_weight=None):
        """The batches of what the user passed; dicts keyed as the model's input / output dicts, or by
        input / output names, go in the model's order."""
        if self.built:
            x, y = self._in_model_order(x, y)
        steps = _debug_cap(steps, config.max_steps_per_epoch(), "steps_per_epoch")
        data = data_adapters.adapt(x, y, sample_weight, batch_size, shuffle, steps, class_weight)
        if isinstance(data, data_adapters.BatchData):       # each batch's dicts, once the model is built
            data.arrange = lambda x, y: self._in_model_order(x, y) if self.built else (x, y)
        return data

    def _in_model_order(self, x, y):
        return (_by_name(x, self.inputs, "x", getattr(self, "_input_structure", None)),
                _by_name(y, self.outputs, "y", getattr(self, "_output_structure", None)))

    def _prepare(self, data):
        """Build the graph of a model without input shapes (a Sequential without an input shape, a
        subclassed model) from the first batch; check that arrays fit the model's inputs before
        anything compiles or runs."""
        arrays = data.x if isinstance(data, data_adapters.ArrayData) else None
        if not self.built or (self._subclassed and self._input_structure is None):
            first = arrays if arrays is not None else data.first_x()
            if not first:
                raise ValueError("Model '%s' has no input shape yet and the data has no inputs to build it "
                                 "from; build it first" % self.name)
            self._ensure_built(first)
        if arrays is not None:
            _check_inputs(self, arrays)

    # --- fit -------------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None, sample_weight=None,
            initial_epoch=0, steps_per_epoch=None, validation_steps=None, validation_batch_size=None,
            validation_freq=1, nb_epoch=None, **kwargs):
        """Train for `epochs` epochs; returns a History.  nb_epoch is Keras 1's name for epochs."""
        from mlcore.callbacks import CallbackList
        if kwargs:
            raise TypeError("fit() got unexpected keyword argument(s) %s" % sorted(kwargs))
        self._require_compiled("fit()")
        epochs = nb_epoch if nb_epoch is not None else epochs
        epochs = _debug_cap(epochs, config.max_epochs(), "epochs")
        verbose = 1 if verbose == "auto" else verbose
        data = self._adapt(x, y, sample_weight, batch_size, shuffle, steps_per_epoch, class_weight)
        if validation_split and validation_data is None:
            if not isinstance(data, data_adapters.ArrayData):
                raise ValueError("validation_split is only supported for array inputs, not %s" % type(x).__name__)
            data, val_data = data.split(validation_split)
        else:
            val_data = self._validation_adapter(validation_data, validation_batch_size or batch_size,
                                                validation_steps)
        self._prepare(data)
        cbks = callbacks if isinstance(callbacks, CallbackList) else CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=epochs,
            steps=data.steps)
        self.stop_training = False
        cbks.on_train_begin()
        initial_epoch = self.__dict__.pop("_initial_epoch", None) or initial_epoch   # BackupAndRestore's
        logs = {}
        for epoch in range(initial_epoch, epochs):
            cbks.on_epoch_begin(epoch)
            epoch_logs = self._run_epoch(data, cbks, train=True)
            if not epoch_logs:          # not one batch: a generator that ran dry
                warnings.warn("Your input ran out of data; interrupting training. Make sure that your generator "
                              "can generate at least `steps_per_epoch * epochs` batches (here %s epochs); "
                              "a Sequence (len() and indexing) restarts each epoch" % (epochs - initial_epoch),
                              stacklevel=2)
                break
            logs = epoch_logs
            if val_data is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_data(val_data, cbks)
                logs.update({"val_" + k: v for k, v in val_logs.items()})
            cbks.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        if epochs > initial_epoch:          # use_ema: the moving averages become the weights, as in Keras
            self.optimizer.finalize_variable_values(self.trainable_weights)
        cbks.on_train_end(logs)
        return self.history

    def _validation_adapter(self, validation_data, batch_size, steps):
        if validation_data is None:
            return None
        if isinstance(validation_data, (tuple, list)):      # a list too, as Keras 3 reads it
            if len(validation_data) not in (2, 3):
                raise ValueError("validation_data must be (x_val, y_val) or (x_val, y_val, val_sample_weight); "
                                 "got a %s of %d items" % (type(validation_data).__name__, len(validation_data)))
            return self._adapt(*validation_data, batch_size=batch_size, steps=steps)
        return self._adapt(validation_data, batch_size=batch_size, steps=steps)

    def _run_epoch(self, data, cbks, train):
        """One pass over the data, running k steps per call when steps_per_execution=k.

        A step's results stay where its backend computed them (on jax, a device array that is
        still being computed) until they are read.  With callbacks at each batch they are read at
        once, as the hooks need the logs; otherwise one step late, so that the next step is
        already queued while this one's statistics come back (a small model's loop then waits
        neither on the device nor on Python)."""
        custom = custom_steps.custom_step(self, train)
        if custom is not None:
            return custom_steps.run_epoch(self, custom, data, cbks, train)
        step_fn = self._steps.train if train else self._steps.test
        self._steps.reset_metrics()
        batch_hooks = cbks.calls_batch_hooks(train)
        hook_begin = cbks.on_train_batch_begin if train else cbks.on_test_batch_begin
        hook_end = cbks.on_train_batch_end if train else cbks.on_test_batch_end
        k = self.steps_per_execution if train else 1
        step, unread = 0, None
        for count, batch, padding in _step_groups(data, k, step_fn):
            if batch_hooks:
                hook_begin(step)
            if isinstance(batch, list):   # equal-size batches from a Sequence or generator
                results = step_fn.run_steps(batch)
            elif count > 1:
                results = step_fn.run_stacked(count, *batch, padding)
            else:
                results = step_fn(*batch)
            step += count
            if batch_hooks:
                self._steps.accumulate(results)
                hook_end(step - 1, self._steps.logs())
            else:
                if unread is not None:
                    self._steps.accumulate(unread)
                unread = results
            if train and self.stop_training:
                break
        if unread is not None:
            self._steps.accumulate(unread)
        return self._steps.logs() if step else {}

    # --- evaluate and predict ----------------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False, **kwargs):
        self._require_compiled("evaluate()")
        data = self._adapt(x, y, sample_weight, batch_size, False, steps)
        self._prepare(data)
        logs = self._evaluate_data(data, callbacks, verbose=1 if verbose == "auto" else verbose)
        return self._results(logs, return_dict)

    def _results(self, logs, return_dict):
        """The logs by name (sorted, as Keras on jax gives them), else a float for the loss alone,
        else a list in Keras's order."""
        if return_dict:
            return dict(sorted(logs.items()))
        values = self._steps.ordered_values(logs)
        return values[0] if len(values) == 1 else values

    def _evaluate_data(self, data, callbacks, verbose=0):
        """Run the test step over data; inside fit, callbacks is fit's own CallbackList (as in Keras)."""
        cbks = self._callback_list(callbacks, verbose, data.steps)
        cbks.on_test_begin()
        logs = self._run_epoch(data, cbks, train=False)
        cbks.on_test_end(logs)
        return logs

    def _callback_list(self, callbacks, verbose, steps):
        from mlcore.callbacks import CallbackList
        if isinstance(callbacks, CallbackList):
            return callbacks
        return CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1, steps=steps)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        data = self._adapt(x, None, None, batch_size, False, steps)
        self._prepare(data)
        cbks = self._callback_list(callbacks, 1 if verbose == "auto" else verbose, data.steps)
        cbks.on_predict_begin()
        outputs = []
        for step, (xb, _, _) in enumerate(data.batches()):
            cbks.on_predict_batch_begin(step)
            outs = self._predict_batch(xb)
            outputs.append(outs)
            cbks.on_predict_batch_end(step, {"outputs": outs})
        cbks.on_predict_end()
        if not outputs:
            raise ValueError("predict() got no batches of data")
        return self._as_output_structure([np.concatenate(parts) for parts in zip(*outputs)])

    def _as_output_structure(self, arrays):
        """One array, a list, or for a model whose outputs are a dict, a tuple or a namedtuple (nested ones
        too: the image layers' {"images", "bounding_boxes": {...}}), the same structure of arrays (as Keras)."""
        structure = self._predict_fn[2]
        nested = any(isinstance(s, (dict, list, tuple)) for s in data_adapters.to_list(structure))
        if isinstance(structure, (dict, tuple)) or nested:
            return pack_sequence_as(structure, arrays)
        return arrays[0] if len(arrays) == 1 else arrays

    def _predict_batch(self, x_list):
        """The outputs for one batch of inputs (None for an optional input not given)."""
        return self._predict_function(tuple(x is not None for x in x_list))(*[x for x in x_list if x is not None])

    def _predict_function(self, given):
        """The inference graph (it does not need compile()), compiled once per set of inputs given
        (step_inputs): (graph version, {given: function}, output structure) in _predict_fn."""
        if getattr(self, "_predict_fn", None) is None or self._predict_fn[0] is not self._graph_version():
            self._predict_fn = (self._graph_version(), {}, None)
        functions = self._predict_fn[1]
        if given not in functions:
            from mlcore.function import function
            from mlcore.layers.base import collect_extras
            inputs, x_vars = step_inputs(self, given)
            with collect_extras() as extras:    # inference updates: a stateful RNN's states
                structure = self.call_for_step(inputs, False)
            backend = self._steps.backend if self.compiled else None
            device = self._steps.device if self.compiled else None
            functions[given] = function(
                x_vars, flatten(structure), updates=extras.updates, backend=backend, device=device,
                allow_input_downcast=True, on_unused_input="ignore", name="%s.predict" % self.name,
                batch_inputs=True)
            self._predict_fn = self._predict_fn[:2] + (structure,)
        return functions[given]

    def _graph_version(self):
        return getattr(self, "_nodes", None)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        self._require_compiled("train_on_batch()")
        data = self._adapt(x, y, sample_weight, _num_rows(x), class_weight=class_weight)
        return self._single_batch(data, self._steps.train, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._require_compiled("test_on_batch()")
        data = self._adapt(x, y, sample_weight, _num_rows(x))
        return self._single_batch(data, self._steps.test, return_dict)

    def _single_batch(self, data, step_fn, return_dict):
        self._prepare(data)
        self._steps.reset_metrics()
        (batch,) = list(data.batches())
        self._steps.accumulate(step_fn(*batch))
        return self._results(self._steps.logs(), return_dict)

    def predict_on_batch(self, x):
        data = self._adapt(x, batch_size=_num_rows(x))
        self._prepare(data)
        return self._as_output_structure(list(self._predict_batch(data.x)))

    @property
    def metrics_names(self):
        return list(self._steps.logs().keys()) if self.compiled else []

    def get_metrics_result(self):
        """The loss and metrics as the last fit, evaluate or train/test_on_batch left them: each of
        self.metrics' result(), as Keras gives them (a custom train_step's state included)."""
        self._require_compiled("get_metrics_result()")
        results = {metric.name: metric.result() for metric in self.metrics}
        return self._results(custom_steps.pythonify_logs(results), return_dict=True)

    def reset_metrics(self):
        """Zero the loss means and the metrics' state (Keras's reset_metrics)."""
        if self.compiled:
            self._steps.reset_metrics()

    # --- weights files ---------------------------------------------------------------------------
    def save_weights(self, filepath, overwrite=True, max_shard_size=None):
        from mlcore.saving import save_weights
        save_weights(self, filepath, overwrite=overwrite, max_shard_size=max_shard_size)

    def load_weights(self, filepath, by_name=False, skip_mismatch=False, conversion="auto", **kwargs):
        from mlcore.saving import load_weights
        load_weights(self, filepath, by_name=by_name, skip_mismatch=skip_mismatch, conversion=conversion, **kwargs)

    def save(self, filepath, overwrite=True, zipped=None, include_optimizer=True, **kwargs):
        from mlcore.models.model_file import save_model
        save_model(self, filepath, overwrite=overwrite, zipped=zipped, include_optimizer=include_optimizer, **kwargs)

    def export(self, filepath, format="tf_saved_model", verbose=None, input_signature=None, **kwargs):
        """Keras's export to a serving format: each needs a runtime mlcore does not run on (TensorFlow,
        ONNX, OpenVINO, LiteRT, torch), so each says so; a format Keras does not know is Keras's error."""
        from mlcore.models.model_file import export_model
        export_model(self, filepath, format)


def _debug_cap(value, limit, name):
    """keras.config.set_max_epochs / set_max_steps_per_epoch: a debugging run's cap on epochs or
    steps (an unset step count too), with Keras's warning."""
    if limit and (value is None or limit < value):
        warnings.warn("Limiting %s to %d" % (name, limit), stacklevel=3)
        return limit
    return value


def _by_name(value, tensors, what, structure=None):
    """Arrays given as {key: array} listed in the order of the model's input or output tensors: keyed as
    the dict the model was made with (Model(inputs={"a": ...})), or by the tensors' layer names."""
    if not isinstance(value, dict):
        return value
    if isinstance(structure, dict) and sorted(value) == sorted(structure):
        return flatten({key: value[key] for key in structure})
    names = [t.tag["keras_history"][0].name for t in tensors]
    if sorted(value) != sorted(names):
        raise ValueError("%s given as a dict must have one entry per model %s, keyed %s; got keys %s"
                         % (what, "input" if what == "x" else "output", names, sorted(value)))
    return [value[name] for name in names]


def _num_rows(x):
    """The number of samples in x, one batch of arrays (None for an optional input)."""
    return data_adapters.num_rows(data_adapters.to_list(x))


def _check_inputs(model, arrays):
    """Keras's input check: as many arrays as inputs, each of the input's rank and known dims (its batch
    size free, as in Keras), None only for an optional input."""
    if len(arrays) != len(model.inputs):
        raise ValueError("Model '%s' expects %d input array(s), for %s; got %d"
                         % (model.name, len(model.inputs), [t.tag["keras_history"][0].name for t in model.inputs],
                            len(arrays)))
    model._check_required(arrays)
    for k, (tensor, array) in enumerate(zip(model.inputs, arrays)):
        if array is None:
            continue
        expected = tensor.type.shape
        if array.ndim != len(expected) or any(e is not None and e != d for e, d in zip(expected[1:], array.shape[1:])):
            raise ValueError("Input %d of model '%s' is incompatible: expected shape %s, got an array of shape %s"
                             % (k, model.name, expected, array.shape))


def _step_groups(data, k, step_fn):
    """(count, batch, padding) per call: in-memory arrays as gathered runs of k batches
    (ArrayData.groups; the short last batch padded into the last run where the step allows it),
    other data as lists of k batches of equal size (count 1: a plain batch)."""
    groups = None
    if k > 1 and isinstance(data, data_adapters.ArrayData):
        pad = bool(data.y) and data.n % data.batch_size != 0 and step_fn.pads_short_batches(data.y, data.x)
        groups = data.groups(k, pad)
    if groups is not None:
        yield from groups
        return
    for group in _grouped(data.batches(), k):
        yield (len(group), group, 0) if len(group) > 1 else (1, group[0], 0)


def _grouped(batches, k):
    """Groups of k consecutive batches of equal size (a smaller last batch runs alone)."""
    group = []
    for batch in batches:
        if group and (len(group) == k or data_adapters.num_rows(batch[0]) != data_adapters.num_rows(group[0][0])):
            yield group
            group = []
        group.append(batch)
    if group:
        yield group

"""Building and running the compiled train and test steps of a compiled model."""
import warnings

import numpy as np

from mlcore.graph import ops
from mlcore.graph.basic import TensorType
from mlcore.graph.gradient import grad
from mlcore.keras_masks import get_keras_mask, set_keras_mask
from mlcore.layers.base import collect_extras, flatten
from mlcore.layers.tracking import training_scope
from mlcore.losses import Loss, apply_mask, squeeze_or_expand_to_same_rank
from mlcore.losses.classes import loss_mask
from mlcore.models import custom_loss
from mlcore.models.compiled_losses import output_losses, per_output
from mlcore.models.data_adapters import num_rows
from mlcore.models.functional_inputs import step_inputs
from mlcore.optimizers.base import constrained


def output_keys(model):
    """What losses, metrics, target dicts and logs call each output: the keys of the dict of outputs a
    model was made with (as Keras: Model(x, {"out": ...}) logs "out_loss"), else the output layers' names."""
    structure = getattr(model, "_output_structure", None)
    if isinstance(structure, dict) and len(structure) == len(model.outputs):
        return sorted(structure)                        # the order of model.outputs (tree.flatten's)
    return [t.tag["keras_history"][0].name for t in model.outputs]


def _is_sparse(loss_fn):
    """Whether a loss takes class indices (every one of an output's several losses, compiled_losses.py)."""
    if hasattr(loss_fn, "losses"):
        return all(_is_sparse(f) for f in loss_fn.losses)
    name = getattr(loss_fn, "__name__", "") or type(loss_fn).__name__
    return "sparse" in name.lower()


def _reads_label_sequences(loss_fn):
    """Whether a loss takes targets of their own shape (CTC's label sequences), left as given."""
    return getattr(getattr(loss_fn, "fn", loss_fn), "label_sequences", False)


def _check_target(y, pred, sparse, name):
    """Keras's losses need targets shaped as the output (labels, for sparse ones): a (n, 2) target for
    a (n, 1) output would otherwise broadcast into a wrong loss without a word.  A target dim of 1
    broadcasts over the output's, as Keras lets it (its callbacks' examples fit (n,) zeros to Dense(10))."""
    expected = pred.type.shape[:-1] if sparse else pred.type.shape
    if y.ndim != len(expected) or any(e is not None and e != d and (sparse or d != 1)
                                      for e, d in zip(expected[1:], y.shape[1:])):
        raise ValueError("Output '%s' has shape %s, so its targets must have shape %s%s; got an array of shape %s"
                         % (name, pred.type.shape, expected, " (class indices)" if sparse else "", y.shape))


def _labels(y, pred):
    """Class indices (an array or a graph variable) as the sparse losses take them: (n,) of (n, 1)."""
    return y[..., 0] if y.ndim == pred.ndim and y.shape[-1] == 1 else y


def _loss_dtype(dtype):
    """What the losses and metrics of an output of this dtype compute in: float32 for a mixed-precision
    model's float16 or bfloat16 outputs (Keras's losses cast to their float32), else its own."""
    return "float32" if dtype in ("float16", "bfloat16") else dtype


def _for_losses(pred):
    """An output in its loss dtype, its mask (which the losses weigh by) kept."""
    cast = ops.cast(pred, _loss_dtype(pred.dtype))
    if cast is not pred and get_keras_mask(pred) is not None:
        set_keras_mask(cast, get_keras_mask(pred))
    return cast


def _from_mlcore(obj, *packages):
    """Whether a loss or metric (function, class instance) is one of mlcore's own, from these packages."""
    module = obj.__module__ if callable(obj) and hasattr(obj, "__name__") else type(obj).__module__
    return any(module == p or module.startswith(p + ".") for p in packages)


def _one_vector(values, dtype):
    """Scalars and arrays of static shape as one vector, for one transfer to the host a step."""
    values = [ops.cast(v, dtype) for v in values]
    if all(v.ndim == 0 for v in values):
        return ops.stack(values)
    return ops.concatenate([ops.reshape(v, (int(np.prod(v.type.shape)),)) for v in values])


def _mean_loss(values, pred, sample_weight, batch):
    """A loss function's per-sample (or per-step) values as the output's loss: weighted, summed and
    divided by the batch size, as Keras reduces them (sum_over_batch_size); masked entries leave the
    mean, as Keras's apply_mask has them."""
    mask = loss_mask(pred, values)
    if mask is not None:
        float_mask, values = squeeze_or_expand_to_same_rank(apply_mask(None, mask, values.dtype, "sum_over_batch_size"),
                                                            values)
        values = values * float_mask
    if values.ndim > 1:
        values = ops.mean(values, axis=list(range(1, values.ndim)))
    return ops.sum_(values * sample_weight) / batch


def _rowwise(layer):
    """Whether each sample's output depends on that sample alone: mlcore's row-wise layers, and
    graph models of them (a user's subclass may compute anything in call)."""
    from mlcore.models.functional import Model
    if not type(layer).__module__.startswith("mlcore."):
        return False
    if isinstance(layer, Model):
        return bool(layer._nodes) and type(layer).call is Model.call and all(_rowwise(l) for l in layer.layers)
    return layer.rowwise


class StepBuilder:
    """Compiles the train/test step graphs on first use and accumulates their losses and metrics."""

    def __init__(self, model, loss, loss_weights, metrics, weighted_metrics, backend, device):
        from mlcore import losses
        self.model = model
        self.specs = (loss, loss_weights, metrics, weighted_metrics)
        for spec in flatten(loss):
            losses.get(spec)  # unknown names fail in compile(), as in Keras (no loss: a custom train_step's model)
        self.output_names = None
        self.own_loss = custom_loss.has_own_compute_loss(model)     # the model's compute_loss replaces compile()'s
        self.backend, self.device = backend, device
        self.train = CompiledStep(self, training=True)
        self.test = CompiledStep(self, training=False)
        self.metrics = None         # a CompiledMetrics, made with the first step graph
        self.totals = None
        self.custom_steps = {}      # the model's own train_step / test_step under jax.jit (custom_steps.py)

    # --- graph construction ----------------------------------------------------------------------
    def resolve(self):
        """Per-output losses, weights and metrics, once the model's outputs are known."""
        if self.output_names is not None:
            return
        loss, loss_weights, metrics, weighted_metrics = self.specs
        names = output_keys(self.model)
        self.output_names = names
        dict_outputs = isinstance(getattr(self.model, "_output_structure", None), dict)
        self.loss_fns, self.loss_weights = output_losses(loss, loss_weights, names, dict_outputs)
        self.loss_names = [n for n, f in zip(names, self.loss_fns) if f is not None]    # outputs with a loss
        # the order Keras lists their losses in: a dict of losses for dict outputs is read in its own order
        self.listed_loss_names = [n for n in loss if n in self.loss_names] if dict_outputs and \
            isinstance(loss, dict) else self.loss_names
        self.sparse_targets = [_is_sparse(f) for f in self.loss_fns]     # read by adapt_targets every step
        self.checked_targets = [_from_mlcore(f, "mlcore.losses") for f in self.loss_fns]
        self.metric_specs = per_output(metrics or [], names, "metrics")
        self.weighted_specs = per_output(weighted_metrics or [], names, "weighted_metrics")

    def adapt_targets(self, y_list):
        """Check the targets against the outputs: a (n,) target of a (n, 1) output gets its last axis;
        labels go to the step as given (loss_targets squeezes them for the sparse losses there)."""
        self.resolve()
        if not y_list:
            if self.loss_names:
                raise ValueError("Training and evaluation need targets y")
            return []           # no loss to compare with targets: the model's own (add_loss) is the loss
        if len(y_list) != len(self.model.outputs):
            raise ValueError("Model '%s' has %d output(s) but %d target array(s) were given"
                             % (self.model.name, len(self.model.outputs), len(y_list)))
        if self.own_loss:       # its compute_loss gets the targets as given, as in Keras
            return [y if hasattr(y, "ndim") else np.asarray(y) for y in y_list]
        out = []
        for y, pred, sparse, checked, name in zip(y_list, self.model.outputs, self.sparse_targets,
                                                  self.checked_targets, self.output_names):
            y = y if hasattr(y, "ndim") else np.asarray(y)      # numpy data, or jax values (stateless_model)
            if _reads_label_sequences(self.loss_fns[len(out)]):
                out.append(y)
                continue
            if not sparse and y.ndim == pred.ndim - 1:
                y = y[..., None]
            if checked:
                _check_target(_labels(y, pred) if sparse else y, pred, sparse, name)
            out.append(y)
        return out

    def loss_targets(self, y_vars, preds):
        """The targets as each loss takes them: (n,) labels for a sparse loss; the metrics get the labels
        as given, (n, 1) ones too, as in Keras."""
        return [_labels(y, p) if sparse and not _reads_label_sequences(f) else y
                for f, sparse, y, p in zip(self.loss_fns, self.sparse_targets, y_vars, preds)]

    def target_type(self, k, y):
        """The type of output k's targets, for arrays like y: class indices (int64) for a
        sparse loss, else the output's loss dtype (an own compute_loss's integer targets keep
        their dtype); any batch size."""
        if self.own_loss and y.dtype.kind in "iub":
            return TensorType(y.dtype.name, (None,) + tuple(y.shape[1:]))
        dtype = "int64" if self.sparse_targets[k] else _loss_dtype(self.model.outputs[k].dtype)
        return TensorType(dtype, (None,) + tuple(y.shape[1:]))

    def loss_values(self, y_vars, preds):
        """Each loss function's values, None for a Loss object (it weighs and reduces its values
        itself, as Keras's Loss.__call__)."""
        return [None if f is None or isinstance(f, Loss) else f(y, p)
                for f, y, p in zip(self.loss_fns, self.loss_targets(y_vars, preds), preds)]

    def compiled_loss(self, y_vars, preds, sw_vars, batch, values=None):
        """(compile()'s loss: each output's loss weighted and summed, [each output's loss]); batch
        is the number of samples the means divide by.  Outputs without a loss (None) have no term."""
        values = self.loss_values(y_vars, preds) if values is None else values
        terms = [(w, f(y, p, sample_weight=sw) if v is None else _mean_loss(v, p, sw, batch))
                 for f, w, v, y, p, sw in zip(self.loss_fns, self.loss_weights, values,
                                              self.loss_targets(y_vars, preds), preds, sw_vars) if f is not None]
        return sum(w * l for w, l in terms), [l for _, l in terms]

    def make_metrics(self, y_vars, preds):
        """compile()'s metric objects (a CompiledMetrics), made once, for targets and outputs of these types."""
        from mlcore.models.compiled_metrics import CompiledMetrics
        if self.metrics is None:
            own = custom_loss.held_metrics(self.model) if self.own_loss else ()
            self.metrics = CompiledMetrics(self.metric_specs, self.weighted_specs, self.output_names, self.loss_fns,
                                           y_vars, preds, own)

    def build(self, training, y_list, given):
        """The step, built as traced code (tracing() holds throughout, as in Keras's jitted step: a
        regularizer's or a schedule's `variable == 0` is the graph's comparison, not today's value)."""
        with training_scope(None):      # None: the layers' own training defaults
            return self._build(training, y_list, given)

    def _build(self, training, y_list, given):
        """(step function, whether it pads short batches).  Inputs: x (of any batch size; none
        for the inputs given as None, given[k] false: step_inputs), y, sample weights, and where it
        pads, the row mask (1 for a real row, 0 for a padding copy); outputs: loss, batch size,
        metric values (each metric's result after this batch)."""
        from mlcore.function import Out, function
        model = self.model
        inputs, x_vars = step_inputs(model, given)
        y_vars = [self.target_type(i, y)("%s_target" % n) for i, (y, n) in enumerate(zip(y_list, self.output_names))]
        sw_vars = [TensorType(_loss_dtype(model.outputs[0].dtype), (None,))("%s_sample_weight" % n)
                   for n in self.output_names[:len(y_vars)]]
        with collect_extras() as extras:
            preds = [_for_losses(p) for p in flatten(model.call_for_step(inputs, training))]
            if self.own_loss:   # inside: the layers its compute_loss calls (a feature extractor) update too
                total, own_updates, own_results = custom_loss.trace(model, inputs, y_vars, preds, sw_vars, training)
        values = self.loss_values(y_vars, preds)
        self.make_metrics(y_vars, preds)
        pads = not self.own_loss and self._pads_short_batches(values, preds, extras)
        rows = TensorType(preds[0].dtype, (None,))("rows") if pads else None
        batch = ops.sum_(rows) if pads else ops.cast(preds[0].shape[0], preds[0].dtype)
        if self.own_loss:
            out_losses = []
        else:
            total, out_losses = self._compiled_total(y_vars, preds, sw_vars, batch, values, extras)
            own_updates, own_results = [], []
        updates, metric_values = self.metrics.trace(y_vars, preds, sw_vars, rows, own_results)
        updates += own_updates
        outputs = _one_vector([total, batch] + (out_losses if len(out_losses) > 1 else []) + metric_values,
                              preds[0].dtype)
        params = model.trainable_weights if training else []
        if training and not params:     # as Keras: the step computes the loss and metrics, and moves nothing
            warnings.warn("The model does not have any trainable weights.", stacklevel=2)
        if params:
            self.model.optimizer.build(params)   # first: a LossScaleOptimizer's scale is a variable made in build
            # as Keras: get_updates unscales them; a weight no loss reaches (loss=None for its output) gets zeros
            grads = grad(self.model.optimizer.scale_loss(total), params, disconnected_inputs="ignore")
            updates = constrained(updates + list(self.model.optimizer.get_updates(params, grads)) + extras.updates)
        else:
            updates += extras.updates       # what layers update at inference too (a stateful RNN's states)
        # borrow: the statistics stay on the device until fit reads them (trainer._run_epoch)
        return function(x_vars + y_vars + sw_vars + ([rows] if pads else []), Out(outputs, borrow=True),
                        updates=updates, backend=self.backend, device=self.device, allow_input_downcast=True,
                        on_unused_input="ignore", name="%s.%s_step" % (model.name, "train" if training else "test"),
                        batch_inputs=True), pads

    def _compiled_total(self, y_vars, preds, sw_vars, batch, values, extras):
        """(compile()'s loss plus the layers' penalties, [each output's loss])."""
        total, out_losses = self.compiled_loss(y_vars, preds, sw_vars, batch, values)
        penalties = self.model._symbolic_losses() + extras.losses
        if not out_losses and not penalties:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        for penalty in penalties:
            total = total + penalty
        return total, out_losses

    def _pads_short_batches(self, loss_values, preds, extras):
        """Whether a short batch may run as a full one padded with copies of its rows, weighted 0
        and left out of the batch size: one XLA program then serves every batch of an epoch (a
        second compile of the Sonar step took 0.3 s, a quarter of its fit).  Only where the
        padding cannot change a number: a backend that compiles per shape, a model of mlcore's
        row-wise layers without activity losses or masks, mlcore's own per-sample losses and metrics."""
        from backends import get_backend
        from mlcore import config
        if not get_backend(self.backend).compiles_per_shape(self.device or config.device()):
            return False
        if not _rowwise(self.model) or extras.losses:
            return False
        if not all(v is not None and _from_mlcore(f, "mlcore.losses") and v.ndim >= 1 and loss_mask(p, v) is None
                   for f, v, p in zip(self.loss_fns, loss_values, preds)):
            return False
        return all(_from_mlcore(metric, "mlcore.metrics") and _from_mlcore(getattr(metric, "_fn", metric),
                                                                         "mlcore.metrics", "mlcore.losses")
                   for metric in self.metrics.metrics)

    def ordered_values(self, logs):
        """evaluate()'s and train_on_batch()'s list, in Keras 3's order: the loss, the metrics
        found in the logs under their own names (a single output's: a name shared by a metric and
        a weighted metric comes twice, as in Keras), each output's loss, then the other logs
        sorted by name (a multi-output model's metrics)."""
        names = ["loss"] + ([*self.metrics.base_names, *(m.name for m in self.metrics.own_metrics)]
                            if self.metrics else [])
        names += ["%s_loss" % n for n in self.listed_loss_names] if len(self.loss_names) > 1 else []
        return [logs[n] for n in names if n in logs] + [logs[k] for k in sorted(logs) if k not in names]

    # --- loss and metric accumulation ------------------------------------------------------------
    def reset_metrics(self):
        """Zero the loss means and the metrics' state, as Keras does before each epoch, evaluation
        and single-batch call."""
        self.resolve()
        self.totals = {"loss": [0.0, 0.0]}
        for name in self.loss_names if len(self.loss_names) > 1 else []:     # Keras logs them where several
            self.totals["%s_loss" % name] = [0.0, 0.0]
        if self.metrics is not None:
            self.metrics.reset()

    def accumulate(self, outputs):
        """Add one step's (or a stack of steps') vector of loss, batch size and per-output losses to
        the running means (a few numbers a step: plain Python is quickest), and take the metric
        values the last step gave."""
        losses = len(self.totals)
        width = losses + 1 + (self.metrics.width if self.metrics else 0)
        rows = np.asarray(outputs, dtype="float64").reshape(-1, width).tolist()
        for row in rows:
            batch = row[1]
            for total, value in zip(self.totals.values(), row[:1] + row[2:losses + 1]):
                total[0] += value * batch     # losses are batch means: weigh them by the batch size
                total[1] += batch
        if self.metrics is not None:
            self.metrics.read(rows[-1][losses + 1:])

    def logs(self):
        """The means so far: loss, each output's loss, then the metrics in compile() order
        (the order evaluate() returns them in, as Keras does)."""
        logs = {name: (t / n if n else 0.0) for name, (t, n) in (self.totals or {"loss": [0, 0]}).items()}
        if self.metrics is not None:
            logs.update(self.metrics.logs())
        return logs


class CompiledStep:
    """One kind of step (train or test); compiled on first call per target ranks and dtypes, and
    per set of inputs given (an optional one may be None).

    Where the builder allows it (_pads_short_batches), a batch smaller than one already run goes
    as that larger batch, padded with copies of its rows, so that jax compiles no new program."""

    def __init__(self, builder, training):
        self.builder = builder
        self.training = training
        self.functions = {}
        self.sizes = []        # batch sizes run so far (where the step pads)
        self.ones = np.ones(0, dtype="float32")

    def _function(self, x_list, y_list):
        """(function, whether it pads) for these inputs given or None, and targets of these ranks and dtypes."""
        given = tuple(x is not None for x in x_list)
        key = (given, tuple((y.ndim, y.dtype.kind) for y in y_list))
        if key not in self.functions:
            self.functions[key] = self.builder.build(self.training, y_list, given)
        return self.functions[key]

    def pads_short_batches(self, y_list, x_list=None):
        """Whether the step for these targets and inputs (None for an optional one not given; by default
        every input given) pads short batches."""
        x_list = self.builder.model.inputs if x_list is None else x_list
        return self._function(x_list, self.builder.adapt_targets(y_list))[1]

    def _unit_weights(self, n):
        """Sample weights of 1 for a batch of n, made once per batch size (read-only: shared by steps)."""
        if len(self.ones) != n:
            self.ones = np.ones(n, dtype="float32")
            self.ones.flags.writeable = False
        return self.ones

    def _arguments(self, x_list, y_list, sw_list, padding=0, single=False):
        """(function, arguments) for a batch whose last `padding` rows are copies of others
        (ArrayData.groups); a single batch smaller than one run before is padded here."""
        y_list = self.builder.adapt_targets(y_list)
        function, pads = self._function(x_list, y_list)
        x_list, n = [x for x in x_list if x is not None], num_rows(x_list)
        if not sw_list:
            sw_list = [self._unit_weights(n)] * len(y_list)
        elif len(sw_list) == 1 and len(y_list) > 1:
            sw_list = sw_list * len(y_list)
        arrays = list(x_list) + list(y_list) + list(sw_list)
        if not pads:
            return function, arrays
        if single:
            size = self._run_size(n)
            if size > n:
                take = np.arange(size) % n
                arrays = [np.asarray(a)[take] for a in arrays]
                padding, n = size - n, size
        rows = self._unit_weights(n)
        if padding:
            rows = np.concatenate([rows[padding:], np.zeros(padding, rows.dtype)])
            first_weight = len(arrays) - len(sw_list)
            arrays[first_weight:] = [np.asarray(sw, rows.dtype) * rows for sw in arrays[first_weight:]]
        return function, arrays + [rows]

    def _run_size(self, n):
        """The smallest batch size run so far that holds n rows (n itself, remembered, if none)."""
        larger = [size for size in self.sizes if size > n]
        if larger:
            return min(larger)
        if n not in self.sizes:
            self.sizes.append(n)
        return n

    def __call__(self, x_list, y_list, sw_list):
        function, args = self._arguments(x_list, y_list, sw_list, single=True)
        return function(*args)

    def run_steps(self, group):
        """Run a group of equal-size batches in one call (steps_per_execution)."""
        prepared = [self._arguments(*batch) for batch in group]
        stacked = [np.stack(parts) for parts in zip(*(args for _, args in prepared))]
        return prepared[0][0].run_steps(*stacked)

    def run_stacked(self, count, x_list, y_list, sw_list, padding=0):
        """Run `count` batches given as one block of rows (ArrayData.groups) in one call."""
        function, args = self._arguments(x_list, y_list, sw_list, padding)
        return function.run_steps(*[a.reshape((count, -1) + a.shape[1:]) for a in args])

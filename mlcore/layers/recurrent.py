"""Recurrent cells (SimpleRNNCell, LSTMCell, GRUCell) and the RNN layer that loops a cell over time.

An RNN runs a built-in cell in two parts, as cuDNN's formulation does: the inputs of all time steps
are projected by the kernel in one matmul outside the loop (project_inputs), and only the recurrence,
one matmul by the recurrent kernel per step, runs inside mlcore.scan (step). The scan's gradient is
backpropagation through time, a scan running backwards (mlcore/graph/ops/scan_grad.py).
Weights are Keras 3's: kernel (input_dim, gates * units), recurrent_kernel (units, gates * units)
and bias, with the gates in Keras's order (LSTM i, f, c, o; GRU z, r, h), so weight files interoperate.
"""
import numpy as np

from mlcore import activations, constraints, initializers, regularizers
from mlcore.graph import ops
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.scan import scan
from mlcore.keras_masks import over_trailing_axes
from mlcore.layers.base import KernelBiasOptions, Layer, Weight
from mlcore.layers.convolutional import check_rank
from mlcore.utils.rng import layer_streams

# The options every built-in cell has, by their Keras names (the layers read them through their cell).
CELL_OPTIONS = ("units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
                "bias_initializer", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout",
                "seed")


def build_sublayer(owner, layer, input_shape):
    """Build a layer that owner holds, its weights' paths under owner's name as Keras names them
    (lstm/lstm_cell/kernel; unique within a weights file's layer group)."""
    if not layer.built:
        layer.build(input_shape)
        layer.built = True
    for weight in layer.weights:
        weight.path = "%s/%s" % (owner.name, weight.path)


def _where_kept(keep, new, old):
    """new where a sample's step is real (keep, one bool per sample), else old."""
    return ops.switch(over_trailing_axes(keep, new.ndim), new, old)


def _over_time(mask, ndim):
    """A (batch, features) mask broadcast over the time axis of (batch, time, features) inputs."""
    return mask if ndim == 2 else ops.dimshuffle(mask, 0, "x", 1)


class RecurrentCell(KernelBiasOptions, Layer):
    """What SimpleRNNCell, LSTMCell and GRUCell share: Keras's weight options, the dropout masks (drawn
    once per sequence and kept for all its steps, as Keras does) and the two halves of a step."""
    rowwise = True
    gates = 1       # blocks of `units` columns in the kernels

    def __init__(self, units, activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
                 kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                 recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed, implementation=2,
                 **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError("Received an invalid value for argument `units`, expected a positive integer, "
                             "got %r." % (units,))
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.set_kernel_bias_options({}, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                                     None, kernel_constraint, bias_constraint)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        # Keras's implementation 1, which recurrent dropout forces, draws a dropout mask per gate.
        self.implementation = 1 if self.recurrent_dropout else implementation
        self.seed = seed
        self.streams = layer_streams(seed)
        self.state_size = self.units
        self.output_size = self.units

    # --- weights -------------------------------------------------------------------------------------
    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError("%s '%s': the last dim of the inputs must be known, got shape %s"
                             % (type(self).__name__, self.name, tuple(input_shape)))
        width = self.gates * self.units
        self.kernel = self.add_weight((input_dim, width), self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight((self.units, width), self.recurrent_initializer,
                                                name="recurrent_kernel", regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = self.add_weight(self.bias_shape(), self.bias_initial_value(), name="bias",
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.built = True

    def bias_shape(self):
        return (self.gates * self.units,)

    def bias_initial_value(self):
        return self.bias_initializer

    def input_bias(self):
        """The bias added to the input projection (GRU with reset_after has a second, recurrent one)."""
        return self.bias

    def block(self, matrix, gate):
        """The columns of one gate in a kernel."""
        return matrix[:, gate * self.units:(gate + 1) * self.units]

    # --- dropout -------------------------------------------------------------------------------------
    def dropout_masks(self, inputs, state, training):
        """(input masks, recurrent masks) for one sequence: None without dropout, else a list of (batch,
        features) masks, one per gate under Keras's implementation 1, one for all gates otherwise."""
        count = self.gates if self.implementation == 1 else 1
        return (self._masks(inputs, self.dropout, count, training),
                self._masks(state, self.recurrent_dropout, count, training))

    def _masks(self, like, rate, count, training):
        if not training or not 0.0 < rate < 1.0:
            return None
        return [self.streams.binomial(like.shape, p=1.0 - rate, dtype=like.dtype) / (1.0 - rate)
                for _ in range(count)]

    # --- the two halves of a step ----------------------------------------------------------------------
    def project_inputs(self, inputs, masks=None):
        """inputs @ kernel + input bias over the last axis, for all the time steps of (batch, time,
        features) inputs at once, or for one step's (batch, features)."""
        if masks is None:
            projected = ops.dot(inputs, self.kernel)
        elif len(masks) == 1:
            projected = ops.dot(inputs * _over_time(masks[0], inputs.ndim), self.kernel)
        else:
            projected = ops.concatenate([ops.dot(inputs * _over_time(m, inputs.ndim), self.block(self.kernel, g))
                                         for g, m in enumerate(masks)], axis=-1)
        bias = self.input_bias()
        return projected if bias is None else projected + bias

    def project_state(self, state, masks, gates):
        """state @ the recurrent kernel's first `gates` blocks, each gate's input masked by its own mask
        under implementation 1."""
        kernel = self.recurrent_kernel if gates == self.gates else self.recurrent_kernel[:, :gates * self.units]
        if masks is None:
            return ops.dot(state, kernel)
        if len(masks) == 1:
            return ops.dot(state * masks[0], kernel)
        return ops.concatenate([ops.dot(state * m, self.block(self.recurrent_kernel, g))
                                for g, m in zip(range(gates), masks)], axis=-1)

    def step(self, projected, states, recurrent_masks=None):
        """(output, new states) of one time step from its projected inputs; the output is the first
        new state itself (the RNN loop relies on it)."""
        raise NotImplementedError

    def call(self, inputs, states, training=None):
        """One step on (batch, features) inputs, as Keras's cell call: (output, new states)."""
        nested = isinstance(states, (list, tuple))
        states = list(states) if nested else [states]
        input_masks, recurrent_masks = self.dropout_masks(inputs, states[0], training)
        output, new_states = self.step(self.project_inputs(inputs, input_masks), states, recurrent_masks)
        return output, new_states if nested or len(new_states) > 1 else new_states[0]

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        return [ops.zeros((batch_size, size), dtype=self.dtype) for size in sizes]

    # --- config --------------------------------------------------------------------------------------
    def options_config(self):
        """The cell's options, which its RNN layer's config repeats (Keras's LSTM config holds no cell)."""
        options = {**self.kernel_bias_config(), "units": self.units,
                   "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                   "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                   "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
                   "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
                   "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout, "seed": self.seed}
        del options["activity_regularizer"]     # a cell has none: the RNN layer applies it
        return options

    def get_config(self):
        return {**super().get_config(), **self.options_config()}


class SimpleRNNCell(RecurrentCell):
    """h = activation(x @ kernel + bias + h_prev @ recurrent_kernel)."""

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 **kwargs):
        super().__init__(units, activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
                         kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed, **kwargs)

    def step(self, projected, states, recurrent_masks=None):
        h = self.activation(projected + self.project_state(states[0], recurrent_masks, 1))
        return h, [h]


class LSTMCell(RecurrentCell):
    """Gates i, f, o = recurrent_activation(...), candidate c~ = activation(...); c = f * c_prev + i * c~,
    h = o * activation(c). unit_forget_bias starts the forget gate's bias at 1."""
    gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(units, activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
                         kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [self.units, self.units]

    def bias_initial_value(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        units, initializer = self.units, self.bias_initializer

        def forget_gate_at_one(shape, dtype=None):
            return np.concatenate([initializer((units,), dtype=dtype), np.ones(units, dtype),
                                   initializer((2 * units,), dtype=dtype)])
        return forget_gate_at_one

    def step(self, projected, states, recurrent_masks=None):
        h_prev, c_prev = states
        z = projected + self.project_state(h_prev, recurrent_masks, 4)
        units = self.units
        i, f = self.recurrent_activation(z[:, :units]), self.recurrent_activation(z[:, units:2 * units])
        c = f * c_prev + i * self.activation(z[:, 2 * units:3 * units])
        h = self.recurrent_activation(z[:, 3 * units:]) * self.activation(c)
        return h, [h, c]

    def options_config(self):
        return {**super().options_config(), "recurrent_activation": activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}


class GRUCell(RecurrentCell):
    """Update and reset gates z, r; candidate hh = activation(x_h + r * (h_prev @ U_h + b_h)) with
    reset_after (Keras 3's default, cuDNN's form; bias (2, 3 * units): input and recurrent rows), or
    activation(x_h + (r * h_prev) @ U_h) without; h = z * h_prev + (1 - z) * hh."""
    gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 reset_after=True, seed=None, **kwargs):
        super().__init__(units, activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
                         kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)

    def bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def input_bias(self):
        return self.bias[0] if self.bias is not None and self.reset_after else self.bias

    def step(self, projected, states, recurrent_masks=None):
        h_prev, units = states[0], self.units
        inner = self.project_state(h_prev, recurrent_masks, 3 if self.reset_after else 2)
        if self.reset_after and self.bias is not None:
            inner = inner + self.bias[1]
        z = self.recurrent_activation(projected[:, :units] + inner[:, :units])
        r = self.recurrent_activation(projected[:, units:2 * units] + inner[:, units:2 * units])
        if self.reset_after:
            recurrent_h = r * inner[:, 2 * units:]
        else:
            masked = h_prev if recurrent_masks is None else h_prev * recurrent_masks[-1]
            recurrent_h = ops.dot(r * masked, self.block(self.recurrent_kernel, 2))
        h = z * h_prev + (1 - z) * self.activation(projected[:, 2 * units:] + recurrent_h)
        return h, [h]

    def options_config(self):
        return {**super().options_config(), "recurrent_activation": activations.serialize(self.recurrent_activation),
                "reset_after": self.reset_after}


class RNN(Layer):
    """Loops a cell over the time axis of (batch, time, features) inputs with mlcore.scan. A cell is one
    of the built-in cells or any layer with Keras's cell interface: state_size and call(inputs, states)
    returning (output, new states).  With a mask (mlcore/keras_masks.py) the padding steps are
    skipped, as in Keras.  stateful=True keeps the last states of each batch in variables (`states`)
    from which the next batch starts, sample k continuing sample k, until reset_states(); its batch
    size must then be fixed (Input(batch_shape=...), batch_input_shape=...)."""
    supports_masking = True
    sublayer_attributes = ("cell",)     # Keras 3's weight files store the cell's weights under "cell"

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, zero_output_for_mask=False, activity_regularizer=None, **kwargs):
        if not callable(getattr(cell, "call", None)):
            raise ValueError("Argument `cell` should have a `call` method. Received: cell=%r" % (cell,))
        if getattr(cell, "state_size", None) is None:
            raise ValueError("The RNN cell should have a `state_size` attribute (single integer or list of "
                             "integers, one integer per RNN state). Received: cell=%r" % (cell,))
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.states = None
        self.unroll = bool(unroll)      # accepted for Keras's API: the loop is always one Scan op
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        size = cell.state_size
        self.state_size = list(size) if isinstance(size, (list, tuple)) else [size]

    @property
    def rowwise(self):
        return not self.stateful        # a stateful layer's samples carry over into the next batch's

    def build(self, sequences_shape):
        check_rank(self, sequences_shape, 3)
        if isinstance(self.cell, Layer):
            build_sublayer(self, self.cell, (sequences_shape[0],) + tuple(sequences_shape[2:]))
        if self.stateful:
            self._build_states(sequences_shape[0])
        self.built = True

    # --- stateful=True ------------------------------------------------------------------------------
    def _build_states(self, batch_size):
        """The state variables: not weights (Keras saves none), updated by every step that runs the layer."""
        if batch_size is None:
            raise ValueError("Layer '%s' is stateful, so it needs to know its batch size. Specify the batch "
                             "size of your inputs: Input(batch_shape=(32, steps, features)) in a functional "
                             "model, batch_input_shape=(32, steps, features) on a Sequential model's first "
                             "layer, or layer.build((32, steps, features))." % self.name)
        self.states = [Weight(np.zeros((batch_size, size), self.dtype), "rnn_state", "%s/rnn_state" % self.name,
                              trainable=False) for size in self.state_size]

    def reset_states(self, states=None):
        """Start the next batch from zeros, or from the given arrays (one per state)."""
        if not self.stateful or self.states is None:
            raise AttributeError("Layer '%s' is not stateful (or not built), so it has no states to reset"
                                 % self.name)
        values = [None] * len(self.states) if states is None else (
            list(states) if isinstance(states, (list, tuple)) else [states])
        if len(values) != len(self.states):
            raise ValueError("Layer '%s' has %d states; %d values were given" % (self.name, len(self.states),
                                                                                    len(values)))
        for variable, value in zip(self.states, values):
            shape = variable.type.shape
            value = np.zeros(shape, self.dtype) if value is None else np.asarray(value, self.dtype)
            if value.shape != shape:
                raise ValueError("Layer '%s': state '%s' has shape %s; the value given has shape %s"
                                 % (self.name, variable.path, shape, value.shape))
            variable.set_value(value)

    reset_state = reset_states      # Keras 3's name

    def get_initial_state(self, batch_size):
        make = getattr(self.cell, "get_initial_state", None)
        if make is not None:
            states = make(batch_size=batch_size)
            return list(states) if isinstance(states, (list, tuple)) else [states]
        return [ops.zeros((batch_size, size), dtype=self.dtype) for size in self.state_size]

    def _initial_states(self, sequences, initial_state):
        if initial_state is None and self.stateful:
            batch = sequences.type.shape[0]
            if batch is not None and batch != self.states[0].type.shape[0]:
                raise ValueError("Layer '%s' is stateful with batch size %d; it was given a batch of %d"
                                 % (self.name, self.states[0].type.shape[0], batch))
            return list(self.states)
        if initial_state is None:
            return self.get_initial_state(sequences.shape[0])
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        if len(states) != len(self.state_size):
            raise ValueError("Layer '%s' expects %d initial states, got %d"
                             % (self.name, len(self.state_size), len(states)))
        return [ops.cast(as_tensor_variable(s), self.dtype) for s in states]

    def _loop_parts(self, sequences, states, training):
        """(the rows the loop reads, (batch, time, ...), and the step function of a row and the states):
        a built-in cell's projected inputs and its step; another cell's inputs and its call."""
        cell = self.cell
        if isinstance(cell, RecurrentCell):
            input_masks, recurrent_masks = cell.dropout_masks(sequences[:, 0, :], states[0], training)
            return (cell.project_inputs(sequences, input_masks),
                    lambda row, previous: cell.step(row, previous, recurrent_masks))
        takes_training = isinstance(cell, Layer) and cell._call_accepts_training

        def call_cell(row, previous):
            output, new_states = cell.call(row, previous, **({"training": training} if takes_training else {}))
            return output, list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
        return sequences, call_cell

    def call(self, sequences, initial_state=None, mask=None, training=None):
        check_rank(self, sequences.type.shape, 3)
        if self.unroll and sequences.type.shape[1] is None:
            raise ValueError("Cannot unroll a RNN if the time dimension is undefined: give the inputs a "
                             "known number of time steps (Input(shape=(steps, features))).")
        states = self._initial_states(sequences, initial_state)
        rows, step = self._loop_parts(sequences, states, training)
        time_major = [ops.dimshuffle(rows, 1, 0, *range(2, rows.ndim))]
        if mask is not None:
            time_major.append(ops.dimshuffle(ops.cast(mask, "bool"), 1, 0))
        # a built-in cell's output is its first state, unless masked steps must output zeros
        own_output = not isinstance(self.cell, RecurrentCell) or (mask is not None and self.zero_output_for_mask)
        stacked, _ = scan(self._loop_body(step, own_output, mask is not None), sequences=time_major,
                          outputs_info=([None] if own_output else []) + states,
                          go_backwards=self.go_backwards, return_list=True)
        outputs, finals = stacked[0], [s[-1] for s in stacked[1 if own_output else 0:]]
        output = ops.dimshuffle(outputs, 1, 0, *range(2, outputs.ndim)) if self.return_sequences else outputs[-1]
        results = [output] + finals if self.return_state else [output]
        for variable, final in zip(self.states if self.stateful else [], finals):
            self.add_update(variable, final)
        for result in results:
            self.add_activity_loss(result)
        return results if self.return_state else output

    def _loop_body(self, step, own_output, masked):
        """The scan's step function.  With a mask, a padding step leaves the states as they were and
        outputs the previous first state (or zeros, with zero_output_for_mask), as Keras's rnn loop."""
        def body(row, *rest):
            keep, previous = (rest[0], list(rest[1:])) if masked else (None, list(rest))
            output, new_states = step(row, previous)
            if keep is not None:
                new_states = [_where_kept(keep, new, old) for new, old in zip(new_states, previous)]
                output = _where_kept(keep, output, ops.zeros_like(output) if self.zero_output_for_mask else previous[0])
            return [output] + new_states if own_output else new_states
        return body

    def compute_mask(self, inputs, mask=None):
        """The sequences' mask goes on with return_sequences; a last output or a state has none."""
        output_mask = mask if self.return_sequences else None
        return [output_mask] + [None] * len(self.state_size) if self.return_state else output_mask

    def get_config(self):
        from mlcore.models.serialization import layer_config    # mlcore.models imports the layers
        config = {**super().get_config(), "return_sequences": self.return_sequences,
                  "return_state": self.return_state, "go_backwards": self.go_backwards, "stateful": self.stateful,
                  "unroll": self.unroll, "zero_output_for_mask": self.zero_output_for_mask,
                  "cell": layer_config(self.cell)}
        if self.activity_regularizer is not None:      # Keras's base layer config names it only when set
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from mlcore.models.serialization import layer_from_config
        config = dict(config)
        return cls(layer_from_config(config.pop("cell"), custom_objects), **config)

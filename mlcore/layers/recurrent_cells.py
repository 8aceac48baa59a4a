"""The recurrent cells: SimpleRNNCell, LSTMCell, GRUCell, one time step each, which the RNN layer
(mlcore/layers/recurrent.py) loops over time.

A built-in cell runs a step in two parts, as cuDNN's formulation does: the inputs of all time steps
are projected by the kernel in one matmul outside the loop (project_inputs), and only the recurrence,
one matmul by the recurrent kernel per step, runs inside the loop (step).
Weights are Keras 3's: kernel (input_dim, gates * units), recurrent_kernel (units, gates * units)
and bias, with the gates in Keras's order (LSTM i, f, c, o; GRU z, r, h), so weight files interoperate.
"""
import numpy as np

from mlcore import activations, constraints, initializers, regularizers
from mlcore.graph import ops
from mlcore.layers.base import KernelBiasOptions, Layer
from mlcore.layers.layer_state import layer_scope
from mlcore.utils.rng import layer_streams

# The options every built-in cell has, by their Keras names (the layers read them through their cell).
CELL_OPTIONS = ("units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
                "bias_initializer", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout",
                "seed")


def build_sublayer(owner, layer, input_shape):
    """Build a layer that owner holds, inside owner's scope: its weights' paths are under owner's path as
    Keras names them (lstm/lstm_cell/kernel; unique within a weights file's layer group)."""
    if not layer.built:
        with layer_scope(owner):
            layer.build(input_shape)
        layer.built = True


def _over_time(mask, ndim):
    """A (batch, features...) mask broadcast over the time axis of (batch, time, features...) inputs."""
    return mask if ndim == mask.ndim else ops.dimshuffle(mask, 0, "x", *range(1, mask.ndim))


class RecurrentCell(KernelBiasOptions, Layer):
    """What SimpleRNNCell, LSTMCell and GRUCell share: Keras's weight options, the dropout masks (drawn
    once per sequence and kept for all its steps, as Keras does) and the two halves of a step."""
    rowwise = True
    gates = 1       # blocks of `units` columns in the kernels
    channel_axis = -1       # the axis of the inputs, states and projections that holds the features
    kernel_window = ()      # a convolutional cell's kernel_size, ahead of the kernels' (in, out) axes

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
        self.seed_generator = layer_streams(seed)
        self.state_size = self.units
        self.output_size = self.units

    # --- weights -------------------------------------------------------------------------------------
    def build(self, input_shape):
        input_dim = input_shape[self.channel_axis]
        if input_dim is None:
            raise ValueError("%s '%s': the features dim of the inputs must be known, got shape %s"
                             % (type(self).__name__, self.name, tuple(input_shape)))
        width, window = self.gates * self.units, self.kernel_window
        self.kernel = self.add_weight(window + (input_dim, width), self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(window + (self.units, width), self.recurrent_initializer,
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

    def block(self, tensor, gate, axis=-1):
        """One gate's `units` entries along an axis: its columns in a kernel (the last axis), its
        features in a projection (channel_axis)."""
        index = [slice(None)] * tensor.ndim
        index[axis] = slice(gate * self.units, (gate + 1) * self.units)
        return tensor[tuple(index)]

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
        return [self.seed_generator.binomial(like.shape, p=1.0 - rate, dtype=like.dtype) / (1.0 - rate)
                for _ in range(count)]

    # --- the two halves of a step ----------------------------------------------------------------------
    def input_transform(self, inputs, kernel):
        """inputs @ kernel over the last axis (a convolutional cell convolves)."""
        return ops.dot(inputs, kernel)

    def recurrent_transform(self, state, kernel):
        """state @ kernel (a convolutional cell convolves)."""
        return ops.dot(state, kernel)

    def project_inputs(self, inputs, masks=None):
        """The inputs transformed by the kernel, plus the input bias, for all the time steps of (batch,
        time, features) inputs at once, or for one step's (batch, features)."""
        if masks is None:
            projected = self.input_transform(inputs, self.kernel)
        elif len(masks) == 1:
            projected = self.input_transform(inputs * _over_time(masks[0], inputs.ndim), self.kernel)
        else:
            projected = ops.concatenate([self.input_transform(inputs * _over_time(m, inputs.ndim),
                                                              self.block(self.kernel, g))
                                         for g, m in enumerate(masks)], axis=self.channel_axis)
        bias = self.input_bias()
        return projected if bias is None else projected + bias

    def project_state(self, state, masks, gates):
        """state transformed by the recurrent kernel's first `gates` blocks, each gate's input masked by its
        own mask under implementation 1."""
        kernel = self.recurrent_kernel if gates == self.gates else self.recurrent_kernel[:, :gates * self.units]
        if masks is None:
            return self.recurrent_transform(state, kernel)
        if len(masks) == 1:
            return self.recurrent_transform(state * masks[0], kernel)
        return ops.concatenate([self.recurrent_transform(state * m, self.block(self.recurrent_kernel, g))
                                for g, m in zip(range(gates), masks)], axis=self.channel_axis)

    def step(self, projected, states, recurrent_masks=None):
        """(output, new states) of one time step from its projected inputs; the output is the first
        new state itself (the RNN loop relies on it)."""
        raise NotImplementedError

    def loop_parts(self, sequences, states, training):
        """What the RNN loop needs (rows it reads, the step of a row and the states): every time step's
        inputs projected at once, outside the loop, unless each step projects its own row
        (projects_each_step), and the recurrence; dropout masks drawn once."""
        if self.projects_each_step():
            return sequences, self.stacked_step(sequences[:, 0, :], states, training)
        input_masks, recurrent_masks = self.dropout_masks(sequences[:, 0, :], states[0], training)
        return (self.project_inputs(sequences, input_masks),
                lambda row, previous: self.step(row, previous, recurrent_masks))

    def projects_each_step(self):
        """Whether each step projects its own inputs inside the loop.  Projected at once before the loop,
        they make an array gates * units / features times the inputs' size, written and then read back
        step by step; where that is more than twice the inputs, the step's own small product, whose
        result meets the recurrent one in cache, costs less.  Measured on jax (CPU, batch 32, 50 steps,
        inference): LSTM(64) on 16 features 1.20x faster, LSTM(256) on 256 1.06x, GRU(256) on 256 1.96x
        (training as fast or up to 1.05x faster, the theano backend 1.4-2.3x); with a projection no
        bigger than the inputs (LSTM(128) on 512 features, SimpleRNN(256) on 256) at once was faster.
        A convolutional cell projects at once."""
        return not self.kernel_window and self.gates * self.units > 2 * self.kernel.shape[0]

    def stacked_step(self, input_like, states, training):
        """The step of a cell above another in a stack, whose inputs exist only inside the loop: it
        projects its row there (input_like: a (batch, features) stand-in to draw dropout masks by)."""
        input_masks, recurrent_masks = self.dropout_masks(input_like, states[0], training)
        return lambda row, previous: self.step(self.project_inputs(row, input_masks), previous, recurrent_masks)

    def call(self, inputs, states, training=None):
        """One step on (batch, features) inputs, as Keras's cell call: (output, new states)."""
        nested = isinstance(states, (list, tuple))
        states = list(states) if nested else [states]
        input_masks, recurrent_masks = self.dropout_masks(inputs, states[0], training)
        output, new_states = self.step(self.project_inputs(inputs, input_masks), states, recurrent_masks)
        return output, new_states if nested or len(new_states) > 1 else new_states[0]

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        return [ops.zeros((batch_size, size), dtype=self.compute_dtype) for size in sizes]

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
        i, f, candidate, o = (self.block(z, gate, self.channel_axis) for gate in range(4))
        c = self.recurrent_activation(f) * c_prev + self.recurrent_activation(i) * self.activation(candidate)
        h = self.recurrent_activation(o) * self.activation(c)
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


def calling_step(cell, training):
    """The step of any cell with Keras's interface: its call(row, states) -> (output, new states)."""
    takes_training = isinstance(cell, Layer) and cell._call_accepts_training

    def call_cell(row, previous):
        output, new_states = cell.call(row, previous, **({"training": training} if takes_training else {}))
        return output, list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
    return call_cell


def loop_parts(cell, sequences, states, training):
    """(the rows the RNN loop reads, (batch, time, ...), and the step of a row and the states): a
    built-in or stacked cell's own parts, or another cell's inputs and its call."""
    own = getattr(cell, "loop_parts", None)
    return own(sequences, states, training) if own is not None else (sequences, calling_step(cell, training))

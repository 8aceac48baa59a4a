"""The RNN layer, which loops a cell (mlcore/layers/recurrent_cells.py) over time with mlcore.scan.

The scan's gradient is backpropagation through time, a scan running backwards
(mlcore/graph/ops/scan_grad.py).
"""
import numpy as np

from mlcore import regularizers
from mlcore.graph import ops
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.scan import scan
from mlcore.keras_masks import over_trailing_axes
from mlcore.layers.base import Layer, Weight, flatten
from mlcore.layers.convolutional import check_rank
from mlcore.layers.recurrent_cells import RecurrentCell, build_sublayer, loop_parts
from mlcore.layers.stacked_cells import StackedRNNCells, nest_like


def _where_kept(keep, new, old):
    """new where a sample's step is real (keep, one bool per sample), else old."""
    return ops.switch(over_trailing_axes(keep, new.ndim), new, old)


class RNN(Layer):
    """Loops a cell over the time axis of (batch, time, features) inputs with mlcore.scan. A cell is one
    of the built-in cells or any layer with Keras's cell interface: state_size and call(inputs, states)
    returning (output, new states).  With a mask (mlcore/keras_masks.py) the padding steps are
    skipped, as in Keras.  stateful=True keeps the last states of each batch in variables (`states`)
    from which the next batch starts, sample k continuing sample k, until reset_states(); its batch
    size must then be fixed (Input(batch_shape=...), batch_input_shape=...)."""
    supports_masking = True
    sequence_ndim = 3       # (batch, time, features); a ConvLSTM's steps are images
    sublayer_attributes = ("cell",)     # Keras 3's weight files store the cell's weights under "cell"

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, zero_output_for_mask=False, activity_regularizer=None, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not callable(getattr(cell, "call", None)):
            raise ValueError("Argument `cell` should have a `call` method. Received: cell=%r" % (cell,))
        if getattr(cell, "state_size", None) is None:
            raise ValueError("The RNN cell should have a `state_size` attribute (single integer or list of "
                             "integers, one integer per RNN state). Received: cell=%r" % (cell,))
        if not isinstance(cell.state_size, (list, tuple, int)):
            raise ValueError("state_size must be an integer, or a list/tuple of integers (one for each state "
                             "tensor).")
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

    def build(self, sequences_shape, initial_state_shape=None):
        """The cell's weights (and a stateful layer's states); initial states' shapes add nothing to build,
        and are taken as Keras's build takes them (a saved build_config may name them)."""
        check_rank(self, sequences_shape, self.sequence_ndim)
        if isinstance(self.cell, Layer):
            build_sublayer(self, self.cell, (sequences_shape[0],) + tuple(sequences_shape[2:]))
        if self.stateful:
            self._build_states(sequences_shape)
        self.built = True

    # --- stateful=True ------------------------------------------------------------------------------
    def _build_states(self, sequences_shape):
        """The state variables: not weights (Keras saves none), updated by every step that runs the layer."""
        batch_size = sequences_shape[0]
        if batch_size is None:
            raise ValueError("When using `stateful=True` in a RNN, the batch size must be static. Found dynamic "
                             "batch size: sequence.shape=%s. Layer '%s' is stateful, so it needs to know its "
                             "batch size. Specify the batch size of your inputs: Input(batch_shape=(32, steps, "
                             "features)) in a functional model, batch_input_shape=(32, steps, features) on a "
                             "Sequential model's first layer, or layer.build((32, steps, features))."
                             % (tuple(sequences_shape), self.name))
        self.states = [Weight(np.zeros((batch_size,) + shape, self.dtype), "rnn_state", "%s/rnn_state" % self.name,
                              trainable=False) for shape in self.state_shapes()]

    def state_shapes(self):
        """Each state's shape without the batch axis."""
        return [(size,) for size in flatten(self.state_size)]

    def reset_states(self, states=None):
        """Start the next batch from zeros, or from the given arrays (one per state). Without values, a
        layer that holds no states (not stateful, or not built) has nothing to reset, as in Keras 3."""
        if self.states is None:
            if states is None:
                return
            raise AttributeError("Layer '%s' is not stateful (or not built), so it has no states to set"
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
            return flatten(states)
        return [ops.zeros((batch_size, size), dtype=self.compute_dtype) for size in flatten(self.state_size)]

    def _initial_states(self, sequences, initial_state):
        """The states the loop starts from, in the compute dtype (a stateful layer's variables are in the
        variable dtype, as Keras's)."""
        if initial_state is None and self.stateful:
            batch = sequences.type.shape[0]
            if batch is not None and batch != self.states[0].type.shape[0]:
                raise ValueError("If an RNN is stateful, the batch size of the input sequences must be the same "
                                 "as the batch size of the initial state (layer '%s'). \n- Expected batch size: "
                                 "%d\n- Received batch size: %d" % (self.name, self.states[0].type.shape[0], batch))
            return [ops.cast(state, self.compute_dtype) for state in self.states]
        if initial_state is None:
            return self.get_initial_state(sequences.shape[0])
        states = flatten(initial_state)
        if len(states) != len(flatten(self.state_size)):
            raise ValueError("Layer '%s' expects %d initial states, got %d"
                             % (self.name, len(flatten(self.state_size)), len(states)))
        return [ops.cast(as_tensor_variable(s), self.compute_dtype) for s in states]

    def call(self, sequences, initial_state=None, mask=None, training=None):
        check_rank(self, sequences.type.shape, self.sequence_ndim)
        if self.unroll and sequences.type.shape[1] is None:
            raise ValueError("Cannot unroll a RNN if the time dimension is undefined. \n- If using a Sequential "
                             "model, specify the time dimension by passing an `Input()` as your first layer.\n- If "
                             "using the functional API, specify the time dimension by passing a `shape` or "
                             "`batch_shape` argument to your `Input()`.")
        states = self._initial_states(sequences, initial_state)
        rows, step = loop_parts(self.cell, sequences, states, training)
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
        results = [output] + nest_like(self.state_size, finals) if self.return_state else [output]
        for variable, final in zip(self.states if self.stateful else [], finals):
            self.add_update(variable, final)
        for result in flatten(results):
            self.add_activity_loss(result)
        return tuple(results) if self.return_state else output     # a tuple, as Keras 3's

    def _loop_body(self, step, own_output, masked):
        """The scan's step function.  With a mask, a padding step leaves the states as they were and
        outputs the previous output (or zeros, with zero_output_for_mask), which Keras's rnn loop takes
        to be the first state (the last cell's first one in a stack)."""
        previous_output = getattr(self.cell, "output_state_position", 0)

        def body(row, *rest):
            keep, previous = (rest[0], list(rest[1:])) if masked else (None, list(rest))
            output, new_states = step(row, previous)
            if keep is not None:
                new_states = [_where_kept(keep, new, old) for new, old in zip(new_states, previous)]
                output = _where_kept(keep, output, ops.zeros_like(output) if self.zero_output_for_mask
                                    else previous[previous_output])
            return [output] + new_states if own_output else new_states
        return body

    def compute_mask(self, inputs, mask=None):
        """The sequences' mask goes on with return_sequences; a last output or a state has none."""
        output_mask = mask if self.return_sequences else None
        return [output_mask] + nest_like(self.state_size, [None] * len(flatten(self.state_size))) \
            if self.return_state else output_mask

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


# Keras 2's keras.layers.recurrent also held the built-in recurrent layers and cells; imported here last
# (they import this module) so that `from mlcore.layers.recurrent import LSTM` imports.  `Recurrent`, the
# base class of Keras 1 / 2.0's recurrent layers, is RNN, their base here: isinstance checks hold (a
# subclass written for Keras 1's step() API does not run).
from mlcore.layers.recurrent_cells import GRUCell, LSTMCell, SimpleRNNCell  # noqa: E402,F401
from mlcore.layers.recurrent_layers import GRU, LSTM, SimpleRNN  # noqa: E402,F401
Recurrent = RNN

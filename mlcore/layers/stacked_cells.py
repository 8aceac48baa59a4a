"""StackedRNNCells: several cells run as one, each step's output the next cell's input, as Keras's.

RNN([LSTMCell(64), GRUCell(32)]) wraps its list in one.  Its state_size nests one entry per cell
([[64, 64], 32]), and so do the states an RNN with return_state returns; the RNN loop itself carries
them flat.  In that loop only the first cell's inputs exist for all time steps at once, so only a
first built-in cell projects them outside the loop; the cells above it project their row inside.
"""
from mlcore.graph import ops
from mlcore.layers.base import Layer, flatten
from mlcore.layers.recurrent_cells import RecurrentCell, build_sublayer, calling_step, loop_parts


def nest_like(state_size, flat):
    """Flat states grouped as a (possibly nested) state_size is: [[h, c], h2] for [[3, 3], 2]."""
    nested, start = [], 0
    for size in state_size:
        count = len(flatten(size))
        nested.append(flat[start] if isinstance(size, int) else list(flat[start:start + count]))
        start += count
    return nested


class StackedRNNCells(Layer):
    """Cells run in order within each time step; the last cell's output is the stack's."""
    sublayer_attributes = ("cells",)    # Keras 3's weight files store them under cell/cells/<cell>

    def __init__(self, cells, **kwargs):
        for cell in cells:
            if not callable(getattr(cell, "call", None)):
                raise ValueError("All cells must have a `call` method. Received cell without a `call` method: %r"
                                 % (cell,))
            if getattr(cell, "state_size", None) is None:
                raise ValueError("All cells must have a `state_size` attribute. Received cell without a "
                                 "`state_size`: %r" % (cell,))
        super().__init__(**kwargs)
        self.cells = list(cells)

    @property
    def state_size(self):
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self):
        return _output_size(self.cells[-1])

    @property
    def output_state_position(self):
        """Where the last cell's first state sits among the flat states: a masked step repeats it as
        the previous output, as Keras's rnn loop does for stacked cells."""
        return sum(len(flatten(cell.state_size)) for cell in self.cells[:-1])

    def build(self, input_shape):
        for cell in self.cells:
            if isinstance(cell, Layer):
                build_sublayer(self, cell, input_shape)
            input_shape = (input_shape[0], _output_size(cell))
        self.built = True

    def get_initial_state(self, batch_size=None):
        states = []
        for cell in self.cells:
            make = getattr(cell, "get_initial_state", None)
            states.append(make(batch_size=batch_size) if make is not None else
                          [ops.zeros((batch_size, size), dtype=self.compute_dtype)
                           for size in flatten(cell.state_size)])
        return states

    def call(self, inputs, states, training=None):
        """One step of every cell, as Keras's: (the last output, the new states nested per cell)."""
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            nested = isinstance(cell_states, (list, tuple))
            inputs, cell_states = calling_step(cell, training)(inputs, list(cell_states) if nested else [cell_states])
            new_states.append(cell_states if nested or len(cell_states) > 1 else cell_states[0])
        return inputs, new_states[0] if len(new_states) == 1 else new_states

    def loop_parts(self, sequences, states, training):
        """The RNN loop's parts over the flat states: the first cell's rows, then every cell's step."""
        counts = [len(flatten(cell.state_size)) for cell in self.cells]
        bounds = [sum(counts[:k]) for k in range(len(counts) + 1)]
        rows, first_step = loop_parts(self.cells[0], sequences, states[:bounds[1]], training)
        steps = [first_step]
        for k, cell in enumerate(self.cells[1:], 1):
            if isinstance(cell, RecurrentCell):
                input_like = ops.zeros((sequences.shape[0], _output_size(self.cells[k - 1])), dtype=sequences.dtype)
                steps.append(cell.stacked_step(input_like, states[bounds[k]:bounds[k + 1]], training))
            else:
                steps.append(calling_step(cell, training))

        def step(row, previous):
            new_states = []
            for cell_step, start, stop in zip(steps, bounds, bounds[1:]):
                row, cell_states = cell_step(row, previous[start:stop])
                new_states += cell_states
            return row, new_states
        return rows, step

    def get_config(self):
        from mlcore.models.serialization import layer_config    # mlcore.models imports the layers
        return {**super().get_config(), "cells": [layer_config(cell) for cell in self.cells]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from mlcore.models.serialization import layer_from_config
        config = dict(config)
        return cls([layer_from_config(cell, custom_objects) for cell in config.pop("cells")], **config)


def _output_size(cell):
    """A cell's output width: its output_size, else its (first) state's size."""
    size = getattr(cell, "output_size", None)
    return size if size is not None else flatten(cell.state_size)[0]

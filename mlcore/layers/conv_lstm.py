"""ConvLSTM1D, ConvLSTM2D and ConvLSTM3D: an RNN over a ConvLSTMCell (mlcore/layers/conv_lstm_cell.py)
with Keras 3's arguments and config, over sequences of images: (batch, time, *spatial, channels), or
(batch, time, channels, *spatial) with channels_first.  Masks, stateful, return_state, go_backwards
and initial states are the RNN layer's."""
from mlcore.layers.conv_lstm_cell import ConvLSTMCell
from mlcore.layers.input_spec import InputSpec
from mlcore.layers.recurrent_cells import CELL_OPTIONS
from mlcore.layers.recurrent_layers import CellLayer, _cell_arguments


class ConvLSTM(CellLayer):
    """What the three layers share; `rank` is the number of spatial dims.  Its states are [h, c], each
    an image of `filters` channels; the spatial dims of the inputs must be known."""
    rank = 2
    cell_options = CELL_OPTIONS + ("recurrent_activation", "unit_forget_bias", "filters", "kernel_size",
                                   "strides", "padding", "data_format", "dilation_rate")

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, **kwargs):
        cell = ConvLSTMCell(self.rank, name="conv_lstm_cell", **_cell_arguments(ConvLSTMCell, locals(), kwargs))
        super().__init__(cell, return_sequences, return_state, go_backwards, stateful,
                         activity_regularizer=activity_regularizer, **kwargs)

    @property
    def sequence_ndim(self):
        return self.rank + 3

    def build(self, sequences_shape):
        super().build(sequences_shape)
        self.input_spec = InputSpec(shape=(None, None) + tuple(sequences_shape[2:]))

    def state_shapes(self):
        return [self.cell.state_shape] * 2


class ConvLSTM1D(ConvLSTM):
    """A convolutional LSTM over sequences of 1-d signals (batch, time, steps, channels), as
    keras.layers.ConvLSTM1D."""
    rank = 1


class ConvLSTM2D(ConvLSTM):
    """A convolutional LSTM over sequences of images (batch, time, rows, cols, channels), as
    keras.layers.ConvLSTM2D: next-frame prediction, precipitation nowcasting."""
    rank = 2


class ConvLSTM3D(ConvLSTM):
    """A convolutional LSTM over sequences of volumes (batch, time, depth, rows, cols, channels), as
    keras.layers.ConvLSTM3D."""
    rank = 3

"""SimpleRNN, LSTM and GRU: an RNN over the matching cell, with Keras 3's arguments and config (the cell's
options at the top level, no "cell" entry), and the cell's options readable on the layer (lstm.units).
Keras 1's argument names are accepted with their meaning (LSTM(output_dim=, inner_init=, dropout_W=...))."""
import functools
import inspect

from mlcore import regularizers
from mlcore.layers.recurrent import RNN
from mlcore.layers.recurrent_cells import CELL_OPTIONS, GRUCell, LSTMCell, SimpleRNNCell

USE_CUDNN_VALUES = ("auto", True, False)


def _cell_arguments(cell_class, arguments, kwargs):
    """The arguments of a layer's __init__ (its locals()) that its cell takes, with the dtype, the trainable
    flag and Keras's `implementation` from its keyword arguments, as Keras builds the cell."""
    names = [name for name in inspect.signature(cell_class.__init__).parameters if name in arguments]
    return {**{name: arguments[name] for name in names if name not in ("self", "kwargs")},
            "implementation": kwargs.pop("implementation", 2), "dtype": kwargs.get("dtype"),
            "trainable": kwargs.get("trainable", True)}


class CellLayer(RNN):
    """An RNN over its own cell: the cell's options are the layer's (read through it, saved in its config)."""
    cell_options = CELL_OPTIONS

    def __getattr__(self, name):
        if name in type(self).cell_options and "cell" in vars(self):
            return getattr(self.cell, name)
        raise AttributeError("%r object has no attribute %r" % (type(self).__name__, name))

    def get_config(self):
        config = super().get_config()
        del config["cell"]
        return {**config, **self.cell.options_config(),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer)}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


KERAS1_RNN = {"output_dim": "units", "init": "kernel_initializer", "inner_init": "recurrent_initializer",
              "inner_activation": "recurrent_activation", "W_regularizer": "kernel_regularizer",
              "U_regularizer": "recurrent_regularizer", "b_regularizer": "bias_regularizer",
              "W_constraint": "kernel_constraint", "U_constraint": "recurrent_constraint",
              "b_constraint": "bias_constraint", "dropout_W": "dropout", "dropout_U": "recurrent_dropout"}
CONSUME_LESS = {"cpu": 1, "mem": 1, "gpu": 2}     # Keras 1's consume_less as Keras 2's implementation (0 is 1)


def keras1_arguments(init):
    """An RNN layer's __init__ also taking Keras 1's names, converted as Keras 2's legacy interface did:
    input_dim and input_length give the input shape (steps, features), forget_bias_init="one" is
    unit_forget_bias=True."""
    @functools.wraps(init)
    def converted(self, *args, **kwargs):
        kwargs.update({new: kwargs.pop(old) for old, new in KERAS1_RNN.items() if old in kwargs})
        if "forget_bias_init" in kwargs:
            kwargs["unit_forget_bias"] = kwargs.pop("forget_bias_init") == "one"
        if "consume_less" in kwargs:
            kwargs["implementation"] = CONSUME_LESS[kwargs.pop("consume_less")]
        input_dim, input_length = kwargs.pop("input_dim", None), kwargs.pop("input_length", None)
        if (input_dim is not None or input_length is not None) and "input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length, input_dim)
        init(self, *args, **kwargs)
    return converted


def _check_use_cudnn(use_cudnn):
    """Keras's check; mlcore's loop already has cuDNN's form (the input matmul outside the loop)."""
    if use_cudnn not in USE_CUDNN_VALUES:
        raise ValueError("Invalid valid received for argument `use_cudnn`. Expected one of {'auto', True, "
                         "False}. Received: use_cudnn=%r" % (use_cudnn,))
    return use_cudnn


class SimpleRNN(CellLayer):
    """A fully connected RNN whose output is fed back: h = activation(x @ kernel + h @ recurrent_kernel + bias)."""

    @keras1_arguments
    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False, unroll=False,
                 seed=None, **kwargs):
        cell = SimpleRNNCell(name="simple_rnn_cell", **_cell_arguments(SimpleRNNCell, locals(), kwargs))
        super().__init__(cell, return_sequences, return_state, go_backwards, stateful, unroll,
                         activity_regularizer=activity_regularizer, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["seed"]      # as Keras 3's SimpleRNN config, which leaves the seed out
        return config


class LSTM(CellLayer):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997), as keras.layers.LSTM; its states are
    [h, c]."""
    cell_options = CELL_OPTIONS + ("recurrent_activation", "unit_forget_bias")

    @keras1_arguments
    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, use_cudnn="auto", **kwargs):
        cell = LSTMCell(name="lstm_cell", **_cell_arguments(LSTMCell, locals(), kwargs))
        super().__init__(cell, return_sequences, return_state, go_backwards, stateful, unroll,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.use_cudnn = _check_use_cudnn(use_cudnn)


class GRU(CellLayer):
    """Gated recurrent unit (Cho et al., 2014), as keras.layers.GRU; reset_after=True is cuDNN's form."""
    cell_options = CELL_OPTIONS + ("recurrent_activation", "reset_after")

    @keras1_arguments
    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, reset_after=True, use_cudnn="auto", **kwargs):
        cell = GRUCell(name="gru_cell", **_cell_arguments(GRUCell, locals(), kwargs))
        super().__init__(cell, return_sequences, return_state, go_backwards, stateful, unroll,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.use_cudnn = _check_use_cudnn(use_cudnn)

"""Keras 2's module path keras.layers.convolutional_recurrent, kept so that
`from mlcore.layers.convolutional_recurrent import ConvLSTM2D` imports.  Re-exports only: the layers
live in mlcore/layers/conv_lstm.py.  Keras 2's ConvLSTM2DCell and ConvRNN2D have no counterpart here
(mlcore's cell is Keras 3's rank-generic ConvLSTMCell)."""
from mlcore.layers.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D  # noqa: F401

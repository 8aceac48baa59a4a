"""ConvLSTMCell: the LSTM cell whose kernels are convolutions (Shi et al., 2015), one time step of the
ConvLSTM1D/2D/3D layers (mlcore/layers/conv_lstm.py).

It is LSTMCell with its matmuls swapped for convolutions, so the gate arithmetic and the dropout
masks are LSTMCell's: the inputs of every time step are convolved at once, outside the loop, as
batch * time images; the loop convolves only the state ("same" padding, stride 1, so the state
keeps its size).  Weights are Keras 3's: kernel (*kernel_size, in, 4 * filters), recurrent_kernel
(*kernel_size, filters, 4 * filters) and bias (4 * filters,), gates in Keras's order i, f, c, o.
"""
from mlcore.graph import ops
from mlcore.graph.ops.nn import window_output_size
from mlcore.layers.conv_base import check_positive, from_image, image_kernel, image_tuple, to_image
from mlcore.layers.convolutional import (check_rank, standardize_data_format, standardize_padding,
                                         standardize_tuple)
from mlcore.layers.convolutional_3d import conv3d
from mlcore.layers.recurrent_cells import LSTMCell


def convolve(x, kernel, strides, padding, dilation_rate, data_format):
    """The cross-correlation of x (batch, *spatial, C), or (batch, C, *spatial) with channels_first, with
    a (*window, in, out) kernel over 1, 2 or 3 spatial dims, in x's data format."""
    rank = kernel.ndim - 2
    image = to_image(x, rank, data_format)
    if rank == 3:
        out = conv3d(image, kernel, strides, padding, dilation_rate)
    else:
        out = ops.conv2d(image, image_kernel(kernel, rank), image_tuple(strides, rank), padding,
                         image_tuple(dilation_rate, rank))
    return from_image(out, rank, data_format)


class ConvLSTMCell(LSTMCell):
    """One step of a convolutional LSTM over `rank` (1, 2 or 3) spatial dims, as Keras 3's ConvLSTMCell:
    i, f, o = recurrent_activation(W * x + U * h + b), c = f * c_prev + i * activation(...),
    h = o * activation(c), with * a convolution.  Its states h and c are images of `filters` channels,
    of the size the input convolution gives; their shape without the batch axis is state_shape."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        if rank not in (1, 2, 3):
            raise ValueError("Rank %r convolutions are not currently implemented. Received: rank=%r"
                             % (rank, rank))
        # Keras's ConvLSTM cell always draws one dropout mask per gate (LSTM's implementation 1)
        super().__init__(check_positive("filters", filters), activation, recurrent_activation, use_bias,
                         kernel_initializer, recurrent_initializer, bias_initializer, unit_forget_bias,
                         kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed,
                         **dict(kwargs, implementation=1))
        self.rank = rank
        self.filters = self.units
        self.kernel_size = self.kernel_window = standardize_tuple(kernel_size, rank, "kernel_size")
        self.strides = standardize_tuple(strides, rank, "strides")
        self.padding = standardize_padding(padding)
        self.data_format = standardize_data_format(data_format)
        self.dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:     # Keras's ConvLSTM words, not its Conv's
            raise ValueError("Specifying `strides > 1` is not compatible with `dilation_rate > 1`. Please provide "
                             "`strides=1` or `dilation_rate=1`. Received: strides=%s and dilation_rate=%s"
                             % (self.strides, self.dilation_rate))
        self.channel_axis = -1 if self.data_format == "channels_last" else -(rank + 1)
        self.state_shape = None

    def build(self, input_shape):
        check_rank(self, input_shape, self.rank + 2)
        first = self.data_format == "channels_first"
        spatial = tuple(input_shape[2:] if first else input_shape[1:-1])
        if None in spatial or input_shape[self.channel_axis] is None:
            raise ValueError("%s '%s' needs inputs of known spatial and channel dims; got step shape %s "
                             "(data_format=%s)" % (type(self).__name__, self.name, tuple(input_shape),
                                                   self.data_format))
        out = tuple(-(-size // stride) if self.padding == "same" else
                    window_output_size(size, kernel, stride, (0, 0), dilation=dilation)
                    for size, kernel, stride, dilation in zip(spatial, self.kernel_size, self.strides,
                                                              self.dilation_rate))
        if min(out) <= 0:
            raise ValueError("%s '%s': kernel_size %s (dilation_rate %s) is larger than the inputs' spatial "
                             "dims, step shape %s" % (type(self).__name__, self.name, self.kernel_size,
                                                      self.dilation_rate, tuple(input_shape)))
        self.state_shape = (self.filters,) + out if first else out + (self.filters,)
        super().build(input_shape)

    def input_bias(self):
        """The bias along the channel axis (for channels_first, broadcast over the spatial dims)."""
        if self.bias is None or self.channel_axis == -1:
            return self.bias
        return ops.dimshuffle(self.bias, 0, *("x",) * self.rank)

    def input_transform(self, inputs, kernel):
        """The convolution of one step's inputs, or of every step's at once as batch * time images."""
        def conv(x):
            return convolve(x, kernel, self.strides, self.padding, self.dilation_rate, self.data_format)
        if inputs.ndim == self.rank + 2:
            return conv(inputs)
        out = conv(ops.reshape(inputs, (-1,) + tuple(inputs.type.shape[2:])))
        return ops.reshape(out, [inputs.shape[0], inputs.shape[1]] + list(out.type.shape[1:]))

    def recurrent_transform(self, state, kernel):
        ones = (1,) * self.rank
        return convolve(state, kernel, ones, "same", ones, self.data_format)

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size,) + self.state_shape, dtype=self.compute_dtype) for _ in range(2)]

    def options_config(self):
        config = {**super().options_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                  "strides": self.strides, "padding": self.padding, "data_format": self.data_format,
                  "dilation_rate": self.dilation_rate}
        del config["units"]
        return config

    def get_config(self):
        return {**super().get_config(), "rank": self.rank}    # Keras's cell config lacks it; from_config needs it

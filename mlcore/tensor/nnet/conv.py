"""theano.tensor.nnet.conv: the older conv2d(input, filters, image_shape=, filter_shape=, border_mode=,
subsample=) that earlier LeNet tutorials import; the same function as T.nnet.conv2d."""
from mlcore.tensor.nnet.abstract_conv import conv2d  # noqa: F401

"""theano.tensor.nnet.abstract_conv: conv2d and its output-shape rule, with Theano's semantics."""
from mlcore.tensor.nnet import _theano_padding, conv2d  # noqa: F401


def get_conv_output_shape(image_shape, kernel_shape, border_mode, subsample, filter_dilation=None):
    """The (N, out channels, H, W) that conv2d gives for these shapes (None where unknown)."""
    dilation = tuple(filter_dilation or (1,) * (len(image_shape) - 2))
    pads = _theano_padding(border_mode, kernel_shape[2], kernel_shape[3], dilation)
    spatial = []
    for size, k, (before, after), stride, d in zip(image_shape[2:], kernel_shape[2:], pads, subsample, dilation):
        spatial.append(None if size is None or k is None else (size + before + after - (k - 1) * d - 1) // stride + 1)
    return (image_shape[0], kernel_shape[0]) + tuple(spatial)

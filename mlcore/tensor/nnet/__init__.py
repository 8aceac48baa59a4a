"""T.nnet: Theano's neural-network functions, with Theano's semantics, in Theano's modules: nnet
(softmax, rectifiers, crossentropies), sigm, abstract_conv (conv2d, shared or unshared, conv3d,
conv2d's gradients, causal_conv1d, separable_conv2d, bilinear_upsampling), conv (the older
conv2d), neighbours, bn, ctc (T.nnet.ctc.ctc) and blocksparse."""
from mlcore.tensor.nnet import abstract_conv, blocksparse, bn, conv, ctc, neighbours, nnet, sigm  # noqa: F401
from mlcore.tensor.nnet.abstract_conv import conv2d, conv2d_grad_wrt_inputs, conv3d, separable_conv2d  # noqa: F401
from mlcore.tensor.nnet.neighbours import images2neibs, neibs2images  # noqa: F401
from mlcore.tensor.nnet.nnet import (binary_crossentropy, categorical_crossentropy,  # noqa: F401
                                     crossentropy_categorical_1hot, crossentropy_softmax_1hot,
                                     crossentropy_softmax_1hot_with_bias, elu, logsoftmax, relu, selu,
                                     sigmoid_binary_crossentropy, softmax, softmax_graph, softsign)
from mlcore.tensor.nnet.nnet import (confusion_matrix, crossentropy_categorical_1hot_grad,  # noqa: F401
                                     crossentropy_softmax_1hot_with_bias_dx,
                                     crossentropy_softmax_argmax_1hot_with_bias,
                                     crossentropy_softmax_max_and_argmax_1hot,
                                     crossentropy_softmax_max_and_argmax_1hot_with_bias, h_softmax,
                                     logsoftmax_op, prepend_0_to_each_row, prepend_1_to_each_row,
                                     prepend_scalar_to_each_row, softmax_grad, softmax_op, softmax_with_bias)
from mlcore.tensor.nnet.nnet import (CrossentropyCategorical1Hot, CrossentropyCategorical1HotGrad,  # noqa: F401
                                     CrossentropySoftmax1HotWithBiasDx, CrossentropySoftmaxArgmax1HotWithBias,
                                     Prepend_scalar_constant_to_each_row, Prepend_scalar_to_each_row,
                                     SoftmaxGrad, SoftmaxWithBias)
from mlcore.tensor.nnet.sigm import hard_sigmoid, sigmoid, softplus, ultra_fast_sigmoid  # noqa: F401
from mlcore.tensor.nnet.bn import batch_normalization  # noqa: F401
from mlcore.graph.ops.nn import LogSoftmax, Softmax  # noqa: F401  (the op classes, as Theano's nnet exports them)

abstract_conv2d = conv2d
sigmoid_inplace = sigmoid


def conv2d_transpose(input, filters, output_shape, filter_shape=None, border_mode="valid", input_dilation=(1, 1),
                     filter_flip=True, filter_dilation=(1, 1), num_groups=1, unshared=False):
    """The transpose of conv2d (a "deconvolution"): input (N, C, h, w) is taken as conv2d's output,
    filters (C, out, kh, kw) as its filters, and the result has conv2d's input shape output_shape;
    input_dilation is that conv2d's subsample."""
    return conv2d_grad_wrt_inputs(input, filters, output_shape, filter_shape, border_mode, input_dilation,
                                  filter_flip, filter_dilation, num_groups, unshared)

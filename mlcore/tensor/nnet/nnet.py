"""theano.tensor.nnet.nnet: softmax, the rectifiers and the crossentropies, with Theano's semantics
(Theano code imports some of them from here: theano.tensor.nnet.nnet.softmax)."""
from mlcore import activations
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.indexing import subtensor
from mlcore.graph.ops.nn import log_softmax, softmax as _softmax
from mlcore.graph.ops.reduce import sum_
from mlcore.graph.ops.shape import arange, shape

logsoftmax = log_softmax


def softmax(c, axis=-1):
    return _softmax(c, axis)


def softmax_graph(c):
    """exp(c) / sum(exp(c)) over the last axis, written out as Theano writes it: no shift by the
    maximum, so it overflows where softmax does not."""
    e = ew.exp(as_tensor_variable(c))
    return e / sum_(e, axis=-1, keepdims=True)


def relu(x, alpha=0):
    """max(x, 0), or a leaky relu with slope alpha below zero."""
    x = as_tensor_variable(x)
    return ew.relu(x) if alpha == 0 else ew.switch(ew.gt(x, 0), x, alpha * x)


def elu(x, alpha=1):
    """x above zero, alpha * (exp(x) - 1) below (keras.activations.elu: its gradient stays finite
    where exp(x) overflows)."""
    return activations.elu(as_tensor_variable(x), alpha)


def selu(x):
    """scale * elu(x, alpha) with the self-normalizing constants of Klambauer et al. (2017)."""
    return activations.selu(as_tensor_variable(x))


def softsign(x):
    return x / (1 + ew.abs_(x))


def categorical_crossentropy(coding_dist, true_dist):
    """-sum(true * log(coding)) per row; true_dist may also be int class indices."""
    coding_dist, true_dist = as_tensor_variable(coding_dist), as_tensor_variable(true_dist)
    if true_dist.ndim == coding_dist.ndim:
        return -sum_(true_dist * ew.log(coding_dist), axis=-1)
    if true_dist.ndim == coding_dist.ndim - 1 and true_dist.dtype.startswith(("int", "uint")):
        rows = arange(shape(coding_dist)[0])
        return -ew.log(subtensor(coding_dist, (rows, true_dist)))
    raise TypeError("categorical_crossentropy: true_dist %s must match coding_dist %s or be int labels"
                    % (true_dist.type, coding_dist.type))


crossentropy_categorical_1hot = categorical_crossentropy


def crossentropy_softmax_1hot_with_bias(x, b, y_idx):
    """(nll, softmax(x + b)): each row's -log of the softmax at its int label y_idx."""
    sm = softmax(as_tensor_variable(x) + b)
    return categorical_crossentropy(sm, y_idx), sm


def crossentropy_softmax_1hot(x, y_idx):
    """(nll, softmax(x)): each row's -log of the softmax at its int label y_idx."""
    sm = softmax(x)
    return categorical_crossentropy(sm, y_idx), sm


def binary_crossentropy(output, target):
    """-(target * log(output) + (1 - target) * log(1 - output)), elementwise."""
    return -(target * ew.log(output) + (1 - target) * ew.log(1 - output))


def sigmoid_binary_crossentropy(output, target):
    """binary_crossentropy(sigmoid(output), target) for real-valued output, as Theano computes it:
    softplus(output) - output * target, finite for any output, with gradients sigmoid(output) -
    target and -output."""
    output = as_tensor_variable(output)
    return ew.softplus(output) - output * target

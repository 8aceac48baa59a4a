"""theano.tensor.nnet.nnet: softmax (with a bias, its gradient, the two-level hierarchical one), the
rectifiers, the crossentropies and their gradients, prepending a column, the confusion matrix, with
Theano's semantics (Theano code imports some of them from here: theano.tensor.nnet.nnet.softmax).
Theano's op classes (SoftmaxWithBias, ...) and its graph rewrites are not offered: each function
here is written with mlcore's ops, which give every backend and the gradients."""
from mlcore import activations
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.extra_ops import Unique
from mlcore.graph.ops.indexing import inc_subtensor, subtensor
from mlcore.graph.ops.linalg import dot, tensordot
from mlcore.graph.ops.nn import log_softmax, softmax as _softmax
from mlcore.graph.ops.reduce import argmax, max_, sum_
from mlcore.graph.ops.shape import alloc, arange, concatenate, dimshuffle, reshape, shape
from mlcore.tensor.function_ops import FunctionOp
from mlcore.tensor.nnet.checks import labels_in_range

def _as_rows(c):
    """A vector as one row, as Theano's Softmax and LogSoftmax take it (softmax of a vector is 1 x n)."""
    c = as_tensor_variable(c)
    return dimshuffle(c, "x", 0) if c.ndim == 1 else c


def softmax(c, axis=-1):
    return _softmax(_as_rows(c), axis)


def logsoftmax(c, axis=-1):
    return log_softmax(_as_rows(c), axis)


softmax_op, logsoftmax_op = softmax, logsoftmax


def softmax_with_bias(x, b):
    """softmax(x + b) of the matrix x and the bias vector b, row by row (Theano's SoftmaxWithBias);
    its gradient is softmax's: softmax_grad for x, summed over the rows for b."""
    return softmax(as_tensor_variable(x) + b)


def softmax_grad(dy, sm):
    """The gradient wrt softmax's input, given dy, the gradient wrt its output sm (Theano's
    SoftmaxGrad): (dy - sum(dy * sm)) * sm, row by row."""
    dy, sm = as_tensor_variable(dy), as_tensor_variable(sm)
    return (dy - sum_(dy * sm, axis=-1, keepdims=True)) * sm


def h_softmax(x, batch_size, n_outputs, n_classes, n_outputs_per_class, W1, b1, W2, b2, target=None):
    """Two-level hierarchical softmax (Goodman 2001): the probability of class c from softmax(x W1 +
    b1), times that of output j within c from softmax(x W2[c] + b2[c]); output k is output
    k % n_outputs_per_class of class k // n_outputs_per_class.  W1 (features, n_classes), b1
    (n_classes,), W2 (n_classes, features, n_outputs_per_class), b2 (n_classes,
    n_outputs_per_class).  Without target: all n_outputs probabilities (batch_size, n_outputs);
    with target (batch_size,) or (batch_size, 1): each row's probability of its target, (batch_size,),
    computing only the target class's second-level softmax."""
    x = as_tensor_variable(x)
    class_probs = softmax(dot(x, W1) + b1)
    if target is None:
        activations_ = tensordot(x, W2, [[1], [1]]) + b2       # (batch, n_classes, n_outputs_per_class)
        output_probs = softmax(activations_)                    # along the last dim: within each class
        joint = dimshuffle(class_probs, 0, 1, "x") * output_probs
        return reshape(joint, [batch_size, n_classes * n_outputs_per_class])[:, :n_outputs]
    target = as_tensor_variable(target).flatten()
    rows = arange(batch_size)
    target_classes = ew.int_div(target, n_outputs_per_class)
    in_class = ew.mod(target, n_outputs_per_class)
    weights = subtensor(as_tensor_variable(W2), (target_classes,))     # (batch, features, n_outputs_per_class)
    activations_ = sum_(dimshuffle(x, 0, 1, "x") * weights, axis=1) + subtensor(as_tensor_variable(b2),
                                                                                 (target_classes,))
    output_probs = softmax(activations_)
    return subtensor(class_probs, (rows, target_classes)) * subtensor(output_probs, (rows, in_class))


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


def _checked_labels(y_idx, rows, where):
    """y_idx as int class numbers of the rows' classes, checked when run (Theano's ValueError)."""
    y_idx = as_tensor_variable(y_idx)
    if y_idx.ndim != 1 or not y_idx.dtype.startswith(("int", "uint")):
        raise TypeError("T.nnet.%s: y_idx must be a vector of int labels, got %s" % (where, y_idx.type))
    return labels_in_range(y_idx, shape(rows)[1], "T.nnet." + where)


def crossentropy_softmax_1hot_with_bias(x, b, y_idx):
    """(nll, softmax(x + b)): each row's -log of the softmax at its int label y_idx."""
    sm = softmax(as_tensor_variable(x) + b)
    return categorical_crossentropy(sm, _checked_labels(y_idx, sm, "crossentropy_softmax_1hot_with_bias")), sm


def crossentropy_softmax_1hot(x, y_idx):
    """(nll, softmax(x)): each row's -log of the softmax at its int label y_idx."""
    sm = softmax(x)
    return categorical_crossentropy(sm, _checked_labels(y_idx, sm, "crossentropy_softmax_1hot")), sm


def binary_crossentropy(output, target):
    """-(target * log(output) + (1 - target) * log(1 - output)), elementwise."""
    return -(target * ew.log(output) + (1 - target) * ew.log(1 - output))


def sigmoid_binary_crossentropy(output, target):
    """binary_crossentropy(sigmoid(output), target) for real-valued output, as Theano computes it:
    softplus(output) - output * target, finite for any output, with gradients sigmoid(output) -
    target and -output."""
    output = as_tensor_variable(output)
    return ew.softplus(output) - output * target


def crossentropy_categorical_1hot_grad(g_y, coding_dist, true_one_of_n):
    """The gradient wrt coding_dist of crossentropy_categorical_1hot, given g_y, the gradient wrt
    each row's crossentropy: -g_y / coding_dist at each row's label, zero elsewhere."""
    coding_dist = as_tensor_variable(coding_dist)
    rows = arange(shape(coding_dist)[0])
    picked = (rows, as_tensor_variable(true_one_of_n))
    return inc_subtensor(subtensor(ew.zeros_like(coding_dist), picked), -g_y / subtensor(coding_dist, picked))


def crossentropy_softmax_1hot_with_bias_dx(dy, sm, y_idx):
    """The gradient wrt x (and, summed over the rows, b) of crossentropy_softmax_1hot_with_bias's
    nll, given dy, the gradient wrt each row's nll: dy * (sm - one_hot(y_idx))."""
    sm = as_tensor_variable(sm)
    dy = as_tensor_variable(dy)
    rows = arange(shape(sm)[0])
    scaled = sm * dimshuffle(dy, 0, "x")
    y_idx = _checked_labels(y_idx, sm, "crossentropy_softmax_1hot_with_bias_dx")
    return inc_subtensor(subtensor(scaled, (rows, y_idx)), -dy)


def crossentropy_softmax_argmax_1hot_with_bias(x, b, y_idx):
    """(nll, softmax(x + b), argmax of each row of x + b)."""
    nll, sm = crossentropy_softmax_1hot_with_bias(x, b, y_idx)
    return nll, sm, argmax(as_tensor_variable(x) + b, axis=-1)


def crossentropy_softmax_max_and_argmax_1hot_with_bias(x, b, y_idx):
    """(nll, softmax(x + b), each row's largest probability, its position)."""
    nll, sm = crossentropy_softmax_1hot_with_bias(x, b, y_idx)
    return nll, sm, max_(sm, axis=-1), argmax(sm, axis=-1)


def crossentropy_softmax_max_and_argmax_1hot(x, y_idx):
    """(nll, softmax(x), each row's largest probability, its position)."""
    return crossentropy_softmax_max_and_argmax_1hot_with_bias(x, 0, y_idx)


def prepend_scalar_to_each_row(val, mat):
    """mat with a first column of val: (n, m) -> (n, m + 1)."""
    mat = as_tensor_variable(mat)
    if mat.ndim != 2:
        raise TypeError("prepend_scalar_to_each_row: mat must be a matrix, got %s" % mat.type)
    column = alloc(ew.cast(as_tensor_variable(val), mat.dtype), shape(mat)[0], 1)
    return concatenate([column, mat], axis=1)


def prepend_0_to_each_row(mat):
    return prepend_scalar_to_each_row(0, mat)


def prepend_1_to_each_row(mat):
    return prepend_scalar_to_each_row(1, mat)


def confusion_matrix(actual, pred):
    """[conf_mat, order]: order holds the distinct values of actual and pred, sorted, and
    conf_mat[i, j] (int64) counts the places where actual is order[i] and pred is order[j].  The
    number of values is the data's (the Unique op's)."""
    actual, pred = as_tensor_variable(actual), as_tensor_variable(pred)
    for name, v in (("actual", actual), ("pred", pred)):
        if v.ndim != 1:
            raise ValueError("confusion_matrix: %s must be a vector, got %s" % (name, v.type))
    order = Unique()(concatenate([actual, pred]))
    one_hot_actual = ew.cast(ew.eq(dimshuffle(actual, 0, "x"), order), "int64")
    one_hot_pred = ew.cast(ew.eq(dimshuffle(pred, 0, "x"), order), "int64")
    return [dot(one_hot_actual.T, one_hot_pred), order]


def _builder(name, function):
    """Theano's op class `name`, for code that instantiates it (SoftmaxWithBias()(x, b)): calling an
    instance builds function's graph, mlcore having no op of its own for each."""
    return type(name, (FunctionOp,), {"build": staticmethod(function),
                                      "__doc__": "Theano's %s: calling one is %s." % (name, function.__name__)})


SoftmaxWithBias = _builder("SoftmaxWithBias", softmax_with_bias)
SoftmaxGrad = _builder("SoftmaxGrad", softmax_grad)
CrossentropyCategorical1Hot = _builder("CrossentropyCategorical1Hot", crossentropy_categorical_1hot)
CrossentropyCategorical1HotGrad = _builder("CrossentropyCategorical1HotGrad", crossentropy_categorical_1hot_grad)
CrossentropySoftmaxArgmax1HotWithBias = _builder("CrossentropySoftmaxArgmax1HotWithBias",
                                                 crossentropy_softmax_argmax_1hot_with_bias)
CrossentropySoftmax1HotWithBiasDx = _builder("CrossentropySoftmax1HotWithBiasDx",
                                             crossentropy_softmax_1hot_with_bias_dx)
Prepend_scalar_to_each_row = _builder("Prepend_scalar_to_each_row", prepend_scalar_to_each_row)


class Prepend_scalar_constant_to_each_row(FunctionOp):
    """Theano's op that prepends the constant val, given when made: (n, m) -> (n, m + 1)."""
    __props__ = ("val",)

    def __init__(self, val=0):
        self.val = val

    def build(self, mat):
        return prepend_scalar_to_each_row(self.val, mat)

"""theano.tensor.nnet.ctc: Theano's ctc(activations, labels, input_lengths), the cost that Theano
took from Baidu's warp-ctc, here on every backend.

It is mlcore.ops.ctc_loss (the log-space forward recursion as a scan, whose reverse-mode
gradient is the backward recursion) read the warp-ctc way: activations (time, batch, classes)
unnormalised (the softmax is applied inside), class 0 the blank, and labels (batch, max length)
in which negative entries are padding, skipped wherever they are."""
from mlcore.graph.ops.along_axis import along_axis_key, argsort
from mlcore.graph.ops.common import as_tensor_variable
from mlcore.graph.ops.elemwise import cast, lt, switch
from mlcore.graph.ops.reduce import sum_
from mlcore.graph.ops.shape import dimshuffle
from mlcore.tensor.basic import integer_dtypes

RANKS = {"activations": 3, "labels": 2, "input_lengths": 1}


def _check(**tensors):
    for name, tensor in tensors.items():
        if tensor.ndim != RANKS[name]:
            raise ValueError("ctc: %s must have %d dimensions, got %s" % (name, RANKS[name], tensor.type))
        if name != "activations" and tensor.dtype not in integer_dtypes:
            raise TypeError("ctc: %s must be integers, got %s" % (name, tensor.type))


def ctc(activations, labels, input_lengths):
    """The CTC cost of each example, -log p(labels | activations): a vector of the batch's size.
    input_lengths says how many time steps of each example are read."""
    from mlcore.ops.ctc import ctc_loss     # mlcore.ops imports the layers' world, which imports T.nnet
    activations, labels, input_lengths = (as_tensor_variable(v) for v in (activations, labels, input_lengths))
    _check(activations=activations, labels=labels, input_lengths=input_lengths)
    padding = lt(labels, 0)
    packed = labels[along_axis_key(argsort(cast(padding, "int8"), axis=1), 1)]    # a stable sort: labels first
    packed = switch(lt(packed, 0), 0, packed)          # padding read as blanks: every label indexes a class
    return ctc_loss(packed, dimshuffle(activations, 1, 0, 2), sum_(1 - cast(padding, "int32"), axis=1),
                    input_lengths, mask_index=0)

"""Keras's loss functions on symbolic tensors: one value per sample (the crossentropies, the
regression errors, the hinges), and the helpers metrics and activations share with them.

The crossentropies see through a final sigmoid or softmax op and compute from its input, the
logits (as Keras's TensorFlow backend does), so saturated outputs still give finite losses and
gradients; other probabilities are clipped to [epsilon, 1 - epsilon].
"""
import functools
import math
import warnings

import numpy as np

from mlcore import config, stateless
from mlcore.graph.basic import Constant, Variable
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops import nn
from mlcore.graph.ops.common import as_float_dtype, as_tensor_variable
from mlcore.graph.ops.reduce import max_, mean, sum_
from mlcore.graph.ops.shape import arange, dimshuffle, shape


def accepts_arrays(fn):
    """fn, also taking numbers: called with no graph variable among its arguments, it builds its
    graph on constants and evaluates it (numpy backend) at once, returning numpy, as Keras's
    functions return eager tensors.  Float arrays are taken as floatx, as Keras converts them."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if any(isinstance(a, Variable) for a in args + tuple(kwargs.values())):
            return fn(*args, **kwargs)
        if stateless.holds_jax_values((args, kwargs)):     # jax code (a custom train_step) calling the loss
            return stateless.call_on_jax_values(fn, args, kwargs)
        args = [np.asarray(a, config.floatx()) if isinstance(a, (list, tuple, np.ndarray, float)) and
                np.asarray(a).dtype.kind == "f" else a for a in args]
        out = fn(*args, **kwargs)
        if isinstance(out, Constant):
            return out.data.copy()
        from mlcore.function import function
        return function([], out, backend="numpy")()
    return wrapper


def cast_to_pred_dtype(y_true, y_pred):
    """y_pred as a float tensor and y_true cast to its dtype (Keras's convert/cast prologue)."""
    y_pred = as_tensor_variable(y_pred)
    y_pred = ew.cast(y_pred, as_float_dtype(y_pred.dtype))
    return ew.cast(as_tensor_variable(y_true), y_pred.dtype), y_pred


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Make ranks equal when they differ by a trailing (statically) size-1 dim, as Keras does:
    a rank-1 partner gains that dim, any other loses it."""
    def fix(big, small):
        if big.ndim == small.ndim + 1 and big.type.shape[-1] == 1:
            if small.ndim == 1 and expand_rank_1:
                return big, dimshuffle(small, [0, "x"])
            return dimshuffle(big, list(range(big.ndim - 1))), small
        return big, small
    x1, x2 = fix(x1, x2)
    x2, x1 = fix(x2, x1)
    return x1, x2


def divide_no_nan(a, b):
    zero = ew.eq(b, 0)
    return ew.switch(zero, 0, a / ew.switch(zero, 1, b))


def l2_normalize(x, axis=-1):
    """x * min(1 / ||x||, 1 / epsilon), as keras.utils.normalize on tensors."""
    inv_norm = 1 / ew.sqrt(sum_(ew.sqr(x), axis=axis, keepdims=True))
    return x * ew.minimum(inv_norm, 1.0 / config.epsilon())


def one_hot(labels, num_classes, axis=-1, dtype=None):
    """labels (int) as one-hot vectors along a new `axis`."""
    ndim = labels.ndim + 1
    axis %= ndim
    classes = dimshuffle(arange(num_classes, dtype=labels.dtype), [0 if i == axis else "x" for i in range(ndim)])
    order = list(range(labels.ndim))
    labels = dimshuffle(labels, order[:axis] + ["x"] + order[axis:])
    return ew.cast(ew.eq(labels, classes), dtype or config.floatx())


def _logits_of(output, op_class, fn_name, from_logits, axis=None):
    """(tensor, from_logits): the input of a final sigmoid/softmax op when output is one."""
    op = output.owner.op if output.owner is not None else None
    if type(op) is not op_class or (axis is not None and op.axis != axis % output.ndim):
        return output, from_logits
    if from_logits:
        warnings.warn("`%s` received `from_logits=True`, but the `output` argument was produced by a "
                      "%s activation and thus does not represent logits. Was this intended?"
                      % (fn_name, op_class.__name__), stacklevel=3)
    return output.owner.inputs[0], True


def _log_probabilities(output, from_logits, axis, fn_name):
    output, from_logits = _logits_of(output, nn.Softmax, fn_name, from_logits, axis)
    if from_logits:
        return nn.log_softmax(output, axis)
    output = output / sum_(output, axis=axis, keepdims=True)
    eps = config.epsilon()
    return ew.log(ew.clip(output, eps, 1.0 - eps))


# --- probabilistic losses ------------------------------------------------------------------------
@accepts_arrays
def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    y_true, y_pred = _smoothed_binary_labels(y_true, y_pred, label_smoothing)
    return mean(_binary_crossentropies(y_true, y_pred, from_logits, "binary_crossentropy")[0], axis=axis)


def _smoothed_binary_labels(y_true, y_pred, label_smoothing):
    y_true, y_pred = cast_to_pred_dtype(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return y_true, y_pred


def _check_same_shape(fn_name, y_true, y_pred, class_axis=None):
    """Keras's refusal of labels that do not match the predictions (broadcasting (3, 1) labels over (3, 3)
    predictions would compute a different loss silently); a size known on one side only passes.  With
    class_axis, the labels are class indices: they match the predictions without that axis."""
    expected = list(y_pred.type.shape)
    if class_axis is not None:
        del expected[class_axis % y_pred.ndim]
    if y_true.ndim != len(expected) or any(a is not None and b is not None and a != b
                                           for a, b in zip(y_true.type.shape, expected)):
        raise ValueError("%s: Arguments `target` and `output` must have the same shape%s. Received: target.shape=%s, "
                         "output.shape=%s" % (fn_name, "" if class_axis is None else " up until the last dimension",
                                              y_true.type.shape, y_pred.type.shape))


def _binary_crossentropies(y_true, y_pred, from_logits, fn_name):
    """(elementwise binary crossentropy, the probabilities y_pred stands for)."""
    _check_same_shape(fn_name, y_true, y_pred)
    output, from_logits = _logits_of(y_pred, ew.Sigmoid, fn_name, from_logits)
    if from_logits:  # -log(sigmoid(x)) = softplus(-x), -log(1 - sigmoid(x)) = softplus(x)
        return y_true * ew.softplus(-output) + (1.0 - y_true) * ew.softplus(output), ew.sigmoid(output)
    eps = config.epsilon()
    clipped = ew.clip(output, eps, 1.0 - eps)
    return -(y_true * ew.log(clipped) + (1.0 - y_true) * ew.log(1.0 - clipped)), output


@accepts_arrays
def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    y_true, y_pred = cast_to_pred_dtype(y_true, y_pred)
    _check_categorical("categorical_crossentropy", y_pred, axis)
    _check_same_shape("categorical_crossentropy", y_true, y_pred)
    y_true = _smoothed_categorical_labels(y_true, y_pred, label_smoothing)
    return -sum_(y_true * _log_probabilities(y_pred, from_logits, axis, "categorical_crossentropy"), axis=axis)


def _check_categorical(fn_name, y_pred, axis):
    if isinstance(axis, bool):
        raise ValueError("`axis` must be of type `int`. Received: axis=%r of type %s" % (axis, type(axis)))
    if y_pred.type.shape[-1] == 1:
        warnings.warn("In loss %s, expected y_pred.shape to be (batch_size, num_classes) with num_classes > 1. "
                      "Received: y_pred.shape=%s. Consider using 'binary_crossentropy' if you only have 2 "
                      "classes." % (fn_name, y_pred.type.shape), SyntaxWarning, stacklevel=3)


def _smoothed_categorical_labels(y_true, y_pred, label_smoothing):
    if not label_smoothing:
        return y_true
    num_classes = ew.cast(shape(y_true)[-1], y_pred.dtype)
    return y_true * (1.0 - label_smoothing) + label_smoothing / num_classes


@accepts_arrays
def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Crossentropy against integer class labels; labels equal to ignore_class count as masked out."""
    y_pred = as_tensor_variable(y_pred)
    y_pred = ew.cast(y_pred, as_float_dtype(y_pred.dtype))
    y_true = as_tensor_variable(y_true)
    if y_true.ndim == y_pred.ndim and y_true.type.shape[axis] == 1:
        y_true = dimshuffle(y_true, [i for i in range(y_true.ndim) if i != axis % y_true.ndim])
    _check_same_shape("sparse_categorical_crossentropy", y_true, y_pred, class_axis=axis)
    labels = ew.cast(y_true, "int64")
    valid = None
    if ignore_class is not None:
        valid = ew.neq(labels, int(ignore_class))
        labels = ew.switch(valid, labels, 0)
    num_classes = y_pred.type.shape[axis]
    num_classes = shape(y_pred)[axis] if num_classes is None else num_classes
    log_prob = _log_probabilities(y_pred, from_logits, axis, "sparse_categorical_crossentropy")
    loss = -sum_(one_hot(labels, num_classes, axis, y_pred.dtype) * log_prob, axis=axis)
    if valid is not None:
        loss = ew.switch(valid, loss, 0.0)
        loss.tag["keras_mask"] = valid
    return loss


def is_binary_or_sparse_categorical(y_true, y_pred):
    """Keras's compile-time reading of the target and output shapes."""
    t_shape, p_shape = y_true.type.shape, y_pred.type.shape
    is_binary = p_shape[-1] == 1
    is_sparse = len(t_shape) < len(p_shape) or (t_shape[-1] == 1 and p_shape[-1] != 1)
    return is_binary, is_sparse


@accepts_arrays
def crossentropy(y_true, y_pred):
    """compile(loss="crossentropy") (or "ce"): binary, sparse categorical or categorical crossentropy, as the
    static shapes of the targets and the output say (Keras's reading)."""
    y_true, y_pred = as_tensor_variable(y_true), as_tensor_variable(y_pred)
    is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
    if is_sparse and not is_binary:
        return sparse_categorical_crossentropy(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (binary_crossentropy if is_binary else categorical_crossentropy)(y_true, y_pred)


crossentropy.label_sequences = True     # fit passes its targets as they are: their shape decides the loss


@accepts_arrays
def kl_divergence(y_true, y_pred):
    y_true, y_pred = cast_to_pred_dtype(y_true, y_pred)
    y_true = ew.clip(y_true, config.epsilon(), 1)
    y_pred = ew.clip(y_pred, config.epsilon(), 1)
    return sum_(y_true * ew.log(y_true / y_pred), axis=-1)


@accepts_arrays
def poisson(y_true, y_pred):
    y_true, y_pred = cast_to_pred_dtype(y_true, y_pred)
    return mean(y_pred - y_true * ew.log(y_pred + config.epsilon()), axis=-1)


# --- focal, overlap and noise-robust losses -------------------------------------------------------
@accepts_arrays
def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                              from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary crossentropy scaled by (1 - p_t) ** gamma, which leaves little of the loss to the
    examples already predicted well (Lin et al., 2017); alpha weighs class 1, 1 - alpha class 0."""
    y_true, y_pred = _smoothed_binary_labels(y_true, y_pred, label_smoothing)
    bce, probabilities = _binary_crossentropies(y_true, y_pred, from_logits, "binary_focal_crossentropy")
    p_t = y_true * probabilities + (1.0 - y_true) * (1.0 - probabilities)
    focal_bce = (1.0 - p_t) ** gamma * bce
    if apply_class_balancing:
        focal_bce = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal_bce
    return mean(focal_bce, axis=axis)


@accepts_arrays
def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                                   axis=-1):
    """Categorical crossentropy with each class's term scaled by alpha * (1 - p) ** gamma; alpha is a
    number or one weight per class."""
    y_true, y_pred = cast_to_pred_dtype(y_true, y_pred)
    _check_categorical("categorical_focal_crossentropy", y_pred, axis)
    y_true = _smoothed_categorical_labels(y_true, y_pred, label_smoothing)
    log_prob = _log_probabilities(y_pred, from_logits, axis, "categorical_focal_crossentropy")
    alpha = ew.cast(as_tensor_variable(np.asarray(alpha)), y_pred.dtype)
    return -sum_(alpha * (1.0 - ew.exp(log_prob)) ** gamma * y_true * log_prob, axis=axis)


def _overlaps(y_true, y_pred, axis):
    """(sum of y_true * y_pred, of y_true, of y_pred) over axis: the soft true positives and the
    soft positives of each side, from which Dice and Tversky are made."""
    y_true, y_pred = cast_to_pred_dtype(y_true, y_pred)
    return sum_(y_true * y_pred, axis=axis), sum_(y_true, axis=axis), sum_(y_pred, axis=axis)


@accepts_arrays
def dice(y_true, y_pred, axis=None):
    """1 - 2 |y_true . y_pred| / (|y_true| + |y_pred|), over `axis` (None: the whole batch at once)."""
    intersection, true_sum, pred_sum = _overlaps(y_true, y_pred, axis)
    return 1.0 - 2.0 * intersection / (true_sum + pred_sum + config.epsilon())


@accepts_arrays
def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """Dice with the false positives weighted alpha and the false negatives beta (Salehi et al., 2017);
    as in Keras, "false positives" sum (1 - y_pred) * y_true, the false negatives y_pred * (1 - y_true)."""
    intersection, true_sum, pred_sum = _overlaps(y_true, y_pred, axis)
    false_positives, false_negatives = true_sum - intersection, pred_sum - intersection
    return 1.0 - intersection / (intersection + alpha * false_positives + beta * false_negatives + config.epsilon())


@accepts_arrays
def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """(1 - p ** q) / q for p the probability of the true class (Zhang and Sabuncu, 2018): close to
    crossentropy for small q, to the mean absolute error for q near 1.  y_true holds class indices."""
    y_pred = as_tensor_variable(y_pred)
    y_true = as_tensor_variable(y_true)
    if y_true.ndim == y_pred.ndim and y_true.type.shape[-1] == 1:
        y_true = dimshuffle(y_true, list(range(y_true.ndim - 1)))
    num_classes = y_pred.type.shape[-1]
    num_classes = shape(y_pred)[-1] if num_classes is None else num_classes
    p = sum_(y_pred * one_hot(ew.cast(y_true, "int64"), num_classes, dtype=y_pred.dtype), axis=-1)
    return (1.0 - p ** q) / q


# --- regression losses ---------------------------------------------------------------------------
def _same_rank(y_true, y_pred):
    return squeeze_or_expand_to_same_rank(*cast_to_pred_dtype(y_true, y_pred))


@accepts_arrays
def mean_squared_error(y_true, y_pred):
    y_true, y_pred = _same_rank(y_true, y_pred)
    return mean(ew.sqr(y_true - y_pred), axis=-1)


@accepts_arrays
def mean_absolute_error(y_true, y_pred):
    y_true, y_pred = _same_rank(y_true, y_pred)
    return mean(ew.abs_(y_true - y_pred), axis=-1)


@accepts_arrays
def mean_absolute_percentage_error(y_true, y_pred):
    y_true, y_pred = _same_rank(y_true, y_pred)
    diff = ew.abs_((y_true - y_pred) / ew.maximum(ew.abs_(y_true), config.epsilon()))
    return 100.0 * mean(diff, axis=-1)


@accepts_arrays
def mean_squared_logarithmic_error(y_true, y_pred):
    y_true, y_pred = _same_rank(y_true, y_pred)
    eps = config.epsilon()
    return mean(ew.sqr(ew.log(ew.maximum(y_pred, eps) + 1.0) - ew.log(ew.maximum(y_true, eps) + 1.0)), axis=-1)


@accepts_arrays
def cosine_similarity(y_true, y_pred, axis=-1):
    """Minus the cosine similarity, so that minimising it aligns the vectors."""
    y_true, y_pred = _same_rank(y_true, y_pred)
    return -sum_(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis), axis=axis)


@accepts_arrays
def huber(y_true, y_pred, delta=1.0):
    y_true, y_pred = _same_rank(y_true, y_pred)
    error = y_pred - y_true
    abs_error = ew.abs_(error)
    return mean(ew.switch(ew.le(abs_error, delta), 0.5 * ew.sqr(error), delta * abs_error - 0.5 * delta ** 2),
                axis=-1)


@accepts_arrays
def log_cosh(y_true, y_pred):
    """log(cosh(error)) as error + softplus(-2 error) - log 2, which does not overflow."""
    y_true, y_pred = _same_rank(y_true, y_pred)
    error = y_pred - y_true
    return mean(error + ew.softplus(-2.0 * error) - math.log(2.0), axis=-1)


# --- hinge losses --------------------------------------------------------------------------------
def _hinge_labels(y_true):
    """Labels in {0, 1} become {-1, 1}; a batch with other labels is left as it is."""
    is_binary = ew.eq(sum_(ew.cast(ew.and_(ew.neq(y_true, 0), ew.neq(y_true, 1)), "int64")), 0)
    return ew.switch(is_binary, 2.0 * y_true - 1.0, y_true)


def _hinge_margins(y_true, y_pred):
    y_true, y_pred = cast_to_pred_dtype(y_true, y_pred)
    return ew.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0)


@accepts_arrays
def hinge(y_true, y_pred):
    return mean(_hinge_margins(y_true, y_pred), axis=-1)


@accepts_arrays
def squared_hinge(y_true, y_pred):
    return mean(ew.sqr(_hinge_margins(y_true, y_pred)), axis=-1)


@accepts_arrays
def categorical_hinge(y_true, y_pred):
    y_true, y_pred = cast_to_pred_dtype(y_true, y_pred)
    pos = sum_(y_true * y_pred, axis=-1)
    neg = max_((1.0 - y_true) * y_pred, axis=-1)
    return ew.maximum(neg - pos + 1.0, 0.0)


# --- reduction -----------------------------------------------------------------------------------

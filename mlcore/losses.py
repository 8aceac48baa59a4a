"""Losses, as keras.losses: per-sample loss functions on symbolic tensors, and Loss
classes that weight and reduce them to the scalar the optimizer minimises.

The crossentropies see through a final sigmoid or softmax op and compute from
its input, the logits (as Keras's TensorFlow backend does), so saturated outputs
still give finite losses and gradients; other probabilities are clipped to
[epsilon, 1 - epsilon].
"""
import functools
import inspect
import math
import re
import warnings

import numpy as np

from mlcore import config
from mlcore.graph.basic import Constant, Variable
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops import nn
from mlcore.graph.ops.common import as_float_dtype, as_tensor_variable
from mlcore.graph.ops.reduce import max_, mean, prod, sum_
from mlcore.graph.ops.shape import arange, dimshuffle, shape
from mlcore.saving.object_registration import known_custom_objects


# --- shared helpers (metrics and activations use them too) ----------------------------------------
def accepts_arrays(fn):
    """fn, also taking numbers: called with no graph variable among its arguments, it builds its
    graph on constants and evaluates it (numpy backend) at once, returning numpy, as Keras's
    functions return eager tensors.  Float arrays are taken as floatx, as Keras converts them."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if any(isinstance(a, Variable) for a in args + tuple(kwargs.values())):
            return fn(*args, **kwargs)
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
    y_true, y_pred = cast_to_pred_dtype(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    output, from_logits = _logits_of(y_pred, ew.Sigmoid, "binary_crossentropy", from_logits)
    if from_logits:  # -log(sigmoid(x)) = softplus(-x), -log(1 - sigmoid(x)) = softplus(x)
        bce = y_true * ew.softplus(-output) + (1.0 - y_true) * ew.softplus(output)
    else:
        eps = config.epsilon()
        output = ew.clip(output, eps, 1.0 - eps)
        bce = -(y_true * ew.log(output) + (1.0 - y_true) * ew.log(1.0 - output))
    return mean(bce, axis=axis)


@accepts_arrays
def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    if isinstance(axis, bool):
        raise ValueError("`axis` must be of type `int`. Received: axis=%r of type %s" % (axis, type(axis)))
    y_true, y_pred = cast_to_pred_dtype(y_true, y_pred)
    if y_pred.type.shape[-1] == 1:
        warnings.warn("In loss categorical_crossentropy, expected y_pred.shape to be (batch_size, num_classes) "
                      "with num_classes > 1. Received: y_pred.shape=%s. Consider using 'binary_crossentropy' "
                      "if you only have 2 classes." % (y_pred.type.shape,), SyntaxWarning, stacklevel=2)
    if label_smoothing:
        num_classes = ew.cast(shape(y_true)[-1], y_pred.dtype)
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    return -sum_(y_true * _log_probabilities(y_pred, from_logits, axis, "categorical_crossentropy"), axis=axis)


@accepts_arrays
def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Crossentropy against integer class labels; labels equal to ignore_class count as masked out."""
    y_pred = as_tensor_variable(y_pred)
    y_pred = ew.cast(y_pred, as_float_dtype(y_pred.dtype))
    y_true = as_tensor_variable(y_true)
    if y_true.ndim == y_pred.ndim and y_true.type.shape[axis] == 1:
        y_true = dimshuffle(y_true, [i for i in range(y_true.ndim) if i != axis % y_true.ndim])
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
REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")


def apply_mask(sample_weight, mask, dtype, reduction):
    """Merge a boolean mask into the sample weights; for mean reductions masked entries
    leave the divisor too (valid entries get weight total / valid)."""
    if mask is None:
        return sample_weight
    if reduction in ("mean", "sum_over_batch_size"):
        total = ew.cast(prod(shape(mask)), dtype)
        valid = sum_(ew.cast(mask, dtype))
        float_mask = ew.switch(mask, divide_no_nan(total, valid), 0.0)
    else:
        float_mask = ew.cast(mask, dtype)
    if sample_weight is None:
        return float_mask
    float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, ew.cast(sample_weight, dtype))
    return sample_weight * float_mask


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size", dtype=None):
    """Weight per-sample (or per-element) losses and reduce them as Keras's Loss.__call__ does."""
    values = ew.cast(as_tensor_variable(values), dtype or config.floatx())
    sample_weight = None if sample_weight is None else ew.cast(as_tensor_variable(sample_weight), values.dtype)
    sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    if reduction in (None, "none") or values.ndim == 0:
        return values
    loss = sum_(values)
    if reduction == "sum":
        return loss
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return divide_no_nan(loss, sum_(sample_weight))
    return divide_no_nan(loss, ew.cast(prod(shape(values)), loss.dtype))


# --- Loss classes --------------------------------------------------------------------------------
class Loss:
    """A loss object: call(y_true, y_pred) gives per-sample losses, __call__ weights and reduces them."""

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in REDUCTIONS:
            raise ValueError("Invalid value for argument `reduction`. Expected one of %s. Received: "
                             "reduction=%r" % (REDUCTIONS, reduction))
        self.name = name or to_snake_case(type(self).__name__)
        self.reduction = reduction
        self.dtype = dtype or config.floatx()

    @accepts_arrays
    def __call__(self, y_true, y_pred, sample_weight=None):
        """The weighted, reduced loss; entries a loss masks out (tag "keras_mask") leave the mean."""
        losses = self.call(ew.cast(as_tensor_variable(y_true), self.dtype), ew.cast(y_pred, self.dtype))
        return reduce_weighted_values(losses, sample_weight, losses.tag.get("keras_mask"), self.reduction,
                                      self.dtype)

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A Loss around a per-sample function fn(y_true, y_pred, **kwargs)."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name or fn.__name__, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = {**super().get_config(), **self._fn_kwargs}
        if type(self) is LossFunctionWrapper:
            config["fn"] = serialize(self.fn)
        return config

    @classmethod
    def from_config(cls, config):
        if "fn" in config:
            config = {**config, "fn": get(config["fn"])}
        return cls(**config)


def _wrapper_class(class_name, fn, default_name):
    """A LossFunctionWrapper subclass with Keras's constructor (reduction, name, dtype)."""
    def __init__(self, reduction="sum_over_batch_size", name=default_name, dtype=None):
        LossFunctionWrapper.__init__(self, fn, reduction, name, dtype)

    return type(class_name, (LossFunctionWrapper,), {"__init__": __init__, "__doc__": "Reduced %s." % fn.__name__})


MeanSquaredError = _wrapper_class("MeanSquaredError", mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _wrapper_class("MeanAbsoluteError", mean_absolute_error, "mean_absolute_error")
MeanAbsolutePercentageError = _wrapper_class("MeanAbsolutePercentageError", mean_absolute_percentage_error,
                                             "mean_absolute_percentage_error")
MeanSquaredLogarithmicError = _wrapper_class("MeanSquaredLogarithmicError", mean_squared_logarithmic_error,
                                             "mean_squared_logarithmic_error")
LogCosh = _wrapper_class("LogCosh", log_cosh, "log_cosh")
Hinge = _wrapper_class("Hinge", hinge, "hinge")
SquaredHinge = _wrapper_class("SquaredHinge", squared_hinge, "squared_hinge")
CategoricalHinge = _wrapper_class("CategoricalHinge", categorical_hinge, "categorical_hinge")
KLDivergence = _wrapper_class("KLDivergence", kl_divergence, "kl_divergence")
Poisson = _wrapper_class("Poisson", poisson, "poisson")


class CosineSimilarity(LossFunctionWrapper):
    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(cosine_similarity, reduction, name, dtype, axis=axis)
        self.axis = axis


class Huber(LossFunctionWrapper):
    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(huber, reduction, name, dtype, delta=delta)
        self.delta = delta


class BinaryCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, reduction, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class CategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, reduction, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size", axis=-1,
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction, name, dtype, from_logits=from_logits,
                         ignore_class=ignore_class, axis=axis)
        self.from_logits, self.ignore_class, self.axis = from_logits, ignore_class, axis


# --- lookup --------------------------------------------------------------------------------------
mse, mae, mape, msle, kld, logcosh = (mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
                                      mean_squared_logarithmic_error, kl_divergence, log_cosh)  # Keras 2 names
ALL_OBJECTS_DICT = {obj.__name__: obj for obj in (
    binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy, kl_divergence, poisson,
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
    cosine_similarity, huber, log_cosh, hinge, squared_hinge, categorical_hinge, Loss, LossFunctionWrapper,
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
    CosineSimilarity, Huber, LogCosh, Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson,
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy)}
for _alias, _fn in (("bce", binary_crossentropy), ("kld", kld), ("mae", mae), ("mse", mse), ("mape", mape),
                    ("msle", msle)):
    ALL_OBJECTS_DICT[_alias] = ALL_OBJECTS_DICT[_alias.upper()] = _fn
ALL_OBJECTS_DICT.update({"kullback_leibler_divergence": kl_divergence, "logcosh": log_cosh,  # Keras 1/2
                         "cosine_proximity": cosine_similarity, "huber_loss": huber})


def to_snake_case(name):
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def serialize(loss):
    """A built-in function by name; a Loss as {class_name, config} (Keras's saved layout)."""
    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, Loss):
        return {"module": "mlcore.losses", "class_name": type(loss).__name__, "config": loss.get_config()}
    return loss.__name__


def deserialize(config, custom_objects=None):
    """The inverse of serialize; also reads Keras's {"class_name": "function", "config": name}."""
    table = {**ALL_OBJECTS_DICT, **known_custom_objects(custom_objects)}
    name = config if isinstance(config, str) else config["config"] if config["class_name"] == "function" \
        else config["class_name"]
    if name not in table:
        raise ValueError("Unknown loss function: %r. Valid names are: %s" % (name, ", ".join(sorted(table))))
    obj = table[name]
    if not inspect.isclass(obj):
        return obj
    return obj.from_config(config.get("config") or {}) if isinstance(config, dict) else obj()


def get(identifier, y_true=None, y_pred=None):
    """A loss function or Loss from a name, a dict, a class, a callable or a Loss instance.

    A snake_case name gives the function, a CamelCase one an instance (as Keras).
    "crossentropy" / "ce" pick binary, sparse or categorical crossentropy from the
    static shapes of y_true and y_pred, as Keras's compile() does.
    """
    if isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce") and y_pred is not None:
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
        return binary_crossentropy if is_binary else (
            sparse_categorical_crossentropy if is_sparse else categorical_crossentropy)
    return resolve_identifier(identifier, deserialize, "loss")


def resolve_identifier(identifier, deserialize, kind):
    """Keras's get() rules for losses and metrics: a name or dict through `deserialize`, a class
    instantiated, any other callable as it is."""
    if identifier is None or isinstance(identifier, (str, dict)):
        return None if identifier is None else deserialize(identifier)
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError("Could not interpret %s identifier: %r" % (kind, identifier))


def is_binary_or_sparse_categorical(y_true, y_pred):
    """Keras's compile-time reading of the target and output shapes."""
    t_shape, p_shape = y_true.type.shape, y_pred.type.shape
    is_binary = p_shape[-1] == 1
    is_sparse = len(t_shape) < len(p_shape) or (t_shape[-1] == 1 and p_shape[-1] != 1)
    return is_binary, is_sparse

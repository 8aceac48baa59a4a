"""Intersection-over-union metrics, as Keras's IoU, MeanIoU, BinaryIoU, OneHotIoU and OneHotMeanIoU:
the state is a (num_classes, num_classes) confusion matrix, rows the true classes and columns the
predicted ones, counted in integers (Keras's default dtype for them); IoU of class c is
tp / (tp + fp + fn), read from its row and column."""
import warnings

import numpy as np

from mlcore import config
from mlcore.graph.ops import elemwise as ew
from mlcore.graph.ops.common import as_float_dtype, as_tensor_variable, constant
from mlcore.graph.ops.extra_ops import diag
from mlcore.graph.ops.linalg import dot
from mlcore.graph.ops.reduce import argmax, sum_
from mlcore.graph.ops.shape import dimshuffle, flatten
from mlcore.losses import one_hot
from mlcore.metrics.base import Metric


class IoU(Metric):
    """The mean IoU of the classes in target_class_ids, leaving out those never seen nor predicted.

    Labels outside [0, num_classes) and those equal to ignore_class are not counted; with
    sparse_y_true / sparse_y_pred False, the argmax along `axis` gives the class."""

    fixed = ()      # constructor arguments a subclass sets itself, left out of its config

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype or "int32")
        target_class_ids = list(target_class_ids)
        if max(target_class_ids) >= num_classes:
            raise ValueError("%s: target class id %d is out of range, which is [0, %d)."
                             % (type(self).__name__, max(target_class_ids), num_classes))
        self.num_classes, self.target_class_ids, self.ignore_class = num_classes, target_class_ids, ignore_class
        self.sparse_y_true, self.sparse_y_pred, self.axis = sparse_y_true, sparse_y_pred, axis
        self.total_cm = self.add_variable((num_classes, num_classes), "zeros", name="total_confusion_matrix")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = (self._classes(y, sparse) for y, sparse in ((y_true, self.sparse_y_true),
                                                                      (y_pred, self.sparse_y_pred)))
        if None not in y_true.type.shape + y_pred.type.shape and \
                np.prod(y_true.type.shape, dtype=int) != np.prod(y_pred.type.shape, dtype=int):
            raise ValueError("%s: y_true and y_pred must give as many classes; got classes of shape %s and %s"
                             % (type(self).__name__, y_true.type.shape, y_pred.type.shape))
        weight = ew.ones_like(y_true)
        if sample_weight is not None:   # one weight per entry, or per sample over its entries
            sample_weight = as_tensor_variable(sample_weight)
            if "float" in sample_weight.dtype and "int" in self.dtype:
                warnings.warn("You are passing weight as `float`, but dtype is `int`. This may result in an incorrect "
                              "weight due to type casting Consider using integer weights.", stacklevel=2)
            sample_weight = ew.cast(sample_weight, self.dtype)
            weight = weight * dimshuffle(sample_weight, *range(sample_weight.ndim),
                                         *["x"] * (y_true.ndim - sample_weight.ndim))
        y_true, y_pred, weight = flatten(y_true), flatten(y_pred), flatten(weight)
        valid = ew.and_(self._in_range(y_true), self._in_range(y_pred))
        if self.ignore_class is not None:
            valid = ew.and_(valid, ew.neq(y_true, self.ignore_class))
        # cm[i, j] = the weight of the entries of class i predicted j, as a product of one-hot matrices
        float_dtype = as_float_dtype(self.dtype)
        true_one_hot, pred_one_hot = (one_hot(ew.switch(valid, y, 0), self.num_classes, dtype=float_dtype)
                                      for y in (y_true, y_pred))
        weighted = true_one_hot * dimshuffle(ew.cast(ew.switch(valid, weight, 0), float_dtype), 0, "x")
        counts = dot(dimshuffle(weighted, 1, 0), pred_one_hot)
        return self.total_cm.assign(self.total_cm + ew.cast(counts, self.dtype))

    def _classes(self, y, sparse):
        """The class of each entry."""
        y = as_tensor_variable(y)
        return ew.cast(y if sparse else argmax(y, axis=self.axis), "int64")

    def _in_range(self, classes):
        return ew.and_(ew.ge(classes, 0), ew.lt(classes, self.num_classes))

    def result(self):
        total_cm = ew.cast(self.total_cm, "float32")
        true_positives = diag(total_cm)
        denominator = sum_(total_cm, axis=0) + sum_(total_cm, axis=1) - true_positives
        targets = constant(np.eye(self.num_classes, dtype="float32")[self.target_class_ids])
        true_positives, denominator = (sum_(targets * x, axis=1) for x in (true_positives, denominator))
        valid = ew.gt(denominator, 1e-9)
        iou = ew.switch(valid, true_positives / (denominator + config.epsilon()), 0.0)
        return sum_(iou, axis=self.axis) / (sum_(ew.cast(valid, "float32")) + config.epsilon())

    def get_config(self):
        config_ = {**super().get_config(), "num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                   "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                   "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}
        return {key: value for key, value in config_.items() if key not in self.fixed}


class MeanIoU(IoU):
    """The IoU averaged over every class."""

    fixed = ("target_class_ids",)

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True,
                 axis=-1):
        super().__init__(num_classes, list(range(num_classes)), name, dtype, ignore_class, sparse_y_true,
                         sparse_y_pred, axis)


class BinaryIoU(IoU):
    """The IoU of two classes, a score at or above `threshold` predicting class 1."""

    fixed = ("num_classes", "ignore_class", "sparse_y_true", "sparse_y_pred", "axis")

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(2, target_class_ids, name, dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        above = ew.ge(ew.cast(as_tensor_variable(y_pred), "float32"), self.threshold)
        return super().update_state(y_true, ew.cast(above, self.dtype), sample_weight)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


class OneHotIoU(IoU):
    """IoU on one-hot targets (and, unless sparse_y_pred, scores per class)."""

    fixed = ("sparse_y_true",)

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_pred=False,
                 axis=-1):
        super().__init__(num_classes, target_class_ids, name, dtype, ignore_class, False, sparse_y_pred, axis)


class OneHotMeanIoU(MeanIoU):
    """MeanIoU on one-hot targets (and, unless sparse_y_pred, scores per class)."""

    fixed = ("target_class_ids", "sparse_y_true")

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, name, dtype, ignore_class, False, sparse_y_pred, axis)

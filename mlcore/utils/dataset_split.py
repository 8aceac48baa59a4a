"""keras.utils.split_dataset for in-memory data: an array, or a list/tuple of arrays of one length, cut into
a left and a right part of the same structure (Keras returns tf.data datasets of the samples)."""
import random

import numpy as np


def _split_sizes(left_size, right_size, total):
    """(left, right) sample counts from Keras's sizes: an int is a count, a float a fraction (rounded), None
    the complement of the other."""
    for name, size in (("left_size", left_size), ("right_size", right_size)):
        if size is not None and type(size) not in (int, float):
            raise TypeError("split_dataset: Invalid `%s` Type. Expected: int or float or None, Received: "
                            "type(%s)=%s." % (name, name, type(size)))
        if size is not None and (size <= 0 or size >= (total if type(size) is int else 1)):
            raise ValueError("split_dataset: `%s` should be either a positive integer smaller than %d, or a float "
                             "within the range `[0, 1]`. Received: %s=%s" % (name, total, name, size))
    if type(left_size) is type(right_size) is float and left_size + right_size > 1:
        raise ValueError("split_dataset: The sum of `left_size` and `right_size` is greater than 1. It must be "
                         "less than or equal to 1.")
    left, right = (None if s is None else round(s * total) if type(s) is float else s
                   for s in (left_size, right_size))
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError("split_dataset: The sum of `left_size` and `right_size` should be smaller than the %d. "
                         "Received: left_size + right_size = %d" % (total, left + right))
    if not left or not right:
        raise ValueError("split_dataset: With `dataset` of length=%d, `left_size`=%d and `right_size`=%d. "
                         "Resulting %s side dataset split will be empty. Adjust any of the aforementioned "
                         "parameters" % (total, left, right, "left" if not left else "right"))
    return left, right


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None, preferred_backend=None):
    """(left, right): the first left_size samples and the last right_size ones, after, with shuffle, Keras's
    shuffle of the samples (Python's random seeded with seed). preferred_backend (Keras's choice between
    tf.data and torch datasets) is accepted and ignored: the parts are numpy arrays."""
    arrays = [np.asarray(dataset)] if isinstance(dataset, np.ndarray) else None
    if isinstance(dataset, (list, tuple)):
        arrays = [np.asarray(a) for a in dataset]
    if not arrays or any(a.ndim == 0 for a in arrays):
        raise TypeError("split_dataset: The `dataset` argument must be either a numpy array or a list/tuple of "
                        "arrays. Received: dataset of type %s" % type(dataset))
    lengths = {len(a) for a in arrays}
    if len(lengths) != 1:
        raise ValueError("split_dataset: the arrays of `dataset` must have the same length. Received shapes %s"
                         % [a.shape for a in arrays])
    if left_size is None and right_size is None:
        raise ValueError("split_dataset: At least one of the `left_size` or `right_size` must be specified. "
                         "Received: left_size=None and right_size=None")
    total = lengths.pop()
    order = list(range(total))
    if shuffle:
        random.Random(random.randint(0, int(1e6)) if seed is None else seed).shuffle(order)
    left, right = _split_sizes(left_size, right_size, total)
    parts = [[a[order[:left]] for a in arrays], [a[order[total - right:]] for a in arrays]]
    if isinstance(dataset, np.ndarray):
        return parts[0][0], parts[1][0]
    return type(dataset)(parts[0]), type(dataset)(parts[1])

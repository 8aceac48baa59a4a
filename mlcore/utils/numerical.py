"""Array helpers Keras keeps in keras.utils: one-hot labels and vector normalisation."""

import numpy as np


def to_categorical(x, num_classes=None, dtype="float32"):
    """One-hot encode integer class labels 0..num_classes-1; the class axis goes last.

    As in Keras, a trailing axis of size 1 is dropped first (so (n, 1) labels give
    (n, num_classes)), and num_classes defaults to max(x) + 1. `dtype` is Keras 2's
    argument; Keras 3 always returns float64.
    """
    x = np.asarray(x, dtype="int64")
    shape = x.shape[:-1] if x.ndim > 1 and x.shape[-1] == 1 else x.shape
    x = x.reshape(-1)
    if num_classes is None:
        num_classes = int(np.max(x)) + 1
    if x.size and (x.min() < 0 or x.max() >= num_classes):
        raise ValueError(f"Class labels must be in [0, {num_classes}); got values from "
                         f"{x.min()} to {x.max()}.")
    categorical = np.zeros((x.size, num_classes), dtype=dtype)
    categorical[np.arange(x.size), x] = 1
    return categorical.reshape(shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """`x` divided by its `order`-norm along `axis`; zero vectors are left as zeros."""
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)

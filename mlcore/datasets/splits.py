"""Seeded shuffles and train/test splits, made the way Keras's loaders make them, so that a
seed gives the same rows as in Keras."""

import numpy as np


def check_test_split(caller, test_split):
    if not 0 <= test_split < 1:
        raise ValueError(f"{caller}: invalid `test_split` argument: {test_split}. "
                         "It must be between 0 and 1 (exclusive of 1).")


def shuffled(rng, *arrays):
    """The arrays, all reordered by one permutation drawn from `rng` (a RandomState)."""
    indices = np.arange(len(arrays[0]))
    rng.shuffle(indices)
    return [a[indices] for a in arrays]


def split(x, y, test_split):
    """`(x_train, y_train), (x_test, y_test)`: the last `test_split` of the rows are the test set."""
    idx = int(len(x) * (1 - test_split))
    return (np.array(x[:idx]), np.array(y[:idx])), (np.array(x[idx:]), np.array(y[idx:]))


def load_regression(path, test_split, seed, rows=None):
    """A housing `.npz` (arrays "x", "y"), its first `rows` rows shuffled with `seed` and split."""
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"][:rows], f["y"][:rows]
    return split(*shuffled(np.random.RandomState(seed), x, y), test_split)

"""The numpy backend's reductions (backends/numpy/reductions.py) give numpy's own results on every
path: slices combined over short reduced axes, BLAS sums over leading axes, numpy's reduce elsewhere."""
import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from backends.numpy import reductions

CASES = [  # shape, axis: the first four take the fast paths, the rest numpy's reduce
    ((10, 14, 2, 14, 2, 6), (2, 4)),        # max-pooling written as reshape + max
    ((10, 28, 28, 6), (0, 1, 2)),           # a bias gradient: leading axes, few channels
    ((60, 120), (0,)),
    ((3, 700, 5), (0,)),                    # three terms: combined slices
    ((5, 6), (0,)),                         # small: numpy's reduce
    ((70, 80), None),                       # every axis: numpy's (pairwise) reduce
    ((30, 40, 9), (1,)),                    # a middle axis of 40 terms
]


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_match_numpy(name, dtype, keepdims):
    rng = np.random.default_rng(0)
    for shape, axis in CASES:
        x = (rng.uniform(0.9, 1.1, shape) if name == "prod" else rng.normal(size=shape) * 10).astype(dtype)
        got = reductions.reduction(name, axis, keepdims)(x)
        expected = getattr(np, name)(x, axis=axis, keepdims=keepdims)
        assert got.shape == expected.shape, (shape, axis)
        rtol = {"float32": 1e-5, "float64": 1e-12, "int32": 0}[dtype]
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * np.abs(x).max() * 10, err_msg=str((shape, axis)))


def test_max_over_short_axes_propagates_nan_and_reads_strided_inputs():
    x = np.random.default_rng(1).normal(size=(8, 20, 2, 30, 2)).astype("float32")[:, ::-1]
    x[3, 4, 1, 7, 0] = np.nan
    got = reductions.reduction("max", (2, 4), False)(x)
    np.testing.assert_array_equal(got, np.max(x, axis=(2, 4)))
    assert np.isnan(got[3, 4, 7])


def test_a_compiled_pooling_step_uses_them_and_matches_jax(require_backend):
    """Reshape + max pooling and a bias gradient, compiled on the numpy backend, against XLA."""
    require_backend("jax")
    x = T.tensor("float64", shape=(None, 28, 28, 6), name="x")
    b = T.tensor("float64", shape=(6,), name="b")
    a = T.tanh(x + b)
    pooled = a.reshape((-1, 14, 2, 14, 2, 6)).max(axis=(2, 4))
    cost = (pooled * pooled).sum()
    outputs = [cost] + mlcore.grad(cost, [x, b])
    data = np.random.default_rng(2).normal(size=(10, 28, 28, 6))
    bias = np.linspace(-1, 1, 6)
    for got, expected in zip(*(mlcore.function([x, b], outputs, backend=k)(data, bias) for k in ("numpy", "jax"))):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)

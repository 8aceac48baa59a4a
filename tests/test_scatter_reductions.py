"""keras.ops.scatter_update's reductions "max", "min" and "mul" (graph op ScatterReduce) against Keras 3
on jax, with entries given more than once, on every backend; their gradients against jax.grad where jax
has one, else finite differences."""
import numpy as np
import pytest

import mlcore
from mlcore import ops
from mlcore.graph.basic import TensorType
from mlcore.graph.gradient import grad
from mlcore.graph.ops.scatter import ScatterReduce

BACKENDS = ("numpy", "jax", "theano")
X = np.array([[0.5, -1.0, 2.0], [3.0, 0.0, -2.5], [1.5, 1.5, -0.5], [-3.0, 4.0, 1.0]], "float32")
ROWS = np.array([[2], [0], [2], [2]])                       # row 2 three times
ROW_UPDATES = np.array([[1.0, 2.0, -1.0], [-2.0, 0.5, 3.0], [4.0, -3.0, 0.25], [0.5, 1.0, 2.0]], "float32")
ENTRIES = np.array([[0, 1], [3, 2], [0, 1], [1, 1]])          # entry (0, 1) twice
ENTRY_UPDATES = np.array([2.5, -4.0, -1.5, 3.0], "float32")
CALLS = [(X, ROWS, ROW_UPDATES), (X, ENTRIES, ENTRY_UPDATES), (X, ROWS, ROW_UPDATES[0]), (X, ENTRIES, 1.25)]


def _run(backend, inputs, indices, updates, reduction, unknown_count=False):
    """ops.scatter_update on symbolic stand-ins, compiled for backend and run."""
    values = [inputs, indices] + ([updates] if isinstance(updates, np.ndarray) else [])
    symbols = [TensorType(v.dtype, v.shape)() for v in values]
    if unknown_count:
        symbols[1] = TensorType(indices.dtype, (None, indices.shape[1]))()
    out = ops.scatter_update(*symbols[:2], symbols[2] if len(symbols) == 3 else updates, reduction=reduction)
    return mlcore.function(symbols, out, backend=backend)(*values)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("reduction", ["max", "min", "mul", "MAX", "Mul"])
@pytest.mark.parametrize("call", range(len(CALLS)), ids=["rows", "entries", "broadcast_row", "scalar"])
def test_matches_keras_with_repeated_indices(keras, backend, reduction, call, require_backend):
    inputs, indices, updates = CALLS[call]
    expected = keras.ops.convert_to_numpy(keras.ops.scatter_update(inputs, indices, updates, reduction=reduction))
    got = _run(require_backend(backend), inputs, indices, updates, reduction, unknown_count=call % 2 == 0)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize("reduction", ["max", "min", "mul"])
def test_integers_and_eager_calls_match_keras(keras, reduction):
    inputs = np.arange(-6, 6, dtype="int32").reshape(4, 3)
    updates = np.array([[5, -7, 2], [-1, 3, 3], [0, 9, -4], [2, 2, 2]], "int32")
    expected = keras.ops.convert_to_numpy(keras.ops.scatter_update(inputs, ROWS, updates, reduction=reduction))
    got = ops.convert_to_numpy(ops.scatter_update(inputs, ROWS, updates, reduction=reduction))
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def _gradients(backend, reduction, inputs, indices, updates, weights):
    """d sum(weights * scatter_update(...)) / d (inputs, updates), compiled for backend."""
    x, u = TensorType(inputs.dtype, inputs.shape)(), TensorType(updates.dtype, updates.shape)()
    cost = (ops.scatter_update(x, indices, u, reduction=reduction) * weights).sum()
    return mlcore.function([x, u], grad(cost, [x, u]), backend=backend)(inputs, updates)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("reduction", ["max", "min"])
def test_extremum_gradients_share_ties_as_jax_does(backend, reduction, require_backend):
    """Entry 0: two equal updates win; entry 1: x ties with an update; entry 2: two updates, one wins."""
    import jax
    inputs = np.array([1.0, 5.0, 2.0, 0.0], "float32")
    indices = np.array([[0], [0], [1], [2], [2]])
    updates = np.array([3.0, 3.0, 5.0, 1.0, 4.0], "float32") * (1 if reduction == "max" else -1)
    inputs = inputs * (1 if reduction == "max" else -1)
    weights = np.array([1.0, 2.0, 3.0, 4.0], "float32")

    def cost(x, u):
        return (getattr(x.at[tuple(indices.T)], reduction)(u) * weights).sum()
    expected = jax.grad(cost, (0, 1))(inputs, updates)
    got = _gradients(require_backend(backend), reduction, inputs, indices, updates, weights)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, np.asarray(e), rtol=1e-6)
    assert got[1][0] == got[1][1] == 0.5 * weights[0] and got[0][1] == got[1][2] == 0.5 * weights[1]


@pytest.mark.parametrize("backend", BACKENDS)
def test_product_gradients_match_jax_for_distinct_indices(backend, require_backend):
    import jax
    indices = np.array([[3], [0], [1]])
    weights = np.arange(1.0, 13.0, dtype="float32").reshape(4, 3)

    def cost(x, u):
        return (x.at[tuple(indices.T)].multiply(u, unique_indices=True) * weights).sum()
    expected = jax.grad(cost, (0, 1))(X, ROW_UPDATES[:3])
    got = _gradients(require_backend(backend), "mul", X, indices, ROW_UPDATES[:3], weights)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, np.asarray(e), rtol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_product_gradients_with_repeats_and_zeros_match_finite_differences(backend, numeric_grad,
                                                                           require_backend):
    """jax has no gradient for the updates here; entry 0 takes one zero update, entry 1 two, entry 2 none."""
    inputs = np.array([1.5, -2.0, 0.5, 3.0])
    indices = np.array([[0], [1], [0], [2], [1], [2], [0]])
    updates = np.array([0.0, 0.0, 2.0, -1.5, 0.0, 0.75, -3.0])
    weights = np.array([1.0, -2.0, 3.0, 0.5])

    def cost(x, u):
        out = x.copy()
        np.multiply.at(out, tuple(indices.T), u)
        return (out * weights).sum()
    got = _gradients(require_backend(backend), "mul", inputs, indices, updates, weights)
    for k, g in enumerate(got):
        np.testing.assert_allclose(g, numeric_grad(cost, [inputs, updates], k), rtol=1e-7, atol=1e-9)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="scatter_update: invalid reduction 'mean'"):
        ops.scatter_update(X, ROWS, ROW_UPDATES, reduction="mean")
    with pytest.raises(ValueError, match=r"ScatterReduce\{max\}: updates have shape \(4, 2\)"):
        ScatterReduce("max")(X, ROWS, ROW_UPDATES[:, :2])
    with pytest.raises(TypeError, match=r"ScatterReduce\{mul\}: cannot write float32 values into a int32 tensor"):
        ops.scatter_update(X.astype("int32"), ROWS, ROW_UPDATES, reduction="mul")
    with pytest.raises(ValueError, match="ScatterReduce: reduction must be one of"):
        ScatterReduce("add")

"""keras.ops' control flow, core, index, linalg and Fourier ops where Keras's own test suite
(keras/src/ops/{core,linalg,math}_test.py) found mlcore different: nested loop states, tensor
start indices, float index tensors, segment counts found from the data, batched vector solves,
a variable number of istft frames, dtypes and the error phrases Keras's tests match."""
import numpy as np
import pytest

import mlcore
from mlcore import ops
from mlcore.function import function

K = mlcore.KerasTensor


def run(outputs, inputs, *values):
    return function(list(inputs), outputs, backend="numpy")(*values)


def assert_tree_close(got, want):
    keras = pytest.importorskip("keras")
    keras.tree.assert_same_structure(got, want)
    for g, w in zip(keras.tree.flatten(got), keras.tree.flatten(want)):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-6)


# --- loops over nested states ------------------------------------------------------------------------
@pytest.mark.parametrize("maximum_iterations", [None, 5])
def test_while_loop_on_a_dict_state(keras, maximum_iterations):
    state = {"a": np.array(0), "b": (np.array(1), np.array(2.5, "float32"))}

    def cond(s):
        return s["a"] < 10

    def body(s):
        return {"a": s["a"] + 1, "b": (s["b"][0] * 2, s["b"][1] + 1)}
    got = ops.while_loop(cond, body, state, maximum_iterations=maximum_iterations)
    want = keras.ops.while_loop(cond, body, state, maximum_iterations=maximum_iterations)
    assert set(got) == {"a", "b"} and isinstance(got["b"], tuple)
    assert_tree_close(got, want)


def test_while_loop_of_a_tuple_gives_a_tuple(keras):
    got = ops.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x * 2), [np.array(0), np.ones(2, "float32")])
    assert isinstance(got, tuple)
    assert_tree_close(got, keras.ops.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x * 2),
                                                [np.array(0), np.ones(2, "float32")]))


def test_scan_with_nested_carry_and_inputs(keras):
    def f(carry, x):
        total = carry["total"] + x["p"] * x["q"]
        return {"total": total, "steps": carry["steps"] + 1}, (total, x["p"] - total)
    init = {"total": np.array(0.0, "float32"), "steps": np.array(0, "int32")}
    xs = {"p": np.arange(1, 6, dtype="float32"), "q": np.linspace(0, 1, 5).astype("float32")}
    for reverse in (False, True):
        assert_tree_close(ops.scan(f, init, xs, reverse=reverse), keras.ops.scan(f, init, xs, reverse=reverse))


def test_scan_without_ys_and_with_length(keras):
    def fib(carry, _):
        return (carry[1], carry[0] + carry[1]), None
    init = (np.array(0.0, "float32"), np.array(1.0, "float32"))
    carry, ys = ops.scan(fib, init, length=6)
    assert ys is None
    assert_tree_close(carry, keras.ops.scan(fib, init, length=6)[0])


def test_scan_symbolic_gives_the_step_count():
    carry, ys = ops.scan(lambda c, x: (c + x, {"c": c * 2}), K(()), K((6,)))
    assert carry.type.shape == () and ys["c"].type.shape == (6,)


@pytest.mark.parametrize("call, error, phrase", [
    (lambda: ops.scan(123, np.float32(0), np.ones(3)), TypeError, "should be a callable."),
    (lambda: ops.scan(lambda c, x: (c, c), np.float32(0), np.ones(3), unroll=-1), ValueError,
     "must be an positive integer or boolean."),
    (lambda: ops.scan(lambda c, x: (c, c), np.float32(0)), ValueError, "to scan over and"),
    (lambda: ops.associative_scan(lambda a, b: (a[0] + b[0], a[1] + b[1]), (np.ones(2), np.ones(3))),
     ValueError, " first dimension"),
    (lambda: ops.associative_scan(lambda a, b: (a[0] + b[0], a[1] + b[1]), (K((None, 5)), K((None, 4))), axis=1),
     ValueError, " first dimension"),
])
def test_loop_argument_errors_use_keras_words(call, error, phrase):
    with pytest.raises(error, match=phrase):
        call()


def test_fori_loop_with_a_tuple_state(keras):
    body = (lambda i, s: (s[0] + i, s[1] * 2))
    init = (np.array(0), np.ones(2, "float32"))
    assert_tree_close(ops.fori_loop(0, 5, body, init), keras.ops.fori_loop(0, 5, body, init))


def test_associative_scan_on_a_dict_is_ordered(keras):
    elems = {"a": np.array([[0, 1, 2], [3, 4, 5], [1, 1, 1]]), "b": np.array([[6, 7, 8], [9, 10, 11], [2, 2, 2]])}

    def f(x, y):       # not commutative: the earlier prefix comes first
        return {"a": x["a"] + y["b"], "b": x["b"] * 2 + y["b"]}
    for reverse in (False, True):
        assert_tree_close(ops.associative_scan(f, elems, reverse=reverse),
                          keras.ops.associative_scan(f, elems, reverse=reverse))


def test_vectorized_map_with_dict_output(keras):
    xs = np.arange(10, dtype="float32").reshape(2, 5)

    def f(x):
        return {"a": x ** 2, "b": x * 10}
    assert_tree_close(ops.vectorized_map(f, xs), keras.ops.vectorized_map(f, xs))
    ys = ops.vectorized_map(f, K((None, 5)))
    assert ys["a"].type.shape == (None, 5) and ys["b"].type.shape == (None, 5)


# --- saturate_cast ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype, want_dtype", [(None, "float32"), ("bfloat16", "bfloat16"), ("uint8", "uint8"),
                                               ("int32", "int32"), ("float16", "float16")])
def test_saturate_cast_dtype_and_limits(dtype, want_dtype):
    import ml_dtypes
    x = np.array([-1e40, -256, 1.0, 257.0, np.inf, -np.inf])
    got = ops.saturate_cast(x, dtype)
    assert str(got.dtype) == want_dtype
    info = np.iinfo(want_dtype) if "int" in want_dtype else ml_dtypes.finfo(want_dtype)
    want = np.clip(x, float(info.min), float(info.max)).astype(want_dtype)
    np.testing.assert_array_equal(got, want)


# --- slices at tensor starts, scatters at float index tensors ----------------------------------------
def test_slice_at_tensor_starts(keras):
    x = np.arange(16.0).reshape(4, 4)
    for starts, shape in [(np.array([1, 3]), (2, 2)), (np.array([3, 1]), (2, -1))]:
        np.testing.assert_array_equal(ops.slice(x, starts, shape), keras.ops.slice(x, starts, shape))
        symbolic = K((2,), "int32")
        np.testing.assert_array_equal(run(ops.slice(x, symbolic, shape), [symbolic], starts.astype("int32")),
                                      keras.ops.slice(x, starts, shape))
    assert ops.slice(K((3, 3)), K((2,), "int32"), (2, 2)).type.shape == (2, 2)
    assert ops.slice(K((3, 3)), K((2,), "int32"), (-1, -1)).type.shape == (None, None)
    updated = ops.slice_update(x, np.array([3, 3]), np.zeros((2, 2)))
    np.testing.assert_array_equal(updated, keras.ops.slice_update(x, np.array([3, 3]), np.zeros((2, 2))))


def test_slice_argument_errors_use_keras_words():
    with pytest.raises(ValueError, match="slice: .*dimensions in `inputs` must match.* dimensions in `shape`"):
        ops.slice(K((3, 3)), (1, 1), (2, 2, 2))
    with pytest.raises(ValueError, match="slice: .*dimensions in `start_indices` must match.* dimensions in `inputs`"):
        ops.slice(K((3, 3)), (1, 1, 1), (2, 2))


def test_float_index_tensors_are_cast(keras):
    """A KerasTensor's default dtype is float32: Keras's symbolic scatter, slice_update and in_top_k take it."""
    indices, targets, starts = K((3, 2)), K((3,)), K((2,))
    graphs = [ops.scatter(indices, np.array([1.0, 2.0, 3.0], "float32"), (3, 3)),
              ops.scatter_update(np.zeros((3, 3), "float32"), indices, np.array([4.0, 5.0, 6.0], "float32")),
              ops.in_top_k(targets, np.array([[0.1, 0.9, 0.8], [0.5, 0.2, 0.1], [0.3, 0.3, 0.4]]), 1),
              ops.slice_update(np.zeros((3, 3), "float32"), starts, np.ones((2, 2), "float32"))]
    got = run(graphs, [indices, targets, starts], np.array([[0, 1], [2, 0], [1, 1]], "float32"),
              np.array([1, 0, 0], "float32"), np.array([1, 0], "float32"))
    int_indices = np.array([[0, 1], [2, 0], [1, 1]])
    want = [keras.ops.scatter(int_indices, np.array([1.0, 2.0, 3.0], "float32"), (3, 3)),
            keras.ops.scatter_update(np.zeros((3, 3), "float32"), int_indices, np.array([4.0, 5.0, 6.0], "float32")),
            keras.ops.in_top_k(np.array([1, 0, 0]), np.array([[0.1, 0.9, 0.8], [0.5, 0.2, 0.1], [0.3, 0.3, 0.4]]), 1),
            keras.ops.slice_update(np.zeros((3, 3), "float32"), np.array([1, 0]), np.ones((2, 2), "float32"))]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


# --- segments, searchsorted, digitize ----------------------------------------------------------------
@pytest.mark.parametrize("name", ["segment_sum", "segment_max"])
def test_segments_at_float_or_negative_ids(name):
    data = np.arange(12.0, dtype="float32").reshape(6, 2)
    ids = np.array([0, 0, 2, 2, -1, 2])
    reduce = {"segment_sum": np.sum, "segment_max": np.max}[name]
    want = np.stack([reduce(data[ids == k], 0) if (ids == k).any() else
                     np.full(2, 0.0 if name == "segment_sum" else -np.inf) for k in range(3)])
    np.testing.assert_array_equal(getattr(ops, name)(data, ids, num_segments=3, sorted=False), want)
    symbolic = K((6,))       # float32, a KerasTensor's default dtype
    np.testing.assert_array_equal(run(getattr(ops, name)(data, symbolic, 3), [symbolic], ids.astype("float32")),
                                  want)
    assert getattr(ops, name)(K((None, 4)), K((10,), "int32"), num_segments=5).type.shape == (5, 4)


def test_searchsorted_and_digitize_give_keras_dtypes(keras):
    sequence, values = np.array([1.0, 2.0, 3.0]), np.array([0.5, 2.0, 2.5, 9.0])
    for side in ("left", "right"):
        got = ops.searchsorted(sequence, values, side=side)
        assert got.dtype == "int32"
        np.testing.assert_array_equal(got, keras.ops.searchsorted(sequence, values, side=side))
    got = ops.digitize(values, sequence)
    assert got.dtype == "int32"
    np.testing.assert_array_equal(got, keras.ops.digitize(values, sequence))
    assert ops.searchsorted(K((None,)), K((2, 3))).dtype == "int64"     # Keras's, for an unknown length


# --- linalg ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["solve", "solve_triangular"])
def test_solve_one_vector_per_matrix(keras, name):
    rng = np.random.default_rng(0)
    a = (np.triu(rng.random((4, 3, 3))) + 3 * np.eye(3)).astype("float32")
    b = rng.random((4, 3)).astype("float32")
    want = np.linalg.solve(a, b[..., None])[..., 0]
    np.testing.assert_allclose(getattr(ops, name)(a, b), want, rtol=1e-5)
    assert getattr(ops, name)(K((None, 20, 20)), K((None, 20))).type.shape == (None, 20)
    np.testing.assert_allclose(getattr(ops, name)(a, b[..., None])[..., 0], want, rtol=1e-5)


@pytest.mark.parametrize("name", ["cholesky", "cholesky_inverse", "det", "inv", "eig", "eigh"])
def test_square_matrix_ops_refuse_what_is_not_square(name):
    with pytest.raises(ValueError, match="%s: expected a square matrix" % name):
        getattr(ops.linalg, name)(K((10, 20, 15)))
    assert getattr(ops.linalg, name)(K((None, 20))) is not None     # (mlcore checks a length left open when run)


def test_solve_refuses_mismatched_right_hand_sides():
    with pytest.raises(ValueError, match="Expected `a.shape\\[-2\\] == b.shape\\[-2\\]`"):
        ops.solve(K((None, 20, 20)), K((None, 4, 5)))
    with pytest.raises(ValueError, match="Expected `a.shape\\[-1\\] == b.shape\\[-1\\]`"):
        ops.solve(K((None, 20, 20)), K((None, 4)))


def test_qr_rank_error_uses_keras_words():
    with pytest.raises(ValueError, match="qr: Input should have rank >= 2. Received: "):
        ops.qr(K((3,)))


# --- Fourier -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, phrase", [
    (lambda: ops.fft(np.ones(3)), "Input `x` should be a tuple of two tensors"),
    (lambda: ops.irfft((np.ones(3),)), "Input `x` should be a tuple of two tensors"),
    (lambda: ops.fft((np.ones(3), np.ones(2))), "Both the real and imaginary parts should have the same shape"),
    (lambda: ops.fft((np.ones(()), np.ones(()))), "Input should have rank >= 1"),
    (lambda: ops.fft2((np.ones(3), np.ones(3))), "Input should have rank >= 2"),
    (lambda: ops.rfft(np.ones(())), "Input should have rank >= 1"),
    (lambda: ops.fft((K((None,)), K((None,)))), "Input should have its last dimension fully-defined"),
    (lambda: ops.fft2((K((None, None, 3)), K((None, None, 3)))), "Input should have its .* axes fully-defined"),
])
def test_fourier_errors_use_keras_words(call, phrase):
    with pytest.raises(ValueError, match=phrase):
        call()


@pytest.mark.parametrize("shape, args", [((5, 32), (10, 3, 15, None, "hann", True)),
                                         ((2, 10, 5), (4, 1, 8, 1, "hann", False)),
                                         ((2, 10, 5), (4, 2, 8, None, None, False))])
def test_istft_of_a_variable_number_of_frames(keras, shape, args):
    rng = np.random.default_rng(1)
    real, imag = rng.random(shape).astype("float32"), rng.random(shape).astype("float32")
    want = np.asarray(keras.ops.istft((real, imag), *args))
    np.testing.assert_allclose(ops.istft((real, imag), *args), want, atol=1e-5)
    r, i = K((None,) * (len(shape) - 1) + shape[-1:]), K((None,) * (len(shape) - 1) + shape[-1:])
    np.testing.assert_allclose(run(ops.istft((r, i), *args), [r, i], real, imag), want, atol=1e-5)

"""keras.ops' array making and reshaping where Keras 3's own numpy_test.py found mlcore lacking: pad's
reflect/symmetric/edge/wrap modes (values against numpy on every backend, gradients against finite
differences), windows of a 0-d tensor length, linspace with a tensor num, eye refusing floats, splits
and array_split along axes whose length is known only when the graph runs, repeat's checked length,
and Keras's errors for reshape, transpose, concatenate(axis=None) and out-of-range axes."""
import numpy as np
import pytest

import mlcore
from mlcore import ops
from mlcore.graph.basic import TensorType


def _run(build, *values, backend="numpy", unknown=()):
    """build on symbolic stand-ins for values (dims in `unknown` left unknown), compiled and run."""
    symbols = [TensorType(v.dtype, [None if d in unknown else n for d, n in enumerate(v.shape)])() for v in values]
    out = build(*symbols)
    return mlcore.function(symbols, list(out) if isinstance(out, (list, tuple)) else out, backend=backend)(*values)


PAD_WIDTHS = [((1, 1), (1, 1)), ((0, 2), (3, 0)), ((5, 7), (2, 9)), 2]


@pytest.mark.parametrize("mode", ["reflect", "symmetric", "edge", "wrap"])
@pytest.mark.parametrize("dtype", ["float32", "int8", "uint8"])
def test_pad_modes_match_numpy_on_every_backend(backend, mode, dtype):
    x = np.arange(12).reshape(3, 4).astype(dtype)
    for pad_width in PAD_WIDTHS:
        expected = np.pad(x, pad_width, mode=mode)
        for unknown in ((), (0, 1)):       # the lengths known when built, or only when run
            got = _run(lambda t: ops.pad(t, pad_width, mode=mode), x, backend=backend, unknown=unknown)
            assert got.dtype == x.dtype
            np.testing.assert_array_equal(got, expected)


def test_pad_modes_on_values_and_a_length_one_axis():
    x = np.array([[5.0], [6.0]], dtype="float32")
    for mode in ("reflect", "symmetric", "edge", "wrap"):
        np.testing.assert_array_equal(ops.pad(x, ((1, 2), (3, 4)), mode=mode), np.pad(x, ((1, 2), (3, 4)), mode=mode))


def test_pad_shapes_and_keras_errors():
    x = mlcore.KerasTensor((None, 3))
    assert ops.pad(x, ((1, 2), (3, 4)), mode="reflect").shape == (None, 10)
    assert ops.pad(mlcore.KerasTensor((2, 3)), 2, mode="symmetric").shape == (6, 7)
    with pytest.raises(ValueError, match="`constant_values` can only be provided when `mode == 'constant'`"):
        ops.pad(np.ones((2, 3)), 1, mode="reflect", constant_values=0)
    with pytest.raises(ValueError, match="mode 'median' is not supported"):
        ops.pad(np.ones((2, 3)), 1, mode="median")
    with pytest.raises(ValueError, match="cannot pad the empty axis"):
        ops.pad(np.ones((0, 3)), 1, mode="wrap")


@pytest.mark.parametrize("mode", ["reflect", "symmetric", "edge", "wrap"])
def test_pad_mode_gradients_equal_finite_differences(mode, numeric_grad, rng):
    x = rng.normal(size=(3, 4))
    weights = rng.normal(size=np.pad(x, ((4, 2), (1, 5))).shape)
    symbol = TensorType("float64", (None, 4))()
    cost = ops.sum(ops.pad(symbol, ((4, 2), (1, 5)), mode=mode) * weights)
    gradient = mlcore.function([symbol], mlcore.grad(cost, symbol))(x)
    value = mlcore.function([symbol], cost)
    np.testing.assert_allclose(gradient, numeric_grad(value, [x], 0), rtol=1e-7, atol=1e-8)


WINDOWS = [("bartlett", ()), ("blackman", ()), ("hamming", ()), ("hanning", ()), ("kaiser", (2.5,))]


@pytest.mark.parametrize("name,extra", WINDOWS, ids=[w[0] for w in WINDOWS])
def test_windows_match_numpy_for_int_and_tensor_lengths(name, extra):
    jnp = pytest.importorskip("jax.numpy")
    for length in (0, 1, 2, 7, 16):
        expected = getattr(np, name)(length, *extra)
        for given in (length, np.array(length), jnp.asarray(length)):
            got = np.asarray(getattr(ops, name)(given, *extra))
            assert got.dtype == "float32" and got.shape == (length,)
            np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name,extra", WINDOWS, ids=[w[0] for w in WINDOWS])
def test_windows_of_a_symbolic_length(name, extra, backend):
    got = _run(lambda n: getattr(ops, name)(n, *extra), np.array(9, dtype="int32"), backend=backend)
    np.testing.assert_allclose(got, getattr(np, name)(9, *extra), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(getattr(ops, name)(4.0, *extra), getattr(ops, name)(4, *extra))   # as Keras's int(x)


def test_linspace_with_a_tensor_num():
    jnp = pytest.importorskip("jax.numpy")
    for endpoint in (True, False):
        np.testing.assert_allclose(ops.linspace(0, 10, jnp.asarray(5), endpoint=endpoint),
                                   np.linspace(0, 10, 5, endpoint=endpoint), rtol=1e-6)
    got = _run(lambda n: ops.linspace(1.0, 2.0, n), np.array(3, dtype="int64"))
    np.testing.assert_allclose(got, [1.0, 1.5, 2.0])


def test_eye_and_tri_refuse_float_sizes():
    np.testing.assert_array_equal(ops.eye(np.int32(3), 4, 1), np.eye(3, 4, 1))
    for args in [(3.0,), (3, 2.0), (ops.max(ops.arange(4.0)),), (mlcore.KerasTensor((), dtype="float32"),)]:
        with pytest.raises(TypeError, match="must be an integer"):
            ops.eye(*args)
    with pytest.raises(TypeError):
        ops.tri(2.5)
    with pytest.raises(TypeError):
        ops.identity(np.float32(2))


@pytest.mark.parametrize("op,axis,kwargs", [("split", 0, {}), ("vsplit", 0, {}), ("hsplit", 1, {}),
                                             ("dsplit", 2, {}), ("array_split", 1, {"axis": 1})])
def test_splits_along_an_axis_known_only_when_run(op, axis, kwargs, backend):
    x = np.arange(4 * 6 * 8, dtype="float32").reshape(4, 6, 8)
    symbolic = getattr(ops, op)(mlcore.KerasTensor(tuple(None if d == axis else n for d, n in enumerate(x.shape))),
                                2, **kwargs)
    assert [p.shape for p in symbolic] == [tuple(None if d == axis else n for d, n in enumerate(x.shape))] * 2
    got = _run(lambda t: getattr(ops, op)(t, 2, **kwargs), x, backend=backend, unknown=(axis,))
    for g, e in zip(got, getattr(np, op)(x, 2, **kwargs)):
        np.testing.assert_array_equal(g, e)


def test_split_at_indices_with_an_unknown_length_and_its_errors():
    # x[:, :1] of a length the run knows may be empty: mlcore leaves those lengths unknown (Keras says 1, 2)
    assert [p.shape for p in ops.hsplit(mlcore.KerasTensor((3, None, 3)), [1, 3])] == [(3, None, 3)] * 3
    x = np.arange(24, dtype="float32").reshape(2, 4, 3)
    for g, e in zip(_run(lambda t: ops.hsplit(t, [1, 3]), x, unknown=(1,)), np.hsplit(x, [1, 3])):
        np.testing.assert_array_equal(g, e)
    assert [p.shape for p in ops.split(np.ones((0,)), 2)] == [(0,), (0,)]
    with pytest.raises(ValueError, match="equal sections"):
        ops.split(mlcore.KerasTensor((2, 3)), 2, axis=1)
    with pytest.raises(ValueError):      # numpy's error when the run's length does not divide
        _run(lambda t: ops.split(t, 2), np.ones(5, "float32"), unknown=(0,))


@pytest.mark.parametrize("length,sections", [(7, 3), (2, 4), (9, 3), (0, 2)])
def test_array_split_with_a_length_known_only_when_run(length, sections, backend):
    x = np.arange(2 * length, dtype="float32").reshape(length, 2)
    got = _run(lambda t: ops.array_split(t, sections), x, backend=backend, unknown=(0,))
    expected = np.array_split(x, sections)
    assert [g.shape for g in got] == [e.shape for e in expected]
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)


def test_repeat_counts_along_an_unknown_axis_are_checked_when_run():
    x = np.arange(6, dtype="float32").reshape(2, 3)
    assert ops.repeat(mlcore.KerasTensor((None, 3)), [1, 2], axis=0).shape == (3, 3)
    np.testing.assert_array_equal(_run(lambda t: ops.repeat(t, [1, 2], axis=0), x, unknown=(0,)),
                                  np.repeat(x, [1, 2], axis=0))
    with pytest.raises(ValueError, match="specify_shape"):
        _run(lambda t: ops.repeat(t, [1, 2], axis=0), np.ones((3, 3), "float32"), unknown=(0,))


def test_reshape_errors_and_symbolic_shapes_as_keras():
    x = np.zeros(20, dtype="float32")
    with pytest.raises(ValueError, match=r"non-negative integer.*-1.*newshape=\(-2, 5\)"):
        ops.reshape(x, (-2, 5))
    with pytest.raises(ValueError, match=r"at most one unknown dimension.*newshape=\(-1, -1, 5\)"):
        ops.reshape(x, (-1, -1, 5))
    tensor = mlcore.KerasTensor((None, 20))
    assert ops.reshape(tensor, mlcore.KerasTensor((2,), dtype="int32")).shape == (None, None)
    assert ops.reshape(tensor, (None, mlcore.KerasTensor((), dtype="int32"))).shape == (None, None)
    np.testing.assert_array_equal(ops.reshape(np.arange(6), (None, 3)), np.arange(6).reshape(-1, 3))


def test_transpose_swapaxes_moveaxis_validate_axes():
    x = mlcore.KerasTensor((2, 3, 4))
    with pytest.raises(ValueError, match=r"valid permutation.*axes=\[0, 0, 0\]"):
        ops.transpose(x, axes=[0, 0, 0])
    with pytest.raises(ValueError, match=r"Each axis in `axes` must be an integer in \[-3, 3\)"):
        ops.transpose(x, axes=[0, 1, 5])     # it was read as [0, 1, 2]
    assert ops.transpose(x, axes=[-1, 0, 1]).shape == (4, 2, 3)
    for call in (lambda: ops.swapaxes(x, 5, 0), lambda: ops.moveaxis(x, 5, 0), lambda: ops.moveaxis(x, [0, 0], [1, 2])):
        with pytest.raises(ValueError):
            call()
    assert ops.moveaxis(x, [0, -1], [-1, 0]).shape == (4, 3, 2)


def test_joining_axes_as_keras():
    a = mlcore.KerasTensor((3, 4))
    with pytest.raises(ValueError, match="`axis` cannot be None for `concatenate`"):
        ops.concatenate([a, a], axis=None)
    for call in (lambda: ops.concatenate([a, a], axis=10), lambda: ops.stack([a, a], axis=10),
                 lambda: ops.split(a, 2, axis=10), lambda: ops.take(a, [0], axis=5)):
        with pytest.raises(ValueError, match="axis (10|5) is out of"):
            call()
    assert ops.stack([a, a], axis=2).shape == (3, 4, 2)


def test_unstack_refuses_what_it_cannot_cut_in_keras_words():
    with pytest.raises(ValueError, match="axis 10 is out of bounds"):
        ops.unstack(np.ones((2, 3)), axis=10)
    with pytest.raises(ValueError, match="Cannot infer argument `num` from shape"):
        ops.unstack(TensorType("float32", (2, None))(), axis=1)
    rows = TensorType("float32", (2, None))()
    pieces = mlcore.function([rows], ops.unstack(rows, num=3, axis=1))(np.arange(6.0, dtype="float32").reshape(2, 3))
    for got, want in zip(pieces, np.arange(6.0).reshape(2, 3).T):
        np.testing.assert_array_equal(got, want)


def test_histogram_and_linspace_keep_float64_ends_as_numpy():
    """linspace cast its ends to floatx: a float64 vector's histogram then had float32 edges, and its
    smallest entry, below the rounded first edge, fell out of every bin (about half of random vectors)."""
    for seed in range(20):
        x = np.random.default_rng(seed).random(8)
        counts, edges = ops.histogram(x)
        want_counts, want_edges = np.histogram(x)
        np.testing.assert_array_equal(counts, want_counts)
        np.testing.assert_allclose(edges, want_edges, rtol=1e-15)
    ends = np.array([0.1, 0.7])
    got = ops.linspace(ends[0:1], ends[1:2], 7)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, np.linspace(ends[0:1], ends[1:2], 7), rtol=1e-15)
    assert ops.linspace(0, 1, 5).dtype == np.float32 and ops.linspace(0, 1, 5, dtype="float64").dtype == np.float64


@pytest.mark.parametrize("key", [np.s_[:, 17, :], np.s_[..., 5, ...], np.s_[:, :, :, :]])
def test_keys_that_cannot_index_a_tensor_are_refused_when_built_as_keras(keras, key):
    """An index past a known size, two ellipses, more indices than dims: Keras's ValueError, numpy's IndexError."""
    with pytest.raises(ValueError):
        keras.ops.get_item(keras.KerasTensor((None, 5, 16)), key)
    for error in (ValueError, IndexError):
        with pytest.raises(error):
            ops.get_item(mlcore.KerasTensor((None, 5, 16)), key)
    assert ops.get_item(mlcore.KerasTensor((None, 5, 16)), np.s_[:, -5, 3]).type.shape == (None,)


@pytest.mark.parametrize("arguments, error, message", [
    ({"bins": -5}, ValueError, "Argument `bins` should be a non-negative integer"),
    ({"bins": 2.5}, TypeError, "Argument `bins` must be of type `int`"),
    ({"range": (1,)}, ValueError, "Argument `range` must be a tuple of two elements"),
    ({"range": (5, 1)}, ValueError, "The second element of `range` must be greater than the first")])
def test_histogram_checks_its_arguments_as_keras(keras, arguments, error, message):
    x = np.random.default_rng(0).random(8)
    for library in (keras.ops, ops):
        with pytest.raises(error, match=message):
            library.histogram(x, **arguments)
        with pytest.raises(ValueError, match="Input tensor must be 1-dimensional"):
            library.histogram(np.zeros((3, 4, 5)))


def test_argpartition_takes_one_integer_kth_as_keras(keras):
    with pytest.raises(ValueError, match="kth must be an integer"):
        keras.ops.argpartition(keras.KerasTensor((2, 3)), (1, 3))
    with pytest.raises(ValueError, match="kth must be an integer"):
        ops.argpartition(mlcore.KerasTensor((2, 3)), (1, 3))
    x = np.array([[3, 1, 2], [9, 7, 8]])
    partitioned = np.take_along_axis(x, ops.argpartition(x, 1), axis=-1)
    np.testing.assert_array_equal(partitioned[:, 1], np.partition(x, 1)[:, 1])


@pytest.mark.parametrize("x, kwargs", [(np.array([[1, 2, 3], [3, 2, 1]]), {}), (np.array([[1, 2, 3], [3, 2, 1]]), {"axis": 0}),
                                       (np.array([[]]), {}), (np.array([[]]), {"keepdims": True}),
                                       (np.zeros((2, 0, 3)), {"axis": (1, 2), "keepdims": True}), (np.array(2.5), {})])
def test_max_and_min_with_initial_match_numpy_and_keras_on_empty_tensors_too(keras, x, kwargs):
    for ours, numpys, theirs in ((ops.max, np.max, keras.ops.max), (ops.min, np.min, keras.ops.min)):
        for initial in (4, -1):
            expected = numpys(x, initial=initial, **kwargs)
            got = ours(x, initial=initial, **kwargs)
            assert np.shape(got) == np.shape(expected)
            np.testing.assert_allclose(got, expected)
            np.testing.assert_allclose(got, theirs(x, initial=initial, **kwargs))


def test_max_with_initial_of_a_symbolic_empty_axis_runs(backend):
    rows = mlcore.KerasTensor((None, 0))
    largest = mlcore.function([rows], ops.max(rows, axis=1, initial=1.0), backend=backend)
    np.testing.assert_allclose(largest(np.zeros((3, 0), "float32")), [1.0, 1.0, 1.0])


def test_median_and_nanmedian_of_rows_with_infinities_match_numpy():
    """The middle value, or the mean of the two middle ones, as numpy's: interpolating from one side
    would give NaN between -inf and 2, and between inf and inf."""
    import warnings
    import mlcore.ops as mops
    x = np.array([[1.0, np.inf, 3.0], [np.nan, -np.inf, 2.0], [np.inf, np.inf, 1.0], [-np.inf, 0.0, 5.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        np.testing.assert_array_equal(np.asarray(mops.nanmedian(x, axis=1)), np.nanmedian(x, axis=1))
        np.testing.assert_array_equal(np.asarray(mops.median(x, axis=1)), np.median(x, axis=1))

"""The last keras.ops mlcore gained (bits and divisors, counting, products, spacing, segments,
saturate_cast, the real-input complex helpers, matrix_rank/lu_factor/cholesky_inverse/jvp,
while_loop and the other function-taking ops, unique/nonzero, adaptive pooling, fold/unfold):
each against Keras 3 on jax, symbolic on every backend and at once on values, the differentiable
ones against finite differences, and the errors where mlcore cannot follow numpy."""
import numpy as np
import pytest

import mlcore
from mlcore import ops
from mlcore.graph.basic import TensorType
from test_keras_ops import _mlcore

keras = pytest.importorskip("keras")

_rng = np.random.default_rng(20261127)
INTS, INTS2 = _rng.integers(-20, 20, size=(2, 3, 4))
SHIFTS = _rng.integers(0, 5, size=(3, 4))
X, Y = _rng.normal(size=(2, 3, 4)).astype("float32")
V3, W3 = _rng.normal(size=(2, 4, 3)).astype("float32")
SIGNAL, TAPS = _rng.normal(size=7).astype("float32"), _rng.normal(size=3).astype("float32")
P, Q = _rng.normal(size=(2, 5, 3)).astype("float32"), _rng.normal(size=(2, 4, 3)).astype("float32")
SEGMENT_DATA, SEGMENTS = _rng.normal(size=(5, 2)).astype("float32"), np.array([0, 2, 0, 2, 1])
WIDE = np.array([[-1e10, -3.5, 0.2], [300.7, np.inf, -np.inf]], dtype="float32")
LOW_RANK = (_rng.normal(size=(4, 2)) @ _rng.normal(size=(2, 4))).astype("float32")
SQUARE = _rng.normal(size=(2, 3, 3)).astype("float32")
FACTOR = np.linalg.cholesky(SQUARE[0] @ SQUARE[0].T + 3 * np.eye(3)).astype("float32")
IMAGES = _rng.normal(size=(2, 7, 5, 3)).astype("float32")
NCHW = _rng.normal(size=(2, 3, 5, 4)).astype("float32")
COLUMNS = _rng.normal(size=(2, 12, 12)).astype("float32")   # 3 channels of 2x2 blocks, 4x3 positions
LABELS = np.array([0, 3, 1, 3, 3, 6])
SMALL = _rng.integers(0, 4, size=(3, 4))

CASES = [
    ("bitwise_and", (INTS, INTS2), {}), ("bitwise_or", (INTS, INTS2), {}),
    ("left_shift", (INTS, SHIFTS), {}), ("right_shift", (INTS, SHIFTS), {}),
    ("bitwise_left_shift", (INTS, SHIFTS), {}), ("bitwise_right_shift", (INTS, SHIFTS), {}),
    ("gcd", (INTS, INTS2), {}), ("lcm", (INTS, INTS2), {}),
    ("isin", (INTS, INTS2[0]), {}), ("isin", (INTS, INTS2[0]), {"invert": True}),
    ("cross", (V3, W3), {}), ("cross", (V3[:, :2], W3), {}), ("cross", (V3[:, :2], W3[:, :2]), {}),
    ("cross", (V3.T, W3), {"axisa": 0, "axisc": 0}), ("cross", (V3.T, W3.T), {"axis": 0}),
    ("correlate", (SIGNAL, TAPS), {}), ("correlate", (SIGNAL, TAPS), {"mode": "same"}),
    ("correlate", (TAPS, SIGNAL), {"mode": "full"}), ("correlate", (TAPS, SIGNAL), {"mode": "same"}),
    ("histogram", (SIGNAL,), {}), ("histogram", (SIGNAL,), {"bins": 4, "range": (-1.0, 1.0)}),
    ("cdist", (P, Q), {}), ("cdist", (P[0], Q[1]), {}),
    ("bincount", (LABELS,), {}), ("bincount", (LABELS,), {"weights": SIGNAL[:6], "minlength": 9}),
    ("logspace", (0.0, 2.0), {"num": 5}), ("logspace", (1.0, 3.0), {"num": 4, "endpoint": False, "base": 2}),
    ("geomspace", (1.0, 1000.0), {"num": 4}), ("geomspace", (-2.0, -32.0), {"num": 5, "endpoint": False}),
    ("nextafter", (X, Y), {}),
    ("segment_min", (SEGMENT_DATA, SEGMENTS), {"num_segments": 4}),
    ("segment_prod", (SEGMENT_DATA, SEGMENTS), {"num_segments": 4}),
    ("saturate_cast", (WIDE, "uint8"), {}), ("saturate_cast", (WIDE, "int32"), {}),
    ("saturate_cast", (INTS * 1000, "int8"), {}),
    ("isreal", (X,), {}), ("real", (X,), {}), ("imag", (X,), {}), ("conj", (X,), {}),
    ("conjugate", (X,), {}), ("angle", (np.where(X > 0, X, -0.0 * X),), {}), ("angle", (INTS,), {}),
    ("matrix_rank", (LOW_RANK,), {}), ("matrix_rank", (SQUARE,), {}), ("matrix_rank", (LOW_RANK,), {"tol": 0.5}),
    ("lu_factor", (SQUARE,), {}), ("lu_factor", (SQUARE[1],), {}),
    ("cholesky_inverse", (FACTOR,), {}), ("cholesky_inverse", (FACTOR.T,), {"upper": True}),
    ("adaptive_average_pool", (IMAGES, (3, 2)), {"data_format": "channels_last"}),
    ("adaptive_max_pool", (IMAGES, 3), {"data_format": "channels_last"}),
    ("adaptive_average_pool", (NCHW, (2, 3)), {"data_format": "channels_first"}),
    ("adaptive_max_pool", (IMAGES[:, :, 0], 4), {"data_format": "channels_last"}),
    ("unfold", (NCHW, 2), {}), ("unfold", (NCHW, (2, 3)), {"dilation": (2, 1), "padding": 1, "stride": 2}),
    ("fold", (COLUMNS, (5, 4), 2), {}),
    ("unique", (SMALL,), {"size": 6, "return_index": True, "return_inverse": True, "return_counts": True}),
    ("unique", (SMALL,), {"size": 2, "fill_value": -1, "return_counts": True}),
]
THEANO = {"bitwise_and", "left_shift", "right_shift", "gcd", "lcm", "nextafter", "lu_factor", "saturate_cast",
          "correlate", "histogram", "bincount", "unique", "fold", "adaptive_max_pool"}


def _numbered(cases):
    """The cases as pytest params named name-0, name-1, ... per op."""
    seen = {}
    for case in cases:
        seen[case[0]] = seen.get(case[0], -1) + 1
        yield pytest.param(case, id="%s-%d" % (case[0], seen[case[0]]))


def _first_of_its_op(case):
    return next(c for c in CASES if c[0] == case[0]) is case


def _as_list(value):
    return [keras.ops.convert_to_numpy(v) for v in value] if isinstance(value, (list, tuple)) \
        else [keras.ops.convert_to_numpy(value)]


def _check(got, expected):
    got, expected = _as_list(got), _as_list(expected)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        g = np.asarray(g)
        assert g.shape == e.shape
        assert g.dtype.kind == e.dtype.kind or {g.dtype.kind, e.dtype.kind} <= {"i", "u"}
        np.testing.assert_allclose(g, e, rtol=2e-6 if e.dtype.kind == "f" else 0, atol=1e-6)


@pytest.mark.parametrize("backend", ["numpy", "jax", "theano"])
@pytest.mark.parametrize("case", _numbered(CASES))
def test_symbolic_op_matches_keras(case, backend, require_backend):
    name, args, kwargs = case
    if backend == "theano" and (name not in THEANO or not _first_of_its_op(case)):
        pytest.skip("theano compiles slowly: it runs the first case of the ops whose kernels it has of its own")
    _check(_mlcore(name, args, kwargs, False, require_backend(backend)), getattr(keras.ops, name)(*args, **kwargs))


@pytest.mark.parametrize("case", _numbered(CASES))
def test_op_on_values_runs_at_once(case):
    name, args, kwargs = case
    got = getattr(ops, name)(*args, **kwargs)
    assert not any(isinstance(v, mlcore.graph.basic.Variable) for v in (got if isinstance(got, tuple) else [got]))
    _check(got, getattr(keras.ops, name)(*args, **kwargs))


def test_adaptive_pools_pool_the_windows_pytorch_defines():
    """Where an output size equals the input's, each window is one cell (Keras's jax backend gives
    NaN there), and uneven windows overlap: [floor(i L / n), ceil((i + 1) L / n))."""
    x = np.arange(7, dtype="float32").reshape(1, 7, 1)
    np.testing.assert_array_equal(ops.adaptive_average_pool(x, 7, data_format="channels_last"), x)
    windows = [x[0, 0:3, 0], x[0, 2:5, 0], x[0, 4:7, 0]]
    np.testing.assert_allclose(ops.adaptive_average_pool(x, 3, "channels_last")[0, :, 0], [w.mean() for w in windows])
    np.testing.assert_array_equal(ops.adaptive_max_pool(x, 3, "channels_last")[0, :, 0], [w.max() for w in windows])


def _gradient_check(numeric_grad, build, values, backend):
    """d sum(build(*inputs) * weights) / d each float input: compiled on backend vs finite differences."""
    inputs = [TensorType("float64", v.shape)() for v in values]
    out = build(*inputs)
    weights = np.random.default_rng(0).normal(size=out.type.shape)
    cost = ops.sum(out * weights)
    grads = mlcore.function(inputs, mlcore.grad(cost, inputs), backend=backend)(*values)
    value = mlcore.function(inputs, cost, backend="numpy")
    for k, g in enumerate(grads):
        np.testing.assert_allclose(g, numeric_grad(value, values, k), rtol=1e-5, atol=1e-7)


GRADIENT_CASES = {
    "cdist": (lambda x, y: ops.cdist(x, y), (P, Q)),
    "cross": (lambda x, y: ops.cross(x, y), (V3, W3)),
    "correlate": (lambda x, y: ops.correlate(x, y, mode="same"), (SIGNAL, TAPS)),
    "segment_prod": (lambda x: ops.segment_prod(x, SEGMENTS, num_segments=3), (SEGMENT_DATA,)),
    "cholesky_inverse": (lambda x: ops.cholesky_inverse(ops.tril(x)), (FACTOR,)),
    "adaptive_average_pool": (lambda x: ops.adaptive_average_pool(x, (3, 2), "channels_last"), (IMAGES[:1],)),
    "adaptive_max_pool": (lambda x: ops.adaptive_max_pool(x, (3, 2), "channels_last"), (IMAGES[:1],)),
    "fold_unfold": (lambda x: ops.fold(ops.unfold(x, 2, stride=1) * 1.5, (5, 4), 2), (NCHW[:1],)),
}


@pytest.mark.parametrize("name", list(GRADIENT_CASES))
def test_gradient_matches_finite_differences(name, numeric_grad):
    build, values = GRADIENT_CASES[name]
    _gradient_check(numeric_grad, build, [v.astype("float64") for v in values], "numpy")


@pytest.mark.parametrize("backend", ["jax", "theano"])
def test_gradients_agree_on_the_other_backends(backend, numeric_grad, require_backend):
    build, values = GRADIENT_CASES["correlate"]
    _gradient_check(numeric_grad, build, [v.astype("float64") for v in values], require_backend(backend))


# --- functions of functions ---------------------------------------------------------------------
def _collatz(library):
    """(cond, body) of the Collatz walk to 1 counting its steps, in library's ops (mlcore's
    tensors compare identity with == and !=, as Theano's: equal and not_equal compare values)."""
    return (lambda n, *others: library.not_equal(n, 1),
            lambda n, steps: (library.where(library.equal(n % 2, 0), n // 2, 3 * n + 1), steps + 1))


def test_while_loop_matches_keras_on_every_backend(backend):
    n = TensorType("int64", ())()
    scale = TensorType("float32", (3,))()
    (cond, body), keras_loop = _collatz(ops), _collatz(keras.ops)
    end, steps, scaled = ops.while_loop(cond, lambda n, steps, s: body(n, steps) + (s * 2,), (n, 0, scale))
    limited = ops.while_loop(cond, body, [n, 0], maximum_iterations=5)
    got = mlcore.function([n, scale], [end, steps, scaled, *limited], backend=backend)(27, np.ones(3, "float32"))
    expected = keras.ops.while_loop(*keras_loop, (27, 0))
    assert [int(v) for v in got[:2]] == [int(v) for v in expected] == [1, 111]
    np.testing.assert_array_equal(got[2], np.full(3, 2.0 ** 111, "float32"))
    assert [int(v) for v in got[3:]] == [int(v) for v in keras.ops.while_loop(
        *keras_loop, (27, 0), maximum_iterations=5)] == [31, 5]


def test_while_loop_on_values_and_its_errors():
    assert ops.while_loop(lambda i: i < 10, lambda i: i * 3, 1) == 27        # one loop variable: no tuple
    values = ops.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s * 0.5), [0, np.ones(2, "float32")])
    assert isinstance(values, tuple) and values[0] == 4 and np.array_equal(values[1], np.full(2, 0.0625))
    x = TensorType("float32", (2,))()
    with pytest.raises(TypeError, match="dtype and shape"):
        ops.while_loop(lambda v: ops.sum(v) < 10, lambda v: ops.concatenate([v, v]), x)
    with pytest.raises(TypeError, match="cond returned True"):
        ops.while_loop(lambda v: v is not None, lambda v: v * 2, x)
    with pytest.raises(NotImplementedError, match="while_loop has no gradient"):
        mlcore.grad(ops.sum(ops.while_loop(lambda v: ops.sum(v) < 10, lambda v: v * 2, x)), x)


def _affine(a, b):
    """Composes x -> a0 x + a1 with x -> b0 x + b1: associative, not commutative."""
    return a[0] * b[0], a[1] * b[0] + b[1]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("axis", [0, 1])
def test_associative_scan_matches_keras(reverse, axis):
    expected = keras.ops.associative_scan(_affine, (X, Y), reverse=reverse, axis=axis)
    x, y = TensorType("float32", (3, 4))(), TensorType("float32", (3, 4))()
    got = mlcore.function([x, y], list(ops.associative_scan(_affine, (x, y), reverse=reverse, axis=axis)),
                          backend="jax")(X, Y)
    _check(got, expected)
    _check(ops.associative_scan(lambda a, b: a + b, X, axis=axis, reverse=reverse),
           keras.ops.associative_scan(lambda a, b: a + b, X, axis=axis, reverse=reverse))


def test_vectorized_map_and_vectorize_match_keras(backend):
    rows = TensorType("float32", (None, 4))()
    got = mlcore.function([rows], ops.vectorized_map(lambda r: ops.sum(r * r), rows), backend=backend)(X)
    _check(got, keras.ops.vectorized_map(lambda r: keras.ops.sum(r * r), X))
    _check(ops.vectorized_map(lambda pair: pair[0] - pair[1], (X, Y)),
           keras.ops.vectorized_map(lambda pair: pair[0] - pair[1], (X, Y)))
    vectors = _rng.normal(size=(4, 1, 3)).astype("float32")
    _check(ops.vectorize(lambda m, v: ops.matmul(m, v), signature="(m,n),(n)->(m)")(SQUARE, vectors),
           keras.ops.vectorize(lambda m, v: keras.ops.matmul(m, v), signature="(m,n),(n)->(m)")(SQUARE, vectors))
    _check(ops.vectorize(lambda a, b: a * 2 + b)(X, Y[0, 0]), keras.ops.vectorize(lambda a, b: a * 2 + b)(X, Y[0, 0]))


def test_jvp_matches_keras():
    tangent = _rng.normal(size=4).astype("float32")
    _check(ops.jvp(lambda x, y: ops.sin(x) * y, (X[0], Y[0]), (tangent, np.ones(4, "float32"))),
           keras.ops.jvp(lambda x, y: keras.ops.sin(x) * y, (X[0], Y[0]), (tangent, np.ones(4, "float32"))))
    _check(ops.jvp(lambda x: (ops.exp(x), x * 2), (X[0],), (tangent,), has_aux=True),
           keras.ops.jvp(lambda x: (keras.ops.exp(x), x * 2), (X[0],), (tangent,), has_aux=True))
    x = TensorType("float32", (4,))()
    out, derivative = ops.jvp(lambda v: ops.tanh(v) ** 2, (x,), (tangent,))
    _check(mlcore.function([x], [out, derivative])(X[0]),
           keras.ops.jvp(lambda v: keras.ops.tanh(v) ** 2, (X[0],), (tangent,)))


# --- data-dependent sizes -----------------------------------------------------------------------
def test_unique_and_nonzero_on_values_match_keras():
    _check(ops.unique(SMALL, return_index=True, return_inverse=True, return_counts=True),
           keras.ops.unique(SMALL, return_index=True, return_inverse=True, return_counts=True))
    rows = np.array([[1, 2], [0, 3], [1, 2]])
    _check(ops.unique(rows, axis=0, return_counts=True), keras.ops.unique(rows, axis=0, return_counts=True))
    _check(ops.nonzero(SMALL), keras.ops.nonzero(SMALL))
    with_nans = np.array([1.0, np.nan, 2.0, np.nan], "float32")     # each NaN a value of its own, as Keras
    _check(ops.unique(with_nans, return_counts=True), keras.ops.unique(with_nans, return_counts=True))
    assert np.isnan(ops.unique(with_nans)).sum() == 2


def test_unique_and_nonzero_in_a_graph_need_a_size():
    x = TensorType("int64", (None,))()
    with pytest.raises(ValueError, match="pass size="):
        ops.unique(x)
    with pytest.raises(ValueError, match="values only"):
        ops.nonzero(x)


def test_argpartition_partitions_as_keras():
    for x, kth, axis in [(X, 1, -1), (X, 2, 1), (X, 5, None)]:
        got = ops.argpartition(x, kth, axis=axis)
        expected = keras.ops.convert_to_numpy(keras.ops.argpartition(x, kth, axis=axis))
        flat = x.reshape(-1) if axis is None else np.moveaxis(x, axis, -1)
        got, expected = (np.moveaxis(v, axis, -1) if axis is not None else v for v in (got, expected))
        for order in (got, expected):     # where partitioning leaves the order free, both may differ
            values = np.take_along_axis(flat, order, -1)
            assert np.array_equal(np.sort(order, -1), np.broadcast_to(np.arange(flat.shape[-1]), order.shape))
            assert np.array_equal(values[..., kth], np.sort(flat, -1)[..., kth])
            assert (values[..., :kth] <= values[..., kth:kth + 1]).all()
            assert (values[..., kth + 1:] >= values[..., kth:kth + 1]).all()


def test_errors_name_the_argument():
    with pytest.raises(TypeError, match="bitwise_and takes integer or bool tensors; received x of dtype float32"):
        ops.bitwise_and(X, INTS)
    with pytest.raises(TypeError, match="gcd takes integer tensors"):
        ops.gcd(INTS, Y)
    with pytest.raises(ValueError, match="mode must be"):
        ops.correlate(SIGNAL, TAPS, mode="wrong")
    with pytest.raises(ValueError, match="2 or 3 components"):
        ops.cross(X, Y)
    with pytest.raises(ValueError, match="num_segments"):
        ops.segment_prod(SEGMENT_DATA, SEGMENTS)


def test_keras_namespaces_hold_the_same_functions():
    """keras.ops.nn's and keras.mixed_precision's names that live elsewhere in mlcore are there too."""
    from mlcore import mixed_precision, optimizers
    for name in ("adaptive_average_pool", "adaptive_max_pool", "ctc_decode", "ctc_loss", "dot_product_attention",
                 "fold", "unfold"):
        assert hasattr(keras.ops.nn, name) and getattr(ops.nn, name) is getattr(ops, name)
    x = np.arange(24, dtype="float32").reshape(1, 2, 3, 4)
    np.testing.assert_allclose(ops.nn.adaptive_average_pool(x, (1, 2), data_format="channels_first"),
                               np.asarray(keras.ops.nn.adaptive_average_pool(x, (1, 2), data_format="channels_first")))
    assert hasattr(keras.mixed_precision, "LossScaleOptimizer")
    assert mixed_precision.LossScaleOptimizer is optimizers.LossScaleOptimizer

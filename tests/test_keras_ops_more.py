"""The keras.ops added beside the first ones, where keras_op_cases.py cannot check them alone:
results defined only up to signs or order (eig, eigh, svd), sparsemax (against the paper's
algorithm), control flow (cond, fori_loop, scan, map, custom_gradient), the keras.ops.linalg
namespace, gradients by finite differences, the theano backend, and Keras's errors."""
import numpy as np
import pytest

import mlcore
from mlcore import ops
from mlcore.graph.basic import TensorType
from keras_op_cases import CASES, CUBE, EDGES, INTS, POS, SPD, SQUARE, TALL, VEC, W, WITH_NANS, X, Y
from test_keras_ops import _mlcore

keras = pytest.importorskip("keras")

NEW = {"cbrt", "fmod", "nan_to_num", "heaviside", "ldexp", "hstack", "dsplit", "rot90", "kron", "meshgrid",
       "vander", "digitize", "unravel_index", "select", "slice_update", "scatter", "scatter_update", "top_k",
       "in_top_k", "einsum", "quantile", "nanmedian", "nanstd", "corrcoef", "trapezoid", "segment_max",
       "slogdet", "cholesky", "qr", "lstsq", "norm", "glu", "sparse_plus"}


@pytest.mark.parametrize("case", [c for c in CASES if c[0] in NEW], ids=lambda c: c[0])
def test_new_ops_match_keras_on_the_theano_backend(case, require_backend):
    """test_keras_ops.py runs every case on numpy and jax; a case of each new kind runs on theano."""
    name, args, kwargs = case
    expected = getattr(keras.ops, name)(*args, **kwargs)
    got = _mlcore(name, args, kwargs, True, require_backend("theano"))
    expected, got = (list(v) if isinstance(v, (list, tuple)) else [v] for v in (expected, got))
    for g, e in zip(got, expected):
        e = keras.ops.convert_to_numpy(e)
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=2e-6 if e.dtype.kind == "f" else 0, atol=1e-6)


def _run(build, *values, backend="numpy"):
    symbols = [TensorType(v.dtype, v.shape)() for v in values]
    out = build(*symbols)
    return mlcore.function(symbols, list(out) if isinstance(out, (list, tuple)) else out, backend=backend)(*values)


def _sparsemax(z):
    """Martins & Astudillo (2016), algorithm 1, on the last axis."""
    ordered = -np.sort(-z, axis=-1)
    ranks = np.arange(1, z.shape[-1] + 1)
    running = np.cumsum(ordered, axis=-1)
    count = np.sum(1 + ranks * ordered > running, axis=-1, keepdims=True)
    tau = (np.take_along_axis(running, count - 1, -1) - 1) / count
    return np.maximum(z - tau, 0)


def test_sparsemax_is_the_projection_onto_the_simplex(backend):
    """(Keras 3.15's sparsemax sums the running sums over the support where it means the last one, so
    its rows do not sum to 1 when more than one entry survives: mlcore follows the paper.)"""
    got = _run(lambda x: ops.sparsemax(x, axis=1), CUBE * 2, backend=backend)
    np.testing.assert_allclose(got, np.moveaxis(_sparsemax(np.moveaxis(CUBE * 2, 1, -1)), -1, 1), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got.sum(axis=1), 1, rtol=1e-6)
    assert (got == 0).any()
    np.testing.assert_allclose(mlcore.activations.sparsemax(X), _sparsemax(X), rtol=1e-6, atol=1e-6)


def test_decompositions_match_keras_up_to_signs(backend):
    w, v = _run(ops.eigh, SPD, backend=backend)
    kw, kv = map(keras.ops.convert_to_numpy, keras.ops.eigh(SPD))
    np.testing.assert_allclose(w, kw, rtol=1e-5)
    np.testing.assert_allclose(np.abs(v), np.abs(kv), atol=1e-5)
    u, s, vh = _run(lambda x: ops.svd(x, full_matrices=False), TALL, backend=backend)
    ku, ks, kvh = map(keras.ops.convert_to_numpy, keras.ops.svd(TALL, full_matrices=False))
    np.testing.assert_allclose(s, ks, rtol=1e-5)
    np.testing.assert_allclose(np.abs(u), np.abs(ku), atol=1e-5)
    np.testing.assert_allclose((u * s) @ vh, TALL, atol=1e-5)
    w, v = _run(ops.eig, SPD, backend=backend)                   # real eigenvalues, in no set order
    np.testing.assert_allclose(np.sort(w), np.sort(np.real(keras.ops.convert_to_numpy(keras.ops.eig(SPD)[0]))),
                               rtol=1e-5)
    np.testing.assert_allclose(SPD @ v, v * w, rtol=1e-4, atol=1e-4)


def test_linalg_namespace_is_keras_ops_linalg():
    for name in ("cholesky", "det", "eig", "eigh", "inv", "lstsq", "norm", "pinv", "qr", "solve",
                 "solve_triangular", "svd"):
        assert getattr(ops.linalg, name) is getattr(ops, name), name
        assert hasattr(keras.ops.linalg, name)
    np.testing.assert_allclose(ops.linalg.det(SQUARE), np.linalg.det(SQUARE), rtol=1e-5)   # on values: at once


def test_control_flow_matches_keras(backend):
    for pred in (True, False):
        got = _run(lambda x: ops.cond(pred, lambda: ops.square(x), lambda: x - 1), X, backend=backend)
        np.testing.assert_allclose(got, keras.ops.cond(pred, lambda: keras.ops.square(X), lambda: X - 1), rtol=1e-6)
    got = _run(lambda x: ops.fori_loop(1, 4, lambda i, v: v * 2 + ops.cast(i, "float32"), x), VEC, backend=backend)
    np.testing.assert_allclose(got, keras.ops.fori_loop(1, 4, lambda i, v: v * 2 + i, VEC), rtol=1e-6)
    got = _run(lambda a, b: ops.fori_loop(0, 3, lambda i, s: (s[0] + s[1], s[1] * 2), (a, b)), VEC, X[0],
               backend=backend)
    for g, e in zip(got, keras.ops.fori_loop(0, 3, lambda i, s: (s[0] + s[1], s[1] * 2), (VEC, X[0]))):
        np.testing.assert_allclose(g, e, rtol=1e-6)

    def step(carry, x):
        return carry * 0.5 + x, carry * x
    for reverse in (False, True):
        got = _run(lambda c, xs: ops.scan(step, c, xs, reverse=reverse), VEC, X, backend=backend)
        for g, e in zip(got, keras.ops.scan(step, VEC, X, reverse=reverse)):
            np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-6)
    got = _run(lambda c: ops.scan(lambda carry, _: (carry + 1, carry), c, length=3), VEC, backend=backend)
    for g, e in zip(got, keras.ops.scan(lambda carry, _: (carry + 1, carry), VEC, length=3)):
        np.testing.assert_allclose(g, e, rtol=1e-6)
    got = _run(lambda xs: ops.map(lambda row: ops.sum(row * row), xs), X, backend=backend)
    np.testing.assert_allclose(got, keras.ops.map(lambda row: keras.ops.sum(row * row), X), rtol=1e-6)


def test_custom_gradient_uses_the_given_gradient(backend):
    """Keras's example: log(1 + exp(x)) with a gradient that stays finite for large x."""
    def log1pexp(lib):
        @lib.ops.custom_gradient
        def f(x):
            e = lib.ops.exp(x)

            def grad(*args, upstream=None):
                upstream = args[0] if upstream is None else upstream
                return upstream * (1.0 - 1.0 / (1 + e)) * 3.0      # 3x: visibly not the automatic one
            return lib.ops.log(1 + e), grad
        return f
    x = TensorType("float32", (None, 4))()
    y = log1pexp(mlcore)(x)
    value, gradient = mlcore.function([x], [y, mlcore.grad(ops.sum(y), x)], backend=backend)(X)
    import jax
    k = log1pexp(keras)
    np.testing.assert_allclose(value, k(X), rtol=1e-6)
    np.testing.assert_allclose(gradient, jax.grad(lambda v: k(v).sum())(X), rtol=1e-6)
    np.testing.assert_allclose(ops.custom_gradient(lambda v: (v * 2, None))(VEC), VEC * 2)


@pytest.mark.parametrize("name, args, kwargs", [
    ("cbrt", (POS,), {}), ("hypot", (X, Y), {}), ("sinc", (X,), {}), ("logaddexp2", (X, Y), {}),
    ("fmod", (X * 3, POS), {}), ("nan_to_num", (X,), {}), ("celu", (X,), {"alpha": 0.5}), ("glu", (X,), {}),
    ("squareplus", (X,), {}), ("sparse_plus", (X * 2,), {}), ("sparsemax", (X,), {}),
    ("kron", (X, W[:2, :2]), {}), ("rot90", (CUBE,), {"axes": (2, 1)}), ("vander", (EDGES,), {}),
    ("diff", (CUBE,), {"n": 2, "axis": 1}), ("trapezoid", (X,), {"x": EDGES[:4]}), ("corrcoef", (X,), {}),
    ("quantile", (X, np.array([0.3, 0.6])), {"axis": 1}), ("nanstd", (X,), {"axis": 0}), ("median", (CUBE,), {}),
    ("einsum", ("ij,jk,kl->il", X, W, W.T), {}), ("norm", (X,), {"ord": "nuc"}), ("norm", (X,), {"ord": 3, "axis": 1}),
    ("segment_sum", (X, np.array([1, 0, 1])), {"num_segments": 2}), ("segment_max", (X, np.array([1, 0, 1])),
                                                                      {"num_segments": 2}),
    ("slice_update", (X, (1, 1), VEC[None, :2]), {}), ("scatter_update", (X, np.array([[0, 1], [2, 0]]), VEC[:2]), {}),
    ("top_k", (X, 2), {}), ("slogdet", (SQUARE,), {}), ("logdet", (SPD,), {}), ("inv", (SQUARE,), {}),
    ("lstsq", (TALL, W[:, :2]), {}), ("pinv", (TALL,), {"rcond": 0.5}), ("solve_triangular", (SQUARE, TALL[:3]), {}),
    ("cholesky", (SPD,), {"upper": True}), ("nanmean", (WITH_NANS,), {"axis": 1}),
])
def test_gradients_of_new_composite_ops_match_finite_differences(name, args, kwargs, numeric_grad):
    """d sum(op(x) * r) / dx for random r, in float64, against central differences."""
    first = 1 if name == "einsum" else 0
    x0 = np.nan_to_num(args[first]).astype("float64") if name != "nanmean" else args[first].astype("float64")
    x = TensorType("float64", x0.shape)()
    call = list(args)
    call[first] = x
    out = getattr(ops, name)(*call, **kwargs)
    if name in ("top_k", "slogdet"):
        out = out[0 if name == "top_k" else 1]            # the values; log |det|
    r = np.random.default_rng(0).normal(size=mlcore.function([x], out)(x0).shape)
    cost = ops.sum(ops.where(ops.isnan(out), 0.0, out) * r)
    got = mlcore.function([x], mlcore.grad(cost, x))(x0)
    f = mlcore.function([x], cost)
    np.testing.assert_allclose(got, numeric_grad(lambda v: f(v), [x0], 0), rtol=1e-5, atol=1e-6)


def test_keras_errors_of_the_new_ops():
    with pytest.raises(TypeError, match="ldexp exponent must be an integer type"):
        ops.ldexp(X, X)
    with pytest.raises(ValueError, match="only supports 1-D sorted sequences"):
        ops.searchsorted(X, VEC)
    with pytest.raises(ValueError, match="`num_segments` must be set"):
        ops.segment_sum(X, np.array([0, 1, 1]))
    with pytest.raises(ValueError, match=r"glu: axis 0 of x \(shape \(3, 4\)\) must have an even size"):
        ops.glu(X, axis=0)
    with pytest.raises(ValueError, match="`mode` argument value not supported"):
        ops.qr(TALL, mode="r")
    with pytest.raises(ValueError, match="scatter_update: invalid reduction 'mean'"):
        ops.scatter_update(X, np.array([[0, 1]]), VEC[:1], reduction="mean")
    with pytest.raises(ValueError, match=r"vander: x must be a one-dimensional tensor, got shape \(3, 4\)"):
        ops.vander(X)
    with pytest.raises(ValueError, match="norm: invalid ord 'nuc' for vectors"):
        ops.norm(VEC, ord="nuc")
    with pytest.raises(ValueError, match="slice: start_indices and shape need one entry per axis"):
        ops.slice(X, (0,), (2,))
    with pytest.raises(ValueError, match="quantile: method must be one of"):
        ops.quantile(X, 0.5, method="closest")
    rows = TensorType("float32", (None, 3))()   # an axis whose length the run decides is cut when run, as numpy cuts
    pieces = mlcore.function([rows], ops.array_split(rows, 2))(np.arange(15.0, dtype="float32").reshape(5, 3))
    for got, want in zip(pieces, np.array_split(np.arange(15.0, dtype="float32").reshape(5, 3), 2)):
        np.testing.assert_array_equal(got, want)


def test_new_ops_on_values_run_at_once():
    np.testing.assert_array_equal(ops.hstack([np.ones(2), np.zeros(1)]), [1, 1, 0])
    values, indices = ops.top_k(np.array([1.0, 3.0, 2.0]), 2)
    np.testing.assert_array_equal(indices, [1, 2])
    np.testing.assert_allclose(ops.median(INTS), np.median(INTS))
    assert isinstance(ops.cbrt(8.0), np.ndarray) and ops.cbrt(-8.0) == -2.0


def test_top_k_orders_nans_and_unsigned_ints_as_keras(keras):
    """lax.top_k's order: NaNs first, ties in index order; unsigned ints compare as themselves (an
    argsort of -x put NaNs last and, for unsigned ints, relied on -x not wrapping)."""
    for x in (np.array([[1.0, np.nan, 3.0, 3.0], [2.0, 2.0, -1.0, np.nan]], "float32"),
              np.array([1, 200, 3, 200, 0], dtype="uint8"), np.array([[5, 1, 5, 2]], "int32")):
        ours, theirs = ops.top_k(x, 3), keras.ops.top_k(x, 3)
        np.testing.assert_array_equal(np.asarray(ours[0]), np.asarray(theirs[0]))
        np.testing.assert_array_equal(np.asarray(ours[1]), np.asarray(theirs[1]))

"""Theano's rarer math in mlcore.tensor (tan, erf, cumsum, sort, eye, tile, roll, isclose, ...) and
mlcore.ifelse: values against numpy and scipy on every backend, where the op cases of op_cases.py
(which test_ops_forward, test_gradients and test_conformance run) do not reach: NaN and infinity,
integer and bool inputs, dtypes, symbolic arguments, argument errors, gradients of the compositions
against finite differences, and fused programs of the new ops."""
import numpy as np
import pytest
import scipy.special

import mlcore
import mlcore.ifelse
import mlcore.tensor as T
from mlcore.graph.ops.elemwise import Composite
from mlcore.ifelse import ifelse


def run(backend, inputs, outputs, *values):
    return mlcore.function(inputs, outputs, backend=backend, on_unused_input="ignore")(*values)


# --- elementwise ---------------------------------------------------------------------------------
def test_nan_inf_tests_and_bit_ops(backend):
    x, y, i, j = T.dvector("x"), T.dvector("y"), T.lvector("i"), T.lvector("j")
    b, c = T.vector("b", dtype="bool"), T.vector("c", dtype="bool")
    xs = np.array([0.0, np.nan, np.inf, -np.inf, 2.5])
    iv, jv = np.array([0, 5, -3, 12, 7]), np.array([1, 3, 3, -12, 7])
    bv, cv = np.array([True, True, False, False, True]), np.array([True, False, True, False, False])
    outputs = [T.isnan(x), T.isinf(x), T.isnan(i), T.xor(i, j), T.bitwise_xor(b, c), T.invert(i), T.bitwise_not(b),
               T.isclose(x, y), T.isclose(x, y, equal_nan=True)]
    got = run(backend, [x, y, i, j, b, c], outputs, xs, xs.copy(), iv, jv, bv, cv)
    expected = [np.isnan(xs), np.isinf(xs), np.zeros(5, bool), iv ^ jv, bv ^ cv, ~iv, ~bv,
                np.isclose(xs, xs), np.isclose(xs, xs, equal_nan=True)]
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype
        np.testing.assert_array_equal(g, e)


def test_isclose_treats_infinities_and_tolerances_as_numpy(backend):
    a, b = T.dvector("a"), T.dvector("b")
    av = np.array([1.0, 1.0, np.inf, np.inf, -np.inf, 1e-9, 100.0, np.nan, 3.0])
    bv = np.array([1.0 + 1e-6, 1.1, np.inf, -np.inf, 5.0, 0.0, 100.5, np.nan, np.inf])
    close, loose, everywhere = run(backend, [a, b], [T.isclose(a, b), T.isclose(a, b, rtol=0.01),
                                                     T.allclose(a[:2], b[:2], atol=0.2)], av, bv)
    np.testing.assert_array_equal(close, np.isclose(av, bv))
    np.testing.assert_array_equal(loose, np.isclose(av, bv, rtol=0.01))
    assert everywhere.dtype == bool and everywhere.ndim == 0 and bool(everywhere)


def test_float_functions_of_ints_compute_in_floatx_and_float32_stays_float32(floatx):
    floatx("float32")
    i, f = T.ivector("i"), T.fvector("f")
    for fn in (T.tan, T.erf, T.gammaln, T.reciprocal, T.log2, T.deg2rad):
        assert fn(i).dtype == "float32" and fn(f).dtype == "float32"
    assert T.arctan2(f, 2.0).dtype == "float32"
    assert T.xor(i, 3).dtype == "int32" and T.isnan(f).dtype == "bool"
    got = run("numpy", [i], [T.reciprocal(i), T.erfinv(i / 4)], np.array([1, 2, 4], "int32"))
    np.testing.assert_allclose(got[0], [1.0, 0.5, 0.25])
    np.testing.assert_allclose(got[1], scipy.special.erfinv([0.25, 0.5, 1.0]), rtol=1e-6)


def test_theano_aliases():
    assert T.inv is T.reciprocal and T.sgn is T.sign and T.where is T.switch
    assert T.bitwise_xor is T.xor and T.bitwise_not is T.invert
    x = T.dvector("x")
    np.testing.assert_allclose(T.pow(x, 3).eval({x: np.array([2.0])}), [8.0])


def test_second_derivative_of_gammaln_is_trigamma(rng, numeric_grad):
    x = T.dvector("x")
    psi = T.grad(T.gammaln(x).sum(), x)
    trigamma = T.grad(psi.sum(), x)
    values = [rng.uniform(0.5, 3.0, size=4)]
    got_psi, got_trigamma = run("numpy", [x], [psi, trigamma], *values)
    np.testing.assert_allclose(got_psi, scipy.special.psi(values[0]), rtol=1e-12)
    np.testing.assert_allclose(got_trigamma, scipy.special.polygamma(1, values[0]), rtol=1e-12)
    psi_fn = mlcore.function([x], psi.sum(), backend="numpy")
    np.testing.assert_allclose(got_trigamma, numeric_grad(psi_fn, values, 0), rtol=1e-6)


def test_fused_programs_of_the_new_ops_match_numpy(backend):
    """Fusion puts the new ops into Composites; the numpy backend runs them in blocks (a program of
    library functions stays out of the C loops), larger than a block so several blocks run."""
    x, y = T.fvector("x"), T.fvector("y")
    xv = np.random.default_rng(0).uniform(0.1, 0.9, size=70000).astype("float32")
    yv = np.random.default_rng(1).uniform(0.5, 2.0, size=70000).astype("float32")
    out = T.erf(x) * T.tan(x) + T.arctan2(x, y) - T.psi(y) * T.log10(y) + T.tri_gamma(y) * T.exp2(x)
    fn = mlcore.function([x, y], out, backend=backend)
    if backend == "numpy":
        assert [type(node.op) for node in fn.fgraph.toposort()] == [Composite]
    x64, y64 = xv.astype("float64"), yv.astype("float64")
    expected = (scipy.special.erf(x64) * np.tan(x64) + np.arctan2(x64, y64) - scipy.special.psi(y64) * np.log10(y64)
                + scipy.special.polygamma(1, y64) * np.exp2(x64))
    got = fn(xv, yv)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=2e-6)


# --- along an axis -------------------------------------------------------------------------------
def test_cumsum_cumprod_axes_and_dtypes(backend):
    x, i, b = T.dtensor3("x"), T.ivector("i"), T.vector("b", dtype="bool")
    xv = np.arange(1.0, 25.0).reshape(2, 3, 4) / 10
    iv, bv = np.array([3, -1, 7], "int32"), np.array([True, False, True])
    outputs = [T.cumsum(x), T.cumsum(x, axis=-1), T.cumprod(x, axis=1), T.cumprod(x), T.cumsum(i), T.cumsum(b)]
    got = run(backend, [x, i, b], outputs, xv, iv, bv)
    expected = [np.cumsum(xv), np.cumsum(xv, -1), np.cumprod(xv, 1), np.cumprod(xv), np.cumsum(iv), np.cumsum(bv)]
    for g, e in zip(got, expected):
        assert g.shape == e.shape and g.dtype == e.dtype
        np.testing.assert_allclose(g, e, rtol=1e-12)


def test_sort_and_argsort_axes_ties_and_nan(backend):
    x = T.dmatrix("x")
    xv = np.array([[3.0, 1.0, np.nan, 1.0], [0.0, 2.0, 2.0, -1.0], [5.0, 5.0, 5.0, 5.0]])
    outputs = [T.sort(x), T.sort(x, axis=0), T.sort(x, axis=None), T.argsort(x), T.argsort(x, axis=None),
               T.argsort(x, axis=-2, kind="mergesort")]
    got = run(backend, [x], outputs, xv)
    expected = [np.sort(xv), np.sort(xv, 0), np.sort(xv, None), np.argsort(xv, stable=True),
                np.argsort(xv, None, stable=True), np.argsort(xv, 0, stable=True)]
    for g, e in zip(got, expected):
        assert g.shape == e.shape and g.dtype == e.dtype
        np.testing.assert_array_equal(g, e)


def test_sort_refuses_structured_order():
    with pytest.raises(ValueError, match="order="):
        T.sort(T.dvector(), order="field")
    with pytest.raises(ValueError, match="axis 2 is out of bounds for array of dimension"):
        T.cumsum(T.dmatrix(), axis=2)


# --- array helpers -------------------------------------------------------------------------------
def test_eye_identity_like_and_diag(backend, floatx):
    floatx("float32")
    n, m = T.lscalar("n"), T.lscalar("m")
    v, x = T.dvector("v"), T.dmatrix("x")
    vv, xv = np.array([1.0, 2.0, 3.0]), np.arange(12.0).reshape(3, 4)
    outputs = [T.eye(3), T.eye(n, m, -1), T.eye(2, 3, k=1, dtype="int32"), T.identity_like(x),
               T.diag(v), T.diag(v, 2), T.diag(x), T.diag(x, -1), T.diag(x, 5)]
    got = run(backend, [n, m, v, x], outputs, 4, 2, vv, xv)
    expected = [np.eye(3, dtype="float32"), np.eye(4, 2, -1, dtype="float32"), np.eye(2, 3, 1, dtype="int32"),
                np.eye(3, 4), np.diag(vv), np.diag(vv, 2), np.diag(xv), np.diag(xv, -1), np.diag(xv, 5)]
    for g, e in zip(got, expected):
        assert g.shape == e.shape and g.dtype == e.dtype
        np.testing.assert_array_equal(g, e)


def test_diag_refuses_other_ranks():
    with pytest.raises(ValueError, match="vector or a matrix"):
        T.diag(T.dtensor3())


def test_tile_and_repeat(backend):
    x, v, r = T.dmatrix("x"), T.dvector("v"), T.lscalar("r")
    xv, vv = np.arange(6.0).reshape(2, 3), np.array([4.0, 5.0])
    outputs = [T.tile(x, 2), T.tile(x, (3, 1, 2)), T.tile(v, (r, 2)), T.tile(v, 1, ndim=3),
               T.repeat(x, 2), T.repeat(x, r, axis=0), T.repeat(x, [1, 0, 3], axis=-1), T.repeat(v, [2])]
    got = run(backend, [x, v, r], outputs, xv, vv, 3)
    expected = [np.tile(xv, 2), np.tile(xv, (3, 1, 2)), np.tile(vv, (3, 2)), vv.reshape(1, 1, 2),
                np.repeat(xv, 2), np.repeat(xv, 3, 0), np.repeat(xv, [1, 0, 3], -1), np.repeat(vv, 2)]
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        np.testing.assert_array_equal(g, e)


def test_repeat_and_tile_refuse_what_they_cannot_do():
    with pytest.raises(TypeError, match="repeats must be an int"):
        T.repeat(T.dvector(), T.dvector())
    with pytest.raises(ValueError, match="2 counts for an axis of length 3"):
        T.repeat(T.dvector(shape=(3,)), [1, 2])
    with pytest.raises(ValueError, match="known length"):
        T.tile(T.dvector(), T.lvector())


def test_squeeze(backend):
    x = T.tensor("float64", shape=(None, 1, None, 1))
    xv = np.arange(3.0).reshape(1, 1, 3, 1)
    outputs = [T.squeeze(x), T.squeeze(x, axis=0), T.squeeze(x, axis=(1, -1)), T.squeeze(x, 3)]
    got = run(backend, [x], outputs, xv)
    for g, e in zip(got, [xv.reshape(1, 3), xv.reshape(1, 3, 1), xv.reshape(1, 3), xv.reshape(1, 1, 3)]):
        assert g.shape == e.shape
        np.testing.assert_array_equal(g, e)
    assert T.squeeze(x).type.shape == (None, None)
    with pytest.raises(ValueError, match="has length 4, not 1"):
        T.squeeze(T.dmatrix(shape=(1, 4)), axis=1)


def test_squeeze_of_a_dim_longer_than_one_fails_when_run():
    x = T.dmatrix("x")
    fn = mlcore.function([x], T.squeeze(x, axis=0), backend="numpy")
    np.testing.assert_array_equal(fn(np.ones((1, 3))), np.ones(3))
    with pytest.raises(ValueError):
        fn(np.ones((2, 3)))


def test_roll(backend):
    x, s = T.dmatrix("x"), T.lscalar("s")
    xv = np.arange(12.0).reshape(3, 4)
    outputs = [T.roll(x, 1), T.roll(x, -5, axis=1), T.roll(x, s, axis=0), T.roll(x, 8, axis=-1),
               T.roll(x, (1, -1), axis=(0, 1)), T.roll(x, s)]
    got = run(backend, [x, s], outputs, xv, 2)
    expected = [np.roll(xv, 1), np.roll(xv, -5, 1), np.roll(xv, 2, 0), xv, np.roll(xv, (1, -1), (0, 1)),
                np.roll(xv, 2)]
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        np.testing.assert_array_equal(g, e)


def test_all_and_any(backend):
    x, i = T.dmatrix("x"), T.lvector("i")
    xv, iv = np.array([[1.0, 0.0, 2.0], [3.0, 0.0, 0.0]]), np.array([0, 2])
    outputs = [T.all(x), T.all(x, axis=1), T.any(x, axis=0, keepdims=True), T.any(i), T.all(i)]
    got = run(backend, [x, i], outputs, xv, iv)
    expected = [xv.all(), xv.all(1), xv.any(0, keepdims=True), iv.any(), iv.all()]
    for g, e in zip(got, expected):
        assert g.dtype == bool and g.shape == np.shape(e)
        np.testing.assert_array_equal(g, e)


COMPOSITIONS = {
    "tile_roll": lambda x: T.tile(x, (2, 3)) * T.tile(T.roll(x, 1, 0), (2, 3)),
    "repeat_diag": lambda x: T.repeat(T.diag(T.diag(x)), 2),
    "cumprod_sort": lambda x: T.cumprod(T.sort(x, axis=None)),
    "squeeze_cumsum_eye": lambda x: T.squeeze(T.cumsum(x[None], axis=2), axis=0) * T.identity_like(x),
}


@pytest.mark.parametrize("name", COMPOSITIONS)
def test_gradients_of_compositions_match_finite_differences(name, rng, numeric_grad):
    x = T.dmatrix("x")
    values = [rng.normal(size=(2, 3))]
    out = COMPOSITIONS[name](x)
    weights = rng.normal(size=run("numpy", [x], out, *values).shape)
    cost = (out * weights).sum()
    got = run("numpy", [x], T.grad(cost, x), *values)
    np.testing.assert_allclose(got, numeric_grad(mlcore.function([x], cost, backend="numpy"), values, 0),
                               rtol=1e-6, atol=1e-8)


# --- ifelse --------------------------------------------------------------------------------------
def test_ifelse_picks_a_branch_and_its_gradient(backend):
    c, x, y = T.lscalar("c"), T.dvector("x"), T.dvector("y")
    out = ifelse(c, T.sin(x) * y, y ** 2)
    gx, gy = T.grad(out.sum(), [x, y])
    fn = mlcore.function([c, x, y], [out, gx, gy], backend=backend)
    xv, yv = np.array([0.5, -1.0]), np.array([2.0, 3.0])
    for cv, expected in [(1, [np.sin(xv) * yv, np.cos(xv) * yv, np.sin(xv)]),
                         (-2, [np.sin(xv) * yv, np.cos(xv) * yv, np.sin(xv)]),
                         (0, [yv ** 2, np.zeros(2), 2 * yv])]:
        for g, e in zip(fn(cv, xv, yv), expected):
            np.testing.assert_allclose(g, e, rtol=1e-12)


def test_ifelse_of_lists_and_tuples():
    c, x, y = T.bscalar("c"), T.dscalar("x"), T.dscalar("y")
    as_list = ifelse(c, [x, y], [y, x], name="chosen")
    as_tuple = ifelse(T.gt(x, y), (x, 2 * x), (y, 2.0))
    assert isinstance(as_list, list) and isinstance(as_tuple, tuple)
    assert [v.name for v in as_list] == ["chosen", "chosen"]
    fn = mlcore.function([c, x, y], as_list + list(as_tuple), backend="numpy")
    np.testing.assert_array_equal(fn(1, 3.0, 5.0), [3.0, 5.0, 5.0, 2.0])
    np.testing.assert_array_equal(fn(0, 7.0, 5.0), [5.0, 7.0, 7.0, 14.0])
    assert mlcore.ifelse.ifelse is ifelse


def test_ifelse_refuses_what_theano_refuses():
    x, y = T.dvector("x"), T.dvector("y")
    with pytest.raises(TypeError, match="must be a scalar"):
        ifelse(x, x, y)
    with pytest.raises(ValueError, match="2 values and the else branch 1"):
        ifelse(1, [x, y], [x])
    with pytest.raises(TypeError, match="same type"):
        ifelse(1, x, T.fvector())
    with pytest.raises(TypeError, match="same type"):
        ifelse(1, x, T.dmatrix())
    with pytest.raises(TypeError, match="length 1 on dims \\[0\\]"):
        ifelse(1, T.dmatrix(shape=(1, None)), T.dmatrix())

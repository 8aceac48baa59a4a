"""Theano 1.0 names that mlcore.tensor gained from a comparison with Theano's public API: the Bessel
functions j0, j1, jv, iv (scipy.special on every backend, gradients by finite differences),
nonzero / flatnonzero / nonzero_values and extra_ops.compress (against numpy, also under jax.jit),
take with its modes, divmod, ceil_intdiv, cov, the rounding functions, square, the dtype lists,
bartlett, consider_constant and undefined_grad."""
import numpy as np
import pytest
import scipy.special

import mlcore
import mlcore.gradient
import mlcore.tensor as T
from mlcore.gradient import NullTypeGradError, verify_grad

_rng = np.random.default_rng(20261201)
X = _rng.uniform(0.3, 9.0, size=(3, 4))                  # past the first zeros of j0 and j1
ORDERS = _rng.uniform(-2.5, 3.5, size=(3, 4))
SIGNED = _rng.normal(size=(3, 5)) * (_rng.random((3, 5)) < 0.5)      # about half the entries zero


def run(outputs, inputs, values, backend):
    return mlcore.function(inputs, outputs, backend=backend)(*values)


# --- Bessel functions -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-12), ("float32", 2e-6)])
def test_bessel_functions_match_scipy(backend, dtype, rtol):
    x, v = T.matrix("x", dtype=dtype), T.matrix("v", dtype=dtype)
    xs, vs = X.astype(dtype), ORDERS.astype(dtype)
    cases = [(T.j0(x), scipy.special.j0(xs)), (T.j1(x), scipy.special.j1(xs)),
             (T.jv(v, x), scipy.special.jv(vs, xs)), (T.iv(v, x), scipy.special.iv(vs, xs)),
             (T.jv(2, x), scipy.special.jv(2, xs)), (T.iv(1.5, x), scipy.special.iv(1.5, xs))]
    results = run([c[0] for c in cases], [x, v], [xs, vs], backend)
    for (symbol, expected), got in zip(cases, results):
        assert got.dtype == dtype, symbol
        np.testing.assert_allclose(got, expected.astype(dtype), rtol=rtol, atol=rtol, err_msg=str(symbol))


@pytest.mark.parametrize("fn", [T.j0, T.j1, lambda x: T.jv(0.7, x), lambda x: T.iv(-1.3, x),
                                lambda x: T.jv(3, x) * T.iv(2, x)],
                         ids=["j0", "j1", "jv", "iv", "jv_times_iv"])
def test_bessel_gradients_match_finite_differences(fn):
    verify_grad(fn, [X[:2]], rng=np.random.default_rng(1))


def test_bessel_gradient_is_the_textbook_one():
    """d j0 = -j1, d iv(v, x) = (iv(v - 1, x) + iv(v + 1, x)) / 2, on the jax backend too."""
    x = T.dvector("x")
    grads = [T.grad(T.j0(x).sum(), x), T.grad(T.iv(0.5, x).sum(), x)]
    got = run(grads, [x], [X[0]], "jax")
    np.testing.assert_allclose(got[0], -scipy.special.j1(X[0]), rtol=1e-12)
    np.testing.assert_allclose(got[1], (scipy.special.iv(-0.5, X[0]) + scipy.special.iv(1.5, X[0])) / 2, rtol=1e-12)


def test_bessel_order_has_no_gradient():
    x, v = T.dvector("x"), T.dvector("v")
    with pytest.raises(mlcore.graph.gradient.DisconnectedInputError):
        T.grad(T.jv(v, x).sum(), v)


# --- nonzero --------------------------------------------------------------------------------------
def test_nonzero_and_its_relatives_match_numpy(backend):
    a = T.dmatrix("a")
    rows, cols = T.nonzero(a)
    outputs = [T.nonzero(a, return_matrix=True), rows, cols, T.flatnonzero(a), T.nonzero_values(a),
               T.extra_ops.compress(a[0], a, axis=1), T.extra_ops.compress(a[:, 0], a),
               a.nonzero()[1], a.nonzero_values()]
    got = run(outputs, [a], [SIGNED], backend)
    expected = [np.stack(np.nonzero(SIGNED)), *np.nonzero(SIGNED), np.flatnonzero(SIGNED), SIGNED[SIGNED != 0],
                np.compress(SIGNED[0], SIGNED, axis=1), np.compress(SIGNED[:, 0], SIGNED),
                np.nonzero(SIGNED)[1], SIGNED[SIGNED != 0]]
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_array_equal(g, e)


def test_nonzero_counts_follow_each_call_under_jax():
    """jax.jit needs the count before the values: the input becomes a static argument, so a new
    value (with another count) traces again rather than reusing the first count."""
    a = T.dvector("a")
    f = mlcore.function([a], [T.flatnonzero(a), T.nonzero_values(a) * 2], backend="jax")
    for value in ([0.0, 3.0, 0.0, -1.0], [5.0, 0.0, 0.0, 0.0], [0.0] * 4):
        value = np.array(value)
        idx, doubled = f(value)
        np.testing.assert_array_equal(idx, np.flatnonzero(value))
        np.testing.assert_array_equal(doubled, 2 * value[value != 0])


def test_nonzero_values_gradient_reaches_the_nonzero_entries(backend):
    a = T.dmatrix("a")
    g = T.grad((T.nonzero_values(a) ** 2).sum(), a)
    np.testing.assert_allclose(run(g, [a], [SIGNED], backend), 2 * SIGNED)


def test_nonzero_refuses_a_scalar():
    with pytest.raises(ValueError, match="nonzero"):
        T.nonzero(T.dscalar())
    with pytest.raises(ValueError, match="flatnonzero"):
        T.flatnonzero(T.dscalar())


# --- take, divmod, ceil_intdiv, rounding ----------------------------------------------------------
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
def test_take_matches_numpy(backend, axis, mode):
    a, i = T.dtensor3("a"), T.lmatrix("i")
    value = _rng.normal(size=(3, 4, 5))
    indices = np.array([[0, 2], [1, 2]]) if mode == "raise" else np.array([[-7, 2], [3, 11]])
    got = run(T.take(a, i, axis=axis, mode=mode), [a, i], [value, indices], backend)
    np.testing.assert_array_equal(got, np.take(value, indices, axis=axis, mode=mode))


def test_take_refuses_float_indices_and_unknown_modes():
    with pytest.raises(TypeError, match="take: indices"):
        T.take(T.dvector(), T.dvector())
    with pytest.raises(ValueError, match="take: mode"):
        T.take(T.dvector(), T.lvector(), mode="bounce")


def test_divmod_ceil_intdiv_and_rounding_match_python(backend):
    x, y = T.lvector("x"), T.lvector("y")
    f = T.dvector("f")
    xs, ys = np.array([7, -7, 7, -7, 0, 12]), np.array([2, 2, -2, -2, 3, 4])
    fs = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 2.4, -2.6])
    quotient, remainder = T.divmod(x, y)
    got = run([quotient, remainder, T.ceil_intdiv(x, y), T.round_half_to_even(f), T.round_half_away_from_zero(f),
               T.square(f)], [x, y, f], [xs, ys, fs], backend)
    expected = [xs // ys, xs % ys, -(-xs // ys), np.round(fs), np.sign(fs) * np.floor(np.abs(fs) + 0.5), fs ** 2]
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)
    assert got[2].dtype == np.int64


def test_divmod_refuses_complex():
    with pytest.raises(TypeError, match="divmod"):
        T.divmod(T.zvector(), T.dvector())


# --- cov ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{}, {"rowvar": False}, {"bias": True}, {"ddof": 3}])
def test_cov_matches_numpy(backend, kwargs):
    m, y = T.dmatrix("m"), T.dmatrix("y")
    mv, yv = _rng.normal(size=(3, 7)), _rng.normal(size=(2, 7))
    if kwargs.get("rowvar") is False:
        mv, yv = mv.T, yv.T
    got = run([T.cov(m, **kwargs), T.cov(m, y, **kwargs)], [m, y], [mv, yv], backend)
    np.testing.assert_allclose(got[0], np.cov(mv, **kwargs), rtol=1e-12)
    np.testing.assert_allclose(got[1], np.cov(mv, yv, **kwargs), rtol=1e-12)


def test_cov_of_one_variable_is_a_scalar_and_has_gradients():
    v = T.dvector("v")
    value = _rng.normal(size=6)
    assert T.cov(v).ndim == 0
    np.testing.assert_allclose(run(T.cov(v), [v], [value], "numpy"), np.cov(value), rtol=1e-12)
    verify_grad(lambda m: T.cov(m), [_rng.normal(size=(3, 5))], rng=np.random.default_rng(2))


def test_cov_refuses_weights():
    with pytest.raises(NotImplementedError, match="fweights"):
        T.cov(T.dmatrix(), fweights=T.lvector())


# --- small names ----------------------------------------------------------------------------------
def test_dtype_lists_are_numpy_dtypes_as_theano_groups_them():
    assert "float32" in T.float_dtypes and "float32" in T.continuous_dtypes and "float32" not in T.discrete_dtypes
    assert T.integer_dtypes == T.int_dtypes + T.uint_dtypes and "bool" in T.discrete_dtypes
    assert set(T.all_dtypes) == set(T.discrete_dtypes) | set(T.continuous_dtypes)
    assert all(np.dtype(d).name == d for d in T.all_dtypes)
    assert T.dmatrix().dtype in T.float_dtypes and T.lvector().dtype in T.int_dtypes


def test_bartlett_and_square_are_on_t():
    n = T.lscalar("n")
    np.testing.assert_allclose(run(T.bartlett(n), [n], [np.int64(7)], "numpy"), np.bartlett(7))
    assert T.square is T.sqr and T.Tensor is T.TensorType


def test_consider_constant_blocks_the_gradient():
    x = T.dscalar("x")
    cost = T.consider_constant(x ** 2) * x
    np.testing.assert_allclose(run(T.grad(cost, x), [x], [3.0], "numpy"), 9.0)
    assert T.consider_constant is mlcore.gradient.consider_constant


def test_undefined_grad_refuses_to_differentiate_through_it():
    x, y = T.dscalar("x"), T.dscalar("y")
    hidden = mlcore.gradient.undefined_grad(x) * y
    with pytest.raises(NullTypeGradError, match="undefined_grad"):
        T.grad(hidden, x)
    with pytest.raises(NullTypeGradError):
        T.grad(hidden + x, x)        # another path does not make the undefined one defined
    np.testing.assert_allclose(run(T.grad(hidden, y), [x, y], [2.0, 5.0], "numpy"), 2.0)   # forward: x itself
    np.testing.assert_allclose(run(hidden, [x, y], [2.0, 5.0], "numpy"), 10.0)


def test_nonzero_inside_a_jax_loop_is_refused_clearly():
    """jax.lax.scan traces its body once for all steps, so a count per step cannot be known there."""
    x = T.dmatrix("x")
    out, _ = mlcore.scan(lambda row: T.nonzero_values(row).sum(), sequences=[x])
    value = np.array([[0.0, 1.0, 2.0], [3.0, 0.0, 0.0]])
    np.testing.assert_allclose(run(out, [x], [value], "numpy"), [3.0, 3.0])
    with pytest.raises(ValueError, match="nonzero: the number of nonzero entries"):
        run(out, [x], [value], "jax")

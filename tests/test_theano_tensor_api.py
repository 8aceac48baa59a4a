"""The rest of Theano 1.0's theano.tensor in mlcore.tensor: 5- to 7-d constructors, padding,
joining and splitting, grids, largest/smallest/ptp/iround/choose, the special functions, T.xlogx
and T.extra_ops.  Values against numpy and scipy on every backend, gradients by finite
differences (T.verify_grad), and the errors bad arguments get."""
import numpy as np
import pytest
import scipy.special

import mlcore
import mlcore.tensor as T
from mlcore.tensor import extra_ops, xlogx


def run(backend, inputs, outputs, *values):
    return mlcore.function(inputs, outputs, backend=backend, on_unused_input="ignore")(*values)


def assert_all_close(got, expected, rtol=1e-12):
    for g, e in zip(got, expected):
        e = np.asarray(e)
        assert g.shape == e.shape and g.dtype == e.dtype, (g.shape, g.dtype, e.shape, e.dtype)
        np.testing.assert_allclose(g, e, rtol=rtol, atol=1e-12)


# --- constructors --------------------------------------------------------------------------------
@pytest.mark.parametrize("ndim", [5, 6, 7])
@pytest.mark.parametrize("prefix, dtype", [("", "float32"), ("f", "float32"), ("d", "float64"), ("b", "int8"),
                                           ("w", "int16"), ("i", "int32"), ("l", "int64")])
def test_tensor5_to_7_constructors_and_plurals(ndim, prefix, dtype, floatx):
    floatx("float32")
    x = getattr(T, "%stensor%d" % (prefix, ndim))("x")
    assert x.name == "x" and x.ndim == ndim and x.dtype == dtype and x.type.shape == (None,) * ndim
    a, b = getattr(T, "%stensor%ds" % (prefix, ndim))("a", "b")
    assert (a.name, b.name, a.ndim, b.dtype) == ("a", "b", ndim, dtype)


def test_tensor5_runs(backend, rng):
    x = T.dtensor5("x")
    value = rng.normal(size=(2, 1, 3, 2, 2))
    assert_all_close(run(backend, [x], [x.sum(axis=(1, 3)) * 2], value), [value.sum(axis=(1, 3)) * 2])


# --- shape and joining ---------------------------------------------------------------------------
def test_padding_joining_and_swapping(backend, rng):
    x, y, v = T.dmatrix("x"), T.dmatrix("y"), T.dvector("v")
    xv, yv, vv = rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng.normal(size=3)
    outputs = [T.shape_padleft(v, 2), T.shape_padright(x), T.shape_padaxis(x, 1), T.shape_padaxis(x, -1),
               T.join(0, x, y), T.join(1, x), T.horizontal_stack(x, y, x), T.vertical_stack(x, y),
               T.stacklists([[v, v * 2], [v * 3, v]]), T.stacklists([1.0, v[0]]), T.swapaxes(x, 0, -1),
               T.tensor_copy(x) + 0]
    expected = [vv[None, None], xv[..., None], xv[:, None], xv[..., None], np.concatenate([xv, yv]), xv,
                np.hstack([xv, yv, xv]), np.vstack([xv, yv]), np.array([[vv, 2 * vv], [3 * vv, vv]]),
                np.array([1.0, vv[0]]), xv.T, xv]
    assert_all_close(run(backend, [x, y, v], outputs, xv, yv, vv), expected)
    assert T.shape_padleft(v, 2).type.shape == (1, 1, None) and T.shape_padaxis(x, 1).type.shape == (None, 1, None)
    assert T.tensor_copy(x) is not x


def test_split_with_static_and_symbolic_lengths_and_its_gradient(backend, rng):
    x, sizes = T.dmatrix("x"), T.lvector("sizes")
    xv = rng.normal(size=(3, 6))
    static = T.split(T.specify_shape(x, (None, 6)), [1, 3, 2], 3, axis=1)
    symbolic = T.split(x, sizes, 2, axis=0)
    assert [p.type.shape for p in static] == [(None, 1), (None, 3), (None, 2)]
    got = run(backend, [x, sizes], static + symbolic, xv, np.array([2, 1]))
    assert_all_close(got, np.split(xv, [1, 4], axis=1) + np.split(xv, [2], axis=0))
    T.verify_grad(lambda x: T.split(x, [2, 4], 2, axis=1)[1] * T.split(x, [2, 4], 2, axis=1)[1], [xv])


def test_specify_shape_fixes_the_static_shape_and_checks_it_when_run(backend):
    x = T.dmatrix("x")
    y = T.specify_shape(x, (2, None))
    assert y.type.shape == (2, None)
    np.testing.assert_array_equal(run(backend, [x], y * 1, np.ones((2, 5))), np.ones((2, 5)))
    f = mlcore.function([x], y * 1, backend=backend)
    with pytest.raises(Exception, match="specify_shape|shape"):
        f(np.ones((3, 5)))


def test_batched_tensordot_matches_einsum(backend, rng):
    x, y = T.dtensor4("x"), T.dtensor3("y")
    xv, yv = rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(2, 5, 4))
    got = run(backend, [x, y], [T.batched_tensordot(x, y, [[2, 3], [2, 1]]),
                                T.batched_tensordot(x[:, :, :, 0], y[:, :4], 1), T.batched_tensordot(y, y, [[1], [1]])],
              xv, yv)
    assert_all_close(got, [np.einsum("bijk,bkj->bi", xv, yv), np.einsum("bij,bjk->bik", xv[..., 0], yv[:, :4]),
                           np.einsum("bji,bjk->bik", yv, yv)], rtol=1e-10)
    T.verify_grad(lambda x, y: T.batched_tensordot(x, y, [[2, 3], [2, 1]]), [xv, yv])


def test_mgrid_and_ogrid_match_numpy(backend):
    dense, sparse = T.mgrid[0:3, 1:7:2], T.ogrid[0:4, 2:5]
    got = run(backend, [], dense + sparse)
    assert_all_close(got, list(np.mgrid[0:3, 1:7:2]) + list(np.ogrid[0:4, 2:5]))


# --- math ----------------------------------------------------------------------------------------
def test_largest_smallest_ptp_floor_div_and_trunc(backend, rng):
    a, b, c, x = T.dvector("a"), T.dvector("b"), T.dscalar("c"), T.dmatrix("x")
    av, bv, cv, xv = rng.normal(size=4), rng.normal(size=4), 0.1, rng.normal(size=(3, 4)) * 3
    outputs = [T.largest(a, b), T.largest(a, b, c), T.smallest(a, b, c, -a), T.ptp(x), T.ptp(x, 1),
               T.floor_div(x, 0.7), T.floor_div(T.cast(x * 3, "int64"), 2), T.trunc(x)]
    expected = [np.maximum(av, bv), np.maximum(np.maximum(av, bv), cv), np.minimum(np.minimum(av, bv), np.minimum(cv, -av)),
                np.ptp(xv), np.ptp(xv, 1), xv // 0.7, (xv * 3).astype("int64") // 2, np.trunc(xv)]
    assert_all_close(run(backend, [a, b, c, x], outputs, av, bv, cv, xv), expected)
    T.verify_grad(lambda a, b, c: T.largest(a, b, c) + T.smallest(a, b, c) * 2, [av, bv, np.asarray(cv)])


def test_round_modes_and_iround(backend):
    x = T.dvector("x")
    xv = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.3, -0.7])
    got = run(backend, [x], [T.round(x), T.round(x, "half_away_from_zero"), T.iround(x), T.iround(x, "half_to_even"),
                             T.iround(x, "half_away_from_zero")], xv)
    away = np.sign(xv) * np.floor(np.abs(xv) + 0.5)
    assert_all_close(got, [np.round(xv), away, np.round(xv).astype("int64"), np.round(xv).astype("int64"),
                           away.astype("int64")])
    with pytest.raises(ValueError, match="round: mode"):
        T.round(x, "half_up")


@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
def test_choose_matches_numpy(backend, mode, rng):
    a, x, y, z = T.lmatrix("a"), T.dmatrix("x"), T.drow("y"), T.dscalar("z")
    av = rng.integers(0, 3, size=(2, 3)) if mode == "raise" else rng.integers(-4, 6, size=(2, 3))
    xv, yv, zv = rng.normal(size=(2, 3)), rng.normal(size=(1, 3)), 0.5
    stacked = T.dtensor3("s")
    sv = rng.normal(size=(3, 2, 3))
    got = run(backend, [a, x, y, z, stacked], [T.choose(a, [x, y, z], mode=mode),
                                               T.choose(a, T.specify_shape(stacked, (3, None, None)), mode=mode)],
              av, xv, yv, zv, sv)
    assert_all_close(got, [np.choose(av, [xv, yv, zv], mode=mode), np.choose(av, sv, mode=mode)])


def test_choose_gradient_and_errors(rng):
    a = np.array([[0, 1, 1], [1, 0, 0]])
    T.verify_grad(lambda x, y: T.choose(T.constant(a), [x, y]), [rng.normal(size=(2, 3)), rng.normal(size=3)])
    with pytest.raises(TypeError, match="choose: a must be an int"):
        T.choose(T.dvector(), [T.dvector(), T.dvector()])
    with pytest.raises(ValueError, match="number of choices"):
        T.choose(T.lvector(), T.dmatrix())
    with pytest.raises(TypeError, match="choose: out="):
        T.choose(T.lvector(), [T.dvector()], out=T.dvector())


SPECIAL = [("gamma", T.gamma, scipy.special.gamma, (0.3, 4.0)), ("erfcx", T.erfcx, scipy.special.erfcx, (-2.0, 8.0)),
           ("erfcinv", T.erfcinv, scipy.special.erfcinv, (1e-6, 1.99)), ("i0", T.i0, scipy.special.i0, (-5.0, 5.0)),
           ("i1", T.i1, scipy.special.i1, (-5.0, 5.0))]


@pytest.mark.parametrize("name, fn, ref, interval", SPECIAL, ids=[s[0] for s in SPECIAL])
def test_special_functions_match_scipy(backend, name, fn, ref, interval, floatx):
    x = T.dvector("x")
    xv = np.linspace(*interval, num=25)
    (got,) = run(backend, [x], [fn(x)], xv)
    np.testing.assert_allclose(got, ref(xv), rtol=1e-12 if backend == "numpy" else 1e-10)
    floatx("float32")
    f = T.fvector("f")
    (got32,) = run(backend, [f], [fn(f)], xv.astype("float32"))
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, ref(xv.astype("float32").astype("float64")), rtol=2e-5)


@pytest.mark.parametrize("name, fn, ref, interval", SPECIAL, ids=[s[0] for s in SPECIAL])
def test_special_function_gradients(name, fn, ref, interval):
    lo, hi = interval
    T.verify_grad(fn, [np.linspace(lo + 0.05 * (hi - lo), hi - 0.05 * (hi - lo), 7)])


def test_i1_gradient_at_zero_is_one_half():
    x = T.dvector("x")
    np.testing.assert_allclose(T.grad(T.i1(x).sum(), x).eval({x: np.array([0.0, 1e-8])}), [0.5, 0.5])


def test_xlogx_and_xlogy0(backend, rng):
    x, y = T.dvector("x"), T.dvector("y")
    xv, yv = np.array([0.0, 0.25, 1.0, 3.0, 0.0]), np.array([2.0, 0.5, 0.0, 4.0, 0.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = [np.where(xv == 0, 0, xv * np.log(xv)), np.where(xv == 0, 0, xv * np.log(yv))]
        got = run(backend, [x, y], [xlogx.xlogx(x), xlogx.xlogy0(x, y)], xv, yv)    # 1 * log(0) is -inf
    assert_all_close(got, expected)
    np.testing.assert_array_equal(got[1], scipy.special.xlogy(xv, yv))
    gx, gy = run(backend, [x, y], T.grad(xlogx.xlogy0(x, y).sum(), [x, y]), np.array([0.0, 2.0]), np.array([3.0, 0.5]))
    np.testing.assert_allclose(gx, np.log([3.0, 0.5]))      # Theano's: log(y), also where x is 0
    np.testing.assert_allclose(gy, [0.0, 4.0])
    T.verify_grad(xlogx.xlogx, [rng.uniform(0.1, 3.0, size=5)])
    T.verify_grad(xlogx.xlogy0, [rng.uniform(0.1, 3.0, size=5), rng.uniform(0.1, 3.0, size=5)])


# --- extra_ops -----------------------------------------------------------------------------------
def test_extra_ops_gathers_theanos_names():
    for name in ("cumsum", "cumprod", "diff", "squeeze", "repeat", "fill_diagonal", "fill_diagonal_offset",
                 "to_one_hot", "ravel_multi_index", "unravel_index", "searchsorted", "bartlett", "bincount"):
        assert callable(getattr(extra_ops, name)), name
    assert extra_ops.cumsum is T.cumsum and extra_ops.repeat is T.repeat


def test_diff(backend, rng):
    x = T.dtensor3("x")
    xv = rng.normal(size=(3, 5, 4))
    got = run(backend, [x], [extra_ops.diff(x), extra_ops.diff(x, 2, axis=1), extra_ops.diff(x, 0)], xv)
    assert_all_close(got, [np.diff(xv), np.diff(xv, 2, axis=1), xv])
    T.verify_grad(lambda x: extra_ops.diff(x, 3, axis=1), [xv])


def test_fill_diagonal_and_offset(backend, rng):
    x, c, m, k = T.dmatrix("x"), T.dtensor3("c"), T.imatrix("m"), T.lscalar("k")
    xv, cv, mv = rng.normal(size=(4, 3)), rng.normal(size=(3, 3, 3)), rng.integers(0, 9, size=(2, 5)).astype("int32")
    tall, cube = xv.copy(), cv.copy()
    tall[[0, 1, 2], [0, 1, 2]] = 5.0             # Theano's: a tall matrix is not wrapped, as numpy's wrap=False
    np.fill_diagonal(cube, -1.0)
    outputs = [extra_ops.fill_diagonal(x, 5.0), extra_ops.fill_diagonal(c, -1.0), extra_ops.fill_diagonal(m, 7),
               extra_ops.fill_diagonal_offset(x, 2.0, 1), extra_ops.fill_diagonal_offset(x, 2.0, -2),
               extra_ops.fill_diagonal_offset(m, 3, k)]
    expected = [tall, cube, _offset(mv, 7, 0), _offset(xv, 2.0, 1), _offset(xv, 2.0, -2), _offset(mv, 3, 2)]
    assert_all_close(run(backend, [x, c, m, k], outputs, xv, cv, mv, 2), expected)
    val = T.dscalar("val")
    T.verify_grad(lambda x, val: extra_ops.fill_diagonal(x, val) * x, [xv, np.asarray(0.3)])
    T.verify_grad(lambda x, val: extra_ops.fill_diagonal_offset(x, val, -1) ** 2, [xv, np.asarray(0.3)])
    assert val.ndim == 0


def _offset(a, val, offset):
    out = a.copy()
    rows = np.arange(out.shape[0])
    keep = (rows + offset >= 0) & (rows + offset < out.shape[1])
    out[rows[keep], rows[keep] + offset] = val
    return out


def test_fill_diagonal_errors():
    with pytest.raises(TypeError, match="fill_diagonal: a must have at least two dims"):
        extra_ops.fill_diagonal(T.dvector(), 1.0)
    with pytest.raises(TypeError, match="fill_diagonal: val must be a scalar"):
        extra_ops.fill_diagonal(T.dmatrix(), T.dvector())
    with pytest.raises(TypeError, match="fill_diagonal: a float64 val does not fit"):
        extra_ops.fill_diagonal(T.lmatrix(), T.dscalar())
    with pytest.raises(TypeError, match="fill_diagonal_offset: a must be a matrix"):
        extra_ops.fill_diagonal_offset(T.dtensor3(), 1.0, 0)


def test_to_one_hot(backend, floatx):
    floatx("float32")
    y = T.lvector("y")
    yv = np.array([2, 0, 3, 3])
    got = run(backend, [y], [extra_ops.to_one_hot(y, 4), extra_ops.to_one_hot(y, 5, dtype="int8")], yv)
    assert_all_close(got, [np.eye(4, dtype="float32")[yv], np.eye(5, dtype="int8")[yv]])
    with pytest.raises(TypeError, match="to_one_hot: y must be a vector"):
        extra_ops.to_one_hot(T.lmatrix(), 3)


@pytest.mark.parametrize("order", ["C", "F"])
def test_ravel_multi_index_and_unravel_index(backend, order, rng):
    i, j, k, flat, x = T.lvector("i"), T.lvector("j"), T.lvector("k"), T.lmatrix("flat"), T.dtensor3("x")
    iv, jv, kv = rng.integers(0, 2, size=6), rng.integers(0, 3, size=6), rng.integers(0, 4, size=6)
    flat_v = rng.integers(0, 24, size=(2, 3))
    outputs = [extra_ops.ravel_multi_index([i, j, k], (2, 3, 4), order=order),
               extra_ops.ravel_multi_index([i, j * 2 - 2, k + 3], x.shape, mode="wrap", order=order),
               extra_ops.ravel_multi_index([i, j * 2 - 2, k + 3], (2, 3, 4), mode="clip", order=order),
               *extra_ops.unravel_index(flat, x.shape, order=order)]
    expected = [np.ravel_multi_index((iv, jv, kv), (2, 3, 4), order=order),
                np.ravel_multi_index((iv, jv * 2 - 2, kv + 3), (2, 3, 4), mode="wrap", order=order),
                np.ravel_multi_index((iv, jv * 2 - 2, kv + 3), (2, 3, 4), mode="clip", order=order),
                *np.unravel_index(flat_v, (2, 3, 4), order=order)]
    got = run(backend, [i, j, k, flat, x], outputs, iv, jv, kv, flat_v, np.zeros((2, 3, 4)))
    assert_all_close(got, [e.astype("int64") for e in expected])


def test_index_function_errors():
    with pytest.raises(ValueError, match="ravel_multi_index: 2 index tensors for 3 dims"):
        extra_ops.ravel_multi_index([T.lvector(), T.lvector()], (2, 3, 4))
    with pytest.raises(ValueError, match="ravel_multi_index: mode"):
        extra_ops.ravel_multi_index([T.lvector()], (2,), mode="nearest")
    with pytest.raises(ValueError, match="unravel_index: order"):
        extra_ops.unravel_index(T.lvector(), (2, 3), order="K")


@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted(backend, side, rng):
    x, v, s = T.dvector("x"), T.dmatrix("v"), T.lvector("s")
    xv = np.array([0.0, 1.0, 1.0, 2.5, 4.0])
    vv = np.array([[-1.0, 1.0, 2.0], [4.0, 5.0, 0.0]])
    shuffled = rng.permutation(xv)
    got = run(backend, [x, v, s], [extra_ops.searchsorted(x, v, side), extra_ops.searchsorted(x, v[0, 1], side),
                                   extra_ops.searchsorted(x, v, side, sorter=s)], xv, vv, np.arange(5))
    assert_all_close(got, [np.searchsorted(xv, vv, side), np.searchsorted(xv, vv[0, 1], side),
                           np.searchsorted(xv, vv, side)])
    (with_sorter,) = run(backend, [x, v, s], [extra_ops.searchsorted(x, v, side, sorter=s)], shuffled, vv,
                         np.argsort(shuffled, kind="stable"))
    assert_all_close([with_sorter], [np.searchsorted(shuffled, vv, side, sorter=np.argsort(shuffled))])


def test_searchsorted_errors():
    with pytest.raises(ValueError, match="searchsorted: x must be a sorted vector"):
        extra_ops.searchsorted(T.dmatrix(), T.dvector())
    with pytest.raises(ValueError, match="searchsorted: side"):
        extra_ops.searchsorted(T.dvector(), T.dvector(), side="middle")


def test_bartlett(backend):
    m = T.lscalar("m")
    got = run(backend, [], [extra_ops.bartlett(M) for M in (0, 1, 2, 5, 8)])
    assert_all_close(got, [np.bartlett(M) for M in (0, 1, 2, 5, 8)])
    if backend == "numpy":       # a symbolic M decides the length: the numpy backend runs it as it comes
        np.testing.assert_allclose(run(backend, [m], extra_ops.bartlett(m), 6), np.bartlett(6))
    with pytest.raises(TypeError, match="bartlett: M must be an int scalar"):
        extra_ops.bartlett(T.dscalar())


def test_bincount(backend, rng):
    x, w = T.lvector("x"), T.dvector("w")
    xv, wv = rng.integers(0, 5, size=20), rng.normal(size=20)
    got = run(backend, [x, w], [extra_ops.bincount(x, minlength=7), extra_ops.bincount(x, w, minlength=5)], xv, wv)
    assert_all_close(got, [np.bincount(xv, minlength=7), np.bincount(xv, wv, minlength=5)], rtol=1e-12)
    T.verify_grad(lambda w: extra_ops.bincount(T.constant(xv), w, minlength=6), [wv])
    with pytest.raises(TypeError, match="bincount: x must be an int vector"):
        extra_ops.bincount(w, minlength=3)
    with pytest.raises(NotImplementedError, match="assert_nonneg"):
        extra_ops.bincount(x, minlength=3, assert_nonneg=True)


# --- errors of the shape functions ---------------------------------------------------------------
def test_shape_function_errors():
    x = T.dmatrix("x")
    with pytest.raises(ValueError, match="shape_padaxis: axis 3 is out of bounds"):
        T.shape_padaxis(x, 3)
    with pytest.raises(TypeError, match="join: the axis must be an int"):
        T.join(T.lscalar(), x, x)
    with pytest.raises(ValueError, match="horizontal_stack: takes two or more matrices"):
        T.horizontal_stack(x, T.dvector())
    with pytest.raises(ValueError, match="vertical_stack: takes two or more matrices"):
        T.vertical_stack(x)
    with pytest.raises(ValueError, match=r"split: 2 lengths in splits_size for n_splits=3"):
        T.split(x, [1, 2], 3)
    with pytest.raises(ValueError, match="split: lengths \\[1, 1\\] do not add up to 3"):
        T.split(T.specify_shape(x, (3, None)), [1, 1], 2)
    with pytest.raises(ValueError, match="specify_shape: .* cannot have shape"):
        T.specify_shape(x, (2, 3, 4))
    with pytest.raises(TypeError, match="specify_shape: the shape must be ints"):
        T.specify_shape(x, x.shape)
    with pytest.raises(ValueError, match="batched_tensordot: axes .* cannot sum over the batch dim"):
        T.batched_tensordot(x, x, [[0], [0]])

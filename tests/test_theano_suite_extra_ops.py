"""Theano 1.0's extra_ops, sort, nlinalg, slinalg, fft and fourier as its own tests use them: op
classes instantiated by hand (CumOp(axis=0), DiffOp(n=2), SortOp, TopKOp, Solve(A_structure=)),
symbolic inputs of unknown sizes, symbolic axes and dims, gradients through verify_grad, and the
errors Theano raises.  Values against numpy and scipy on every backend."""
import importlib

import numpy as np
import pytest
import scipy.linalg

import mlcore
import mlcore.tensor as T
from mlcore.tensor import extra_ops

sort_module = importlib.import_module("mlcore.tensor.sort")     # T.sort is the function, as in Theano
nlinalg = importlib.import_module("mlcore.tensor.nlinalg")
slinalg = importlib.import_module("mlcore.tensor.slinalg")
fft = importlib.import_module("mlcore.tensor.fft")
fourier = importlib.import_module("mlcore.tensor.fourier")


def run(backend, inputs, outputs, *values):
    return mlcore.function(inputs, outputs, backend=backend)(*values)


# --- extra_ops -----------------------------------------------------------------------------------
def test_cum_op_class_and_functions(backend, rng):
    x = T.dtensor3("x")
    a = rng.random((3, 5, 2))
    outputs = [extra_ops.CumOp()(x), extra_ops.CumOp(mode="mul")(x), extra_ops.CumOp(axis=-2)(x),
               extra_ops.CumOp(axis=2, mode="mul")(x), extra_ops.CumsumOp(axis=1)(x), extra_ops.CumprodOp()(x)]
    expected = [np.cumsum(a), np.cumprod(a), np.cumsum(a, -2), np.cumprod(a, 2), np.cumsum(a, 1), np.cumprod(a)]
    for got, want in zip(run(backend, [x], outputs, a), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert extra_ops.CumOp(axis=0) == extra_ops.CumOp(axis=0) != extra_ops.CumOp(axis=0, mode="mul")
    for bad in (3, -4):
        with pytest.raises(ValueError):
            extra_ops.cumprod(x, axis=bad)
    with pytest.raises(ValueError, match="CumOp: mode"):
        extra_ops.CumOp(mode="max")


def test_cum_op_gradients():
    a = np.random.default_rng(1).random((3, 4, 2)) + 0.5
    for axis in (None, -3, 1):
        T.verify_grad(extra_ops.CumOp(axis=axis, mode="add"), [a])
        T.verify_grad(extra_ops.CumOp(axis=axis, mode="mul"), [a])


def test_bincount_minlength_is_a_least_length(backend, rng):
    x, w = T.lvector("x"), T.dvector("w")
    a, weights = rng.integers(0, 51, size=25), rng.random(25)
    outputs = [extra_ops.bincount(x, minlength=5), extra_ops.bincount(x, minlength=60),
               extra_ops.bincount(x, w, minlength=5)]
    small, large, weighted = run(backend, [x, w], outputs, a, weights)
    np.testing.assert_array_equal(small, np.bincount(a, minlength=5))
    np.testing.assert_array_equal(large, np.bincount(a, minlength=60))
    np.testing.assert_allclose(weighted, np.bincount(a, weights, minlength=5))


def test_diff_repeat_bartlett_fill_diagonal_op_classes(backend, rng):
    v, m, r, M = T.dvector(), T.dmatrix(), T.ivector(), T.lscalar()
    vv, mv, rv = rng.random(6), rng.random((4, 3)), np.array([1, 0, 2, 3], "int32")
    outputs = [extra_ops.DiffOp(n=2)(v), extra_ops.RepeatOp(axis=0)(m, r), extra_ops.RepeatOp()(m, 2),
               extra_ops.Bartlett()(M), extra_ops.FillDiagonal()(m, 5.0), extra_ops.FillDiagonalOffset()(m, 2.0, -1)]
    got = run(backend, [v, m, r, M], outputs, vv, mv, rv, 7)
    filled, offset = mv.copy(), mv.copy()
    np.fill_diagonal(filled, 5.0)
    offset[[1, 2, 3], [0, 1, 2]] = 2.0
    for g, want in zip(got, [np.diff(vv, 2), np.repeat(mv, rv, 0), np.repeat(mv, 2), np.bartlett(7), filled, offset]):
        np.testing.assert_allclose(g, want)
    T.verify_grad(extra_ops.DiffOp(n=3), [rng.random(8)])
    T.verify_grad(lambda x: extra_ops.RepeatOp(axis=1)(x, 3), [rng.random((2, 3))])


@pytest.mark.parametrize("axis", [None, 0, -1])
def test_repeat_by_a_symbolic_vector_of_counts(backend, rng, axis):
    x, counts = T.dmatrix("x"), T.vector("r", dtype="uint8")
    a = rng.random((3, 3))
    c = rng.integers(0, 4, size=a.size if axis is None else 3).astype("uint8")
    np.testing.assert_allclose(run(backend, [x, counts], extra_ops.repeat(x, counts, axis=axis), a, c),
                               np.repeat(a, c, axis=axis))
    with pytest.raises(TypeError, match="repeat: repeats must be an int"):
        extra_ops.repeat(x, T.dvector(), axis=0)


def test_searchsorted_method_op_class_and_sorter_checks(backend, rng):
    x, v, s = T.dvector("x"), T.dtensor3("v"), T.ivector("s")
    a, b = 30 * rng.random(20), 30 * rng.random((2, 3, 4))
    order = np.argsort(a).astype("int32")
    outputs = [x.searchsorted(v, sorter=s, side="right"), extra_ops.SearchsortedOp()(x, v, s),
               extra_ops.SearchsortedOp("right")(x, v, s)]
    got = run(backend, [x, v, s], outputs, a, b, order)
    for g, side in zip(got, ["right", "left", "right"]):
        np.testing.assert_array_equal(g, np.searchsorted(a, b, side=side, sorter=order))
        assert g.dtype == np.int64
    T.verify_grad(extra_ops.SearchsortedOp(), [np.sort(a), b])          # flat: a zero gradient
    with pytest.raises(ValueError):
        extra_ops.SearchsortedOp(side="middle")
    with pytest.raises(ValueError, match="sorter must be a vector"):
        extra_ops.searchsorted(x, v, sorter=T.lmatrix())
    with pytest.raises(TypeError, match="sorter must hold ints"):
        extra_ops.searchsorted(x, v, sorter=T.fvector())


def test_compress_method_takes_the_condition_first(backend):
    cond, data = T.ivector("c"), T.dmatrix("d")
    c, d = np.array([0, 1, 1], "int32"), np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(run(backend, [cond, data], cond.compress(data, axis=0), c, d),
                                  np.compress(c, d, axis=0))


def test_unique_op_with_return_list(backend):
    x = T.dmatrix("x")
    value = np.array([[2.0, 1.0], [3.0, 2.0], [2.0, 1.0]])
    outputs = extra_ops.Unique(True, True, True)(x, return_list=True) + extra_ops.Unique()(x, return_list=True)
    values, index, inverse, counts, alone = run(backend, [x], outputs, value)
    want = np.unique(value, return_index=True, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(values, want[0])
    np.testing.assert_array_equal(index, want[1])
    np.testing.assert_array_equal(inverse, want[2].ravel())        # Theano's inverse is a vector
    np.testing.assert_array_equal(counts, want[3])
    np.testing.assert_array_equal(alone, want[0])


@pytest.mark.parametrize("order", ["C", "F"])
def test_unravel_and_ravel_with_symbolic_dims(backend, order):
    shape = (3, 4, 5)
    flat = np.arange(60)[:, None]
    dims = mlcore.shared(np.array(shape))
    positions = np.unravel_index(flat, shape, order=order)
    shifted = (positions[0] - 1,) + positions[1:]
    outputs = [*extra_ops.unravel_index(flat, dims, order=order, ndim=3),
               *extra_ops.unravel_index(mlcore.shared(flat), mlcore.shared(np.zeros(shape)).shape, order=order),
               extra_ops.ravel_multi_index([mlcore.shared(p) for p in positions], dims, order=order),
               extra_ops.ravel_multi_index(shifted, dims, mode="wrap", order=order)]
    got = run(backend, [], outputs)
    for g, want in zip(got, list(positions) * 2):
        np.testing.assert_array_equal(g, want)
    np.testing.assert_array_equal(got[6], np.ravel_multi_index(positions, shape, order=order))
    np.testing.assert_array_equal(got[7], np.ravel_multi_index(shifted, shape, mode="wrap", order=order))
    assert got[6].dtype == np.int64


def test_unravel_and_ravel_refuse_what_theano_refuses():
    with pytest.raises(ValueError, match="ndim"):
        extra_ops.unravel_index(T.ivector(), T.ivector())
    with pytest.raises(ValueError, match="ndim"):
        extra_ops.unravel_index((3, 4), (3, 3), ndim=5.4)
    for indices, dims in [(T.fvector(), (3, 4)), ((3, 4), (3.4, 3.2)), ((3, 4), 3), ((3, 4), ((3, 4),))]:
        with pytest.raises(TypeError, match="unravel_index"):
            extra_ops.unravel_index(indices, dims)
    for multi_index, dims in [((T.fvector(), T.ivector()), (3, 4)), (((3, 4), T.ivector()), (3.4, 3.2)),
                              (((3, 4),), ((3, 4),))]:
        with pytest.raises(TypeError, match="ravel_multi_index"):
            extra_ops.ravel_multi_index(multi_index, dims)


# --- sort ----------------------------------------------------------------------------------------
def test_sort_and_argsort_along_a_symbolic_axis(backend, rng):
    a, axis, int_axis = T.dmatrix("a"), T.scalar("axis"), T.lscalar("k")
    m = rng.random((3, 2))
    f = mlcore.function([a, axis, int_axis], [sort_module.sort(a, axis), sort_module.argsort(a, int_axis, "mergesort"),
                                             sort_module.SortOp("mergesort", [])(a, int_axis)], backend=backend)
    for value in (0, 1, -1):
        sorted_values, order, by_op = f(m, value, value)
        np.testing.assert_array_equal(sorted_values, np.sort(m, value))
        np.testing.assert_array_equal(order, np.argsort(m, value, kind="stable"))
        np.testing.assert_array_equal(by_op, np.sort(m, value))
    assert sort_module.SortOp("mergesort", []) == sort_module.SortOp("mergesort", [])
    assert sort_module.SortOp("mergesort", []) != sort_module.SortOp("quicksort", [])
    assert sort_module.ArgSortOp("mergesort", []) != sort_module.SortOp("mergesort", [])


def test_argsort_has_a_zero_gradient_and_topk_op():
    data = np.random.default_rng(2).random((2, 3, 4))
    T.verify_grad(lambda x: sort_module.argsort(x, axis=-1), [data])
    T.verify_grad(lambda x: sort_module.ArgSortOp("quicksort")(x, 1), [data])
    x = T.dvector()
    values, indices = sort_module.TopKOp(idx_dtype="int32")(x, 2)
    got_values, got_indices = mlcore.function([x], [values, indices])(np.array([3.0, 9.0, 1.0, 7.0]))
    np.testing.assert_array_equal(got_values, [9.0, 7.0])
    np.testing.assert_array_equal(got_indices, [1, 3])
    assert got_indices.dtype == np.int32
    assert sort_module.TopKOp(return_indices=False)(x, 1).dtype == "float64"


# --- nlinalg and slinalg -------------------------------------------------------------------------
def test_nlinalg_refuses_as_theano():
    with pytest.raises(TypeError, match="diag"):
        nlinalg.diag(T.dtensor3())
    with pytest.raises(TypeError, match="alloc_diag"):
        nlinalg.alloc_diag(T.dmatrix())
    with pytest.raises(TypeError, match="extract_diag"):
        nlinalg.extract_diag(T.dtensor3())
    with pytest.raises(ValueError, match="norm"):
        nlinalg.norm(3, None)
    with pytest.raises(NotImplementedError, match="norm"):
        nlinalg.norm(np.ones((3, 4, 5)), None)


def test_nlinalg_diag_picks_by_ndim(backend, rng):
    v, m = T.dvector(), T.dmatrix()
    vv, mv = rng.random(3), rng.random((2, 3))
    built, taken = run(backend, [v, m], [nlinalg.diag(v), nlinalg.diag(m)], vv, mv)
    np.testing.assert_array_equal(built, np.diag(vv))
    np.testing.assert_array_equal(taken, np.diag(mv))


def test_generalized_eigvalsh_and_none_const(backend, rng):
    a, b = T.dmatrix("a"), T.dmatrix("b")
    av = rng.normal(size=(4, 4))
    av = av + av.T
    bv = 10 * np.eye(4) + rng.normal(size=(4, 4))          # only its lower triangle is read, as scipy's
    lower, upper, plain = run(backend, [a, b], [slinalg.eigvalsh(a, b), slinalg.eigvalsh(a, b, lower=False),
                                                slinalg.eigvalsh(a, T.NoneConst)], av, bv)
    np.testing.assert_allclose(lower, scipy.linalg.eigvalsh(av, bv), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(upper, scipy.linalg.eigvalsh(av, bv, lower=False), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(plain, scipy.linalg.eigvalsh(av), rtol=1e-10, atol=1e-12)


def test_generalized_eigvalsh_gradient():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(4, 4))
    b = 10 * np.eye(4) + rng.normal(size=(4, 4))
    T.verify_grad(lambda a, b: slinalg.eigvalsh(a + a.T, b).dot([1.0, 2.0, 3.0, 4.0]), [a, b])


@pytest.mark.parametrize("structure", ["general", "lower_triangular", "upper_triangular", "symmetric"])
def test_solve_op_with_a_structure(backend, rng, structure):
    a, b = T.dmatrix("a"), T.dmatrix("b")
    av, bv = rng.normal(size=(4, 4)) * 0.5 + np.eye(4), rng.normal(size=(4, 2))
    av = {"lower_triangular": np.tril(av), "upper_triangular": np.triu(av), "symmetric": av + av.T}.get(structure, av)
    op = slinalg.Solve(A_structure=structure, lower=structure == "lower_triangular")
    np.testing.assert_allclose(run(backend, [a, b], op(a, b), av, bv), scipy.linalg.solve(av, bv), rtol=1e-9)
    if backend == "numpy":
        T.verify_grad(op, [av, bv], 2, np.random.RandomState(0), eps=2e-8)


def test_kron_of_floatx_tensors(backend, rng):
    x = T.tensor(dtype="floatX", broadcastable=(False, False))
    y = T.tensor(dtype="floatX", broadcastable=(False, False))
    assert x.dtype == mlcore.config.floatx()
    a, b = rng.random((2, 3)).astype(x.dtype), rng.random((4, 5)).astype(x.dtype)
    np.testing.assert_allclose(run(backend, [x, y], slinalg.kron(x, y), a, b), np.kron(a, b), rtol=1e-6)


# --- fft and fourier -----------------------------------------------------------------------------
@pytest.mark.parametrize("norm", [None, "ortho", "no_norm"])
def test_rfft_and_irfft_of_unknown_lengths(backend, rng, norm):
    value = rng.random((2, 4, 6))
    signals = mlcore.shared(value)                       # a shared variable's dims are not fixed
    spectrum = fft.rfft(signals, norm=norm)
    half = T.dtensor4("half")
    half_value = rng.random((2, 4, 3, 2))
    got, back, odd = run(backend, [half], [spectrum, fft.irfft(spectrum, norm=norm),
                                           fft.irfft(half, norm=norm, is_odd=True)], half_value)
    numpy_norm = "ortho" if norm == "ortho" else "backward"
    np.testing.assert_allclose(got[..., 0] + 1j * got[..., 1], np.fft.rfftn(value, axes=(1, 2), norm=numpy_norm),
                               atol=1e-12)
    np.testing.assert_allclose(back, value * (24 if norm == "no_norm" else 1), atol=1e-12)
    want = np.fft.irfftn(half_value[..., 0] + 1j * half_value[..., 1], s=(4, 5), axes=(1, 2), norm=numpy_norm)
    np.testing.assert_allclose(odd, want * (20 if norm == "no_norm" else 1), atol=1e-12)


def test_rfft_and_irfft_gradients_of_unknown_lengths():
    rng = np.random.default_rng(5)
    T.verify_grad(fft.rfft, [rng.random((1, 6))])
    T.verify_grad(lambda x: fft.rfft(x, norm="ortho"), [rng.random((1, 4, 5))])
    T.verify_grad(fft.irfft, [rng.random((1, 4, 2))])
    T.verify_grad(lambda x: fft.irfft(x, norm="no_norm", is_odd=True), [rng.random((1, 3, 4, 2))])
    with pytest.raises(ValueError, match="is_odd"):
        fft.irfft(T.dtensor3(), is_odd=123)


def test_fourier_fft(backend, rng):
    a, c = T.dmatrix("a"), T.zmatrix("c")
    av, cv = rng.random((8, 6)), rng.random((3, 5)) + 1j * rng.random((3, 5))
    outputs = [fourier.fft(a, n=10, axis=0), fourier.fft(a, 4, 1), fourier.fft(a), fourier.Fourier()(c, None, 0)]
    got = run(backend, [a, c], outputs, av, cv)
    for g, want in zip(got, [np.fft.fft(av, 10, 0), np.fft.fft(av, 4, 1), np.fft.fft(av), np.fft.fft(cv, axis=0)]):
        assert g.dtype == np.complex128
        np.testing.assert_allclose(g, want, atol=1e-12)
    with pytest.raises(TypeError, match="fft"):
        fourier.fft(T.dscalar())
    with pytest.raises(TypeError, match="fft"):
        fourier.fft(a, 4, 2)

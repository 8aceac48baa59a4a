"""theano.sparse (mlcore.sparse): sparse matrices in graphs, on every backend, against scipy.sparse
and numpy; gradients against finite differences; the Theano tutorial's sparse examples."""
import numpy as np
import pytest
import scipy.sparse as sp

import mlcore
import mlcore.tensor as T
from mlcore import sparse
from mlcore.function import UnusedInputError
from mlcore.gradient import verify_grad


def random_sparse(rng, shape, format="csr", density=0.4, dtype="float64"):
    dense = rng.normal(size=shape) * (rng.random(shape) < density)
    return sp.csr_matrix(dense.astype(dtype)).asformat(format)


def run(inputs, outputs, values, backend):
    return mlcore.function(inputs, outputs, backend=backend)(*values)


def dense(value):
    return value.toarray() if sp.issparse(value) else np.asarray(value)


def test_the_tutorials_conversions_and_properties(backend):
    """Theano's sparse tutorial: csc_from_dense(dense_from_sparse(x)) gives x back, CSR() of a CSC
    matrix's properties is its transpose, structured_add adds to the stored entries only."""
    x = sparse.csc_matrix(name="x", dtype="float32")
    a = sp.csc_matrix(np.asarray([[0, 1, 1], [0, 0, 0], [1, 0, 0]], dtype="float32"))
    y = sparse.dense_from_sparse(x)
    as_dense, again = run([x], [y, sparse.csc_from_dense(y)], [a], backend)
    np.testing.assert_array_equal(as_dense, a.toarray())
    assert again.format == "csc" and again.dtype == np.float32 and (again != a).nnz == 0
    data, indices, indptr, shape = sparse.csm_properties(x)
    transposed = run([x], sparse.CSR(data, indices, indptr, shape), [a], backend)
    np.testing.assert_array_equal(transposed.toarray(), [[0, 0, 1], [1, 0, 0], [1, 0, 0]])
    plus_two = run([x], sparse.structured_add(x, 2), [a], backend)
    np.testing.assert_array_equal(plus_two.toarray(), [[0, 3, 3], [0, 0, 0], [3, 0, 0]])
    assert x.type.format == "csc" and x.dtype == "float32" and x.ndim == 2


@pytest.mark.parametrize("format", ["csr", "csc"])
def test_products_match_scipy(backend, rng, format):
    a = random_sparse(rng, (5, 4), format)
    b = random_sparse(rng, (4, 3), "csr")
    w, v, d = rng.normal(size=(4, 3)), rng.normal(size=4), rng.normal(size=(2, 5))
    x, y = sparse.matrix(format, "x", "float64"), sparse.csr_matrix("y", dtype="float64")
    W, V, D = T.dmatrix("W"), T.dvector("V"), T.dmatrix("D")
    outputs = [sparse.structured_dot(x, W), T.dot(x, W), x.__dot__(V), T.dot(D, x), sparse.dot(x, y)]
    got = run([x, y, W, V, D], outputs, [a, b, w, v, d], backend)
    expected = [a @ w, a @ w, a @ v, d @ a.toarray(), (a @ b).toarray()]
    for g, e in zip(got, expected):
        np.testing.assert_allclose(dense(g), e, rtol=1e-12, atol=1e-12)
    assert sp.issparse(got[-1]) and got[-1].format == format


def test_elementwise_arithmetic_matches_scipy(backend, rng):
    a, b = random_sparse(rng, (4, 5)), random_sparse(rng, (4, 5))
    m, row, s = rng.normal(size=(4, 5)), rng.normal(size=5), rng.normal(size=4)
    x, y = sparse.csr_matrix("x", dtype="float64"), sparse.csr_matrix("y", dtype="float64")
    M, R, S = T.dmatrix("M"), T.dvector("R"), T.dvector("S")
    cases = [(x * 3, a * 3), (2 * x, 2 * a), (x * M, a.multiply(m)), (sparse.mul(x, R), a.multiply(row)),
             (x * y, a.multiply(b)), (x + y, a + b), (x - y, a - b), (x + M, a + m), (M - x, m - a),
             (M + x, m + a), (-x, -a), (x.T, a.T), (sparse.row_scale(x, S), sp.diags(s) @ a),
             (sparse.col_scale(x, R), a @ sp.diags(row)), (sparse.sqr(x), a.multiply(a)),
             (sparse.abs_(x), abs(a)), (sparse.sp_ones_like(x), (a != 0).astype(float)),
             (sparse.structured_exp(x), _structured(a, np.exp)), (sparse.structured_pow(x, 3), a.power(3)),
             (sparse.structured_sigmoid(x), _structured(a, lambda d: 1 / (1 + np.exp(-d)))),
             (sparse.structured_minimum(x, 0.1), _structured(a, lambda d: np.minimum(d, 0.1)))]
    got = run([x, y, M, R, S], [c[0] for c in cases], [a, b, m, row, s], backend)
    for (symbol, expected), value in zip(cases, got):
        assert sp.issparse(value) == sp.issparse(expected), symbol
        np.testing.assert_allclose(dense(value), dense(expected), rtol=1e-12, atol=1e-12, err_msg=str(symbol))


def _structured(matrix, fn):
    out = matrix.copy()
    out.data = fn(out.data)
    return out


def test_sums_stacks_and_cleaning_match_scipy(backend, rng):
    a, b = random_sparse(rng, (3, 4)), random_sparse(rng, (3, 2))
    with_zeros = sp.csr_matrix((np.array([1.0, 0.0, 2.0]), np.array([2, 0, 1]), np.array([0, 2, 2, 3])), shape=(3, 3))
    x, y, z = (sparse.csr_matrix(n, dtype="float64") for n in "xyz")
    outputs = [sparse.sp_sum(x), sparse.sp_sum(x, axis=0), sparse.sp_sum(x, axis=1), x.sum(1),
               sparse.hstack([x, y]), sparse.vstack([x, x], format="csc"), sparse.remove0(z),
               sparse.sp_zeros_like(x), x.astype("float32")]
    got = run([x, y, z], outputs, [a, b, with_zeros], backend)
    np.testing.assert_allclose(got[0], a.sum(), rtol=1e-12)
    np.testing.assert_allclose(got[1], np.asarray(a.sum(0)).ravel(), rtol=1e-12)
    np.testing.assert_allclose(got[2], np.asarray(a.sum(1)).ravel(), rtol=1e-12)
    np.testing.assert_allclose(got[3], np.asarray(a.sum(1)).ravel(), rtol=1e-12)
    np.testing.assert_array_equal(got[4].toarray(), sp.hstack([a, b]).toarray())
    assert got[5].format == "csc"
    np.testing.assert_array_equal(got[5].toarray(), sp.vstack([a, a]).toarray())
    assert got[6].nnz == 2 and got[6].has_sorted_indices
    np.testing.assert_array_equal(got[6].toarray(), with_zeros.toarray())
    assert got[7].nnz == 0 and got[7].shape == a.shape
    assert got[8].dtype == np.float32


def test_square_diagonal_and_sampling_dot(backend, rng):
    d, u, v = rng.normal(size=4), rng.normal(size=(3, 5)), rng.normal(size=(4, 5))
    p = random_sparse(rng, (3, 4))
    D, U, V = T.dvector("D"), T.dmatrix("U"), T.dmatrix("V")
    P = sparse.csr_matrix("P", dtype="float64")
    diag, sampled = run([D, U, V, P], [sparse.square_diagonal(D), sparse.sampling_dot(U, V, P)], [d, u, v, p], backend)
    np.testing.assert_array_equal(diag.toarray(), np.diag(d))
    np.testing.assert_allclose(sampled.toarray(), (u @ v.T) * p.toarray(), rtol=1e-12)
    assert sampled.nnz == p.nnz


def test_gradients_of_dense_parameters_through_sparse_inputs(backend, rng):
    """A sparse design matrix times dense weights: d cost / d W by finite differences."""
    a = random_sparse(rng, (6, 4))
    x = sparse.as_sparse_variable(a)
    verify_grad(lambda w: T.tanh(sparse.structured_dot(x, w)).sum(), [rng.normal(size=(4, 3))], rng=rng)
    verify_grad(lambda w: (sparse.sp_sum(x * w, axis=0) ** 2).sum(), [rng.normal(size=(6, 4))], rng=rng)
    verify_grad(lambda w: (T.dot(w, x) ** 2).sum(), [rng.normal(size=(2, 6))], rng=rng)


def test_the_gradient_of_a_sparse_matrix_is_structured(backend, rng):
    """T.grad wrt a sparse matrix: its stored values' gradient, in its pattern (Theano's structured
    gradient), equal to the dense gradient at the stored entries and checked by finite differences."""
    a, w = random_sparse(rng, (5, 4)), rng.normal(size=(4, 3))
    x, W = sparse.csr_matrix("x", dtype="float64"), T.dmatrix("W")
    cost = (T.dot(x, W) ** 2).sum()
    g = T.grad(cost, x)
    assert isinstance(g, sparse.SparseVariable) and g.format == "csr"
    value = run([x, W], g, [a, w], backend)
    dense_grad = 2 * a.toarray() @ w @ w.T
    np.testing.assert_allclose(value.toarray(), dense_grad * (a.toarray() != 0), rtol=1e-10)
    indices, indptr = a.indices, a.indptr
    verify_grad(lambda data: (T.dot(sparse.CSR(data, indices, indptr, a.shape), w) ** 2).sum(), [a.data], rng=rng)


def test_a_sparse_shared_variable_and_its_updates(backend, rng):
    """theano.shared(scipy matrix) keeps a sparse matrix; an update may change its pattern."""
    a = random_sparse(rng, (4, 3))
    S = mlcore.shared(a, name="S")
    assert isinstance(S, sparse.SparseSharedVariable) and S.format == "csr"
    v = T.dvector("v")
    step = mlcore.function([v], sparse.structured_dot(S, v), updates=[(S, sparse.csr_from_dense(S.toarray() + 1))],
                           backend=backend)
    np.testing.assert_allclose(step(np.ones(3)), a @ np.ones(3), rtol=1e-12)
    np.testing.assert_allclose(S.get_value().toarray(), a.toarray() + 1, rtol=1e-12)
    assert S.get_value().nnz == 12
    np.testing.assert_allclose(step(np.ones(3)), (a.toarray() + 1).sum(1), rtol=1e-12)
    S.set_value(sp.csr_matrix(np.eye(4, 3)))
    np.testing.assert_allclose(step(np.arange(3.0)), [0, 1, 2, 0])


def test_logistic_regression_on_sparse_features_learns(backend, rng):
    """Theano-style training on a sparse design matrix: the loss falls and the classes separate."""
    features = random_sparse(rng, (200, 30), density=0.2)
    truth = rng.normal(size=30)
    labels = (features @ truth > 0).astype("float64")
    x, y = sparse.csr_matrix("x", dtype="float64"), T.dvector("y")
    w, b = mlcore.shared(np.zeros(30), name="w"), mlcore.shared(0.0, name="b")
    p = T.nnet.sigmoid(T.dot(x, w) + b)
    cost = T.nnet.binary_crossentropy(p, y).mean()
    gw, gb = T.grad(cost, [w, b])
    train = mlcore.function([x, y], cost, updates=[(w, w - 2.0 * gw), (b, b - 2.0 * gb)], backend=backend)
    losses = [float(train(features, labels)) for _ in range(60)]
    accuracy = ((features @ w.get_value() + b.get_value() > 0) == labels).mean()
    assert losses[-1] < 0.5 * losses[0] and accuracy > 0.9


def test_bad_input_gets_a_clear_error():
    x = sparse.csr_matrix("x", dtype="float32")
    f = mlcore.function([x], sparse.sp_sum(x), backend="numpy")
    with pytest.raises(TypeError, match="x expects a scipy.sparse matrix, got ndarray"):
        f(np.ones((2, 2), dtype="float32"))
    with pytest.raises(TypeError, match="Input x expects dtype float32 but got float64"):
        f(sp.csr_matrix(np.ones((2, 2))))
    assert float(f(sp.csc_matrix(np.ones((2, 2), dtype="float32")))) == 4.0   # another format is converted
    with pytest.raises(TypeError, match="neither a SparseVariable nor a scipy.sparse matrix"):
        sparse.as_sparse_variable(np.ones((2, 2)))
    S = mlcore.shared(sp.csr_matrix(np.eye(2)))
    with pytest.raises(TypeError, match="convert it first"):
        mlcore.function([], [], updates=[(S, S.T)])
    with pytest.raises(ValueError, match="sparse format 'bsr' is not offered"):
        sparse.matrix("bsr")


def test_a_sparse_input_counts_as_used_when_any_part_is():
    x, y = sparse.csr_matrix("x", dtype="float64"), sparse.csr_matrix("y", dtype="float64")
    assert float(mlcore.function([x], sparse.sp_sum(x), backend="numpy")(sp.csr_matrix(np.ones((1, 2))))) == 2.0
    with pytest.raises(UnusedInputError, match=r"Input\(s\) y are not used"):
        mlcore.function([x, y], sparse.sp_sum(x))
    ignoring = mlcore.function([x, y], sparse.sp_sum(x), on_unused_input="ignore")
    assert float(ignoring(sp.csr_matrix(np.ones((1, 2))), sp.csr_matrix(np.ones((3, 3))))) == 2.0


@pytest.mark.parametrize("format", ["csr", "csc"])
def test_indexing_matches_numpy(backend, rng, format):
    """Theano's x[...] on a sparse matrix: slices, ints, lists and symbolic bounds per axis give a
    sparse matrix of x's format; x[i, j] a scalar, x[list, list] a vector of entries."""
    a = random_sparse(rng, (6, 5), format)
    A = a.toarray()
    x, i = sparse.matrix(format, "x", "float64"), T.lscalar("i")
    cases = [(x[1:4], A[1:4]), (x[:, 0:5:2], A[:, 0:5:2]), (x[2], A[2:3]), (x[[4, 0, 4]], A[[4, 0, 4]]),
             (x[::-1, [3, 1]], A[::-1][:, [3, 1]]), (x[i:i + 2], A[3:5]), (x[-1, 1:], A[-1:, 1:]),
             (x[2, 3], A[2, 3]), (x[i, -1], A[3, -1]), (x[[0, 1, 5], [1, 1, 4]], A[[0, 1, 5], [1, 1, 4]])]
    got = run([x, i], [c[0] for c in cases], [a, 3], backend)
    for (symbol, expected), value in zip(cases, got):
        assert sp.issparse(value) == (np.ndim(expected) == 2)
        assert not sp.issparse(value) or value.format == format
        np.testing.assert_array_equal(dense(value), expected)


def test_minibatches_of_rows_of_a_sparse_shared_matrix(backend, rng):
    """Theano's minibatch recipe on sparse data: rows i*10:(i+1)*10 of a shared CSR matrix, picked
    in the graph; the gradient of the weights matches the dense computation's."""
    a = random_sparse(rng, (40, 8), density=0.3)
    X = mlcore.shared(a, name="X")
    w = mlcore.shared(rng.normal(size=8), name="w")
    i = T.lscalar("i")
    cost = (T.dot(X[i * 10:(i + 1) * 10], w) ** 2).sum()
    f = mlcore.function([i], [cost, T.grad(cost, w)], backend=backend)
    for batch in (0, 3):
        rows = a.toarray()[batch * 10:(batch + 1) * 10]
        value, gradient = f(batch)
        np.testing.assert_allclose(value, ((rows @ w.get_value()) ** 2).sum(), rtol=1e-12)
        np.testing.assert_allclose(gradient, 2 * rows.T @ (rows @ w.get_value()), rtol=1e-12)


def test_comparisons_match_pytensors_sparse(backend, rng):
    """eq, neq, lt, gt, le, ge (and <, >, <=, >=) give uint8 as PyTensor's sparse module does: sparse
    for two sparse matrices, dense with a dense one."""
    pytensor = pytest.importorskip("pytensor")
    import pytensor.sparse as ps
    import pytensor.tensor as pt
    a, b = random_sparse(rng, (4, 5), density=0.5), random_sparse(rng, (4, 5), density=0.5)
    b[0, 0], a[0, 0] = 1.0, 1.0                                # one stored entry equal in both
    m = b.toarray()
    x, y, d = sparse.csr_matrix("x", dtype="float64"), sparse.csr_matrix("y", dtype="float64"), T.dmatrix("d")
    px, py, pd = ps.csr_matrix("x", dtype="float64"), ps.csr_matrix("y", dtype="float64"), pt.dmatrix("d")
    names = ["eq", "neq", "lt", "gt", "le", "ge"]
    ours = [getattr(sparse, n)(x, other) for n in names for other in (y, d)] + [x < y, x >= d, d < x]
    theirs = [getattr(ps, n)(px, other) for n in names for other in (py, pd)] + [ps.lt(px, py), ps.ge(px, pd),
                                                                                 ps.gt(px, pd)]
    got = run([x, y, d], ours, [a, b, m], backend)
    expected = pytensor.function([px, py, pd], theirs, mode="FAST_COMPILE")(a, b, m)
    for symbol, value, reference in zip(ours, got, expected):
        assert sp.issparse(value) == sp.issparse(reference) and value.dtype == reference.dtype == np.uint8
        np.testing.assert_array_equal(dense(value), dense(reference), err_msg=str(symbol))


def test_verify_grad_sparse_checks_structured_gradients(rng):
    """Theano's verify_grad_sparse(op, pt, structured=True) passes for the ops' gradients and
    catches a wrong one; structured=False is refused with the reason."""
    from mlcore.gradient import GradientError, zero_grad
    a, w = random_sparse(rng, (4, 3), density=0.6), rng.normal(size=(3, 2))
    sparse.verify_grad_sparse(sparse.structured_dot, [a, w], structured=True, rng=rng)
    sparse.verify_grad_sparse(sparse.structured_sigmoid, [a.tocsc()], structured=True, rng=rng)
    sparse.verify_grad_sparse(lambda x, y: (x * y).T, [a, rng.normal(size=(4, 3))], structured=True, rng=rng)

    def half_gradient(x):       # d(data ** 2) reported as data instead of 2 * data
        return sparse.CSR(x.data * zero_grad(x.data), x.indices, x.indptr, x.shape)
    with pytest.raises(GradientError):
        sparse.verify_grad_sparse(half_gradient, [a], structured=True, rng=rng)
    with pytest.raises(NotImplementedError, match="structured=True"):
        sparse.verify_grad_sparse(sparse.structured_dot, [a, w])


def test_functions_and_shared_variables_pickle():
    import pickle
    x = sparse.csr_matrix("x", dtype="float64")
    S = mlcore.shared(sp.csr_matrix(np.eye(2)), name="S")
    f = pickle.loads(pickle.dumps(mlcore.function([x], [x * 2, sparse.sp_sum(x, axis=0)], backend="numpy")))
    doubled, sums = f(sp.csr_matrix(np.arange(4.0).reshape(2, 2)))
    np.testing.assert_array_equal(doubled.toarray(), [[0, 2], [4, 6]])
    np.testing.assert_array_equal(sums, [2, 4])
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(S)).get_value().toarray(), np.eye(2))


def test_sparse_weights_train_in_their_pattern(backend, rng):
    """A sparse shared weight updated by w - lr * T.grad(cost, w): the gradient has w's pattern, so
    the update combines stored values (no new pattern, no nonzero) and the loss falls as the dense
    computation of the same structured step says."""
    x, t = rng.normal(size=(20, 6)), rng.normal(size=(20, 3))
    start = random_sparse(rng, (6, 3), density=0.5)
    W = mlcore.shared(start, name="W")
    X, Y = T.dmatrix("X"), T.dmatrix("Y")
    cost = ((T.dot(X, W) - Y) ** 2).mean()
    step = mlcore.function([X, Y], cost, updates=[(W, W - 0.5 * T.grad(cost, W))], backend=backend)
    losses = [float(step(x, t)) for _ in range(5)]
    w, mask = start.toarray(), start.toarray() != 0
    for loss in losses:                       # the same steps in numpy, the gradient kept to the pattern
        np.testing.assert_allclose(loss, ((x @ w - t) ** 2).mean(), rtol=1e-10)
        w = w - 0.5 * (2 * x.T @ (x @ w - t) / t.size) * mask
    assert losses[-1] < losses[0] and W.get_value().nnz == start.nnz
    np.testing.assert_allclose(W.get_value().toarray(), w, rtol=1e-10)

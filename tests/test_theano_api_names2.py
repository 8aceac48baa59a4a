"""The rest of Theano 1.0's user-facing names: the TensorType groups, get_vector_length,
extract_constant, permute_row_elements / inverse_permutation, extra_ops.unique and bincount without
minlength, nlinalg.lstsq / tensorinv / tensorsolve, slinalg.cho_solve, the nnet functions (h_softmax,
confusion_matrix, softmax_with_bias, softmax_grad, the crossentropies' gradients, prepending a
column), signal.pool.max_pool_2d_same_size, gradient.numeric_grad / subgraph_grad, compile.DebugMode
and ProfileStats, printing.pydotprint / min_informative_str.  Values against numpy/scipy on every
backend, gradients by verify_grad."""
import io

import numpy as np
import pytest
import scipy.linalg

import backends.numpy.interpreter as numpy_interpreter
import mlcore
import mlcore.tensor as T
from mlcore.compile import DebugMode, ProfileStats
from mlcore.compile.debugmode import BadThunkOutput, InvalidValueError
from mlcore.gradient import numeric_grad, subgraph_grad, verify_grad
from mlcore.printing import min_informative_str, pydotprint
from mlcore.tensor import extra_ops, nlinalg, nnet, slinalg
from mlcore.tensor.signal.pool import max_pool_2d_same_size

rng = np.random.default_rng(20261202)


def run(outputs, inputs, values, backend):
    return mlcore.function(inputs, outputs, backend=backend)(*values)


def softmax_rows(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


# --- tensor.basic ---------------------------------------------------------------------------------
def test_type_groups_are_theanos():
    assert T.int_types == T.int_scalar_types == (T.bscalar, T.wscalar, T.iscalar, T.lscalar)
    assert T.float_types == (T.fscalar, T.dscalar) and T.complex_types == (T.cscalar, T.zscalar)
    assert T.float_vector_types == (T.fvector, T.dvector) and T.int_matrix_types[-1] == T.lmatrix
    assert T.complex_matrix_types == (T.cmatrix, T.zmatrix)
    assert T.dvector("v").type in T.float_vector_types and T.ivector().type not in T.float_vector_types


def test_get_vector_length_and_extract_constant():
    x = T.dtensor3("x")
    assert T.get_vector_length(x.shape) == 3
    assert T.get_vector_length(T.constant([4, 5])) == 2
    assert T.get_vector_length(T.dvector("v", shape=(6,))) == 6
    with pytest.raises(ValueError, match="get_vector_length: length not known"):
        T.get_vector_length(T.dvector("v"))
    with pytest.raises(TypeError, match="must be a symbolic vector"):
        T.get_vector_length(x)
    assert T.extract_constant(T.constant(3) * 2 + 1) == 7
    assert T.extract_constant(x) is x


def test_permute_row_elements_matches_numpy(backend):
    x, y, v = T.dmatrix("x"), T.lmatrix("y"), T.lvector("v")
    X = rng.normal(size=(3, 4))
    Y = np.array([rng.permutation(4) for _ in range(3)])
    V = rng.permutation(4)
    got = run([T.permute_row_elements(x, y), T.permute_row_elements(x, y, inverse=True),
               T.permute_row_elements(x, v), T.permute_row_elements(x[0], y), T.inverse_permutation(y)],
              [x, y, v], [X, Y, V], backend)
    inverse = np.zeros_like(X)
    np.put_along_axis(inverse, Y, X, 1)
    expected = [np.take_along_axis(X, Y, 1), inverse, X[:, V], X[0][Y], np.argsort(Y, 1)]
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        np.testing.assert_array_equal(g, e)
    assert got[-1].dtype == np.int64


def test_permute_row_elements_gradient_and_errors():
    Y = np.array([[2, 0, 1], [1, 2, 0]])
    verify_grad(lambda x: T.permute_row_elements(x, T.constant(Y)), [rng.normal(size=(2, 3))], rng=rng)
    verify_grad(lambda x: T.permute_row_elements(x, T.constant(Y), inverse=True), [rng.normal(size=3)], rng=rng)
    with pytest.raises(TypeError, match="permute_row_elements: y must hold int permutations"):
        T.permute_row_elements(T.dvector(), T.dvector())
    with pytest.raises(TypeError, match="inverse_permutation: perm must hold int"):
        T.inverse_permutation(T.dvector())


# --- extra_ops --------------------------------------------------------------------------------------
def test_unique_matches_numpy(backend):
    x = T.dmatrix("x")
    X = np.array([[3.0, 1.0, 3.0], [2.0, 1.0, 2.0], [3.0, 1.0, 3.0]])
    outputs = [extra_ops.unique(x), *extra_ops.unique(x, True, True, True),
               *extra_ops.Unique(False, True, False, axis=0)(x), extra_ops.unique(x, axis=-1)]
    got = run(outputs, [x], [X], backend)
    values, index, inverse, counts = np.unique(X, True, True, True)
    rows, row_inverse = np.unique(X, return_inverse=True, axis=0)
    expected = [values, values, index, inverse.reshape(-1), counts, rows, row_inverse.reshape(-1),
                np.unique(X, axis=1)]
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_array_equal(g, e)


def test_unique_follows_each_value_under_jax():
    x = T.lvector("x")
    f = mlcore.function([x], extra_ops.unique(x, return_counts=True), backend="jax")
    for value in ([1, 1, 2], [5, 4, 4, 4, 7, 8]):
        got = f(np.array(value))
        expected = np.unique(value, return_counts=True)
        for g, e in zip(got, expected):
            np.testing.assert_array_equal(g, e)


def test_unique_has_no_gradient_through_its_values():
    x = T.dvector("x")
    with pytest.raises(NotImplementedError, match="unique: the values picked out have no gradient"):
        T.grad(extra_ops.unique(x).sum(), x)
    values, index = extra_ops.unique(x, return_index=True)
    g = run(T.grad(x[index].sum(), x), [x], [np.array([2.0, 1.0, 2.0])], "numpy")   # the way round it
    np.testing.assert_array_equal(g, [1.0, 1.0, 0.0])


def test_bincount_without_minlength_matches_numpy(backend):
    x, w = T.ivector("x"), T.dvector("w")
    f = mlcore.function([x, w], [extra_ops.bincount(x), extra_ops.bincount(x, w)], backend=backend)
    for xv in ([0, 3, 3, 1], [], [6]):
        xv = np.array(xv, "int32")
        wv = rng.normal(size=xv.size)
        counts, weighted = f(xv, wv)
        np.testing.assert_array_equal(counts, np.bincount(xv))
        np.testing.assert_allclose(weighted, np.bincount(xv, wv), rtol=1e-12)
        assert counts.dtype == np.int32          # Theano counts in x's dtype


# --- nlinalg and slinalg -------------------------------------------------------------------------
def test_lstsq_tensorinv_tensorsolve_match_numpy(backend):
    a, b, c, m, v = T.dtensor4("a"), T.dmatrix("b"), T.dtensor3("c"), T.dmatrix("m"), T.dvector("v")
    A, B, C = rng.normal(size=(2, 3, 3, 2)), rng.normal(size=(2, 3)), rng.normal(size=(2, 6, 3))
    M, V = rng.normal(size=(5, 3)), rng.normal(size=6)
    outputs = [nlinalg.tensorinv(a), nlinalg.tensorsolve(a, b), nlinalg.tensorsolve(c, v, axes=(0,)),
               nlinalg.tensorinv(c.dimshuffle(1, 0, 2), 1), *nlinalg.lstsq(m, v[:5], None),
               *nlinalg.lstsq()(m, m[:, :2], -1), *nlinalg.lstsq(m[:2], v[:2])]
    got = run(outputs, [a, b, c, m, v], [A, B, C, M, V], backend)
    expected = [np.linalg.tensorinv(A), np.linalg.tensorsolve(A, B), np.linalg.tensorsolve(C, V, axes=(0,)),
                np.linalg.tensorinv(C.transpose(1, 0, 2), 1), *np.linalg.lstsq(M, V[:5], None),
                *np.linalg.lstsq(M, M[:, :2], -1), *np.linalg.lstsq(M[:2], V[:2], -1)]
    for g, e in zip(got, expected):
        assert g.shape == np.shape(e)
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-12)
    assert got[-2] == 2 and got[-3].shape == (0,)       # rank 2, no residuals: underdetermined


def test_tensorinv_and_tensorsolve_gradients():
    a = rng.normal(size=(2, 3, 6)) + np.eye(6).reshape(2, 3, 6) * 3
    verify_grad(lambda a: nlinalg.tensorinv(a, 2), [a], rng=rng)
    verify_grad(lambda a, b: nlinalg.tensorsolve(a, b), [a.reshape(6, 2, 3), rng.normal(size=6)], rng=rng)


def test_linalg_errors():
    with pytest.raises(ValueError, match="tensorinv: ind must be between 1 and"):
        nlinalg.tensorinv(T.dmatrix(), 2)
    with pytest.raises(ValueError, match="tensorsolve: a needs more dims than b"):
        nlinalg.tensorsolve(T.dmatrix(), T.dmatrix())
    with pytest.raises(ValueError, match="lstsq: a has 4 rows but b has 3"):
        nlinalg.lstsq(T.dmatrix(shape=(4, 2)), T.dvector(shape=(3,)))
    with pytest.raises(ValueError, match="lstsq: needs a matrix or a stack"):
        nlinalg.lstsq(T.dvector(), T.dvector())


def test_cho_solve_matches_scipy(backend):
    c, b = T.dmatrix("c"), T.dmatrix("b")
    A = rng.normal(size=(4, 4))
    A = A @ A.T + 4 * np.eye(4)
    L, B = np.linalg.cholesky(A), rng.normal(size=(4, 2))
    got = run([slinalg.cho_solve((c, True), b), slinalg.cho_solve((c.T, False), b), slinalg.cho_solve(c, b)],
              [c, b], [L, B], backend)
    for g in got:
        np.testing.assert_allclose(g, scipy.linalg.cho_solve((L, True), B), rtol=1e-10)
    verify_grad(lambda c, b: slinalg.cho_solve((c, True), b), [L, B], rng=rng)


# --- nnet -----------------------------------------------------------------------------------------
def test_h_softmax_matches_its_definition(backend):
    x, W1, b1, W2, b2, t = T.dmatrix(), T.dmatrix(), T.dvector(), T.dtensor3(), T.dmatrix(), T.lvector()
    X, w1, B1 = rng.normal(size=(4, 5)), rng.normal(size=(5, 3)), rng.normal(size=3)
    w2, B2, target = rng.normal(size=(3, 5, 4)), rng.normal(size=(3, 4)), np.array([0, 5, 9, 3])
    got = run([nnet.h_softmax(x, 4, 10, 3, 4, W1, b1, W2, b2), nnet.h_softmax(x, 4, 10, 3, 4, W1, b1, W2, b2, t)],
              [x, W1, b1, W2, b2, t], [X, w1, B1, w2, B2, target], backend)
    classes = softmax_rows(X @ w1 + B1)
    within = softmax_rows(np.einsum("bf,cfo->bco", X, w2) + B2)
    full = (classes[:, :, None] * within).reshape(4, 12)[:, :10]
    np.testing.assert_allclose(got[0], full, rtol=1e-10)
    np.testing.assert_allclose(got[1], full[np.arange(4), target], rtol=1e-10)
    params = [rng.normal(size=s) for s in ((4, 5), (5, 3), (3,), (3, 5, 4), (3, 4))]
    verify_grad(lambda *p: T.log(nnet.h_softmax(p[0], 4, 10, 3, 4, *p[1:], target=T.constant(target))),
                params, rng=rng)


def test_confusion_matrix_is_theanos_example(backend):
    actual, pred = T.lvector(), T.lvector()
    matrix, order = run(nnet.confusion_matrix(actual, pred), [actual, pred],
                        [np.array([2, 0, 2, 2, 0, 1]), np.array([0, 0, 2, 2, 0, 2])], backend)
    np.testing.assert_array_equal(matrix, [[2, 0, 0], [0, 0, 1], [1, 0, 2]])
    np.testing.assert_array_equal(order, [0, 1, 2])
    assert matrix.dtype == np.int64
    with pytest.raises(ValueError, match="confusion_matrix: actual must be a vector"):
        nnet.confusion_matrix(T.lmatrix(), pred)


def test_softmax_with_bias_and_the_crossentropy_gradients(backend):
    x, b, dy, y, p = T.dmatrix("x"), T.dvector("b"), T.dvector("dy"), T.lvector("y"), T.dmatrix("p")
    X, B, DY, Y = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=3), np.array([2, 0, 3])
    sm = nnet.softmax_with_bias(x, b)
    nll, sm2, amax = nnet.crossentropy_softmax_argmax_1hot_with_bias(x, b, y)
    _, _, best, best_at = nnet.crossentropy_softmax_max_and_argmax_1hot(x, y)
    outputs = [sm, T.grad((sm * x).sum(), x), nnet.softmax_grad(x, sm), nll, amax, best, best_at,
               T.grad((nll * dy).sum(), x), nnet.crossentropy_softmax_1hot_with_bias_dx(dy, sm, y),
               T.grad((nnet.crossentropy_categorical_1hot(p, y) * dy).sum(), p),
               nnet.crossentropy_categorical_1hot_grad(dy, p, y), nnet.prepend_1_to_each_row(x),
               nnet.prepend_scalar_to_each_row(-2.5, x)]
    S = softmax_rows(X + B)
    got = run(outputs, [x, b, dy, y, p], [X, B, DY, Y, S], backend)
    onehot = np.eye(4)[Y]
    np.testing.assert_allclose(got[0], S, rtol=1e-12)
    np.testing.assert_allclose(got[2], (X - (X * S).sum(1, keepdims=True)) * S, rtol=1e-12)
    np.testing.assert_allclose(got[3], -np.log(S[np.arange(3), Y]), rtol=1e-12)
    np.testing.assert_array_equal(got[4], np.argmax(X + B, 1))
    np.testing.assert_allclose(got[5], softmax_rows(X).max(1), rtol=1e-12)
    np.testing.assert_allclose(got[8], DY[:, None] * (S - onehot), rtol=1e-12)
    np.testing.assert_allclose(got[8], got[7], rtol=1e-10)                 # dx is the nll's gradient
    np.testing.assert_allclose(got[10], got[9], rtol=1e-10)                # as is the 1hot grad
    np.testing.assert_allclose(got[10], -onehot * DY[:, None] / S, rtol=1e-12)
    np.testing.assert_array_equal(got[11], np.hstack([np.ones((3, 1)), X]))
    np.testing.assert_array_equal(got[12], np.hstack([np.full((3, 1), -2.5), X]))
    verify_grad(lambda x, b: nnet.softmax_with_bias(x, b), [X, B], rng=rng)


# --- pooling --------------------------------------------------------------------------------------
def max_pool_same_size_ref(x, patch):
    out = np.zeros_like(x)
    rows, cols = x.shape[-2] // patch[0] * patch[0], x.shape[-1] // patch[1] * patch[1]
    for i in range(0, rows, patch[0]):
        for j in range(0, cols, patch[1]):
            window = x[..., i:i + patch[0], j:j + patch[1]]
            out[..., i:i + patch[0], j:j + patch[1]] = np.where(window == window.max((-2, -1), keepdims=True),
                                                                window, 0)
    return out


def test_max_pool_2d_same_size(backend):
    x = T.dtensor4("x")
    X = rng.normal(size=(2, 3, 5, 7))
    X[0, 0, 0, 0] = X[0, 0, 1, 2] = 9.0          # a tie: both kept
    pooled = max_pool_2d_same_size(x, (2, 3))
    got, grad = run([pooled, T.grad(pooled.sum(), x)], [x], [X], backend)
    expected = max_pool_same_size_ref(X, (2, 3))
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(grad, (expected != 0).astype(float))
    assert expected[0, 0, 0, 0] == expected[0, 0, 1, 2] == 9.0
    verify_grad(lambda x: max_pool_2d_same_size(x, (2, 2)), [rng.normal(size=(1, 2, 4, 5))], rng=rng)


# --- gradient -------------------------------------------------------------------------------------
def test_numeric_grad_and_its_errors():
    f = lambda a, b: float((np.sin(a) * b).sum())     # noqa: E731
    a, b = rng.normal(size=(2, 3)), rng.normal(size=3)
    numeric = numeric_grad(f, [a, b])
    np.testing.assert_allclose(numeric.gf[0], np.cos(a) * b, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(numeric.gf[1], np.sin(a).sum(0), rtol=1e-7, atol=1e-9)
    single = numeric_grad(lambda a: float((a ** 2).sum()), a)
    np.testing.assert_allclose(single.gf, 2 * a, rtol=1e-6)
    wrong = [np.cos(a) * b, np.sin(a).sum(0)]
    wrong[1][2] += 0.5
    arg, pos, abs_err, rel_err = numeric.max_err(wrong, 1e-4, 1e-4)
    assert (arg, pos) == (1, 2) and abs(abs_err - 0.5) < 1e-6
    assert numeric.abs_rel_err(1.0, 3.0) == (2.0, 0.5)
    with pytest.raises(ValueError, match="numeric_grad: 1 gradients given for 2 inputs"):
        numeric.max_err(wrong[:1], 1e-4, 1e-4)


def test_subgraph_grad_backpropagates_part_by_part():
    """Theano's example: the gradients of a two-part graph, the second part first, seeded into the first."""
    x, t = T.dvector("x"), T.dvector("t")
    w1, w2 = mlcore.shared(rng.normal(size=(3, 4)), "w1"), mlcore.shared(rng.normal(size=(4, 2)), "w2")
    a1 = T.tanh(T.dot(x, w1))
    a2 = T.tanh(T.dot(a1, w2))
    cost2 = T.sqr(a2 - t).sum() + T.sqr(w2).sum()
    cost1 = T.sqr(w1).sum()
    grads, seed = subgraph_grad(wrt=[w2], end=[a1], cost=cost2)
    first, _ = subgraph_grad(wrt=[w1], end=[x], start=dict(zip([a1], seed)), cost=cost1)
    full = T.grad(cost1 + cost2, [w1, w2])
    got = mlcore.function([x, t], grads + first + full)(rng.normal(size=3), rng.normal(size=2))
    np.testing.assert_allclose(got[0], got[3], rtol=1e-12)
    np.testing.assert_allclose(got[1], got[2], rtol=1e-12)
    *_, from_start, from_cost = subgraph_grad(wrt=[w1], end=[x], start=dict(zip([a1], seed)), cost=cost1,
                                              details=True)
    assert len(from_start) == len(from_cost) == 2
    with pytest.raises(ValueError, match="subgraph_grad: give a cost"):
        subgraph_grad([w1], [x])


# --- compile ---------------------------------------------------------------------------------------
def test_debugmode_runs_and_checks_every_backend(backend):
    x = T.dvector("x")
    s = mlcore.shared(np.arange(3.0), "s")
    f = mlcore.function([x], T.exp(x) * 2 + T.sum(x) * s, updates=[(s, s + 1)], mode=DebugMode(), backend=backend)
    X = rng.normal(size=3)
    np.testing.assert_allclose(f(X), np.exp(X) * 2 + X.sum() * np.arange(3.0), rtol=1e-12)
    np.testing.assert_allclose(s.get_value(), np.arange(3.0) + 1)      # the updates happen once
    np.testing.assert_allclose(mlcore.function([x], T.tanh(x), mode="DebugMode", backend=backend)(X), np.tanh(X))


def test_debugmode_names_the_node_that_differs(monkeypatch):
    reference = numpy_interpreter.evaluate_node

    def wrong_tanh(node, values):       # the reference disagrees with the backend on tanh alone
        results = reference(node, values)
        return [r + 1e-3 for r in results] if "tanh" in str(node.op) else results
    monkeypatch.setattr(numpy_interpreter, "evaluate_node", wrong_tanh)
    x = T.dvector("x")
    f = mlcore.function([x], T.exp(T.tanh(x)) * 3, mode=DebugMode(optimizer=None), backend="jax")   # unfused
    with pytest.raises(BadThunkOutput, match=r"of tanh\(x\) computed by the jax backend differs") as info:
        f(rng.normal(size=3))
    assert "tanh" in str(info.value.r.owner.op)


def test_debugmode_refuses_nan_and_inf_unless_told():
    x = T.dvector("x")
    with pytest.raises(InvalidValueError, match=r"of log\(x\) .* holds a NaN or an infinity"):
        mlcore.function([x], T.log(x), mode=DebugMode(), backend="numpy")(np.zeros(2))
    got = mlcore.function([x], T.log(x), mode=DebugMode(check_isfinite=False), backend="numpy")(np.zeros(2))
    assert np.isneginf(got).all()


def test_profile_stats_collects_several_functions():
    profile = ProfileStats(atexit_print=False, message="two functions")
    x = T.dvector("x")
    f = mlcore.function([x], T.exp(x), profile=profile, backend="numpy")
    g = mlcore.function([x], T.tanh(x) * 2, profile=profile, backend="numpy")
    f(np.ones(3))
    g(np.ones(3))
    g(np.ones(3))
    assert profile.fct_callcount == 3 and profile.fct_call_time > 0
    out = io.StringIO()
    text = profile.summary(file=out)
    assert "two functions" in text and "Time in 3 calls" in text and text in out.getvalue()


# --- printing -------------------------------------------------------------------------------------
def test_min_informative_str_is_theanos_layout():
    a, b = T.dvector("log_likelihood_v_given_h"), T.dvector("log_likelihood_h")
    assert min_informative_str(a + b) == ("A. Elemwise{add,no_inplace}\n B. log_likelihood_v_given_h\n"
                                          " C. log_likelihood_h")
    c = T.dvector()
    shared_sum = a + c
    text = min_informative_str(shared_sum * shared_sum)
    assert text.splitlines() == ["A. Elemwise{mul,no_inplace}", " B. Elemwise{add,no_inplace}",
                                 "  C. log_likelihood_v_given_h", "  D. <TensorType(float64, vector)>", " <B>"]
    assert min_informative_str(np.ones(2)) == "A. <ndarray>"


def test_pydotprint_writes_dot_text_and_renders(tmp_path, monkeypatch, capsys):
    x = T.dvector("x")
    f = mlcore.function([x], T.exp(x) * 2, backend="numpy")
    dot_file = tmp_path / "graph.dot"
    pydotprint(f, outfile=str(dot_file), format="dot")
    assert dot_file.read_text().startswith("digraph mlcore {") and "exp" in dot_file.read_text()
    assert str(dot_file) in capsys.readouterr().out
    if __import__("shutil").which("dot"):
        assert pydotprint(T.exp(x), format="png", return_image=True).startswith(b"\x89PNG")
        assert b"<svg" in pydotprint(T.exp(x), format="svg", return_image=True)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(RuntimeError, match="pydotprint: rendering format 'png' needs Graphviz's dot program"):
        pydotprint(f, outfile=str(tmp_path / "graph.png"))

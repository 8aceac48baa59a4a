"""T.nlinalg and T.slinalg (Theano's linear algebra): values against numpy and scipy on every
backend, gradients against finite differences in float64 on every backend, static shapes, and the
errors for inputs the ops cannot take."""
import numpy as np
import pytest
import scipy.linalg

import mlcore
import mlcore.tensor as T
import mlcore.tensor.nlinalg as nlinalg
import mlcore.tensor.slinalg as slinalg

RNG = np.random.default_rng(7)
A = RNG.normal(size=(4, 4))                    # general, not symmetric
WELL = A + 4 * np.eye(4)                       # well conditioned
SPD = A @ A.T + np.eye(4)
TALL = RNG.normal(size=(5, 3))
WIDE = np.ascontiguousarray(TALL.T)
STACK = RNG.normal(size=(2, 3, 3)) + 3 * np.eye(3)
B = RNG.normal(size=(4, 2))
V = RNG.normal(size=4)


def run(backend, inputs, outputs, *values):
    return mlcore.function(inputs, outputs, backend=backend, on_unused_input="ignore")(*values)


def symmetric_from_lower(x):
    return np.tril(x) + np.tril(x, -1).T


# name -> (the graph of matrices m (4 x 4), t (5 x 3), s (2 x 3 x 3), b (4 x 2), v (4,)), the numpy value)
VALUES = {
    "matrix_inverse": (lambda m, t, s, b, v: nlinalg.matrix_inverse(m), np.linalg.inv(WELL)),
    "inv_stack": (lambda m, t, s, b, v: nlinalg.matrix_inverse(s), np.linalg.inv(STACK)),
    "det": (lambda m, t, s, b, v: nlinalg.det(m), np.linalg.det(WELL)),
    "det_stack": (lambda m, t, s, b, v: nlinalg.det(s), np.linalg.det(STACK)),
    "pinv": (lambda m, t, s, b, v: nlinalg.pinv(t), np.linalg.pinv(TALL)),
    "eigh_reads_lower": (lambda m, t, s, b, v: nlinalg.eigh(m)[0], np.linalg.eigvalsh(symmetric_from_lower(WELL))),
    "eigvalsh_upper": (lambda m, t, s, b, v: slinalg.eigvalsh(m, lower=False), np.linalg.eigvalsh(WELL, "U")),
    "svd_values": (lambda m, t, s, b, v: nlinalg.svd(t, compute_uv=False), np.linalg.svd(TALL, compute_uv=False)),
    "svd_rebuilds": (lambda m, t, s, b, v: _rebuild_svd(nlinalg.svd(t)), TALL),
    "svd_full_shapes": (lambda m, t, s, b, v: T.concatenate([T.ones_like(x).sum(keepdims=True).flatten()
                                                             for x in nlinalg.svd(t)]), np.array([25.0, 3, 9])),
    "qr_rebuilds": (lambda m, t, s, b, v: T.dot(*nlinalg.qr(t)), TALL),
    "qr_complete_q_orthogonal": (lambda m, t, s, b, v: _gram(nlinalg.qr(t, "complete")[0]), np.eye(5)),
    "qr_r": (lambda m, t, s, b, v: abs(nlinalg.qr(t, mode="r")), np.abs(np.linalg.qr(TALL, mode="r"))),
    "cholesky": (lambda m, t, s, b, v: slinalg.cholesky(T.dot(m, m.T)), np.linalg.cholesky(WELL @ WELL.T)),
    "cholesky_reads_upper": (lambda m, t, s, b, v: slinalg.cholesky(m, lower=False),
                             scipy.linalg.cholesky(WELL, lower=False)),
    "solve_matrix": (lambda m, t, s, b, v: slinalg.solve(m, b), np.linalg.solve(WELL, B)),
    "solve_vector": (lambda m, t, s, b, v: slinalg.solve(m, v), np.linalg.solve(WELL, V)),
    "solve_sym_lower": (lambda m, t, s, b, v: slinalg.solve(m, b, assume_a="sym", lower=True),
                        scipy.linalg.solve(WELL, B, assume_a="sym", lower=True)),
    "solve_pos": (lambda m, t, s, b, v: slinalg.solve(T.dot(m, m.T), v, assume_a="pos"),
                  np.linalg.solve(WELL @ WELL.T, V)),
    "solve_triangular": (lambda m, t, s, b, v: slinalg.solve_triangular(m, b),
                         scipy.linalg.solve_triangular(WELL, B)),
    "solve_triangular_T_unit": (lambda m, t, s, b, v: slinalg.solve_triangular(m, v, trans="T", lower=True,
                                                                               unit_diagonal=True),
                                scipy.linalg.solve_triangular(WELL, V, trans="T", lower=True, unit_diagonal=True)),
    "solve_lower_triangular": (lambda m, t, s, b, v: slinalg.solve_lower_triangular(m, b),
                               scipy.linalg.solve_triangular(WELL, B, lower=True)),
    "expm": (lambda m, t, s, b, v: slinalg.expm(m * 0.25), scipy.linalg.expm(WELL * 0.25)),
    "kron": (lambda m, t, s, b, v: slinalg.kron(b, t), np.kron(B, TALL)),
    "kron_matrix_vector": (lambda m, t, s, b, v: slinalg.kron(b, v), np.kron(B, V)),
    "trace": (lambda m, t, s, b, v: T.trace(m), np.trace(WELL)),
    "extract_diag": (lambda m, t, s, b, v: T.extract_diag(t), np.diag(TALL)),
    "alloc_diag": (lambda m, t, s, b, v: nlinalg.alloc_diag(v, 1), np.diag(V, 1)),
    "matrix_dot": (lambda m, t, s, b, v: nlinalg.matrix_dot(b.T, m, m), B.T @ WELL @ WELL),
    "matrix_power_5": (lambda m, t, s, b, v: nlinalg.matrix_power(m, 5), np.linalg.matrix_power(WELL, 5)),
    "matrix_power_0": (lambda m, t, s, b, v: nlinalg.matrix_power(s, 0), np.linalg.matrix_power(STACK, 0)),
    "matrix_power_-2": (lambda m, t, s, b, v: nlinalg.matrix_power(m, -2), np.linalg.matrix_power(WELL, -2)),
}
NORMS = [(None, None), ("fro", None), ("nuc", None), (2, None), (-2, None), (1, None), (-1, None),
         ("inf", None), ("-inf", None), (np.inf, (1, 0)), (3, 0), (0, 1), (1, -1), (-np.inf, 0), (None, 1)]
for _ord, _axis in NORMS:
    VALUES["norm_%s_%s" % (_ord, _axis)] = (lambda m, t, s, b, v, o=_ord, a=_axis: nlinalg.norm(t, o, a),
                                            np.linalg.norm(TALL, {"inf": np.inf, "-inf": -np.inf}.get(_ord, _ord),
                                                           _axis))


def _rebuild_svd(usv):
    u, s, vt = usv
    return T.dot(u[:, :3] * s, vt)


def _gram(q):
    return T.dot(q.T, q)


def test_values_match_numpy_and_scipy(backend):
    m, t, s, b, v = T.dmatrix("m"), T.dmatrix("t"), T.dtensor3("s"), T.dmatrix("b"), T.dvector("v")
    names = list(VALUES)
    outputs = [VALUES[name][0](m, t, s, b, v) for name in names]
    got = run(backend, [m, t, s, b, v], outputs, WELL, TALL, STACK, B, V)
    for name, g in zip(names, got):
        expected = VALUES[name][1]
        assert g.shape == np.shape(expected) and g.dtype == np.float64, name
        np.testing.assert_allclose(g, expected, rtol=1e-10, atol=1e-10, err_msg=name)


def test_eig_gives_real_eigenpairs_of_a_matrix_with_real_eigenvalues(backend):
    x = T.dmatrix("x")
    triangular = np.triu(A) + np.diag([1.0, 2.0, 3.0, 4.0])
    target = np.linalg.inv(WELL) @ triangular @ WELL           # eigenvalues: the diagonal of triangular
    w, v = run(backend, [x], nlinalg.eig(x), target)
    assert w.dtype == v.dtype == np.float64
    np.testing.assert_allclose(np.sort(w), np.sort(np.diag(triangular)), rtol=1e-9)
    np.testing.assert_allclose(target @ v, v * w, atol=1e-9)


def test_float32_stays_float32_and_ints_compute_in_floatx(backend):
    f, i = T.fmatrix("f"), T.lmatrix("i")
    out = run(backend, [f, i], [nlinalg.matrix_inverse(f), nlinalg.det(i)], WELL.astype("float32"),
              np.array([[2, 1], [1, 3]]))
    assert out[0].dtype == np.float32 and out[1].dtype == np.dtype(mlcore.config.floatx())
    np.testing.assert_allclose(out[0], np.linalg.inv(WELL), rtol=1e-5)
    np.testing.assert_allclose(out[1], 5.0, rtol=1e-6)


def test_static_shapes_are_inferred():
    t, s = T.tensor("float64", shape=(5, 3)), T.tensor("float64", shape=(2, None, None))
    assert [x.type.shape for x in nlinalg.svd(t)] == [(5, 5), (3,), (3, 3)]
    assert [x.type.shape for x in nlinalg.svd(t, full_matrices=False)] == [(5, 3), (3,), (3, 3)]
    assert [x.type.shape for x in nlinalg.qr(t)] == [(5, 3), (3, 3)]
    assert [x.type.shape for x in nlinalg.qr(t, "complete")] == [(5, 5), (5, 3)]
    assert nlinalg.pinv(t).type.shape == (3, 5)
    assert nlinalg.det(s).type.shape == (2,) and nlinalg.eigh(s)[0].type.shape == (2, None)
    assert slinalg.solve(T.tensor("float64", shape=(4, 4)), T.dmatrix()).type.shape == (4, None)


# --- gradients: each output weighted by fixed numbers; eigen- and singular vectors squared (sign-free)
def _eye(x):
    return T.eye(x.shape[-1], dtype=x.dtype)


GRADIENTS = {  # name -> (graph of x, x's value)
    "matrix_inverse": (lambda x: nlinalg.matrix_inverse(x), WELL),
    "inv_stack": (lambda x: nlinalg.matrix_inverse(x), STACK),
    "det": (lambda x: nlinalg.det(x), WELL),
    "det_stack": (lambda x: nlinalg.det(x), STACK),
    "pinv_tall": (nlinalg.pinv, TALL),
    "pinv_wide": (nlinalg.pinv, WIDE),
    "eigh_values_lower": (lambda x: nlinalg.eigh(x)[0], A),
    "eigh_vectors_upper": (lambda x: nlinalg.eigh(x, "U")[1] ** 2, A),
    "eigvalsh_stack": (lambda x: slinalg.eigvalsh(x), STACK),
    "svd_values_wide": (lambda x: nlinalg.svd(x, compute_uv=False), WIDE),
    "svd_vectors_tall": (lambda x: _svd_squares(nlinalg.svd(x, full_matrices=False)), TALL),
    "svd_vectors_wide": (lambda x: _svd_squares(nlinalg.svd(x, full_matrices=False)), WIDE),
    "svd_full_tall": (lambda x: nlinalg.svd(x)[0][:, :3] ** 2 * nlinalg.svd(x)[1], TALL),
    "qr_reduced": (lambda x: T.concatenate([f ** 2 for f in nlinalg.qr(x)], axis=0), TALL),
    "qr_r": (lambda x: nlinalg.qr(x, "r") ** 2, TALL),
    "cholesky_lower": (lambda x: slinalg.cholesky(x), SPD + np.triu(A, 1)),   # reads the lower triangle only
    "cholesky_upper": (lambda x: slinalg.cholesky(x, lower=False), SPD + np.tril(A, -1)),
    "expm": (lambda x: slinalg.expm(x * 0.5), A),
    "solve_matrix": (lambda x: slinalg.solve(x[:, :4], x[:, 4:]), np.hstack([WELL, B])),
    "solve_vector": (lambda x: slinalg.solve(x[:, :4], x[:, 4]), np.hstack([WELL, B])),
    "solve_sym": (lambda x: slinalg.solve(x[:, :4], x[:, 4:], assume_a="sym"), np.hstack([WELL, B])),
    "solve_pos_lower": (lambda x: slinalg.solve(x[:, :4], x[:, 4:], assume_a="pos", lower=True),
                        np.hstack([SPD, B])),
    "solve_triangular_lower": (lambda x: slinalg.solve_triangular(x[:, :4], x[:, 4:], lower=True),
                               np.hstack([WELL, B])),
    "solve_triangular_trans_unit": (lambda x: slinalg.solve_triangular(x[:, :4], x[:, 4], trans=1,
                                                                      unit_diagonal=True), np.hstack([WELL, B])),
    "kron": (lambda x: slinalg.kron(x, x[:2]), TALL),
    "norm_nuc": (lambda x: nlinalg.norm(x, "nuc"), TALL),
    "matrix_power": (lambda x: nlinalg.matrix_power(x, -3), WELL),
}


def _svd_squares(usv):
    u, s, vt = usv
    return T.concatenate([u ** 2, vt.T ** 2 * s], axis=0)


def test_gradients_match_finite_differences(backend, numeric_grad):
    names = list(GRADIENTS)
    inputs = [T.tensor("float64", shape=(None,) * GRADIENTS[name][1].ndim) for name in names]
    values = [GRADIENTS[name][1] for name in names]
    outputs = [GRADIENTS[name][0](x) for name, x in zip(names, inputs)]
    forward = run("numpy", inputs, outputs, *values)
    rng = np.random.default_rng(3)
    costs = [(out * rng.normal(size=value.shape)).sum() for out, value in zip(outputs, forward)]
    grads = run(backend, inputs, [T.grad(cost, x) for cost, x in zip(costs, inputs)], *values)
    for name, x, value, cost, g in zip(names, inputs, values, costs, grads):
        f = mlcore.function([x], cost, backend="numpy")
        np.testing.assert_allclose(g, numeric_grad(f, [value], 0), rtol=1e-6, atol=1e-7, err_msg=name)


# --- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn, name", [(nlinalg.matrix_inverse, "matrix_inverse"), (nlinalg.det, "det"),
                                      (nlinalg.eig, "eig"), (nlinalg.eigh, "eigh"), (slinalg.cholesky, "cholesky"),
                                      (slinalg.expm, "expm"), (slinalg.eigvalsh, "eigh"),
                                      (lambda a: slinalg.solve(a, np.ones(2)), "solve"),
                                      (lambda a: slinalg.solve_triangular(a, np.ones(2)), "solve_triangular")])
def test_non_square_inputs_fail_naming_the_function_and_the_shape(fn, name):
    with pytest.raises(ValueError, match=r"%s: .*square.*\(2, 3\)" % name):
        fn(T.tensor("float64", shape=(2, 3)))
    with pytest.raises(ValueError, match=r"%s: .*\(3,\)" % name):
        fn(T.tensor("float64", shape=(3,)))


@pytest.mark.parametrize("backend_name", ["numpy", "jax"])
def test_non_square_values_fail_at_run_time_naming_the_function_and_the_shape(backend_name, require_backend):
    require_backend(backend_name)
    x = T.dmatrix("x")
    for fn, name in [(nlinalg.matrix_inverse, "matrix_inverse"), (slinalg.cholesky, "cholesky")]:
        f = mlcore.function([x], fn(x), backend=backend_name)
        with pytest.raises(ValueError, match=r"%s: .*square.*\(2, 3\)" % name):
            f(np.ones((2, 3)))


def test_argument_errors():
    m = T.tensor("float64", shape=(3, 3))
    with pytest.raises(ValueError, match=r"solve: a of shape \(3, 3\) and b of shape \(4,\)"):
        slinalg.solve(m, T.tensor("float64", shape=(4,)))
    with pytest.raises(ValueError, match="solve: b must be"):
        slinalg.solve(T.dtensor3(), T.dmatrix())
    with pytest.raises(ValueError, match="assume_a"):
        slinalg.solve(m, m, assume_a="banded")
    with pytest.raises(ValueError, match="trans"):
        slinalg.solve_triangular(m, m, trans=3)
    with pytest.raises(ValueError, match="qr: mode"):
        nlinalg.qr(m, mode="raw")
    with pytest.raises(ValueError, match="UPLO"):
        nlinalg.eigh(m, "X")
    with pytest.raises(TypeError, match="kron"):
        slinalg.kron(T.dvector(), T.dvector())
    with pytest.raises(ValueError, match="norm"):
        nlinalg.norm(m, "nuc", axis=0)
    wide = T.tensor("float64", shape=(2, 3))
    with pytest.raises(NotImplementedError, match=r"qr: no gradient for a wide matrix"):
        T.grad(nlinalg.qr(wide)[1].sum(), wide)


def test_modules_follow_theano_and_pytensor_names():
    import mlcore.tensor.nlinalg as theano_nlinalg
    import mlcore.tensor.slinalg as theano_slinalg
    assert T.nlinalg is theano_nlinalg and T.slinalg is theano_slinalg
    assert T.trace is nlinalg.trace and T.extract_diag is nlinalg.extract_diag
    for name in ("matrix_inverse", "det", "eig", "eigh", "svd", "qr", "pinv", "trace", "matrix_dot", "norm",
                 "extract_diag", "alloc_diag", "matrix_power"):
        assert callable(getattr(theano_nlinalg, name)), name
    for name in ("cholesky", "solve", "solve_triangular", "eigvalsh", "expm", "kron"):
        assert callable(getattr(theano_slinalg, name)), name


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (2, 4, 3)])
def test_lu_factor_of_non_square_matrices_matches_scipy(backend, shape):
    """scipy's and jax's lu_factor take an (m, n) matrix: lu (m, n) and min(m, n) pivots."""
    a = np.random.default_rng(sum(shape)).normal(size=shape)
    x = T.tensor(dtype="float64", shape=(None,) * len(shape))
    lu, pivots = mlcore.function([x], list(mlcore.ops.linalg.lu_factor(x)), backend=backend)(a)
    matrices = a.reshape((-1,) + shape[-2:])
    expected = [np.stack([scipy.linalg.lu_factor(m)[k] for m in matrices]) for k in range(2)]
    assert pivots.shape == shape[:-2] + (min(shape[-2:]),)
    np.testing.assert_allclose(lu, expected[0].reshape(lu.shape), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(pivots, expected[1].reshape(pivots.shape))

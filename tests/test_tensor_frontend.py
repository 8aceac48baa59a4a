"""The Theano-style front end, `import mlcore.tensor as T`: its constructors, operators,
methods and functions by their Theano names, T.nnet, and T.random.RandomStreams."""
import numpy as np
import pytest
import scipy.special

import mlcore
import mlcore.tensor as T


def run(inputs, outputs, *values, backend="numpy"):
    return mlcore.function(inputs, outputs, backend=backend)(*values)


@pytest.mark.parametrize("prefix, dtype", [("", "float32"), ("f", "float32"), ("d", "float64"),
                                           ("i", "int32"), ("l", "int64"), ("b", "int8")])
def test_constructors_by_rank_and_dtype(prefix, dtype):
    for ndim, kind in enumerate(["scalar", "vector", "matrix", "tensor3", "tensor4"]):
        var = getattr(T, prefix + kind)("v")
        assert var.type.dtype == dtype and var.type.shape == (None,) * ndim and var.name == "v"
    assert getattr(T, prefix + "row")().broadcastable == (True, False)
    assert getattr(T, prefix + "col")().broadcastable == (False, True)
    assert T.matrix(dtype="float64", shape=(2, None)).type.shape == (2, None)
    assert T.tensor("int32", broadcastable=(False, True)).type.shape == (None, 1)
    assert T.tensor("float64", (False, True, False), "x").type.shape == (None, 1, None)   # Theano's order
    assert T.TensorType("float32", (False,) * 4)("x").ndim == 4


def test_floatx_decides_the_default_float_type(floatx):
    for dtype in ("float64", "float32"):
        floatx(dtype)
        assert T.matrix().dtype == dtype and T.constant(1.5).dtype == dtype
        assert (T.ivector() * 0.5).dtype == dtype and T.exp(T.ivector()).dtype == dtype
        assert T.alloc(0.0, 2).dtype == dtype and T.stack([1.0, 2.0]).dtype == dtype
        assert (T.fvector() * 0.5).dtype == "float32" and (T.dvector() * 0.5).dtype == "float64"


def test_as_tensor_variable_arange_and_eval():
    assert T.as_tensor_variable([[1, 2], [3, 4]]).eval().tolist() == [[1, 2], [3, 4]]
    assert T.arange(5).eval().tolist() == list(range(5))
    np.testing.assert_allclose(T.arange(1, 2, 0.25).eval(), [1, 1.25, 1.5, 1.75])
    n = T.lscalar("n")
    assert run([n], T.arange(n, 0, -2), 5).tolist() == [5, 3, 1]
    x = T.dvector("x")
    np.testing.assert_allclose((x * 2).eval({x: np.arange(3.0)}), [0, 2, 4])
    assert (T.constant(2.0) ** 3).eval() == 8


def test_operators(rng):
    a, b = T.dmatrix("a"), T.dmatrix("b")
    av, bv = rng.uniform(0.5, 2, size=(2, 3)), rng.uniform(0.5, 2, size=(2, 3))
    outs = [a + b, a - b, a * b, a / b, a ** b, a @ b.T, -a, 2 - a, 2 / a, 2 ** a, a // 0.5, a % 0.7,
            a < b, a <= b, a > b, a >= b, T.eq(a, a), T.neq(a, b), (a < 1) & (b < 1), (a < 1) | (b < 1)]
    expected = [av + bv, av - bv, av * bv, av / bv, av ** bv, av @ bv.T, -av, 2 - av, 2 / av, 2 ** av,
                av // 0.5, av % 0.7, av < bv, av <= bv, av > bv, av >= bv, av == av, av != bv,
                (av < 1) & (bv < 1), (av < 1) | (bv < 1)]
    for got, want in zip(run([a, b], outs, av, bv), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_indexing_and_slicing(rng):
    x, i, idx = T.dmatrix("x"), T.lscalar("i"), T.lvector("idx")
    xv = rng.normal(size=(5, 4))
    outs = [x[1], x[-1, 2], x[1:4:2], x[::-1, :2], x[..., 1], x[[0, 2, 2]], x[idx], x[idx, idx], x[i],
            x[i:], x[:i, i], x[None, 1]]
    expected = [xv[1], xv[-1, 2], xv[1:4:2], xv[::-1, :2], xv[..., 1], xv[[0, 2, 2]], xv[[3, 0]],
                xv[[3, 0], [3, 0]], xv[2], xv[2:], xv[:2, 2], xv[None, 1]]
    for got, want in zip(run([x, i, idx], outs, xv, 2, [3, 0]), expected):
        np.testing.assert_array_equal(got, want)


def test_symbolic_shapes_and_methods(rng):
    x = T.dtensor3("x")
    xv = rng.normal(size=(2, 3, 4))
    assert x.ndim == 3
    outs = [x.shape, x.shape[0], x.shape[1] * x.shape[2], x.size, x.sum(), x.mean(axis=1), x.T,
            x.reshape((x.shape[0], -1)), x.reshape((6, 4)), x.dimshuffle(2, "x", 0, 1), x.flatten(),
            x.max(axis=(0, 2)), x.argmax(axis=-1), x.transpose(1, 0, 2), x.astype("int32")]
    expected = [(2, 3, 4), 2, 12, 24, xv.sum(), xv.mean(axis=1), xv.T, xv.reshape(2, -1), xv.reshape(6, 4),
                xv.transpose(2, 0, 1)[:, None], xv.reshape(-1), xv.max(axis=(0, 2)), xv.argmax(-1),
                xv.transpose(1, 0, 2), xv.astype("int32")]
    for got, want in zip(run([x], outs, xv), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)


ELEMENTWISE = [(T.exp, np.exp), (T.log, np.log), (T.log1p, np.log1p), (T.expm1, np.expm1), (T.sqrt, np.sqrt),
               (T.sqr, np.square), (T.abs, np.abs), (abs, np.abs), (T.sign, np.sign), (T.tanh, np.tanh),
               (T.floor, np.floor), (T.ceil, np.ceil), (T.round, np.round), (T.sin, np.sin), (T.cos, np.cos),
               (lambda v: T.maximum(v, 1.0), lambda v: np.maximum(v, 1.0)),
               (lambda v: T.minimum(v, 1.0), lambda v: np.minimum(v, 1.0)),
               (lambda v: T.clip(v, 0.8, 1.2), lambda v: np.clip(v, 0.8, 1.2)),
               (lambda v: T.switch(v > 1, v, -v), lambda v: np.where(v > 1, v, -v)),
               (lambda v: T.where(v > 1, 1.0, v), lambda v: np.where(v > 1, 1.0, v)),
               (lambda v: T.cast(v * 3, "int32"), lambda v: (v * 3).astype("int32")),
               (T.zeros_like, np.zeros_like), (T.ones_like, np.ones_like),
               (lambda v: T.pow(v, 2), np.square), (lambda v: T.fill(v, 2.0), lambda v: np.full_like(v, 2.0))]


@pytest.mark.parametrize("fn, ref", ELEMENTWISE, ids=[str(k) for k in range(len(ELEMENTWISE))])
def test_elementwise_functions(fn, ref, rng):
    x = T.dmatrix("x")
    xv = rng.uniform(0.5, 1.5, size=(3, 4))
    got = run([x], fn(x), xv)
    np.testing.assert_allclose(got, ref(xv), rtol=1e-12)
    assert got.dtype == ref(xv).dtype


REDUCTIONS = [(name, axis) for name in ["sum", "mean", "max", "min", "prod", "argmax", "argmin", "var", "std"]
              for axis in [None, 0, 1, (0, 2), -1] if not (name.startswith("arg") and isinstance(axis, tuple))]


@pytest.mark.parametrize("name, axis", REDUCTIONS)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions(name, axis, keepdims, rng):
    x = T.dtensor3("x")
    xv = rng.uniform(0.5, 1.5, size=(2, 3, 4))
    got = run([x], getattr(T, name)(x, axis=axis, keepdims=keepdims), xv)
    np.testing.assert_allclose(got, getattr(np, name)(xv, axis=axis, keepdims=keepdims), rtol=1e-12)


def test_products_and_shape_functions(rng):
    a, b, v = T.dmatrix("a"), T.dtensor3("b"), T.dvector("v")
    av, bv, vv = rng.normal(size=(3, 4)), rng.normal(size=(2, 4, 5)), rng.normal(size=4)
    outs = [T.dot(a, v), T.dot(a, a.T), T.dot(v, v), T.dot(a, b), T.matmul(b, b.dimshuffle(0, 2, 1)),
            T.tensordot(a, b, axes=[[1], [1]]), T.tensordot(a, a, 2), T.outer(v, v), T.transpose(b),
            T.reshape(a, (4, 3)), T.flatten(b, 2), T.concatenate([a, a], axis=1), T.stack([v, v]),
            T.pad(a, ((1, 2), (0, 1))), T.zeros((2, 3)), T.ones((2,)), T.alloc(v[0], 2, 2)]
    expected = [av @ vv, av @ av.T, vv @ vv, np.dot(av, bv), bv @ bv.transpose(0, 2, 1),
                np.tensordot(av, bv, axes=[[1], [1]]), np.tensordot(av, av, 2), np.outer(vv, vv), bv.T,
                av.reshape(4, 3), bv.reshape(2, -1), np.concatenate([av, av], 1), np.stack([vv, vv]),
                np.pad(av, ((1, 2), (0, 1))), np.zeros((2, 3)), np.ones(2), np.full((2, 2), vv[0])]
    for got, want in zip(run([a, b, v], outs, av, bv, vv), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_grad_through_the_front_end():
    x = T.dvector("x")
    gx = T.grad((T.tanh(x) ** 2).sum(), x)
    xv = np.array([0.1, -0.5])
    np.testing.assert_allclose(run([x], gx, xv), 2 * np.tanh(xv) * (1 - np.tanh(xv) ** 2))


def test_nnet(rng):
    z, t = T.dmatrix("z"), T.dmatrix("t")
    labels = T.lvector("labels")
    zv, lv = rng.normal(size=(3, 4)), np.array([0, 3, 1])
    tv = np.eye(4)[lv]
    sm = scipy.special.softmax(zv, axis=-1)
    outs = [T.nnet.sigmoid(z), T.nnet.softplus(z), T.nnet.relu(z), T.nnet.relu(z, 0.2), T.nnet.softmax(z),
            T.nnet.logsoftmax(z), T.nnet.categorical_crossentropy(T.nnet.softmax(z), t),
            T.nnet.categorical_crossentropy(T.nnet.softmax(z), labels),
            T.nnet.binary_crossentropy(T.nnet.sigmoid(z), t)]
    expected = [scipy.special.expit(zv), np.logaddexp(0, zv), np.maximum(zv, 0), np.where(zv > 0, zv, 0.2 * zv),
                sm, np.log(sm), -np.log(sm[[0, 1, 2], lv]), -np.log(sm[[0, 1, 2], lv]),
                -(tv * np.log(scipy.special.expit(zv)) + (1 - tv) * np.log(1 - scipy.special.expit(zv)))]
    for got, want in zip(run([z, t, labels], outs, zv, tv, lv), expected):
        np.testing.assert_allclose(got, want, rtol=1e-10)
    with pytest.raises(TypeError, match="int labels"):
        T.nnet.categorical_crossentropy(T.nnet.softmax(z), T.dvector())


# --- random streams (on the numpy backend; test_conformance checks the others' distributions) ----
def test_random_streams_statistics():
    srng = T.random.RandomStreams(seed=7)
    n = 20000
    draws = [srng.uniform((n,), low=-1.0, high=3.0), srng.normal((n,), avg=2.0, std=0.5),
             srng.binomial((n,), p=0.3), srng.binomial((n,), n=4, p=0.25, dtype="int32")]
    u, g, b, b4 = run([], draws)
    tol = 4 / np.sqrt(n)        # about four standard errors of a mean of unit variance
    assert u.dtype == mlcore.config.floatx() and -1 <= u.min() and u.max() < 3
    assert abs(u.mean() - 1) < 4 * 1.16 * tol and abs(u.std() - 4 / np.sqrt(12)) < 0.02
    assert abs(g.mean() - 2) < 0.5 * tol and abs(g.std() - 0.5) < 0.01
    assert b.dtype == np.int64 and set(np.unique(b)) == {0, 1} and abs(b.mean() - 0.3) < tol
    assert b4.dtype == np.int32 and b4.max() <= 4 and abs(b4.mean() - 1.0) < 2 * tol
    assert abs(b4.var() - 0.75) < 0.05


def test_random_streams_draw_fresh_numbers_and_reproduce_with_a_seed():
    def stream(seed):
        srng = T.random.RandomStreams(seed)
        return srng, mlcore.function([], srng.normal((5,)), backend="numpy")
    srng, f = stream(3)
    first, second = f(), f()
    assert not np.allclose(first, second)
    _, g = stream(3)
    np.testing.assert_array_equal(g(), first)
    np.testing.assert_array_equal(g(), second)
    srng.seed(3)
    np.testing.assert_array_equal(f(), first)
    _, h = stream(4)
    assert not np.allclose(h(), first)


def test_random_sizes_may_be_symbolic():
    srng = T.random.RandomStreams(0)
    x = T.fmatrix("x")
    mask = srng.binomial(x.shape, p=0.5, dtype="float32")
    out = run([x], x * mask, np.ones((3, 4), "float32"))
    assert out.shape == (3, 4) and out.dtype == np.float32 and set(np.unique(out)) <= {0, 1}


def test_shared_borrow_strict_and_broadcastable():
    value = np.zeros(3)
    borrowed, copied = mlcore.shared(value, borrow=True), mlcore.shared(value)
    value += 1                                    # Theano's aliasing: a borrowed array is the value
    assert borrowed.get_value()[0] == 1 and copied.get_value()[0] == 0
    strict = mlcore.shared(np.zeros(2, dtype="float32"), strict=True)
    with pytest.raises(TypeError):
        strict.set_value(np.zeros(2))
    growing = mlcore.shared(np.zeros((1, 3)), broadcastable=(False, False))
    growing.set_value(np.ones((4, 3)))
    assert float(mlcore.function([], growing.sum())()) == 12


def test_config_floatX_reads_and_sets_floatx():
    assert mlcore.config.floatX == mlcore.config.floatx()
    try:
        mlcore.config.floatX = "float64"
        assert T.matrix().dtype == "float64"
    finally:
        mlcore.config.reload()


def test_plural_constructors():
    a, b = T.dmatrices("a", "b")
    assert (a.name, b.name, a.dtype, a.ndim) == ("a", "b", "float64", 2)
    assert T.iscalars("i").dtype == "int32" and len(T.fvectors(3)) == 3 and T.wvector().dtype == "int16"


def test_lop_and_rop_against_finite_differences(rng):
    x, W, V = T.dvector("x"), T.dmatrix("W"), T.dmatrix("V")
    u = T.dvector("u")
    y = T.tanh(T.dot(x, W))
    xv, Wv, Vv = rng.standard_normal(3), rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    uv = rng.standard_normal(2)
    eps = 1e-6
    jv = (np.tanh(xv @ (Wv + eps * Vv)) - np.tanh(xv @ (Wv - eps * Vv))) / (2 * eps)
    np.testing.assert_allclose(mlcore.function([W, V, x], T.Rop(y, W, V))(Wv, Vv, xv), jv, rtol=1e-6)
    vj = np.outer(xv, uv * (1 - np.tanh(xv @ Wv) ** 2))
    np.testing.assert_allclose(mlcore.function([W, u, x], T.Lop(y, W, u))(Wv, uv, xv), vj, rtol=1e-10)


def test_clone_replaces_variables_in_a_copy():
    x = T.dvector("x")
    z = x * 2
    moved = mlcore.clone(z, replace={x: x + 1})
    np.testing.assert_array_equal(moved.eval({x: np.ones(2)}), [4, 4])
    np.testing.assert_array_equal(z.eval({x: np.ones(2)}), [2, 2])


def test_theano_signatures_of_small_functions(rng):
    a, b, c = rng.standard_normal((5, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 3, 4))
    A, B, C = T.dmatrix(), T.dmatrix(), T.dtensor3()
    np.testing.assert_allclose(T.batched_dot(A, B).eval({A: a, B: b}), (a * b).sum(1))
    np.testing.assert_allclose(T.batched_dot(C, B).eval({C: c, B: b}), np.einsum("nik,nk->ni", c, b))
    np.testing.assert_array_equal(T.stack(A, B).eval({A: a, B: b}), np.stack([a, b]))
    assert T.zeros_like(A, dtype="int32").dtype == "int32" and T.ones_like(A, dtype="int8").dtype == "int8"
    big, where = T.max_and_argmax(A, axis=1)
    np.testing.assert_array_equal(where.eval({A: a}), a.argmax(1))
    np.testing.assert_array_equal(big.eval({A: a}), a.max(1))
    small = T.bvector()
    assert int(T.sum(small, dtype="int32").eval({small: np.full(3, 100, "int8")})) == 300
    assert int(small.sum(dtype="int32").eval({small: np.full(3, 100, "int8")})) == 300
    # a constant 1 in a symbolic shape is statically 1, so the result broadcasts, as in Theano
    assert T.zeros((A.shape[0], 1)).broadcastable == (False, True)
    np.testing.assert_array_equal((A + A.sum(1).reshape((A.shape[0], 1))).eval({A: a}), a + a.sum(1, keepdims=True))


def test_nnet_extras(rng):
    a = rng.standard_normal((4, 5)) * 3
    A = T.dmatrix()
    np.testing.assert_allclose(T.nnet.hard_sigmoid(A).eval({A: a}), np.clip(0.2 * a + 0.5, 0, 1))
    np.testing.assert_allclose(T.nnet.elu(A).eval({A: a}), np.where(a > 0, a, np.expm1(a)))
    np.testing.assert_allclose(T.nnet.softsign(A).eval({A: a}), a / (1 + abs(a)))
    shape = T.nnet.abstract_conv.get_conv_output_shape((2, 3, 7, 6), (4, 3, 3, 2), "full", (1, 1), (2, 1))
    X, W = T.dtensor4(), T.dtensor4()
    out = T.nnet.abstract_conv.conv2d(X, W, border_mode="full", filter_dilation=(2, 1), filter_shape=(4, 3, 3, 2))
    values = {X: rng.standard_normal((2, 3, 7, 6)), W: rng.standard_normal((4, 3, 3, 2))}
    assert shape == (2, 4, 11, 7) == out.eval(values).shape
    assert T.nnet.conv.conv2d is T.nnet.conv2d


@pytest.mark.parametrize("stride", [(1, 1), (2, 2), (3, 3), (1, 2)])
@pytest.mark.parametrize("mode", ["max", "sum", "average_inc_pad", "average_exc_pad"])
def test_pool_2d_keeps_partial_windows_of_inputs_of_unknown_shape(stride, mode, rng):
    """ignore_border=False (Theano's default) on a T.tensor4() equals the same pool on a static shape: to
    the last bit for max; for the sums, within what adding a window's 6 entries in another order can
    change (the two compiled programs may: XLA's fusion emitters do for stride 3), 2 * 5 * 6 * eps * max|a|."""
    from mlcore.tensor.signal import pool
    a = rng.standard_normal((2, 1, 5, 4))
    dynamic, static = T.dtensor4(), T.tensor4(dtype="float64", shape=a.shape)
    kw = dict(ws=(2, 3), ignore_border=False, stride=stride, mode=mode)
    reordering = 0.0 if mode == "max" else 60 * np.finfo("float64").eps * np.abs(a).max()
    np.testing.assert_allclose(pool.pool_2d(dynamic, **kw).eval({dynamic: a}),
                               pool.pool_2d(static, **kw).eval({static: a}), rtol=0, atol=reordering)


def test_theano_tensor_methods_and_bitwise_operators_match_numpy():
    x = T.dmatrix("x")
    value = np.array([[3.0, -1.0, 2.0], [0.0, 5.0, -4.0]])
    cases = [
        (x.sort(), np.sort(value)), (x.argsort(axis=0), np.argsort(value, axis=0, kind="stable")),
        (x.cumsum(), np.cumsum(value)), (x.cumprod(axis=1), np.cumprod(value, axis=1)),
        ((x > 0).all(axis=1), (value > 0).all(axis=1)), ((x > 0).any(), (value > 0).any()),
        (x.trace(), np.trace(value)), (x.diagonal(1), np.diagonal(value, 1)), (x.ptp(axis=0), np.ptp(value, 0)),
        (x.norm(2), np.linalg.norm(value)), (x.norm(1, axis=1), np.abs(value).sum(1)),
        (x.norm(3), (np.abs(value) ** 3).sum() ** (1 / 3)), (x.norm(np.inf), np.abs(value).max()),
        (x.take([0, 2], axis=1), np.take(value, [0, 2], axis=1)), (x.take([4, 0]), np.take(value, [4, 0])),
        (x.swapaxes(0, 1), value.swapaxes(0, 1)), (x.ones_like(dtype="int32"), np.ones_like(value, "int32")),
        ((x > 0) ^ (x < 3), (value > 0) ^ (value < 3)), (~(x > 0), ~(value > 0)),
        (True & (x > 0), value > 0), (x.repeat(2, axis=0), value.repeat(2, axis=0)),
        (x.reshape((1, 6)).squeeze(), value.reshape(6)), (x.fill(7.0), np.full_like(value, 7.0)),
        (T.triu(x), np.triu(value)),
    ]
    for expression, expected in cases:
        got = expression.eval({x: value})
        assert np.asarray(got).dtype.kind == np.asarray(expected).dtype.kind
        np.testing.assert_allclose(got, expected)
    np.testing.assert_array_equal(T.tri(3, 4, k=1).eval(), np.tri(3, 4, k=1))


def test_the_truth_of_comparisons():
    """A comparison of symbolic values has no truth value, as in Theano (`if a < b:` would always hold);
    one of values held now (a shared variable, a Keras variable: `if optimizer.iterations > 100:`) is
    true or false by them, as a Keras variable's; other variables are true (`if x:` tests x is given)."""
    a, b = T.dscalars("a", "b")
    with pytest.raises(TypeError, match="comparison of symbolic values"):
        bool(a < b)
    with pytest.raises(TypeError):
        a < b < 3.0      # noqa: B015  (Python's chained comparison asks for the first one's truth)
    count = mlcore.shared(np.int64(5))
    assert (count > 4) and not (count >= 6) and (count <= 5) and bool(a + b) and bool(a)
    with pytest.raises(ValueError, match="ambiguous"):
        bool(mlcore.shared(np.arange(3.0)) > 1)

"""Theano's tutorial pages (doc/tutorial: adding, examples, gradients, conditions, loop, shape_info,
broadcasting, aliasing, symbolic_graphs, modes, debug_faq, nan_tutorial, faq_tutorial, the as_op part
of extending_theano) and doc/library/tensor/basic.txt, their code run with the imports changed
(`import mlcore as theano; import mlcore.tensor as T`), checked against the values the pages print.
The logistic regression and the More Examples basics are in test_theano_tutorial.py."""
import re

import numpy as np
import pytest

import mlcore as theano
import mlcore.tensor as T
from mlcore import function, pp, shared


@pytest.fixture
def float64():
    """Theano's default floatX, which the tutorials' printed values assume."""
    with theano.change_flags(floatX="float64"):
        yield


# --- adding.txt and basic.txt's constructors ------------------------------------------------------
def test_adding_two_scalars_and_matrices():
    x, y = T.dscalar("x"), T.dscalar("y")
    z = x + y
    f = function([x, y], z)
    assert isinstance(f(2, 3), np.ndarray) and f(2, 3).ndim == 0 and f(2, 3) == 5.0
    assert np.allclose(f(16.3, 12.1), 28.4)
    assert isinstance(T.dscalar, T.TensorType) and x.type is T.dscalar and x.type == T.dscalar
    assert pp(z) == "(x + y)"
    x, y = T.dmatrix("x"), T.dmatrix("y")
    f = function([x, y], x + y)
    np.testing.assert_array_equal(f([[1, 2], [3, 4]], [[10, 20], [30, 40]]), [[11, 22], [33, 44]])
    np.testing.assert_array_equal(f(np.array([[1, 2], [3, 4]]), np.array([[10, 20], [30, 40]])), [[11, 22], [33, 44]])


def test_adding_exercise(float64):
    a, b = T.vector(), T.vector()
    np.testing.assert_array_equal(function([a], a + a ** 10)([0, 1, 2]), [0, 2, 1026])
    np.testing.assert_array_equal(function([a, b], a ** 2 + b ** 2 + 2 * a * b)([1, 2], [4, 5]), [25, 49])


TYPE_TABLE = {"b": "int8", "w": "int16", "i": "int32", "l": "int64", "d": "float64", "f": "float32",
              "c": "complex64", "z": "complex128"}
PATTERNS = {"scalar": (), "vector": (False,), "row": (True, False), "col": (False, True), "matrix": (False, False),
            "tensor3": (False,) * 3, "tensor4": (False,) * 4, "tensor5": (False,) * 5}


def test_every_fully_typed_constructor_of_basic_txts_table():
    for prefix, dtype in TYPE_TABLE.items():
        for kind, pattern in PATTERNS.items():
            maker = getattr(T, prefix + kind)
            assert maker == T.TensorType(dtype, pattern), prefix + kind     # "an instance of TensorType"
            var = maker("v")
            assert (var.dtype, var.broadcastable, var.name, var.type) == (dtype, pattern, "v", maker)
    my_dmatrix = T.TensorType("float64", (False,) * 2)
    assert my_dmatrix == T.dmatrix and my_dmatrix().type == T.dmatrix
    assert T.TensorType("float64", (False,) * 6)("z").ndim == 6
    assert T.scalar("myvar", dtype="int32").type == T.iscalar == T.TensorType(dtype="int32", broadcastable=())
    assert T.dmatrix("x", shape=(None, 3)).type.shape == (None, 3)       # mlcore's static sizes


def test_plural_constructors():
    assert [v.name for v in T.dmatrices(3)] == [None] * 3
    assert [v.name for v in T.dmatrices("x", "y", "z")] == ["x", "y", "z"]
    assert [v.name for v in T.scalars("abcd")] == ["a", "b", "c", "d"]     # basic.txt's stacklists example
    single = T.dmatrices("x")
    assert single.name == "x" and single.type == T.dmatrix


# --- examples.txt ---------------------------------------------------------------------------------
LOGISTIC = [[0.5, 0.73105858], [0.26894142, 0.11920292]]


def test_logistic_function_both_forms():
    x = T.dmatrix("x")
    logistic = function([x], 1 / (1 + T.exp(-x)))
    logistic2 = function([x], (1 + T.tanh(x / 2)) / 2)
    np.testing.assert_allclose(logistic([[0, 1], [-1, -2]]), LOGISTIC, atol=1e-8)     # the page's 8 decimals
    np.testing.assert_allclose(logistic2([[0, 1], [-1, -2]]), LOGISTIC, atol=1e-8)


def test_shared_state_accumulator_and_decrementor():
    state, inc = shared(0), T.iscalar("inc")
    accumulator = function([inc], state, updates=[(state, state + inc)])
    assert [int(accumulator(1)), int(state.get_value()), int(accumulator(300)), int(state.get_value())] == [0, 1, 1, 301]
    state.set_value(-1)
    assert (int(accumulator(3)), int(state.get_value())) == (-1, 2)
    decrementor = function([inc], state, updates=[(state, state - inc)])
    assert (int(decrementor(2)), int(state.get_value())) == (2, 0)
    foo = T.scalar(dtype=state.dtype)
    skip_shared = function([inc, foo], state * 2 + inc, givens=[(state, foo)])
    assert (int(skip_shared(1, 3)), int(state.get_value())) == (7, 0)


def test_random_streams_seeding_state_and_copying_between_graphs():
    from mlcore.tensor.shared_randomstreams import RandomStreams
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    f = function([], rv_u)
    srng.seed(902340)
    first = f()
    srng.seed(902340)
    np.testing.assert_array_equal(f(), first)                 # seed() reseeds every stream
    state_after_v0 = rv_u.rng.get_value()                      # each draw's state is a shared variable
    function([], rv_u + rv_u - 2 * rv_u)()                     # this moves rv_u's state on
    v1 = f()
    rv_u.rng.set_value(state_after_v0)
    v2, v3 = f(), f()
    assert not np.allclose(v1, v2) and np.allclose(v1, v3)

    class Graph:
        def __init__(self, seed):
            self.rng = RandomStreams(seed)
            self.y = self.rng.uniform(size=(1,))
    g1, g2 = Graph(123), Graph(987)
    f1, f2 = function([], g1.y), function([], g2.y)
    assert f1() != f2()                                        # out of sync by default
    for su1, su2 in zip(g1.rng.state_updates, g2.rng.state_updates):
        su2[0].set_value(su1[0].get_value())
    assert f1() == f2()


# --- gradients.txt --------------------------------------------------------------------------------
def test_gradients_page(backend):
    x = T.dscalar("x")
    f = function([x], T.grad(x ** 2, x), backend=backend)
    assert float(f(4)) == 8.0 and np.isclose(f(94.2), 188.4)
    assert pp(f.maker.fgraph.outputs[0]) == "(TensorConstant{2.0} * x)"     # the rewrites leave one node, doubling x
    x = T.dmatrix("x")
    dlogistic = function([x], T.grad(T.sum(1 / (1 + T.exp(-x))), x), backend=backend)
    np.testing.assert_allclose(dlogistic([[0, 1], [-1, -2]]), [[0.25, 0.19661193], [0.19661193, 0.10499359]], rtol=1e-7)

    x = T.dvector("x")
    y = x ** 2
    J, updates = theano.scan(lambda i, y, x: T.grad(y[i], x), sequences=T.arange(y.shape[0]), non_sequences=[y, x])
    np.testing.assert_array_equal(function([x], J, updates=updates, backend=backend)([4, 4]), [[8, 0], [0, 8]])
    gy = T.grad(y.sum(), x)
    H, updates = theano.scan(lambda i, gy, x: T.grad(gy[i], x), sequences=T.arange(gy.shape[0]), non_sequences=[gy, x])
    np.testing.assert_array_equal(function([x], H, updates=updates, backend=backend)([4, 4]), [[2, 0], [0, 2]])

    W, V, x, v = T.dmatrix("W"), T.dmatrix("V"), T.dvector("x"), T.dvector("v")
    y = T.dot(x, W)
    jv = function([W, V, x], T.Rop(y, W, V), backend=backend)
    np.testing.assert_array_equal(jv([[1, 1], [1, 1]], [[2, 2], [2, 2]], [0, 1]), [2, 2])
    vj = function([v, x], T.Lop(y, W, v), backend=backend)
    np.testing.assert_array_equal(vj([2, 2], [0, 1]), [[0, 0], [2, 2]])
    gy = T.grad(T.sum(x ** 2), x)
    np.testing.assert_array_equal(function([x, v], T.grad(T.sum(gy * v), x), backend=backend)([4, 4], [2, 2]), [4, 4])
    np.testing.assert_array_equal(function([x, v], T.Rop(gy, x, v), backend=backend)([4, 4], [2, 2]), [4, 4])


# --- conditions.txt -------------------------------------------------------------------------------
def test_switch_and_ifelse_pick_the_same_mean():
    from mlcore.ifelse import ifelse
    a, b = T.scalars("a", "b")
    x, y = T.matrices("x", "y")
    f_switch = function([a, b, x, y], T.switch(T.lt(a, b), T.mean(x), T.mean(y)), mode=theano.Mode(linker="vm"))
    f_lazy = function([a, b, x, y], ifelse(T.lt(a, b), T.mean(x), T.mean(y)), mode=theano.Mode(linker="vm"))
    ones = np.ones((10, 4), "float32")
    for f in (f_switch, f_lazy):
        assert (float(f(0., 1., ones, 2 * ones)), float(f(1., 0., ones, 2 * ones))) == (1.0, 2.0)


# --- loop.txt -------------------------------------------------------------------------------------
def test_scan_examples_print_the_pages_values(float64):
    X, W, b_sym = T.matrix("X"), T.matrix("W"), T.vector("b_sym")
    results, _ = theano.scan(lambda v: T.tanh(T.dot(v, W) + b_sym), sequences=X)
    b = np.array([1.0, 2.0])
    np.testing.assert_allclose(function([X, W, b_sym], results)(np.eye(2), np.ones((2, 2)), b),
                               [[0.96402758, 0.99505475]] * 2, rtol=1e-8)

    X, U, Y, V, P = T.vector("X"), T.matrix("U"), T.matrix("Y"), T.matrix("V"), T.matrix("P")
    results, _ = theano.scan(lambda y, p, x_tm1: T.tanh(T.dot(x_tm1, W) + T.dot(y, U) + T.dot(p, V)),
                             sequences=[Y, P[::-1]], outputs_info=[X])
    y, p = np.ones((5, 2)), np.ones((5, 2))
    y[0, :], p[0, :] = -3, 3
    np.testing.assert_allclose(function([X, W, Y, U, P, V], results)(np.array([0.0, 1.0]), np.ones((2, 2)), y,
                                                                    np.ones((2, 2)), p, np.ones((2, 2)))[:, 0],
                               [-0.99505475, 0.96471973, 0.99998585, 0.99998771, 1.0], rtol=1e-7)

    X = T.matrix("X")
    x = np.diag(np.arange(1, 6), 1).astype("float64")
    lines, _ = theano.scan(lambda x_i: T.sqrt((x_i ** 2).sum()), sequences=[X])
    columns, _ = theano.scan(lambda x_i: T.sqrt((x_i ** 2).sum()), sequences=[X.T])
    np.testing.assert_array_equal(function([X], lines)(x), [1, 2, 3, 4, 5, 0])
    np.testing.assert_array_equal(function([X], columns)(x), [0, 1, 2, 3, 4, 5])
    traces, _ = theano.scan(lambda i, j, t_f: T.cast(X[i, j] + t_f, "float64"),
                            sequences=[T.arange(X.shape[0]), T.arange(X.shape[1])],
                            outputs_info=np.asarray(0.0, dtype="float64"))
    x = np.eye(5)
    x[0] = np.arange(5)
    assert function([X], traces[-1])(x) == 4.0


def test_scan_with_taps_jacobian_and_shared_updates(float64):
    X, W, b_sym, U, V, n_sym = T.matrix("X"), T.matrix("W"), T.vector("b_sym"), T.matrix("U"), T.matrix("V"), \
        T.iscalar("n_sym")
    results, _ = theano.scan(lambda x_tm2, x_tm1: T.dot(x_tm2, U) + T.dot(x_tm1, V) + T.tanh(T.dot(x_tm1, W) + b_sym),
                             n_steps=n_sym, outputs_info=[dict(initial=X, taps=[-2, -1])])
    x = np.zeros((2, 2))
    x[1, 1] = 1
    seq = function([X, U, V, W, b_sym, n_sym], results)(x, 0.5 * (np.ones((2, 2)) - np.eye(2)), 0.5 * np.ones((2, 2)),
                                                        0.5 * np.ones((2, 2)), np.ones(2), 10)
    np.testing.assert_allclose(seq[:3], [[1.40514825, 1.40514825], [2.88898899, 2.38898899],
                                         [4.34018291, 4.34018291]], rtol=1e-7)

    v, A = T.vector(), T.matrix()
    y = T.tanh(T.dot(v, A))
    jac, _ = theano.scan(lambda i: T.grad(y[i], v), sequences=[T.arange(y.shape[0])])
    w = np.eye(5, 3)
    w[2] = np.ones(3)
    np.testing.assert_allclose(function([A, v], jac, allow_input_downcast=True)(w, np.eye(5)[0]),
                               [[0.41997434, 0, 0.41997434, 0, 0], [0, 1, 1, 0, 0], [0, 0, 1, 0, 0]], rtol=1e-7)

    k, n_sym = shared(0), T.iscalar("n_sym")
    _, updates = theano.scan(lambda: {k: (k + 1)}, n_steps=n_sym)
    accumulator = function([n_sym], [], updates=updates, allow_input_downcast=True)
    assert accumulator(5) == [] and int(k.get_value()) == 5


def test_scan_power_polynomial_and_noise_drawn_once(float64):
    k, A = T.iscalar("k"), T.vector("A")
    result, updates = theano.scan(fn=lambda prior_result, A: prior_result * A, outputs_info=T.ones_like(A),
                                  non_sequences=A, n_steps=k)
    power = function(inputs=[A, k], outputs=result[-1], updates=updates)
    np.testing.assert_array_equal(power(range(10), 2), np.arange(10) ** 2)

    coefficients, x = T.vector("coefficients"), T.scalar("x")
    components, _ = theano.scan(fn=lambda coeff, power, free_var: coeff * (free_var ** power), outputs_info=None,
                                sequences=[coefficients, T.arange(10000)], non_sequences=x)
    assert function([coefficients, x], components.sum())(np.asarray([1, 0, 2], dtype=np.float32), 3) == 19.0

    X, W, b_sym = T.matrix("X"), T.matrix("W"), T.vector("b_sym")
    trng = T.shared_randomstreams.RandomStreams(1234)          # T.shared_randomstreams, as the page spells it
    d = trng.binomial(size=W[1].shape)
    results, updates = theano.scan(lambda v: T.tanh(T.dot(v, W) + b_sym) * d, sequences=X)
    noisy = function([X, W, b_sym], results, updates=updates, allow_input_downcast=True)
    x, w, b = np.eye(10, 2), np.ones((2, 2)), np.ones(2)
    out = noisy(x, w, b)
    mask = out / np.tanh(x @ w + b)                            # one draw of d, for every step
    assert set(np.unique(mask)) <= {0.0, 1.0} and (mask == mask[0]).all()


# --- shape_info.txt -------------------------------------------------------------------------------
def test_shape_of_a_result_is_computed_without_the_result():
    x = T.matrix("x")
    f = function([x], (x ** 2).shape)
    assert [type(n.op).__name__ for n in f.maker.fgraph.toposort()] == ["Shape"]    # no power is run
    np.testing.assert_array_equal(f(np.ones((5, 4), "float32")), [5, 4])
    x = T.matrix()
    f = function([x], (T.specify_shape(x, (2, 2)) ** 2).shape)                       # x counts as used
    assert f.maker.fgraph.toposort() == []                                            # a constant, as the page says
    np.testing.assert_array_equal(f(np.ones((2, 2), "float32")), [2, 2])


def test_join_of_mismatched_inputs_raises_when_run(float64):
    x, y = T.matrix("x"), T.matrix("y")
    z = T.join(0, x, y)
    xv, yv = np.random.rand(5, 4), np.random.rand(3, 3)
    for out in (z, z.shape):     # Theano's shape inference answered [8, 4] for z.shape; mlcore computes the join
        with pytest.raises(ValueError):
            function([x, y], out, backend="numpy")(xv, yv)


# --- broadcasting.txt -----------------------------------------------------------------------------
def test_rows_and_columns_broadcast(float64):
    r, c, mtr = T.row(), T.col(), T.matrix()
    assert (r.broadcastable, c.broadcastable, mtr.broadcastable) == ((True, False), (False, True), (False, False))
    M = np.arange(9).reshape(3, 3)
    f_row, f_col = function([r, mtr], [r + mtr]), function([c, mtr], [c + mtr])
    np.testing.assert_array_equal(f_row(np.arange(3).reshape(1, 3), M)[0], [[0, 2, 4], [3, 5, 7], [6, 8, 10]])
    np.testing.assert_array_equal(f_col(np.arange(3).reshape(3, 1), M)[0], [[0, 1, 2], [4, 5, 6], [8, 9, 10]])


# --- aliasing.txt ---------------------------------------------------------------------------------
def test_borrowing_shared_values_and_function_arguments():
    np_array = np.ones(2, dtype="float32")
    s_default, s_false, s_true = shared(np_array), shared(np_array, borrow=False), shared(np_array, borrow=True)
    np_array += 1
    assert (s_default.get_value().tolist(), s_false.get_value().tolist(), s_true.get_value().tolist()) == \
        ([1, 1], [1, 1], [2, 2])
    s = shared(np_array)
    function([], s * 2, updates=[(s, s + 1)], backend="jax")()
    internal = s.get_value(borrow=True, return_internal_type=True)
    assert not isinstance(internal, np.ndarray) and np.asarray(internal).tolist() == [3, 3]   # the jax array
    assert isinstance(s.get_value(borrow=True), np.ndarray)
    s.set_value(s.get_value(borrow=True) * 2, borrow=True)
    assert s.get_value().tolist() == [6, 6]
    x = T.matrix()
    f = function([theano.In(x, borrow=True)], theano.Out(2 * x, borrow=True))
    np.testing.assert_array_equal(np.asarray(f(np.ones((1, 2), "float32"))), [[2, 2]])


# --- symbolic_graphs.txt --------------------------------------------------------------------------
def test_graph_structure_is_reachable_from_the_output():
    x = T.dmatrix("x")
    y = x * 2.0
    assert type(y.owner) is theano.Apply and len(y.owner.inputs) == 2 and y.owner.inputs[0] is x
    assert y.owner.op.name == "mul" and float(np.asarray(y.owner.inputs[1].data).ravel()[0]) == 2.0


# --- modes.txt and printing_drawing.txt -----------------------------------------------------------
def test_logistic_regression_in_float32_with_test_values_and_names():
    rng = np.random.RandomState(0)
    D = (rng.randn(40, 7).astype(theano.config.floatX), rng.randint(size=40, low=0, high=2).astype(theano.config.floatX))
    x, y = T.matrix("x"), T.vector("y")
    w = shared(rng.randn(7).astype(theano.config.floatX), name="w")
    b = shared(np.asarray(0.0, dtype=theano.config.floatX), name="b")
    x.tag.test_value, y.tag.test_value = D                    # tagged, as the pages do (compute_test_value is off)
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    train = function([x, y], [p_1 > 0.5, xent], updates={w: w - 0.1 * gw, b: b - 0.1 * gb}, name="train")
    costs = [float(train(*D)[1].mean()) for _ in range(50)]
    assert train.name == "train" and w.get_value().dtype == np.float32 and np.asarray(b.get_value()).dtype == np.float32
    assert costs[-1] < costs[0]


def test_named_modes_and_mode_constructors_compute_the_same(float64):
    x = T.dvector("x")
    modes = ["DebugMode", "FAST_COMPILE", "FAST_RUN", theano.Mode(linker="py", optimizer="fast_compile"),
             theano.compile.mode.Mode(linker="cvm", optimizer="fast_run")]
    for mode in modes:
        f = function([x], 10 * x, mode=mode)
        assert [float(f([5])[0]), float(f([0])[0]), float(f([7])[0])] == [50, 0, 70]


# --- debug_faq.txt and nan_tutorial.txt -----------------------------------------------------------
def test_test_values_stop_at_the_line_that_builds_the_faulty_node():
    W1 = shared(np.random.rand(2, 10, 10).astype(theano.config.floatX), "W1")
    x = T.matrix("x")
    x.tag.test_value = np.random.rand(5, 10)
    T.dot(x, W1.dimshuffle(2, 0, 1).flatten(2).T)              # "off", the default: no value, no error yet
    with theano.change_flags(compute_test_value="warn"):
        func_of_W1 = W1.dimshuffle(2, 0, 1).flatten(2).T
        assert func_of_W1.tag.test_value.shape == (20, 10)
        with pytest.raises(ValueError, match=r"\(5,10\) and \(20,10\)"):
            T.dot(x, func_of_W1)                               # the error comes while building
        h = T.dot(x, func_of_W1.T)                             # the fixed line
        assert h.tag.test_value.shape == (5, 20)
        assert T.grad(h.sum(), x).tag.test_value.shape == (5, 10)   # grad's nodes get values too
        with pytest.warns(UserWarning, match="y has no test value"):
            T.matrix("y") * 2
    with theano.change_flags(compute_test_value="raise"):
        with pytest.raises(ValueError, match="y has no test value"):
            T.matrix("y") * 2


def test_print_test_value_shows_the_value_in_repr():
    x = T.scalar("x")
    x.tag.test_value = 42
    with theano.change_flags(print_test_value=True):
        assert x.__repr__() == "x\n" + repr(np.asarray(42, dtype=theano.config.floatX))
    assert x.__repr__() == "x"


def test_print_op_prints_while_running_and_passes_values_and_gradients(backend, capsys):
    x = T.dvector("x")
    x_printed = theano.printing.Print("this is a very important value")(x)
    f = function([x], x * 5, backend=backend)
    f_with_print = function([x], x_printed * 5, backend=backend)
    assert np.all(f([1, 2, 3]) == [5, 10, 15])
    assert capsys.readouterr().out == ""
    assert np.all(f_with_print([1, 2, 3]) == [5, 10, 15])
    assert capsys.readouterr().out == "this is a very important value __str__ = [1. 2. 3.]\n"
    g = function([x], T.grad((x_printed ** 2).sum(), x), backend=backend)
    np.testing.assert_array_equal(g([1.0, 2.0]), [2, 4])
    assert capsys.readouterr().out == "this is a very important value __str__ = [1. 2.]\n"
    theano.printing.Print("shape", attrs=("shape",))(x).eval({x: [1.0, 2.0]})
    assert capsys.readouterr().out == "shape shape = (2,)\n"


def test_monitor_mode_steps_through_the_nodes(float64):
    seen = []
    x = T.dscalar("x")
    f = function([x], [5 * x], mode=theano.compile.MonitorMode(
        pre_func=lambda i, node, fn: seen.append((i, [c[0] for c in fn.inputs])),
        post_func=lambda i, node, fn: seen.append([c[0] for c in fn.outputs])))
    assert f(3)[0] == 15 and f.backend.name == "numpy"
    assert [s[0] if isinstance(s, tuple) else None for s in seen] == [0, None]
    assert [float(v) for v in seen[0][1]] == [5, 3] and seen[1] == [15] and isinstance(seen[1][0], np.ndarray)


def test_detect_nan_and_the_modes_without_fusion(capsys):
    from mlcore.compile.monitormode import detect_nan
    x = T.dscalar("x")
    f = function([x], [T.log(x) * x], mode=theano.compile.MonitorMode(post_func=detect_nan))
    with np.errstate(all="ignore"):
        assert np.isnan(f(0)[0])
    out = capsys.readouterr().out
    assert out.startswith("*** NaN detected ***\nElemwise{") and "[id A] ''" in out and "Outputs: [array(nan)]" in out
    mode = theano.compile.MonitorMode(post_func=detect_nan).excluding("local_elemwise_fusion", "inplace")
    assert "fusion" not in mode.rewrites
    with np.errstate(all="ignore"):
        function([x], [T.log(x) * x], mode=mode)(0)
    out = capsys.readouterr().out                              # the mul is caught, its inputs as they were
    assert out.startswith("*** NaN detected ***\nElemwise{mul,no_inplace} [id A] ''") and "Inputs : [array(-inf), array(0.)]" in out


def test_nan_guard_mode_names_the_node():
    from mlcore.compile.nanguardmode import NanGuardMode
    y = T.dvector("y")
    f = function([y], T.log(y) * 2, mode=NanGuardMode(nan_is_error=True, inf_is_error=True, big_is_error=True))
    np.testing.assert_allclose(f([1.0, np.e]), [0, 2])
    with np.errstate(all="ignore"):
        for value, kind in (([0.0, 1.0], "Inf"), ([-1.0, 1.0], "NaN"), ([1e11, 1.0], "Big value")):
            with pytest.raises(AssertionError, match=kind + " detected in .*log"):
                f(value)
        lenient = function([y], T.log(y) * 2, mode=NanGuardMode(nan_is_error=True, inf_is_error=False,
                                                                big_is_error=False))
        assert lenient([0.0, 1.0])[0] == -np.inf


def test_error_messages_name_the_shapes():
    x, y = T.vector(), T.vector()
    f = function([x, y], x + x + y, backend="numpy")
    with pytest.raises(ValueError, match=re.escape("(2,), (3,)")):
        f(np.ones(2, "float32"), np.ones(3, "float32"))


# --- faq_tutorial.txt -----------------------------------------------------------------------------
def test_update_a_subset_of_a_lookup_table(backend):
    table = np.arange(12.0).reshape(4, 3)
    lookup_table, idx = shared(table.copy()), T.lvector("idx")
    subset = lookup_table[idx]
    cost = (subset ** 2).sum()
    g = T.grad(cost, subset)                                   # the gradient of the rows used only
    inc = function([idx], cost, updates=[(lookup_table, T.inc_subtensor(subset, -0.1 * g))], backend=backend)
    assert inc([1, 3]) == (table[[1, 3]] ** 2).sum()
    expected = table.copy()
    expected[[1, 3]] *= 0.8
    np.testing.assert_allclose(lookup_table.get_value(), expected)
    put = function([idx], cost, updates=[(lookup_table, T.set_subtensor(subset, subset - 0.1 * g))], backend=backend)
    put([0, 2])          # (a single index fails on the theano backend: PyTensor 3.0's AdvancedIncSubtensor1)
    expected[[0, 2]] *= 0.8
    np.testing.assert_allclose(lookup_table.get_value(), expected)


# --- extending_theano.txt's as_op ---------------------------------------------------------------------
def test_as_op_numpy_dot_with_infer_shape(backend):
    from mlcore.compile.ops import as_op

    def infer_shape_numpy_dot(node, input_shapes):
        ashp, bshp = input_shapes
        return [ashp[:-1] + bshp[-1:]]

    @as_op(itypes=[T.fmatrix, T.fmatrix], otypes=[T.fmatrix], infer_shape=infer_shape_numpy_dot)
    def numpy_dot(a, b):
        return np.dot(a, b)

    x, y = T.fmatrix(), T.fmatrix()
    f = function([x, y], numpy_dot(x, y), backend=backend)
    inp1, inp2 = np.random.rand(5, 4).astype("float32"), np.random.rand(4, 7).astype("float32")
    np.testing.assert_allclose(f(inp1, inp2), inp1 @ inp2, rtol=1e-5)


# --- library/tensor/basic.txt ---------------------------------------------------------------------
def test_as_tensor_variable_ndim_pads_with_broadcastable_dims():
    assert T.as_tensor_variable(3.0, ndim=2).broadcastable == (True, True)
    assert T.as_tensor_variable(np.ones((1, 1, 3)), ndim=1).type.shape == (3,)
    with pytest.raises(TypeError, match="Expected a 1-d tensor"):
        T.as_tensor_variable(np.ones((2, 3)), ndim=1)


def test_reductions_take_dtype_and_acc_dtype(float64):
    x = T.fmatrix("x")
    xv = np.array([[1e8, 1.0, -1e8]], "float32")
    assert T.sum(x, acc_dtype="float64").dtype == "float32" and float(T.sum(x, acc_dtype="float64").eval({x: xv})) == 1.0
    assert float(T.sum(x).eval({x: xv})) == 0.0                # float32 accumulation loses the 1
    assert x.sum(axis=1, dtype="float64", keepdims=True).type == T.TensorType("float64", (False, True))
    b = T.bvector("b")
    assert (T.sum(b).dtype, T.sum(b, dtype="int8").dtype, T.prod(b, acc_dtype="int64").dtype) == ("int64", "int8", "int64")
    assert int(T.sum(b, dtype="int8").eval({b: np.full(200, 1, "int8")})) == -56        # wraps, as asked
    m = T.dmatrix("m")
    mv = np.arange(1.0, 7.0).reshape(2, 3)
    np.testing.assert_allclose(T.prod(m, axis=0, no_zeros_in_input=True).eval({m: mv}), mv.prod(0))
    np.testing.assert_allclose(m.prod(0, "float32", True, "float64").eval({m: mv}), mv.prod(0, keepdims=True))
    assert T.mean(T.ivector(), dtype="float64").dtype == "float64" and x.mean(acc_dtype="float64").dtype == "float32"
    np.testing.assert_allclose(m.var(axis=0, ddof=1).eval({m: mv}), mv.var(0, ddof=1))
    np.testing.assert_allclose(m.std(ddof=1).eval({m: mv}), mv.std(ddof=1))


def test_variable_methods_of_basic_txt(float64):
    x = T.dmatrix("x")
    xv = np.array([[0.5, 1.5], [2.5, -3.5]])
    np.testing.assert_array_equal(x.ravel().eval({x: xv}), xv.ravel())
    assert x.copy(name="c").name == "c"
    np.testing.assert_array_equal(x.copy().eval({x: xv}), xv)
    np.testing.assert_array_equal(x.round().eval({x: xv}), np.round(xv))            # half to even
    np.testing.assert_array_equal(x.round("half_away_from_zero").eval({x: xv}), [[1, 2], [3, -4]])
    assert T.as_tensor_variable(3).get_scalar_constant_value() == 3
    assert T.flatten(T.tensor4(), outdim=2).ndim == 2
    assert T.shape_padaxis(T.tensor3(), axis=-1).broadcastable == (False, False, False, True)


def test_bitwise_operators_on_ints_are_numpys():
    a, b = T.itensor3(), T.itensor3()
    av, bv = np.arange(8, dtype="int32").reshape(2, 2, 2), np.full((2, 2, 2), 6, "int32")
    run = function([a, b], [a & b, a | b, a ^ 1, ~a, T.and_(a, b), T.bitwise_or(a, b), T.bitwise_and(a, b)])
    results = run(av, bv)
    expected = [av & bv, av | bv, av ^ 1, ~av, av & bv, av | bv, av & bv]
    for got, want in zip(results, expected):
        assert got.dtype == np.int32
        np.testing.assert_array_equal(got, want)
    p, q = T.dvector(), T.dvector()
    both = function([p, q], (p > 0) & (q > 0))([1.0, -1.0], [1.0, 1.0])
    assert both.dtype == bool and both.tolist() == [True, False]
    assert T.truediv(a, 2).dtype.startswith("float") and T.intdiv(a, 2).dtype == "int32"


def test_stack_concatenate_and_stacklists_shapes():
    a, b, c = T.tensor4(), T.tensor4(), T.tensor4()
    zeros = {t: np.zeros((2, 2, 2, 2), "float32") for t in (a, b, c)}
    assert T.stack([a, b, c]).eval(zeros).shape == (3, 2, 2, 2, 2)
    assert T.stack([a, b, c], axis=3).eval(zeros).shape == (2, 2, 2, 3, 2)
    assert T.stack([a, b, c], axis=-2).eval(zeros).shape == (2, 2, 2, 3, 2)
    assert T.stack(*T.scalars(3)).ndim == 1
    assert T.concatenate([T.fmatrix(), T.ftensor3()[0], T.shape_padright(T.fvector())], axis=1).ndim == 2
    a, b, c, d = T.scalars("abcd")
    np.testing.assert_array_equal(function([a, b, c, d], T.stacklists([[a, b], [c, d]]))(1, 2, 3, 4), [[1, 2], [3, 4]])
    A, B, C, D = T.matrices("abcd")
    ones = np.ones((4, 4), "float32")
    assert function([A, B, C, D], T.stacklists([[A, B], [C, D]]))(ones, ones, ones, ones).shape == (2, 2, 4, 4)


def test_tensordot_is_numpys():
    a, b = np.random.random((2, 3, 4)), np.random.random((5, 6, 4, 3))
    A, B = T.dtensor3(), T.dtensor4()
    np.testing.assert_allclose(T.tensordot(A, B, [[1, 2], [3, 2]]).eval({A: a, B: b}), np.tensordot(a, b, [[1, 2], [3, 2]]))
    assert T.tensordot(A, B, 0).eval({A: a, B: b}).shape == (2, 3, 4, 5, 6, 4, 3)

"""Theano 1.0's public behaviour of scan, theano.gradient, ifelse and theano.printing, checked
against numpy and finite differences (written from Theano's test suite's cases, in our own words)."""
import io
import warnings

import numpy as np
import pytest

import mlcore as theano
import mlcore.tensor as T
from mlcore import gradient
from mlcore.ifelse import IfElse, ifelse
from mlcore.printing import debugprint, min_informative_str
from mlcore.scan_module import until


def central_difference(f, values, k, eps=1e-6):
    """The gradient of the scalar f(*values) wrt values[k], by central differences."""
    values = [np.array(v, dtype="float64") for v in values]
    out = np.zeros(values[k].shape)
    for index in np.ndindex(values[k].shape):
        moved = [v.copy() for v in values]
        moved[k][index] += eps
        up = f(*moved)
        moved[k][index] -= 2 * eps
        out[index] = (up - f(*moved)) / (2 * eps)
    return out


# --- scan ----------------------------------------------------------------------------------------
def test_scan_rnn_with_taps_values_and_gradients(backend):
    u, x0, w = T.dvector("u"), T.dvector("x0"), T.dscalar("w")

    def step(u_m2, u_p1, x_m3, x_m1, w):
        return u_m2 * w + u_p1 + 0.5 * x_m3 + 0.1 * x_m1

    out, updates = theano.scan(step, sequences=dict(input=u, taps=[-2, 1]),
                               outputs_info=dict(initial=x0, taps=[-3, -1]), non_sequences=w)
    assert len(updates) == 0
    run = theano.function([u, x0, w], out, backend=backend)
    vu, vx0 = np.linspace(-1, 1, 8), np.array([0.3, -0.2, 0.5])
    history = list(vx0)
    for t in range(5):          # steps read u[t] (tap -2) and u[t + 3] (tap +1)
        history.append(vu[t] * 0.7 + vu[t + 3] + 0.5 * history[-3] + 0.1 * history[-1])
    np.testing.assert_allclose(run(vu, vx0, 0.7), history[3:])
    grads = theano.function([u, x0, w], T.grad((out ** 2).sum(), [u, x0, w]), backend=backend)(vu, vx0, 0.7)

    def cost(vu, vx0, w):
        return float((run(vu, vx0, float(w)) ** 2).sum())
    for k, g in enumerate(grads):
        np.testing.assert_allclose(g, central_difference(cost, [vu, vx0, 0.7], k), rtol=1e-5, atol=1e-7)


def test_scan_generator_backwards_and_negative_n_steps(backend):
    state, n = T.dscalar("state"), T.iscalar("n")
    powers, _ = theano.scan(lambda x: 2 * x, [], state, [], n_steps=n, truncate_gradient=-1, go_backwards=False)
    np.testing.assert_allclose(theano.function([state, n], powers, backend=backend)(0.5, 4), [1, 2, 4, 8])
    u, x0 = T.dvector("u"), T.dscalar("x0")
    back, _ = theano.scan(lambda u_t, x: u_t + 2 * x, u, x0, go_backwards=True)
    negative, _ = theano.scan(lambda u_t, x: u_t + 2 * x, u, x0, n_steps=-3)
    got_back, got_negative = theano.function([u, x0], [back, negative], backend=backend)(np.arange(4.0), 1.0)
    np.testing.assert_allclose(got_back, [5, 12, 25, 50])     # 3 + 2, 2 + 10, 1 + 24, 0 + 50
    np.testing.assert_allclose(got_negative, [5, 12, 25])


def test_map_reduce_foldl_foldr(backend):
    x = T.dvector("x")
    zero = T.constant(0.0, dtype="float64")
    squares, _ = theano.map(lambda v: v ** 2, x)
    total, _ = theano.reduce(lambda v, acc: acc + v, x, zero)
    left, _ = theano.foldl(lambda v, acc: 2 * acc + v, x, zero)
    right, _ = theano.foldr(lambda v, acc: 2 * acc + v, x, zero)
    got = theano.function([x], [squares, total, left, right], backend=backend)(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(got[0], [1, 4, 9])
    assert got[1:] == [6.0, 11.0, 17.0]


def test_scan_until_stops_after_the_true_step_and_its_gradient(backend):
    x = T.dscalar("x")
    doubled, _ = theano.scan(lambda p: (p * 2, until(p * 2 > 50)), outputs_info=x, n_steps=100)
    run = theano.function([x], [doubled, T.grad(doubled.sum(), x)], backend=backend)
    values, slope = run(1.0)
    np.testing.assert_allclose(values, [2, 4, 8, 16, 32, 64])
    assert slope == pytest.approx(2 + 4 + 8 + 16 + 32 + 64)


def test_scan_carries_random_streams_and_shared_updates(backend):
    from mlcore.tensor.shared_randomstreams import RandomStreams
    srng = RandomStreams(123)
    counter = theano.shared(np.float64(0), name="counter")
    x = T.dvector("x")
    noisy, updates = theano.scan(lambda v: (v + srng.uniform(size=()), {counter: counter + v}), x)
    run = theano.function([x], noisy, updates=updates, backend=backend)
    first, second = run(np.zeros(3)), run(np.zeros(3))
    assert len(set(first.tolist())) == 3 and not np.allclose(first, second)
    assert np.all((first >= 0) & (first < 1)) and counter.get_value() == 0.0


def test_scan_updates_only_and_return_list():
    c = theano.shared(np.float64(1), name="c")
    outputs, updates = theano.scan(lambda: {c: c * 2}, n_steps=4)
    assert outputs is None
    theano.function([], [], updates=updates, backend="numpy")()
    assert c.get_value() == 16
    x = T.dvector("x")
    listed, _ = theano.scan(lambda v: v * 2, x, return_list=True)
    assert isinstance(listed, list) and len(listed) == 1


def test_scan_strict_refuses_an_unlisted_shared_variable():
    w = theano.shared(np.ones(2), name="w")
    x = T.dmatrix("x")
    with pytest.raises(theano.gof.MissingInputError, match="strict=True.*w"):
        theano.scan(lambda v: v * w, x, strict=True)
    listed, _ = theano.scan(lambda v, w: v * w, x, non_sequences=[w], strict=True)
    np.testing.assert_allclose(theano.function([x], listed, backend="numpy")(np.full((2, 2), 3.0)), 3.0)


def test_scan_of_scans_and_its_gradient(backend):
    A, k, coefficients = T.dvector("A"), T.iscalar("k"), T.dvector("coefficients")

    def power(A, k):
        result, _ = theano.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A), non_sequences=A, n_steps=k)
        return result[-1]
    terms, _ = theano.scan(lambda c, p, A, k: c * power(A, k) ** p,
                           sequences=[coefficients, T.arange(3)], non_sequences=[A, k])
    polynomial = terms.sum()
    run = theano.function([coefficients, A, k], [polynomial, T.grad(polynomial, A)], backend=backend)
    vA, vc = np.array([1.5, 0.5]), np.array([1.0, 2.0, 3.0])
    value, slope = run(vc, vA, 2)
    assert value == pytest.approx(sum(vc[i] * (vA ** 2) ** i for i in range(3)).sum())
    np.testing.assert_allclose(slope, central_difference(lambda a: run(vc, a, 2)[0], [vA], 0), rtol=1e-6)


def test_second_order_gradients_through_scan(backend):
    x, W = T.dvector("x"), T.dmatrix("W")
    states, _ = theano.scan(lambda h, W: T.tanh(T.dot(W, h)), outputs_info=x, non_sequences=W, n_steps=3)
    cost = states[-1].sum()
    slope = theano.function([x, W], T.grad(cost, x), backend=backend)
    hessian = theano.function([x, W], gradient.hessian(cost, x), backend=backend)
    vx, vW = np.array([0.3, -0.8]), np.array([[0.5, -0.4], [0.9, 0.2]])
    numeric = np.stack([central_difference(lambda p: slope(p, vW)[i], [vx], 0) for i in range(2)])
    np.testing.assert_allclose(hessian(vx, vW), numeric, rtol=1e-5, atol=1e-8)


def test_truncated_gradient_reaches_the_last_steps_only():
    u, x0, w = T.dvector("u"), T.dscalar("x0"), T.dscalar("w")
    out, _ = theano.scan(lambda u_t, x, w: u_t + x * w, u, x0, w, truncate_gradient=2)
    got = theano.function([u, x0, w], T.grad(out[-1], u), backend="numpy")(np.arange(5.0), 1.0, 0.5)
    np.testing.assert_allclose(got, [0, 0, 0, 0.5, 1])


def test_rop_and_lop_through_scan(backend):
    x, v, W = T.dvector("x"), T.dvector("v"), T.dmatrix("W")
    states, _ = theano.scan(lambda h, W: T.tanh(T.dot(W, h)), outputs_info=x, non_sequences=W, n_steps=2)
    y = states[-1]
    run = theano.function([x, v, W], [T.Rop(y, x, v), T.Lop(y, x, v), gradient.jacobian(y, x)], backend=backend)
    jv, vj, jac = run(np.array([0.1, 0.4]), np.array([1.0, -2.0]), np.array([[0.3, 0.2], [-0.5, 0.7]]))
    np.testing.assert_allclose(jv, jac @ [1.0, -2.0])
    np.testing.assert_allclose(vj, np.array([1.0, -2.0]) @ jac)


# --- theano.gradient -------------------------------------------------------------------------------
def test_grad_names_its_result():
    A, x = T.matrix("A"), T.vector("x")
    f = T.dot(x, T.dot(A, x))
    f.name = "f"
    assert T.grad(f, x).name == "(df/dx)"


def test_gradients_of_and_through_integers_are_real_valued():
    i = T.iscalar()
    assert T.grad(i, i).eval({i: 12}) == 1.0                     # d x / d x is 1, integer or not
    given = T.scalar()
    known = gradient.grad(cost=None, known_grads={i: given}, wrt=i)
    assert theano.function([given], known, backend="numpy")(0.6) == pytest.approx(0.6)
    W, b = T.dmatrix("W"), T.dvector("b")

    def slope(X):
        cost = T.nnet.sigmoid(T.dot(X, W) + b).sum()
        return theano.function([X, W, b], T.grad(cost, X), backend="numpy")
    rng = np.random.default_rng(0)
    X, vW, vb = (rng.normal(size=(5, 3)) * 100).astype("int32"), rng.normal(size=(3, 4)), rng.normal(size=4)
    np.testing.assert_allclose(slope(T.imatrix())(X, vW, vb), slope(T.dmatrix())(X.astype("float64"), vW, vb))
    x, z = T.fscalar("x"), T.lscalar("z")
    y = x * 2
    c = y + z
    dx, dy, dz, dc = theano.grad(c, [x, y, z, c])
    assert dx.dtype == "float32" and dz.dtype in ("float32", "float64")
    a, b = T.iscalar(), T.iscalar()
    ga, gb = T.grad(a + b, [a, b])                                # a step function: slope 0
    assert ga.eval({a: 1}) == 0.0 and ga.dtype in ("float32", "float64")


def test_known_grads_reproduce_grad_at_every_layer():
    t, x, c = T.iscalar("t"), T.scalar("x"), T.vector("c")
    ft = T.arange(10)[t]
    ct = c[t]
    p = x ** ft
    y = ct * p
    cost = T.sqr(y)
    inputs = [c, t, x]
    values = [np.linspace(-1, 1, 10).astype(c.dtype), np.int32(3), np.asarray(0.7, x.dtype)]
    true = theano.function(inputs, T.grad(cost, inputs, disconnected_inputs="ignore"), backend="numpy")(*values)
    for layer in [[cost], [y], [ct, p], [ct, x, ft]]:
        first = T.grad(cost, layer, disconnected_inputs="ignore")
        again = T.grad(cost=None, known_grads=dict(zip(layer, first)), wrt=inputs, disconnected_inputs="ignore")
        for a, b in zip(true, theano.function(inputs, again, backend="numpy")(*values)):
            np.testing.assert_allclose(a, b, rtol=1e-5)


def test_known_grads_of_the_cost_can_say_undefined_or_disconnected():
    x, y = T.iscalar(), T.iscalar()
    with pytest.raises(gradient.NullTypeGradError):
        T.grad(x + y, [x, y], known_grads={x + y: gradient.NullType()()})
    cost = x + y
    with pytest.raises(gradient.DisconnectedInputError):
        T.grad(cost, [x, y], known_grads={cost: gradient.DisconnectedType()()}, disconnected_inputs="raise")
    with pytest.raises(ValueError, match="grad: cost and known_grads can't both be None"):
        T.grad(None, x)


def test_disconnected_inputs_and_return_disconnected():
    x, y = T.vector("x"), T.vector("y")
    cost = (x ** 2).sum()
    with pytest.raises(gradient.DisconnectedInputError, match="does not depend on y"):
        T.grad(cost, [x, y])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        T.grad(cost, y, disconnected_inputs="warn")
    assert any("does not depend on y" in str(w.message) for w in caught)
    assert T.grad(cost, [x, y], disconnected_inputs="ignore", return_disconnected="None")[1] is None
    assert T.grad(cost, [x, y], disconnected_inputs="ignore", return_disconnected="Disconnected")[1] is None
    zeros = T.grad(cost, [x, y], disconnected_inputs="ignore")[1]
    assert zeros.eval({y: np.ones(2, y.dtype)}).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="disconnected_inputs must be"):
        T.grad(cost, x, disconnected_inputs="sometimes")


def test_consider_constant_zero_grad_and_disconnected_grad():
    x = T.matrix("x")
    a = np.linspace(-1, 1, 25).reshape(5, 5).astype(x.dtype)
    for block in (gradient.consider_constant, gradient.zero_grad, gradient.disconnected_grad):
        for expression, expected in [(x * block(x), x), (x * block(T.exp(x)), T.exp(x)),
                                     (x ** 2 * block(x), 2 * x ** 2)]:
            got = theano.function([x], T.grad(expression.sum(), x), backend="numpy")(a)
            np.testing.assert_allclose(got, theano.function([x], expected, backend="numpy")(a), rtol=1e-5)
    assert theano.function([x], T.grad(gradient.zero_grad(x).sum(), x), backend="numpy")(a).sum() == 0
    with pytest.raises(gradient.DisconnectedInputError):
        T.grad(gradient.disconnected_grad(x).sum(), x)
    s, t = T.scalar(), T.scalar()
    assert T.grad(s * t, s, consider_constant=[s]).eval({s: 1.0, t: 2.0}) == 2.0   # its own gradient still


def test_grad_clip_grad_scale_and_undefined_grads():
    x, y = T.scalar(), T.scalar()
    clipped = theano.function([x], [T.grad(gradient.grad_clip(x, -1, 1) ** 2, x), T.grad(x ** 2, x)],
                              backend="numpy")(2.0)
    assert clipped == [1.0, 4.0]
    scaled = gradient.grad_scale(x * y, -0.5)
    assert theano.function([x, y], T.grad(scaled, [x, y]), backend="numpy")(2.0, 3.0) == [-1.5, -1.0]
    a = T.vector()
    with pytest.raises(TypeError):          # a graph of an undefined gradient does not compile
        theano.function([a], gradient.grad_not_implemented(T.add, 0, a), on_unused_input="ignore")
    with pytest.raises(gradient.NullTypeGradError):
        T.grad(gradient.undefined_grad(x) * 2, x)


def test_subgraph_grad_equals_grad_part_by_part():
    rng = np.random.default_rng(1)
    x, t = T.fvector("x"), T.fvector("t")
    w1, w2 = theano.shared(rng.normal(size=(3, 4))), theano.shared(rng.normal(size=(4, 2)))
    a1 = T.tanh(T.dot(x, w1))
    a2 = T.tanh(T.dot(a1, w2))
    cost2 = T.sqr(a2 - t).sum() + T.sqr(w2.sum())
    cost1 = T.sqr(w1.sum())
    values = [np.float32([0.5, -1.0]), np.float32([1.0, 0.2, -0.3])]
    true = theano.function([t, x], theano.grad(cost2 + cost1, [w2, w1]), backend="numpy")(*values)
    start, parts = None, []
    for params, end, cost in [([w2], [a1], cost2), ([w1], [x], cost1)]:
        param_grads, end_grads = theano.subgraph_grad(wrt=params, end=end, start=start, cost=cost)
        start = dict(zip(end, end_grads))
        parts += param_grads
    for a, b in zip(true, theano.function([t, x], parts, backend="numpy")(*values)):
        np.testing.assert_allclose(a, b, rtol=1e-5)


def test_jacobian_hessian_and_verify_grad():
    x = T.dvector("x")
    assert isinstance(gradient.jacobian(x ** 2, [x]), list)
    jac, hess = theano.function([x], [gradient.jacobian(x ** 2, x), gradient.hessian((x ** 3).sum(), x)],
                                backend="numpy")(np.array([1.0, 2.0]))
    np.testing.assert_allclose(jac, np.diag([2.0, 4.0]))
    np.testing.assert_allclose(hess, np.diag([6.0, 12.0]))
    rng = np.random.RandomState(0)
    T.verify_grad(lambda v, A: gradient.grad(T.dot(v * v, T.dot(A, v)), v), [rng.randn(2), rng.randn(2, 2)], rng=rng)
    with pytest.raises(gradient.verify_grad.E_grad):
        gradient.verify_grad(lambda v: gradient.grad_clip(v, -0.1, 0.1) * 3, [rng.randn(3)], rng=rng)
    np.testing.assert_allclose(gradient.numeric_grad(lambda v: (v ** 2).sum(), np.array([1.0, 2.0])).gf, [2, 4],
                               atol=1e-6)


# --- ifelse ----------------------------------------------------------------------------------------
def test_ifelse_values_gradients_and_type_checks(backend):
    x1, x2, y1, y2 = (T.dvector(n) for n in ("x1", "x2", "y1", "y2"))
    c = T.iscalar("c")
    z = ifelse(c, (x1, x2), (y1, y2))
    assert isinstance(z, tuple) and IfElse(2)(c, x1, x2, y1, y2)[0].type == z[0].type
    grads = T.grad(z[0].sum() + z[1].sum(), [x1, x2, y1, y2])
    run = theano.function([c, x1, x2, y1, y2], list(z) + grads, backend=backend)
    values = [np.arange(3.0) + k for k in range(4)]
    taken, other = run(1, *values), run(0, *values)
    np.testing.assert_allclose(taken[0], values[0])
    np.testing.assert_allclose(other[1], values[3])
    assert [g.sum() for g in taken[2:]] == [3, 3, 0, 0] and [g.sum() for g in other[2:]] == [0, 0, 3, 3]
    shared = theano.shared(np.ones(5, "float32"))
    for wrong in (T.cast(shared * 10, "int8"), T.col("y", "float32"), T.row("y", "float32")):
        with pytest.raises(TypeError, match="ifelse"):
            ifelse(c, shared, wrong)
        with pytest.raises(TypeError, match="ifelse"):
            ifelse(c, wrong, shared)


# --- printing --------------------------------------------------------------------------------------
def _graph():
    A, B, D, E = (T.matrix(name=n) for n in "ABDE")
    C = A + B
    C.name = "C"
    return C + (D + E)


def test_min_informative_str_and_pp():
    assert min_informative_str(_graph()) == ("A. Elemwise{add,no_inplace}\n B. C\n C. Elemwise{add,no_inplace}\n"
                                             "  D. D\n  E. E")
    x = T.dvector()
    assert theano.pp(x[1]) == "<TensorType(float64, vector)>[Constant{1}]"
    i = T.iscalar("i")
    assert theano.pp(T.dvector("v")[i:]) == "v[i:]"


@pytest.mark.parametrize("ids, stop_on_name, expected", [
    ("int", False, ["Elemwise{add,no_inplace} [id 0] ''   ", " |Elemwise{add,no_inplace} [id 1] 'C'   ",
                    " | |A [id 2]", " | |B [id 3]", " |Elemwise{add,no_inplace} [id 4] ''   ",
                    "   |D [id 5]", "   |E [id 6]"]),
    ("CHAR", True, ["Elemwise{add,no_inplace} [id A] ''   ", " |Elemwise{add,no_inplace} [id B] 'C'   ",
                    " |Elemwise{add,no_inplace} [id C] ''   ", "   |D [id D]", "   |E [id E]"]),
    ("", False, ["Elemwise{add,no_inplace}  ''   ", " |Elemwise{add,no_inplace}  'C'   ", " | |A ", " | |B ",
                 " |Elemwise{add,no_inplace}  ''   ", "   |D ", "   |E "]),
])
def test_debugprint_layout_and_arguments(ids, stop_on_name, expected):
    handle = io.StringIO()
    assert debugprint(_graph(), file=handle, ids=ids, stop_on_name=stop_on_name) is handle
    assert handle.getvalue() == "\n".join(expected) + "\n"
    assert debugprint(_graph(), file="str", ids=ids, stop_on_name=stop_on_name) == handle.getvalue()
    assert debugprint(_graph(), 1, file="str") == "Elemwise{add,no_inplace} [id A] ''   \n"   # depth first
    with pytest.raises(ValueError, match="debugprint: ids must be"):
        debugprint(_graph(), file="str", ids="hex")


def test_debugprint_prints_the_inner_graph_of_a_scan():
    k, A = T.iscalar("k"), T.dvector("A")
    result, _ = theano.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A), non_sequences=A, n_steps=k)
    lines = debugprint(result[-1], file="str").splitlines()
    inner = lines.index("Inner graphs of the scan ops:")
    assert lines[inner - 1] == "" and lines[inner + 2].startswith("Scan [id B]")
    assert lines[inner + 3].startswith(" >Elemwise{mul,no_inplace} [id")
    assert any(line.startswith(" > |A [id") and "-> [id" in line for line in lines[inner:])


def test_pydotprint_writes_dot_text_or_says_what_it_needs(tmp_path):
    x = T.dvector("x")
    target = tmp_path / "graph.dot"
    theano.printing.pydotprint(x * 2, outfile=str(target), format="dot", print_output_file=False)
    assert target.read_text().startswith("digraph")
    if not theano.printing.pydot_imported:
        with pytest.raises(RuntimeError, match="pydotprint: rendering format 'png' needs Graphviz"):
            theano.printing.pydotprint(x * 2, outfile=str(tmp_path / "graph.png"))
    else:
        assert theano.printing.pydotprint(x * 2, return_image=True)

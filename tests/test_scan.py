"""scan (Theano's loops), its gradient (a backward scan), and T.jacobian / T.hessian built on it.

The examples are those of Theano's scan tutorial, run on every backend against numpy loops,
finite differences, or jax's own derivatives."""
from collections import OrderedDict

import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from mlcore.graph.ops.scan import Scan


def compiled(backend, inputs, outputs):
    return mlcore.function(inputs, outputs, backend=backend)


# --- the tutorial's examples --------------------------------------------------------------------
def test_power_by_repeated_multiplication(backend):
    k = T.iscalar("k")
    A = T.dvector("A")
    result, updates = mlcore.scan(fn=lambda prior_result, A: prior_result * A, outputs_info=T.ones_like(A),
                                  non_sequences=A, n_steps=k)
    assert isinstance(updates, OrderedDict) and not updates
    power = compiled(backend, [A, k], [result, result[-1]])
    a = np.arange(1.0, 6.0)
    for steps in (3, 5):     # a new number of steps (on jax, a static argument: another trace)
        rows, last = power(a, steps)
        np.testing.assert_allclose(rows, [a ** (i + 1) for i in range(steps)])
        np.testing.assert_allclose(last, a ** steps)


def test_polynomial_from_coefficients(backend):
    coefficients = T.dvector("coefficients")
    x = T.dscalar("x")
    components, _ = mlcore.scan(fn=lambda coefficient, power, free_variable: coefficient * free_variable ** power,
                                outputs_info=None, sequences=[coefficients, T.arange(10000)], non_sequences=x)
    polynomial = compiled(backend, [coefficients, x], components.sum())
    c = np.array([1.0, 0.0, 2.0, -0.5])
    np.testing.assert_allclose(polynomial(c, 3.0), sum(ci * 3.0 ** i for i, ci in enumerate(c)))


def test_cumulative_sum_forwards_backwards_and_cut_short(backend):
    seq = T.dvector("seq")
    zero = T.as_tensor_variable(np.asarray(0, seq.dtype))
    forwards, _ = mlcore.scan(lambda v, total: total + v, sequences=seq, outputs_info=zero)
    backwards, _ = mlcore.scan(lambda v, total: total + v, sequences=seq, outputs_info=zero, go_backwards=True)
    short, _ = mlcore.scan(lambda v, total: total + v, sequences=seq, outputs_info=zero, n_steps=3)
    short_back, _ = mlcore.scan(lambda v, total: total + v, sequences=seq, outputs_info=zero, n_steps=-3)
    fn = compiled(backend, [seq], [forwards, backwards, short, short_back]
                  + T.grad(backwards.sum() + 10 * short.sum() + 100 * short_back.sum(), [seq]))
    s = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    got = fn(s)
    np.testing.assert_allclose(got[0], np.cumsum(s))
    np.testing.assert_allclose(got[1], np.cumsum(s[::-1]))
    np.testing.assert_allclose(got[2], np.cumsum(s[:3]))
    np.testing.assert_allclose(got[3], np.cumsum(s[::-1][:3]))   # Theano: a negative n_steps goes backwards
    # each row counts once per partial sum it is in: reversed, the last row is in all of them
    np.testing.assert_allclose(got[4], [1, 2, 3, 4, 5] + 10 * np.array([3, 2, 1, 0, 0])
                               + 100 * np.array([0, 0, 1, 2, 3]))


def rnn_reference(x, h0, W, U, b):
    h, rows = h0, []
    for x_t in x:
        h = np.tanh(x_t @ W + h @ U + b)
        rows.append(h)
    return np.array(rows)


def test_tanh_rnn_and_its_gradient_match_finite_differences(backend, rng, numeric_grad):
    x, W, U = T.dmatrix("x"), T.dmatrix("W"), T.dmatrix("U")
    h0, b = T.dvector("h0"), T.dvector("b")
    h, _ = mlcore.scan(lambda x_t, h_tm1, W, U, b: T.tanh(T.dot(x_t, W) + T.dot(h_tm1, U) + b),
                       sequences=x, outputs_info=h0, non_sequences=[W, U, b])
    weights = rng.normal(size=(5, 3))
    cost = (h * weights).sum()
    inputs = [x, h0, W, U, b]
    fn = compiled(backend, inputs, [h] + T.grad(cost, inputs))
    values = [rng.normal(size=(5, 2)), rng.normal(size=3), rng.normal(size=(2, 3)), 0.5 * rng.normal(size=(3, 3)),
              rng.normal(size=3)]
    got = fn(*values)
    np.testing.assert_allclose(got[0], rnn_reference(*values), rtol=1e-12)

    def numpy_cost(*args):
        return (rnn_reference(*args) * weights).sum()
    for k, g in enumerate(got[1:]):
        np.testing.assert_allclose(g, numeric_grad(numpy_cost, values, k), rtol=1e-6, atol=1e-8)


def test_jacobian_of_square_and_hessian_of_sum_of_squares(backend):
    x = T.dvector("x")
    fn = compiled(backend, [x], [T.jacobian(x ** 2, x), T.hessian((x ** 2).sum(), x)])
    v = np.array([1.0, -2.0, 0.5, 3.0])
    jacobian, hessian = fn(v)
    np.testing.assert_allclose(jacobian, np.diag(2 * v))
    np.testing.assert_allclose(hessian, 2 * np.eye(4))


def test_hessian_matches_jax(backend, rng):
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    x = T.dvector("x")
    rosenbrock = (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum() * T.exp(0.1 * x).sum()
    fn = compiled(backend, [x], [T.hessian(rosenbrock, x), T.jacobian(T.grad(rosenbrock, x), x)])
    v = rng.normal(size=5)

    def reference(x):
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum() * jnp.exp(0.1 * x).sum()
    expected = np.asarray(jax.hessian(reference)(jnp.asarray(v)))
    for got in fn(v):
        np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_jacobian_and_hessian_follow_theanos_forms_and_errors():
    x, z = T.dvector("x"), T.dvector("z")
    assert isinstance(T.jacobian(x * z, (x, z)), tuple) and isinstance(T.jacobian(x * z, [x]), list)
    assert isinstance(T.hessian((x * z).sum(), [x, z]), list)
    s = T.dscalar("s")
    scalar, vectors = mlcore.function([s, x], [T.jacobian(3 * s, s), T.jacobian(x * 2, x)], backend="numpy")(
        2.0, np.ones(3))
    assert scalar == 3.0 and np.array_equal(vectors, 2 * np.eye(3))
    disconnected = T.jacobian(1 + x, z, disconnected_inputs="ignore")
    assert np.array_equal(mlcore.function([x, z], disconnected, backend="numpy")(np.ones(4), np.ones(4)),
                          np.zeros((4, 4)))
    with pytest.raises(ValueError):
        T.jacobian(T.dmatrix() * 2, x)
    with pytest.raises(TypeError):
        T.jacobian(np.ones(3), x)
    with pytest.raises(ValueError):
        T.hessian(x ** 2, x)
    with pytest.raises(ValueError):
        T.hessian((T.dmatrix() ** 2).sum(), T.dmatrix())


# --- taps, closures, truncation, several outputs --------------------------------------------------
def test_fibonacci_with_output_taps_and_its_gradient(backend, numeric_grad):
    start = T.dvector("start")
    fibonacci, _ = mlcore.scan(lambda a, b: a + b, outputs_info=dict(initial=start, taps=[-2, -1]), n_steps=8)
    weights = np.arange(1.0, 9.0)
    fn = compiled(backend, [start], [fibonacci, T.grad((fibonacci * weights).sum(), start)])

    def reference(s):
        rows = list(s)
        for _ in range(8):
            rows.append(rows[-2] + rows[-1])
        return np.array(rows[2:])
    values, grad = fn(np.array([0.0, 1.0]))
    np.testing.assert_allclose(values, [1, 2, 3, 5, 8, 13, 21, 34])
    np.testing.assert_allclose(grad, numeric_grad(lambda s: (reference(s) * weights).sum(), [np.zeros(2)], 0))


def test_sequence_taps_read_neighbouring_rows(backend):
    x = T.dvector("x")
    mean3, _ = mlcore.scan(lambda before, now, after: (before + now + after) / 3,
                           sequences=dict(input=x, taps=[-1, 0, 1]))
    fn = compiled(backend, [x], [mean3, T.grad(mean3.sum(), x)])
    v = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    means, grad = fn(v)
    np.testing.assert_allclose(means, (v[:-2] + v[1:-1] + v[2:]) / 3)
    np.testing.assert_allclose(grad, np.array([1, 2, 3, 2, 1]) / 3)


def test_variables_from_outside_are_implicit_non_sequences(backend):
    scale = mlcore.shared(np.array([1.0, 2.0]), name="scale")
    offset = T.dvector("offset")
    x = T.dvector("x")
    rows, _ = mlcore.scan(lambda v: v * scale + offset ** 2, sequences=x)   # neither is passed to scan
    fn = compiled(backend, [x, offset], [rows, T.grad(rows.sum(), offset)])
    got, grad = fn(np.array([1.0, 2.0, 3.0]), np.array([1.0, -1.0]))
    np.testing.assert_allclose(got, np.outer([1, 2, 3], [1, 2]) + 1)
    np.testing.assert_allclose(grad, [6.0, -6.0])
    scale.set_value(np.array([10.0, 0.0]))              # the shared value is read at each call
    np.testing.assert_allclose(fn(np.array([1.0]), np.zeros(2))[0], [[10.0, 0.0]])


def test_truncated_gradient_goes_back_only_that_many_steps(backend):
    x, h0 = T.dvector("x"), T.dscalar("h0")
    total, _ = mlcore.scan(lambda v, acc: acc + v, sequences=x, outputs_info=h0, truncate_gradient=2)
    fn = compiled(backend, [x, h0], T.grad(total.sum(), [x, h0]))
    grad_x, grad_h0 = fn(np.ones(5), 0.0)
    np.testing.assert_allclose(grad_x, [0, 0, 0, 2, 1])
    assert grad_h0 == 0.0
    grad_x, grad_h0 = fn(np.ones(2), 0.0)     # two steps: the gradient reaches h0
    np.testing.assert_allclose(grad_x, [2, 1])
    assert grad_h0 == 2.0


def test_several_outputs_map_and_folds(backend):
    x = T.dvector("x")
    (doubled, running), _ = mlcore.scan(lambda v, acc: [2 * v, acc + v], sequences=x,
                                        outputs_info=[None, T.as_tensor_variable(np.float64(0))])
    squares, _ = mlcore.map(lambda v: v ** 2, x)
    digits = T.as_tensor_variable(np.float64(0))
    left, _ = mlcore.foldl(lambda v, acc: acc * 10 + v, x, digits)
    right, _ = mlcore.foldr(lambda v, acc: acc * 10 + v, x, digits)
    total, _ = mlcore.reduce(lambda v, acc: acc + v, x, digits)
    fn = compiled(backend, [x], [doubled, running, squares, left, right, total])
    got = fn(np.array([1.0, 2.0, 3.0]))
    for g, e in zip(got, [[2, 4, 6], [1, 3, 6], [1, 4, 9], 123, 321, 6]):
        np.testing.assert_allclose(g, e)


def test_no_steps_give_empty_outputs(backend):
    x = T.dmatrix("x")
    rows, _ = mlcore.scan(lambda r: T.tanh(r[1:]), sequences=x)
    empty = compiled(backend, [x], rows)(np.zeros((0, 4)))
    assert empty.shape[0] == 0
    if backend != "theano":     # PyTensor's scan gives each other dim 0 when no step runs
        assert empty.shape == (0, 3)


def test_second_order_and_nested_scans(backend, rng):
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    x, w = T.dvector("x"), T.dvector("w")
    h, _ = mlcore.scan(lambda x_t, h, w: T.tanh(x_t * w + h), sequences=x, outputs_info=T.zeros_like(w),
                       non_sequences=w)
    cost = (h[-1] ** 2).sum()

    def cumulative_rows(row):
        return mlcore.scan(lambda v, acc: acc + v, sequences=row, outputs_info=T.as_tensor_variable(0.0) * w[0])[0]
    nested, _ = mlcore.scan(cumulative_rows, sequences=x.dimshuffle(0, "x") * w)
    fn = compiled(backend, [x, w], [T.hessian(cost, w), nested, T.grad((nested ** 2).sum(), w)])
    xv, wv = rng.normal(size=4), rng.normal(size=3)

    def reference_cost(w):
        h = jnp.zeros_like(w)
        for x_t in xv:
            h = jnp.tanh(x_t * w + h)
        return (h ** 2).sum()
    hessian, rows, grad = fn(xv, wv)
    np.testing.assert_allclose(hessian, np.asarray(jax.hessian(reference_cost)(jnp.asarray(wv))), rtol=1e-10)
    np.testing.assert_allclose(rows, np.cumsum(np.outer(xv, wv), axis=1))
    expected = jax.grad(lambda w: (jnp.cumsum(jnp.outer(xv, w), axis=1) ** 2).sum())(jnp.asarray(wv))
    np.testing.assert_allclose(grad, np.asarray(expected), rtol=1e-10)


def test_shared_variable_updated_each_step(backend):
    k = mlcore.shared(0)
    n_sym = T.iscalar("n_sym")
    results, updates = mlcore.scan(lambda: {k: (k + 1)}, n_steps=n_sym)
    accumulator = mlcore.function([n_sym], [], updates=updates, allow_input_downcast=True, backend=backend)
    assert results is None and k.get_value() == 0
    accumulator(5)
    assert k.get_value() == 5
    total = mlcore.shared(np.zeros(2))
    x = T.dmatrix("x")
    seen, updates = mlcore.scan(lambda row: (total + row, [(total, total + row)]), sequences=x)
    step = mlcore.function([x], seen, updates=updates, backend=backend)
    rows = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(step(rows), [[1, 2], [4, 6]])   # each step reads the value the last one left
    np.testing.assert_allclose(total.get_value(), [4, 6])


def test_random_draws_in_fn_are_fresh_each_step_and_call(backend):
    streams = T.random.RandomStreams(1234)
    x, w = T.dvector("x"), T.dscalar("w")
    noisy, updates = mlcore.scan(lambda v: v * w + streams.normal((), 0.0, 1.0), sequences=x)
    assert [key for key in updates] == [key for key, _ in streams.state_updates]
    fn = mlcore.function([x, w], [noisy, T.grad(noisy.sum(), w)], updates=updates, backend=backend)
    values = np.arange(6.0)
    first, grad = fn(values, 2.0)
    second, _ = fn(values, 2.0)
    noise = first - 2.0 * values
    assert len(set(noise.round(12))) == 6 and not np.allclose(first, second)
    assert grad == values.sum()


# --- the graph: one op, its types, and what scan refuses -------------------------------------------
def test_scan_is_one_op_with_static_shapes_where_known():
    x = T.dmatrix("x")
    counted, _ = mlcore.scan(lambda h: h * 2, outputs_info=x, n_steps=4)
    assert isinstance(counted.owner.op, Scan) and counted.type.shape == (4, None, None)
    fixed = T.tensor("float64", shape=(6, 3))
    rows, _ = mlcore.scan(lambda r: r.sum(), sequences=fixed)
    assert rows.type.shape == (6,)
    free, _ = mlcore.scan(lambda r: r * 2, sequences=x)
    assert free.type.shape == (None, None)


def test_what_scan_refuses():
    x = T.dvector("x")
    acc = T.as_tensor_variable(np.float64(0))
    counter = mlcore.shared(np.float64(0), name="counter")
    with pytest.raises(TypeError, match="not a shared variable"):
        mlcore.scan(lambda v: (v, {x: x + 1}), sequences=x)
    with pytest.raises(ValueError, match="outputs_info"):
        mlcore.scan(lambda v, a: [v, a + v], sequences=x, outputs_info=[acc])
    with pytest.raises(ValueError, match="number of steps"):
        mlcore.scan(lambda a: a + 1, outputs_info=acc)
    with pytest.raises(ValueError, match="n_steps"):
        mlcore.scan(lambda a: a + 1, outputs_info=acc, n_steps=T.dscalar())
    with pytest.raises(ValueError, match="future"):
        mlcore.scan(lambda a: a + 1, outputs_info=dict(initial=x, taps=[1]), n_steps=2)
    with pytest.raises(TypeError, match="dtype"):
        mlcore.scan(lambda a: a + 0.5, outputs_info=T.as_tensor_variable(np.int64(0)), n_steps=2)
    with pytest.raises(ValueError, match="strict"):
        mlcore.scan(lambda v: v * counter, sequences=x, strict=True)
    listed, _ = mlcore.scan(lambda v, c: v * c, sequences=x, non_sequences=counter, strict=True)
    noise = T.random.RandomStreams(2).normal((3,))        # drawn outside: the same numbers every step
    same, _ = mlcore.scan(lambda v: v + noise, sequences=x)
    rows = mlcore.function([x], same, backend="numpy")(np.zeros(2))
    assert np.array_equal(rows[0], rows[1]) and listed.owner is not None

"""Every pullback against central finite differences in float64 (the cost is the output weighted
by fixed random numbers, so every element's gradient counts), second derivatives, and grad()'s
contract: integer wrt, disconnected inputs, zero_grad/disconnected_grad, consider_constant."""
import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from mlcore.graph.gradient import DisconnectedInputError
from op_cases import BLOCKED, CASES, float_positions, make_inputs

PARAMS = [pytest.param(case, patterns, id="%s-%s" % (case.name, "-".join(p or "0" for p in patterns)))
          for case in CASES if case.grad and case.name not in BLOCKED
          for patterns in (case.patterns or [tuple(p for _, p in case.inputs)])]


def compile_(inputs, outputs):
    return mlcore.function(inputs, outputs, backend="numpy", on_unused_input="ignore")


@pytest.mark.parametrize("case, patterns", PARAMS)
def test_pullback_matches_finite_differences(case, patterns, rng, numeric_grad):
    inputs, values = make_inputs(case, rng, "float64", patterns)
    output = case.build(*inputs)
    weights = rng.normal(size=compile_(inputs, output)(*values).shape)
    cost = (output * weights).sum()
    wrt = float_positions(case)
    grads = T.grad(cost, [inputs[k] for k in wrt], disconnected_inputs="ignore")
    got = compile_(inputs, grads)(*values)
    f = compile_(inputs, cost)
    for k, g in zip(wrt, got):
        assert g.shape == values[k].shape and g.dtype == np.float64
        np.testing.assert_allclose(g, numeric_grad(f, values, k), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("fn", [T.tanh, T.exp, T.nnet.sigmoid, lambda x: x * x * x, lambda x: x * T.sin(x)],
                         ids=["tanh", "exp", "sigmoid", "mul", "mul_sin"])
def test_second_derivatives_of_scalar_functions(fn, rng, numeric_grad):
    x = T.dvector("x")
    g = T.grad(fn(x).sum(), x)
    hess_diag = T.grad(g.sum(), x)                 # elementwise: the Hessian is diagonal
    values = [rng.uniform(-1.5, 1.5, size=4)]
    g_fn = compile_([x], g)
    expected = np.array([numeric_grad(lambda v: g_fn(v)[i], values, 0)[i] for i in range(4)])
    np.testing.assert_allclose(compile_([x], hess_diag)(*values), expected, rtol=1e-6, atol=1e-8)


def test_second_derivative_of_softmax_via_grad_of_grad(rng, numeric_grad):
    x = T.dmatrix("x")
    c = rng.normal(size=(2, 4))
    g = T.grad((T.nnet.softmax(x) * c).sum(), x)
    cost2 = (g * g).sum()                          # a scalar of the first gradient
    values = [rng.normal(size=(2, 4))]
    got = compile_([x], T.grad(cost2, x))(*values)
    np.testing.assert_allclose(got, numeric_grad(compile_([x], cost2), values, 0), rtol=1e-6, atol=1e-8)


def test_gradient_of_a_matrix_product_chain(rng, numeric_grad):
    x, w = T.dmatrix("x"), T.dmatrix("w")
    cost = T.tanh(T.dot(T.dot(x, w), w.T)).sum() + (w ** 2).sum()
    values = [rng.normal(size=(3, 4)), rng.normal(size=(4, 2))]
    gw = compile_([x, w], T.grad(cost, w))(*values)
    np.testing.assert_allclose(gw, numeric_grad(compile_([x, w], cost), values, 1), rtol=1e-6, atol=1e-8)


def test_a_kernels_gradient_over_a_batch_of_sequences_is_one_matrix_product(rng):
    """Dense on (batch, steps, features): the kernel's gradient sums over batch and steps as one product
    of the stacked rows, as XLA's dot_general contracts both dims, not (batch, features, units) products
    summed afterwards (32x the kernel's memory at batch 32)."""
    x = T.tensor("float64", shape=(None, 5, 3), name="x")
    w = T.dmatrix("w")
    grad = T.grad((T.tanh(T.dot(x, w)) ** 2).sum(), w)
    products = [node for node in mlcore.function([x, w], grad, backend="numpy").maker.fgraph.toposort()
                if "Matmul" in type(node.op).__name__ or "Gemm" in type(node.op).__name__]
    forward = [node for node in products if node.inputs[0] is x]
    assert len(forward) == 1 and forward[0].outputs[0].ndim == 3
    assert len(products) == 2 and all(node.outputs[0].ndim == 2 for node in products if node is not forward[0])


def test_grad_with_respect_to_an_integer_variable_is_real_valued():
    i = T.ivector("i")      # Theano's rule: the slope along the same values as floats
    cost = (T.cast(i, "float64") * 2.0).sum()
    assert compile_([i], T.grad(cost, i))(np.array([1, 2], "int32")).tolist() == [2.0, 2.0]
    with pytest.raises(TypeError, match="cost must be a scalar"):
        T.grad(T.dvector(), T.dvector())


def test_disconnected_inputs_raise_unless_ignored():
    x, y = T.dvector("x"), T.dvector("y")
    with pytest.raises(DisconnectedInputError, match="does not depend on y"):
        T.grad(x.sum(), [x, y])
    gx, gy = T.grad(x.sum(), [x, y], disconnected_inputs="ignore")
    got = compile_([x, y], [gx, gy])(np.ones(2), np.ones(3))
    assert got[0].tolist() == [1, 1] and got[1].tolist() == [0, 0, 0]


def test_zero_grad_and_disconnected_grad():
    x = T.dvector("x")
    value = np.array([1.0, -2.0])
    for block in (T.zero_grad, T.disconnected_grad):
        g = T.grad((x * block(x)).sum(), x)        # d/dx [x * c(x)] with c held constant is c(x)
        np.testing.assert_allclose(compile_([x], g)(value), value)
    assert compile_([x], T.grad(T.zero_grad(x).sum(), x, disconnected_inputs="ignore"))(value).tolist() == [0, 0]
    with pytest.raises(DisconnectedInputError):
        T.grad(T.disconnected_grad(x).sum(), x)


def test_consider_constant_and_known_grads():
    x = T.dvector("x")
    y = T.exp(x)
    g = T.grad((y * x).sum(), x, consider_constant=[y])          # d/dx (c * x) with c = exp(x) held
    np.testing.assert_allclose(compile_([x], g)(np.ones(2)), [np.e, np.e])
    h = T.nnet.softmax(x)
    g = T.grad(T.log(h).sum() + x.sum(), x, consider_constant=[h])   # held where stabilize rewrites
    np.testing.assert_allclose(compile_([x], g)(np.zeros(2)), [1, 1])
    gk = T.grad(None, x, known_grads={y: T.ones_like(y) * 2})
    np.testing.assert_allclose(compile_([x], gk)(np.zeros(2)), [2, 2])


def test_gradient_dtypes_follow_the_variables():
    x32 = T.fvector("x")
    g = T.grad((T.cast(x32, "float64") ** 2).sum() + (x32 * 2.0).sum(), x32)
    assert g.dtype == "float32"
    np.testing.assert_allclose(compile_([x32], g)(np.ones(2, "float32")), [4, 4])
    w = mlcore.shared(np.ones(3, "float32"))
    assert T.grad((w * 0.5).sum(), w).dtype == "float32"


def test_a_variable_used_twice_sums_its_gradients():
    x = T.dscalar("x")
    y = x * x + T.exp(x) + x
    assert compile_([x], T.grad(y, x))(0.5) == pytest.approx(2 * 0.5 + np.exp(0.5) + 1)


def test_prod_gradient_with_zeros(numeric_grad):
    x = T.dmatrix("x")
    cost = (x.prod(axis=1) * np.array([1.0, 2.0, 3.0])).sum() + x.prod()
    values = [np.array([[1.0, 2.0, 3.0], [0.0, 2.0, 3.0], [0.0, 0.0, 3.0]])]
    got = compile_([x], T.grad(cost, x))(*values)
    np.testing.assert_allclose(got, numeric_grad(compile_([x], cost), values, 0), atol=1e-8)
    assert np.isfinite(got).all()


def test_alloc_of_a_vector_sums_the_gradient_over_the_new_dims(numeric_grad, rng):
    v = T.dvector("v")
    cost = (T.alloc(v, 3, 4) * rng.normal(size=(3, 4))).sum()
    values = [rng.normal(size=4)]
    np.testing.assert_allclose(compile_([v], T.grad(cost, v))(*values),
                               numeric_grad(compile_([v], cost), values, 0), rtol=1e-6)


def test_rop_of_an_output_that_does_not_depend_on_wrt():
    """Theano's Rop arguments: disconnected_outputs says what an f that depends on none of wrt does
    (raise by default), return_disconnected what its product is."""
    import warnings
    x, y, v = T.dvector("x"), T.dvector("y"), T.dvector("v")
    with pytest.raises(DisconnectedInputError, match="does not depend"):
        T.Rop(y * 2, x, v)
    zero = T.Rop(y * 2, x, v, disconnected_outputs="ignore")
    np.testing.assert_array_equal(mlcore.function([y, v], zero, on_unused_input="ignore")(np.ones(2), np.ones(2)),
                                  [0, 0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        both = T.Rop([x * 3, y], x, v, disconnected_outputs="warn", return_disconnected="None")
    assert both[1] is None and any("does not depend" in str(w.message) for w in caught)
    np.testing.assert_array_equal(mlcore.function([x, v], both[0])(np.ones(2), np.array([1.0, 2.0])), [3, 6])


def test_the_integer_size_of_a_mean_adds_no_zeros_to_the_gradient():
    """x.shape[0] in a mean is an integer made from x: its slope is zero, and the gradient says so by
    adding nothing (zeros go only to a wrt reached through integers alone, as argmax(x)'s)."""
    x = T.dmatrix("x")
    g = T.grad(T.tanh(x).mean(), x)
    ops = {type(node.op).__name__ for node in mlcore.graph.basic.toposort([g])}
    assert "ZerosLike" not in ops, ops
    np.testing.assert_allclose(g.eval({x: np.ones((2, 2))}), np.full((2, 2), (1 - np.tanh(1) ** 2) / 4))
    through_argmax = T.grad(T.cast(T.argmax(x, axis=1), "float64").sum(), x)
    np.testing.assert_array_equal(through_argmax.eval({x: np.eye(2)}), np.zeros((2, 2)))

"""Ops written as Theano's "Extending Theano" tutorial writes them: make_node returning
Apply(self, inputs, [x.type()]) or itypes/otypes, a Python perform(node, inputs, output_storage),
infer_shape, grad (or L_op) with grad_undefined and DisconnectedType, __props__ for equality.
They run on every backend (jax calls perform back on the host) and differentiate through their
grad; values against numpy, gradients by finite differences (verify_grad)."""
import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from mlcore.gradient import DisconnectedType, NullGradient, NullTypeGradError, grad_undefined
from mlcore.tests import unittest_tools as utt


class DoubleOp1(mlcore.Op):
    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return mlcore.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * 2

    def infer_shape(self, node, i0_shapes):
        return i0_shapes

    def grad(self, inputs, output_grads):
        return [output_grads[0] * 2]

    def R_op(self, inputs, eval_points):
        return eval_points if eval_points[0] is None else self.grad(inputs, eval_points)


class DoubleOp2(mlcore.Op):
    __props__ = ()
    itypes = [T.dmatrix]
    otypes = [T.dmatrix]

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] * 2

    def infer_shape(self, fgraph, node, i0_shapes):        # PyTensor's signature
        return i0_shapes

    def L_op(self, inputs, outputs, output_grads):
        return [output_grads[0] * 2]


class AXPBOp(mlcore.Op):
    """a * x + b, the tutorial's op with parameters."""
    __props__ = ("a", "b")

    def __init__(self, a, b):
        self.a, self.b = a, b

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return mlcore.Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = self.a * inputs[0] + self.b

    def infer_shape(self, node, i0_shapes):
        return i0_shapes

    def grad(self, inputs, output_grads):
        return [self.a * output_grads[0]]


class ScaleByIndex(mlcore.Op):
    """Two outputs, x * k and x + k, with an integer input k: a gradient only for x, and Theano's
    ways to say so for k."""
    __props__ = ("undefined",)

    def __init__(self, undefined=False):
        self.undefined = undefined

    def make_node(self, x, k):
        x, k = T.as_tensor_variable(x), T.as_tensor_variable(k)
        return mlcore.Apply(self, [x, k], [x.type(), x.type()])

    def perform(self, node, inputs, output_storage):
        x, k = inputs
        output_storage[0][0], output_storage[1][0] = x * k, x + k

    def infer_shape(self, node, shapes):
        return [shapes[0], shapes[0]]

    def grad(self, inputs, output_grads):
        x, k = inputs
        gx = output_grads[0] * k + output_grads[1]
        return [gx, grad_undefined(self, 1, k) if self.undefined else DisconnectedType()()]


def test_tutorial_ops_run_on_every_backend(backend, rng):
    x = T.dmatrix("x")
    value = rng.normal(size=(3, 4))
    f = mlcore.function([x], [DoubleOp1()(x), DoubleOp2()(x), AXPBOp(2.0, 1.0)(x)], backend=backend)
    doubled, doubled2, axpb = f(value)
    np.testing.assert_array_equal(doubled, value * 2)
    np.testing.assert_array_equal(doubled2, value * 2)
    np.testing.assert_array_equal(axpb, 2 * value + 1)


def test_their_gradients_come_from_grad_and_l_op(backend, rng):
    x = T.dmatrix("x")
    value = rng.normal(size=(3, 4))
    cost = (DoubleOp1()(x) ** 2).sum() + DoubleOp2()(x).sum() + AXPBOp(3.0, 1.0)(x).sum()
    (got,) = mlcore.function([x], [T.grad(cost, x)], backend=backend)(value)
    np.testing.assert_allclose(got, 8 * value + 2 + 3, rtol=1e-12)
    for op in (DoubleOp1(), DoubleOp2(), AXPBOp(2.0, 0.5)):
        T.verify_grad(op, [value], rng=np.random.default_rng(0))


def test_rop_through_a_tutorial_op(rng):
    x, v = T.dvector("x"), T.dvector("v")
    value, direction = rng.normal(size=3), rng.normal(size=3)
    (got,) = mlcore.function([x, v], [T.Rop(DoubleOp1()(x) * x, x, v)], backend="numpy")(value, direction)
    np.testing.assert_allclose(got, 4 * value * direction, rtol=1e-12)


def test_props_give_equality_and_hashing():
    assert AXPBOp(2.0, 1.0) == AXPBOp(2.0, 1.0) and hash(AXPBOp(2.0, 1.0)) == hash(AXPBOp(2.0, 1.0))
    assert AXPBOp(2.0, 1.0) != AXPBOp(2.0, 3.0) and DoubleOp1() != DoubleOp2()
    assert str(AXPBOp(2.0, 1.0)) == "AXPBOp{2.0, 1.0}"


def test_itypes_are_checked():
    with pytest.raises(TypeError, match="input 0 is .* but its itypes say"):
        DoubleOp2()(T.dvector("v"))
    with pytest.raises(TypeError, match="takes 1 inputs"):
        DoubleOp2()(T.dmatrix(), T.dmatrix())


def test_two_outputs_and_a_disconnected_integer_input(backend, rng):
    x, k = T.dvector("x"), T.lscalar("k")
    times, plus = ScaleByIndex()(x, k)
    value = rng.normal(size=4)
    got = mlcore.function([x, k], [times, plus, T.grad((times + plus ** 2).sum(), x)], backend=backend)(value, 3)
    np.testing.assert_array_equal(got[0], value * 3)
    np.testing.assert_array_equal(got[1], value + 3)
    np.testing.assert_allclose(got[2], 3 + 2 * (value + 3), rtol=1e-12)


def test_an_undefined_gradient_is_refused_where_the_cost_needs_it(rng):
    x, y = T.dvector("x"), T.dvector("y")
    times, _ = ScaleByIndex(undefined=True)(x, y.sum())       # a float k, whose gradient is undefined
    assert T.grad(times.sum(), x) is not None                # x's gradient does not need k's
    with pytest.raises(NullTypeGradError, match="input 1 .* is undefined"):
        T.grad(times.sum(), y)
    assert isinstance(T.grad(times.sum(), y, null_gradients="return"), NullGradient)


def test_an_op_without_output_shapes_runs_op_by_op_on_jax_but_not_in_a_loop():
    """jax's callback from a jit needs the output shapes: without infer_shape the function runs op
    by op instead; a scan's body is traced whole, so there the op needs its infer_shape."""
    class NoShape(mlcore.Op):
        def make_node(self, x):
            x = T.as_tensor_variable(x)
            return mlcore.Apply(self, [x], [x.type()])

        def perform(self, node, inputs, output_storage):
            output_storage[0][0] = inputs[0][::-1] * 2
    x = T.dvector("x")
    for backend in ("numpy", "jax"):
        np.testing.assert_array_equal(mlcore.function([x], NoShape()(x) + 1, backend=backend)(np.arange(3.0)),
                                      [5, 3, 1])
    m = T.dmatrix("m")
    rows, _ = mlcore.scan(lambda row: NoShape()(row), sequences=[m])
    with pytest.raises(NotImplementedError, match="infer_shape"):
        mlcore.function([m], rows, backend="jax")(np.ones((2, 2)))


def test_a_perform_that_writes_nothing_is_an_error():
    class Forgetful(DoubleOp1):
        def perform(self, node, inputs, output_storage):
            pass
    x = T.dvector("x")
    with pytest.raises(ValueError, match="left output 0 unset"):
        mlcore.function([x], Forgetful()(x), backend="numpy")(np.ones(2))


def test_grads_theano_arguments():
    w, cost_input = T.dvector("w"), T.dvector("u")
    cost = (w ** 2).sum()
    cost.name = "c"
    assert T.grad(cost, w).name == "(dc/dw)"
    assert T.grad(cost, w, add_names=False).name is None
    assert T.grad(cost, cost_input, disconnected_inputs="ignore", return_disconnected="None") is None
    zero = T.grad(cost, cost_input, disconnected_inputs="ignore")
    np.testing.assert_array_equal(zero.eval({cost_input: np.ones(2)}), [0, 0])
    with pytest.raises(ValueError, match="return_disconnected"):
        T.grad(cost, w, return_disconnected="nothing")


class TestDoubleAsTheTutorialTestsIt(utt.InferShapeTester):
    """The tutorial's own test class: values, infer_shape (the shapes computed without the op) and
    the gradient by utt.verify_grad."""

    def setUp(self):
        super().setUp()
        self.op_class = DoubleOp1
        self.op = DoubleOp1()

    def test_basic(self):
        x = T.matrix()
        inp = np.asarray(np.random.rand(5, 4), dtype=mlcore.config.floatX)
        utt.assert_allclose(inp * 2, mlcore.function([x], self.op(x))(inp))

    def test_infer_shape(self):
        x = T.matrix()
        self._compile_and_check([x], [self.op(x)], [np.asarray(np.random.rand(5, 6), dtype=mlcore.config.floatX)],
                                self.op_class)

    def test_grad(self):
        utt.verify_grad(self.op, [np.random.rand(5, 7, 2)])


def test_compile_and_check_catches_an_op_run_for_its_shape():
    class NoInferShape(DoubleOp1):
        infer_shape = None
    tester = utt.InferShapeTester()
    tester.setUp()
    x = T.dmatrix("x")
    saved = dict(mlcore.config._overrides)
    mlcore.config.set_backend("numpy")          # jax could not run it at all without its shapes
    try:
        with pytest.raises(AssertionError, match="infer_shape was not used"):
            tester._compile_and_check([x], [NoInferShape()(x)], [np.ones((2, 3))], NoInferShape)
    finally:
        mlcore.config._overrides.clear()
        mlcore.config._overrides.update(saved)

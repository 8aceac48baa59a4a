"""theano.scalar (mlcore.scalar): scalar variables and ops, user ScalarOps through Elemwise and
CAReduce, Composite, on every backend, checked against numpy and finite differences."""
import numpy as np
import pytest

import mlcore as theano
import mlcore.tensor as T
from mlcore import scalar as S


class Softsign(S.UnaryScalarOp):
    """x / (1 + |x|), written as in Theano's "Extending Theano": impl on numbers, grad on scalars."""

    def impl(self, x):
        return x / (1.0 + abs(x))

    def grad(self, inputs, output_gradients):
        (x,), (gz,) = inputs, output_gradients
        return [gz / S.sqr(1.0 + S.abs_(x))]


class PyMax(S.BinaryScalarOp):
    def impl(self, a, b):
        return max(a, b)


softsign = Softsign(S.upgrade_to_float, name="softsign")
VALUES = np.array([[-2.0, 0.5, 0.0], [3.0, -0.25, 1.5]])


def test_types_print_and_make_variables():
    x = S.float64("x")
    assert x.type == S.float64 and x.dtype == "float64" and x.ndim == 0
    assert str(S.float64) == "float64" and repr(S.Scalar("int32")) == "Scalar(int32)"
    assert S.ScalarType("floatX").dtype == theano.config.floatX
    assert [v.name for v in S.floats("ab")] == ["a", "b"] and S.ints("n").dtype == "int64"
    assert S.constant(1.5).dtype == "float32" and S.constant(0.1).dtype == "float64" and S.constant(7).dtype == "int8"
    assert S.int32 in S.int_types and S.complex128 in S.complex_types and S.bool.dtype == "bool"


def test_scalar_ops_in_a_function(backend):
    x, y = S.floats("xy")
    outs = [S.add(x, y, 1.0), S.mul(x, y, y), S.sub(x, y), S.true_div(x, y), S.int_div(x, y), S.neg(x),
            S.exp(x), S.log(y), S.sqrt(y), S.sin(x), S.cos(x), S.tanh(x), S.maximum(x, y), S.minimum(x, y),
            S.pow(y, x), S.abs_(x), S.sqr(x), S.switch(S.lt(x, y), x, y), S.clip(x, -1.0, 1.0),
            S.identity(x), S.second(x, y), S.convert_to_float32(x), S.cast(y, "int32")]
    got = theano.function([x, y], outs, backend=backend)(-1.5, 4.0)
    a, b = -1.5, 4.0
    want = [a + b + 1, a * b * b, a - b, a / b, a // b, -a, np.exp(a), np.log(b), np.sqrt(b), np.sin(a),
            np.cos(a), np.tanh(a), 4.0, -1.5, b ** a, 1.5, a * a, a, -1.0, a, b, a, 4]
    np.testing.assert_allclose([float(g) for g in got], want, rtol=1e-6)
    assert got[-2].dtype == "float32" and got[-1].dtype == "int32"
    i, j = S.ints("ij")
    comparisons = [S.eq(i, j), S.neq(i, j), S.lt(i, j), S.gt(i, j), S.le(i, j), S.ge(i, j),
                   S.and_(i, j), S.or_(i, j), S.xor(i, j), S.invert(i)]
    got = theano.function([i, j], comparisons, backend=backend)(6, 3)
    assert [int(g) for g in got] == [0, 1, 0, 1, 0, 1, 6 & 3, 6 | 3, 6 ^ 3, ~6]


def test_scalar_gradients_match_finite_differences(backend):
    x, y = S.floats("xy")
    cost = S.mul(S.exp(S.sin(x)), S.sqr(y)) + S.true_div(x, y)
    f = theano.function([x, y], T.grad(cost, [x, y]), backend=backend)
    value = lambda a, b: np.exp(np.sin(a)) * b * b + a / b  # noqa: E731
    eps, a, b = 1e-6, 0.3, 1.7
    numeric = [(value(a + eps, b) - value(a - eps, b)) / (2 * eps), (value(a, b + eps) - value(a, b - eps)) / (2 * eps)]
    np.testing.assert_allclose([float(g) for g in f(a, b)], numeric, rtol=1e-6)


def test_elemwise_and_careduce_of_builtin_scalar_ops(backend):
    a, b = T.dmatrices("a", "b")
    added = T.elemwise.Elemwise(S.add)(a, b)
    assert isinstance(T.elemwise.Elemwise(S.exp)(a).owner.op, T.Elemwise)
    sums = [T.elemwise.CAReduce(op, axis=axis)(a) for op, axis in
            ((S.add, 0), (S.mul, 1), (S.maximum, None), (S.minimum, [0, 1]))]
    f = theano.function([a, b], [added, a + b] + sums, backend=backend)
    got = f(VALUES, 2 * VALUES)
    np.testing.assert_allclose(got[0], got[1])
    for value, want in zip(got[2:], [VALUES.sum(0), VALUES.prod(1), VALUES.max(), VALUES.min()]):
        np.testing.assert_allclose(value, want)
    assert isinstance(sums[0].owner.op, T.CAReduce)
    bits = T.imatrix("bits")
    ints = np.array([[1, 2, 4], [3, 5, 6]], dtype="int32")
    folded = [T.elemwise.CAReduce(op, axis=1)(bits) for op in (S.and_, S.or_, S.xor)]
    got = theano.function([bits], folded, backend=backend)(ints)
    np.testing.assert_array_equal(got, [np.bitwise_and.reduce(ints, 1), np.bitwise_or.reduce(ints, 1),
                                        np.bitwise_xor.reduce(ints, 1)])


def test_user_scalar_op_on_tensors_and_scalars(backend):
    m = T.dmatrix("m")
    y = T.elemwise.Elemwise(softsign)(m)
    f = theano.function([m], [y, T.grad(y.sum(), m)], backend=backend)
    out, grad = f(VALUES)
    np.testing.assert_allclose(out, VALUES / (1 + abs(VALUES)))
    np.testing.assert_allclose(grad, 1 / (1 + abs(VALUES)) ** 2)
    x = S.float32("x")
    s = softsign(x)
    got, g = theano.function([x], [s, T.grad(s, x)], backend=backend)(3.0)
    assert got.dtype == "float32" and np.isclose(got, 0.75) and np.isclose(g, 1 / 16)
    row = T.TensorType("float64", (1, None))("row")
    both = T.elemwise.Elemwise(PyMax(S.upcast_out))(m, row)     # broadcasts as Theano's Elemwise
    np.testing.assert_allclose(theano.function([m, row], both, backend=backend)(VALUES, VALUES[:1] * 0),
                               np.maximum(VALUES, 0))
    folded = T.elemwise.CAReduce(PyMax(S.upcast_out), axis=[0, 1])(m)
    assert float(theano.function([m], folded, backend=backend)(VALUES)) == VALUES.max()


def test_user_op_gradient_broadcasts_back(backend):
    m, row = T.dmatrix("m"), T.TensorType("float64", (1, None))("row")

    class Mul(S.BinaryScalarOp):
        def impl(self, a, b):
            return a * b

        def grad(self, inputs, gout):
            (a, b), (gz,) = inputs, gout
            return [gz * b, gz * a]
    out = T.elemwise.Elemwise(Mul(S.upcast_out))(m, row)
    grad_row = theano.function([m, row], T.grad(out.sum(), row), backend=backend)(VALUES, np.ones((1, 3)))
    np.testing.assert_allclose(grad_row, VALUES.sum(0, keepdims=True))


def test_composite(backend):
    x, y = S.floats("xy")
    comp = S.Composite([x, y], [S.add(x, S.mul(y, 2.0)), S.exp(x) * y])
    assert str(comp).startswith("Composite{") and comp.nin == 2 and comp.nout == 2
    a, b = T.dmatrices("a", "b")
    first, second = T.elemwise.Elemwise(comp)(a, b)
    f = theano.function([a, b], [first, second, T.grad((first + second).sum(), a)], backend=backend)
    got = f(VALUES, 2 * VALUES)
    np.testing.assert_allclose(got[0], VALUES + 4 * VALUES)
    np.testing.assert_allclose(got[1], np.exp(VALUES) * 2 * VALUES)
    np.testing.assert_allclose(got[2], 1 + np.exp(VALUES) * 2 * VALUES)
    node = comp.make_node(x, y)
    assert len(node.outputs) == 2 and comp.impl(1.0, 2.0)[0] == 5.0
    inner = S.Composite([x, y], [comp(x, y)[0] * x])          # a Composite inside another
    np.testing.assert_allclose(theano.function([a, b], T.elemwise.Elemwise(inner)(a, b), backend=backend)(
        VALUES, VALUES), (VALUES + 2 * VALUES) * VALUES)


def test_tensor_from_scalar_and_back():
    s = S.float64("s")
    t = T.tensor_from_scalar(s)
    assert t.ndim == 0 and T.scalar_from_tensor(T.dscalar()).ndim == 0
    assert float(theano.function([s], T.tensor_from_scalar(s) * T.ones((2,)), backend="numpy")(2.0).sum()) == 4.0


def test_bad_input_names_the_op_and_types():
    with pytest.raises(TypeError, match="softsign.*T.dmatrix|softsign.*scalars"):
        softsign(T.dmatrix("m"))
    with pytest.raises(TypeError, match="Composite"):
        S.Composite([T.dvector("v")], [T.dvector("v") * 2])

    class NoRule(S.UnaryScalarOp):
        def impl(self, x):
            return x
    with pytest.raises(NotImplementedError, match="output_types_preference"):
        NoRule()(S.float64())
    with pytest.raises(TypeError, match="complex"):
        T.elemwise.Elemwise(Softsign(S.upgrade_to_float_no_complex))(T.zvector())
    with pytest.raises(TypeError, match="Elemwise takes a scalar op"):
        T.elemwise.Elemwise(3)
    with pytest.raises(TypeError, match="ambiguous"):
        S.cast(S.complex128("z"), "float64")
    with pytest.raises(TypeError, match="scalar_from_tensor"):
        T.scalar_from_tensor(T.dvector())


def test_type_rules():
    assert S.upgrade_to_float(S.int8) == (S.float32,) and S.upgrade_to_float(S.int32, S.float32) == (S.float64,)
    assert S.upcast_out(S.int8, S.float32) == (S.float32,) and S.same_out(S.int16) == (S.int16,)
    assert S.transfer_type(1, None)(S.int8, S.float64) == (S.float64, S.float64)
    assert S.real_out(S.complex64) == (S.float32,) and S.upcast_out_nobool(S.bool, S.bool) == (S.int8,)
    assert Softsign(S.upgrade_to_float) == Softsign(S.upgrade_to_float) != Softsign(S.same_out)

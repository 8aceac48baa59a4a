"""theano.gradient's verify_grad and grad_clip: the check passes on right gradients, fails on a
wrong one, and grad_clip clips the gradient only."""
import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from mlcore import gradient
from mlcore.graph.basic import Apply, Op
from mlcore.graph.ops.common import as_tensor_variable


class WrongSquare(Op):
    """x ** 2 with the gradient of x ** 3: what verify_grad is for."""
    __props__ = ()

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type])

    def pullback(self, inputs, outputs, output_grads):
        return [output_grads[0] * 3 * inputs[0] ** 2]


def test_verify_grad_passes_right_gradients():
    rng = np.random.default_rng(0)
    T.verify_grad(lambda a, b: T.tanh(T.dot(a, b)) ** 2, [rng.normal(size=(3, 4)), rng.normal(size=(4, 2))],
                  rng=rng)
    gradient.verify_grad(lambda x: T.nnet.softmax(x), [rng.normal(size=(2, 5)).astype("float32")], rng=rng)


def test_verify_grad_raises_on_a_wrong_gradient(numpy_backend):
    from backends.numpy.kernels import lower
    lower.register(WrongSquare)(lambda op, node: lambda x: x ** 2)
    try:
        with pytest.raises(gradient.verify_grad.E_grad) as err:
            gradient.verify_grad(lambda x: WrongSquare()(x), [np.array([0.5, 2.0])])
    finally:
        del lower.table[WrongSquare]
    assert err.value.arg == 0 and err.value.abs_err > 1e-4 and "analytic" in str(err.value)
    with pytest.raises(TypeError, match="floating point"):
        gradient.verify_grad(lambda x: x * 2, [np.array([1, 2])])


def test_grad_clip_clips_the_gradient_and_leaves_the_value():
    x = T.dvector("x")
    y = gradient.grad_clip(x, -1.0, 1.0) ** 2
    values, grads = mlcore.function([x], [y, T.grad(y.sum(), x)])(np.array([-3.0, 0.25, 2.0]))
    np.testing.assert_allclose(values, [9.0, 0.0625, 4.0])
    np.testing.assert_allclose(grads, [-1.0, 0.5, 1.0])
    with pytest.raises(ValueError, match="lower_bound"):
        gradient.grad_clip(x, 1.0, -1.0)

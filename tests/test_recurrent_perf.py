"""The graph forms that make recurrent layers train fast, each checked for its form and its numbers:
a slice-by-slice gradient becomes one concatenate, a scan's per-step weight gradient a^T @ b
becomes one product after the loop, and zeros(x.shape) keeps x's static shape."""
import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from mlcore.graph.ops.indexing import IncSubtensor
from mlcore.graph.ops.scan import Scan
from mlcore.graph.ops.shape import Concatenate, shape, zeros

BACKENDS = ["numpy", "jax"]
rng = np.random.default_rng(0)


def op_types(fn):
    return [type(node.op) for node in fn.fgraph.toposort()]


def gates_loss(z, bounds):
    """sum over gates g of sum(tanh(z[:, g]) * k_g): each gate a slice of z's columns, as an LSTM's."""
    return sum(T.sum(T.tanh(z[:, a:b]) * (k + 1)) for k, (a, b) in enumerate(bounds))


def gates_grad(z_value, bounds):
    grad = np.zeros_like(z_value)
    for k, (a, b) in enumerate(bounds):
        grad[:, a:b] += (1 - np.tanh(z_value[:, a:b]) ** 2) * (k + 1)
    return grad


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradients_of_slices_tiling_an_axis_are_one_concatenate(backend):
    z = T.dmatrix("z", shape=(None, 12))
    bounds = [(4, 8), (0, 4), (8, 12)]
    fn = mlcore.function([z], T.grad(gates_loss(z, bounds), z), backend=backend)
    assert Concatenate in op_types(fn) and IncSubtensor not in op_types(fn)
    value = rng.standard_normal((5, 12))
    np.testing.assert_allclose(fn(value), gates_grad(value, bounds), rtol=1e-12)


def test_slices_leaving_a_gap_keep_their_increments():
    z = T.dmatrix("z", shape=(None, 12))
    bounds = [(0, 4), (8, 12)]      # columns 4:8 get no gradient: no concatenate can say so
    fn = mlcore.function([z], T.grad(gates_loss(z, bounds), z), backend="numpy")
    assert IncSubtensor in op_types(fn)
    value = rng.standard_normal((5, 12))
    np.testing.assert_allclose(fn(value), gates_grad(value, bounds), rtol=1e-12)


def test_zeros_of_a_shape_have_its_static_dims():
    x = T.tensor("float32", shape=(None, 7, 3), name="x")
    assert zeros(shape(x)).type.shape == (None, 7, 3)   # what a slice's gradient starts from


def rnn_grads(backend, truncate_gradient=-1):
    """h_t = tanh(x_t + h_(t-1) @ U): the gradients of sum(h) wrt U, x and h0, and the compiled function."""
    x, h0 = T.dtensor3("x", shape=(None, None, 4)), T.dmatrix("h0", shape=(None, 4))
    u = T.dmatrix("u", shape=(4, 4))
    hs, _ = mlcore.scan(lambda row, h: T.tanh(row + T.dot(h, u)), sequences=x, outputs_info=h0,
                        truncate_gradient=truncate_gradient)
    fn = mlcore.function([x, h0, u], T.grad(T.sum(hs), [u, x, h0]), backend=backend)
    return fn


def numpy_rnn_grads(x, h0, u, truncate_gradient=-1):
    """The same gradients by hand, backpropagation through time in numpy."""
    hs, h = [], h0
    for row in x:
        h = np.tanh(row + h @ u)
        hs.append(h)
    steps = len(x) if truncate_gradient < 0 else min(truncate_gradient, len(x))
    gu, gx, carried = np.zeros_like(u), np.zeros_like(x), np.zeros_like(h0)
    for t in range(len(x) - 1, len(x) - 1 - steps, -1):
        dz = (1 + carried) * (1 - hs[t] ** 2)
        previous = hs[t - 1] if t else h0
        gu += previous.T @ dz
        gx[t] = dz
        carried = dz @ u.T
    return gu, gx, carried if steps == len(x) else np.zeros_like(h0)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("truncate_gradient", [-1, 3])
def test_a_weight_gradient_summed_over_steps_is_one_product_after_the_loop(backend, truncate_gradient):
    fn = rnn_grads(backend, truncate_gradient)
    backward = [node for node in fn.fgraph.toposort() if isinstance(node.op, Scan) and "grad" in str(node.op)]
    assert backward, "the gradient is a scan"
    for node in backward:    # no output stacks a (units, units) matrix per step
        assert all(out.type.shape[1:] != (4, 4) for out in node.outputs), [o.type for o in node.outputs]
    x, h0, u = rng.standard_normal((6, 3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((4, 4)) * 0.5
    for got, want in zip(fn(x, h0, u), numpy_rnn_grads(x, h0, u, truncate_gradient)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)

"""Theano's OpFromGraph: values on every backend, several outputs, shared variables and nesting; the
inner graph's gradient against finite differences; grad_overrides and lop_overrides (one callable, a
per-input list, another OpFromGraph), connection_pattern, Rop, and errors."""
import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from mlcore.compile import OpFromGraph
from mlcore.graph.gradient import DisconnectedInputError


def test_examples_of_theanos_documentation_on_every_backend(backend):
    x, y, z = T.dscalars("x", "y", "z")
    op = OpFromGraph([x, y, z], [x + y * z])
    total = op(x, y, z) + op(z, y, x)
    assert mlcore.function([x, y, z], total, backend=backend)(1.0, 2.0, 3.0) == pytest.approx(12.0)
    s = mlcore.shared(np.arange(4.0).reshape(2, 2))
    with_shared = OpFromGraph([x, y, z], [x + y * z + s])
    got = mlcore.function([x, y, z], with_shared(x, y, z) + with_shared(z, y, x), backend=backend)(1.0, 2.0, 3.0)
    np.testing.assert_allclose(got, 12.0 + 2 * s.get_value())
    s.set_value(np.ones((2, 2)))          # the inner graph reads the shared value when called
    np.testing.assert_allclose(mlcore.function([x, y, z], with_shared(x, y, z), backend=backend)(1.0, 2.0, 3.0),
                               np.full((2, 2), 8.0))


def test_several_outputs_nesting_and_rewrites_see_through(backend, rng):
    a, b = T.dmatrix("a"), T.dvector("b")
    affine = OpFromGraph([a, b], [T.dot(a, a.T) + b, T.tanh(a).sum(axis=1)], name="affine")
    u, v = T.dmatrix("u"), T.dvector("v")
    first, second = affine(u, v)
    outer = OpFromGraph([u, v], [first.sum() * second])          # an OpFromGraph holding one
    am, bv = rng.normal(size=(3, 3)), rng.normal(size=3)
    f = mlcore.function([u, v], outer(u, v), backend=backend)
    np.testing.assert_allclose(f(am, bv), (am @ am.T + bv).sum() * np.tanh(am).sum(axis=1), rtol=1e-10)
    assert not any(isinstance(node.op, OpFromGraph) for node in f.maker.fgraph.toposort())
    assert str(affine) == "affine"


def test_the_inner_graphs_gradient_matches_finite_differences(rng):
    a, b = T.dmatrix("a"), T.dmatrix("b")
    op = OpFromGraph([a, b], [T.nnet.sigmoid(T.dot(a, b)).sum(axis=0), (a ** 2).mean()])
    T.verify_grad(lambda p, q: op(p, q)[0].sum() * op(p, q)[1], [rng.normal(size=(3, 2)), rng.normal(size=(2, 4))],
                  rng=np.random.RandomState(0))


@pytest.mark.parametrize("style", ["grad_overrides", "lop_overrides", "per_input", "op_from_graph"])
def test_gradient_overrides(backend, style):
    """Theano's documented example: the gradient wrt y is doubled (z * 2 instead of z)."""
    x, y, z = T.dscalars("x", "y", "z")
    if style == "grad_overrides":
        op = OpFromGraph([x, y, z], [x + y * z], grad_overrides=lambda inputs, grads: [
            grads[0], inputs[2] * 2 * grads[0], inputs[1] * grads[0]])
    elif style == "lop_overrides":
        op = OpFromGraph([x, y, z], [x + y * z], lop_overrides=lambda inputs, outputs, grads: [
            grads[0], inputs[2] * 2 * grads[0], inputs[1] * grads[0]])
    elif style == "per_input":
        op = OpFromGraph([x, y, z], [x + y * z], lop_overrides=["default", lambda i, o, g: i[2] * 2, "default"])
    else:
        gx, gy, gz, g = T.dscalars("gx", "gy", "gz", "g")
        doubled = OpFromGraph([gx, gy, gz, g], [g, gz * 2 * g, gy * g])
        op = OpFromGraph([x, y, z], [x + y * z], grad_overrides=lambda inputs, grads: doubled(*inputs, grads[0]))
    grads = mlcore.function([x, y, z], mlcore.grad(op(x, y, z), [x, y, z]), backend=backend)(2.0, 3.0, 4.0)
    np.testing.assert_allclose(grads, [1.0, 8.0, 3.0])
    assert mlcore.function([x, y, z], op(x, y, z), backend=backend)(2.0, 3.0, 4.0) == pytest.approx(14.0)


def test_none_overrides_and_connection_pattern_disconnect_an_input():
    x, y = T.dscalars("x", "y")
    no_grad_for_y = OpFromGraph([x, y], [x * y], grad_overrides=["default", None])
    gx, gy = mlcore.grad(no_grad_for_y(x, y), [x, y], disconnected_inputs="ignore")
    assert mlcore.function([x, y], [gx, gy])(2.0, 5.0) == [pytest.approx(5.0), pytest.approx(0.0)]
    with pytest.raises(DisconnectedInputError):
        mlcore.grad(no_grad_for_y(x, y), y)
    pattern = OpFromGraph([x, y], [x * y], connection_pattern=[[True], [False]])
    with pytest.raises(DisconnectedInputError):
        mlcore.grad(pattern(x, y), y)


def test_rop_goes_through_the_inner_graph(rng):
    w, v = T.dmatrix("w"), T.dvector("v")
    square = OpFromGraph([w], [T.dot(w, w)])
    jv = mlcore.function([w, v], T.Rop(square(w).sum(axis=0), w, T.outer(v, v)))
    wm, vv = rng.normal(size=(3, 3)), rng.normal(size=3)
    dw = np.outer(vv, vv)
    np.testing.assert_allclose(jv(wm, vv), (dw @ wm + wm @ dw).sum(axis=0), rtol=1e-10)


def test_errors_name_the_op_and_the_types():
    x, y = T.dvector("x"), T.dscalar("y")
    op = OpFromGraph([x, y], [x * y], name="scale")
    with pytest.raises(TypeError, match="scale takes 2 inputs, got 1"):
        op(x)
    with pytest.raises(TypeError, match=r"scale: an input of type .* was given where .* is expected"):
        op(T.dmatrix(), y)
    with pytest.raises(TypeError, match="symbolic inputs"):
        OpFromGraph([x * 2], [x])
    with pytest.raises(ValueError, match="1 gradient overrides for 2 inputs"):
        OpFromGraph([x, y], [x * y], grad_overrides=["default"])


def test_grad_scale_and_consider_constant(backend, rng):
    """theano.gradient.grad_scale multiplies a gradient, consider_constant zeroes it; values unchanged."""
    from mlcore.gradient import consider_constant, grad_scale
    x, m = T.dvector("x"), T.dscalar("m")
    y = (grad_scale(x ** 2, m) + consider_constant(x ** 3)).sum()
    f = mlcore.function([x, m], [y, mlcore.grad(y, x)], backend=backend)
    xv = rng.normal(size=4)
    value, gradient = f(xv, -0.5)
    np.testing.assert_allclose(value, (xv ** 2 + xv ** 3).sum(), rtol=1e-12)
    np.testing.assert_allclose(gradient, -0.5 * 2 * xv, rtol=1e-12)

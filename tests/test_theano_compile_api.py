"""The rest of Theano's top level: as_op, Mode, change_flags, OrderedUpdates, the broadcast
helpers and get_scalar_constant_value, with Theano's semantics, on every backend."""
import numpy as np
import pytest

import mlcore as theano
import mlcore.tensor as T
from mlcore.compile.ops import as_op
from mlcore.tensor.shared_randomstreams import RandomStreams


@as_op(itypes=[T.dmatrix], otypes=[T.dvector], infer_shape=lambda node, shapes: [(shapes[0][0],)])
def row_medians(a):
    return np.median(a, axis=1)


@as_op(itypes=[T.TensorType("float64", (None, 3))], otypes=[T.TensorType("float64", (3,)), T.lvector],
       infer_shape=lambda node, shapes: [(3,), (shapes[0][0],)])
def column_stats(a):
    return a.max(axis=0), np.argsort(a[:, 0])


@as_op(itypes=[T.dvector], otypes=[T.TensorType("float64", (2,))])
def ends(v):
    """its output's shape is static: no infer_shape needed on any backend"""
    return v[[0, -1]]


def test_as_op_runs_the_python_function_on_every_backend(backend, rng):
    x = T.dmatrix("x")
    medians = row_medians(x)
    assert medians.type == T.TensorType("float64", (None,))
    fn = theano.function([x], [medians, T.exp(medians).sum()], backend=backend)
    a = rng.normal(size=(5, 4))
    got, total = fn(a)
    np.testing.assert_allclose(got, np.median(a, axis=1), rtol=1e-12)
    np.testing.assert_allclose(total, np.exp(np.median(a, axis=1)).sum(), rtol=1e-12)


def test_as_op_with_several_outputs_and_static_shapes(backend, rng):
    x = T.tensor("float64", (None, 3), "x")
    top, order = column_stats(x)
    a = rng.normal(size=(6, 3))
    got_top, got_order, got_ends = theano.function([x], [top * 2, order, ends(x[:, 1])], backend=backend)(a)
    np.testing.assert_allclose(got_top, 2 * a.max(axis=0))
    np.testing.assert_allclose(got_ends, a[[0, -1], 1])
    np.testing.assert_array_equal(got_order, np.argsort(a[:, 0]))
    assert got_order.dtype == np.int64


def test_as_op_errors_name_the_function(rng):
    x = T.dmatrix("x")
    with pytest.raises(TypeError, match="row_medians: input 0 is .*float32"):
        row_medians(T.fmatrix("y"))
    with pytest.raises(NotImplementedError, match="row_medians was made by as_op .* no gradient"):
        T.grad(row_medians(x).sum(), x)

    @as_op(itypes=[T.dvector], otypes=[T.dvector])
    def doubled(v):
        return np.concatenate([v, v])
    v = T.dvector("v")
    np.testing.assert_array_equal(theano.function([v], doubled(v), backend="numpy")(np.arange(2.0)),
                                  [0, 1, 0, 1])
    m = T.dmatrix("m")
    inside_a_loop, _ = theano.scan(doubled, sequences=[m])   # a loop is traced whole: no op by op there
    with pytest.raises(NotImplementedError, match="doubled: the jax backend must know its output shapes"):
        theano.function([m], inside_a_loop, backend="jax")(np.ones((2, 2)))

    @as_op(itypes=[T.dvector], otypes=[T.dmatrix])
    def wrong_rank(v):
        return v
    with pytest.raises(ValueError, match="wrong_rank: output 0 has shape \\(2,\\)"):
        theano.function([v], wrong_rank(v), backend="numpy")(np.arange(2.0))
    with pytest.raises(TypeError, match="itypes\\[0\\] must be a tensor type"):
        as_op(itypes=["float64"], otypes=[T.dvector])(len)


def test_as_op_of_unknown_output_shape_runs_op_by_op_on_jax(backend, rng):
    """Theano's as_op example has no infer_shape: jit cannot trace it, so the jax backend runs that
    function op by op (each jax kernel dispatched alone), with the same results."""
    @as_op(itypes=[T.dmatrix, T.dmatrix], otypes=[T.dmatrix])
    def numpy_dot(a, b):
        return np.dot(a, b)
    x, y = T.dmatrices("x", "y")
    fn = theano.function([x, y], T.tanh(numpy_dot(x, y)) + 1, backend=backend)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    np.testing.assert_allclose(fn(a, b), np.tanh(a @ b) + 1, rtol=1e-12)
    np.testing.assert_allclose(fn(b.T, a.T), np.tanh(b.T @ a.T) + 1, rtol=1e-12)   # other shapes
    if backend == "jax":
        assert fn._fn.jitted is None


@pytest.mark.parametrize("mode, passes", [(theano.Mode(optimizer=None), []),
                                          (theano.Mode(optimizer="fast_compile"), ["merge", "canonicalize", "stabilize"]),
                                          ("FAST_COMPILE", ["merge", "canonicalize", "stabilize"])])
def test_mode_picks_the_rewrites(mode, passes, rng):
    x = T.dvector("x")
    fn = theano.function([x], T.exp(x) * 2 + 1, mode=mode, backend="numpy")
    a = rng.normal(size=4)
    np.testing.assert_allclose(fn(a), np.exp(a) * 2 + 1)
    assert theano.function([x], T.exp(x) * 2 + 1, rewrites=passes, backend="numpy").maker.fgraph.toposort().__len__() \
        == len(fn.maker.fgraph.toposort())


def test_mode_including_and_excluding_passes():
    fast = theano.Mode()
    assert "fusion" in fast.rewrites and "fusion" not in fast.excluding("fusion").rewrites
    assert fast.excluding("fusion").including("fusion", "no_such_pass").rewrites[-1] == "fusion"
    x = T.dvector("x")
    fused = theano.function([x], T.exp(x) * 2 + 1, mode=fast, backend="numpy")
    unfused = theano.function([x], T.exp(x) * 2 + 1, mode=fast.excluding("fusion"), backend="numpy")
    assert len(fused.maker.fgraph.toposort()) == 1 < len(unfused.maker.fgraph.toposort())
    with pytest.raises(ValueError, match="unknown optimizer 'quick'"):
        theano.Mode(optimizer="quick")


def test_change_flags_restores_settings_even_on_error():
    before = theano.config.floatX
    with theano.change_flags(floatX="float64", compute_test_value="off"):
        assert T.matrix().dtype == "float64" and theano.config.compute_test_value == "off"
    assert theano.config.floatX == before and not hasattr(theano.config, "compute_test_value")

    @theano.config.change_flags({"floatX": "float16"})
    def make():
        raise RuntimeError(T.vector().dtype)
    with pytest.raises(RuntimeError, match="float16"):
        make()
    assert theano.config.floatX == before


def test_scan_returns_ordered_updates_that_merge_with_plus(rng):
    streams = RandomStreams(seed=3)
    draws, updates = theano.scan(lambda: streams.normal(()), n_steps=4)
    assert isinstance(updates, theano.OrderedUpdates) and len(updates) == 1
    counter = theano.shared(0.0, name="counter")
    merged = updates + {counter: counter + 1}
    assert list(merged) == list(updates) + [counter]
    fn = theano.function([], draws, updates=merged, backend="numpy")
    first, second = fn(), fn()
    assert counter.get_value() == 2 and not np.allclose(first, second)
    with pytest.raises(KeyError, match="counter.* updated twice"):
        merged + theano.OrderedUpdates({counter: counter * 2})
    with pytest.raises(TypeError, match="keys are the shared variables"):
        theano.OrderedUpdates({T.dscalar("s"): 1})


def test_broadcast_patterns(backend, rng):
    row = T.tensor("float64", (1, None), "row")
    loose = T.unbroadcast(row, 0)
    assert loose.type.shape == (None, None) and T.addbroadcast(loose, 0).type.shape == (1, None)
    assert T.patternbroadcast(row, (False, True)).type.shape == (None, 1)
    m = T.dmatrix("m")
    checked = T.addbroadcast(m, 0)
    cost = (T.unbroadcast(row, 0) * checked).sum()
    fn = theano.function([row, m], [cost, T.grad(cost, row)], backend=backend)
    a, b = rng.normal(size=(1, 3)), rng.normal(size=(1, 3))
    value, grad = fn(a, b)
    np.testing.assert_allclose(value, (a * b).sum())
    np.testing.assert_allclose(grad, b)
    with pytest.raises(Exception, match="[Ss]pecify_?[Ss]hape"):   # PyTensor's own check on theano
        fn(a, rng.normal(size=(2, 3)))


def test_get_scalar_constant_value():
    x = T.tensor("float64", (4, None), "x")
    assert T.get_scalar_constant_value(T.constant(3) * 2 + 1) == 7
    assert T.get_scalar_constant_value(x.shape[0]) == 4
    assert T.get_scalar_constant_value(np.float32(2.5)) == 2.5
    for not_constant in (x.shape[1], theano.shared(1.0), T.constant(np.ones(2))):
        with pytest.raises(T.NotScalarConstantError):
            T.get_scalar_constant_value(not_constant)


def test_theano_top_level_names():
    from mlcore.updates import OrderedUpdates
    from mlcore.ifelse import ifelse
    assert theano.OrderedUpdates is OrderedUpdates and theano.ifelse.ifelse is ifelse
    x = T.dvector("x")
    assert isinstance(x, theano.Variable) and isinstance(x, T.TensorVariable)
    assert isinstance(theano.shared(1.0), T.TensorSharedVariable) and isinstance(T.as_tensor(1.0), T.TensorConstant)
    assert isinstance(x.owner, type(None)) and isinstance((x * 2).owner, theano.Apply)
    assert isinstance((x * 2).owner.op, theano.Op)
    np.testing.assert_allclose(theano.function([x], theano.dot(x, x), backend="numpy")(np.arange(3.0)), 5.0)

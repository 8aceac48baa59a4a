"""Theano 1.0's public API for random streams, OpFromGraph and the compile modes, checked the way
Theano's own suites check it (shapes, dtypes, moments, reproducibility, update semantics, errors),
in tests of our own.  The numbers drawn differ from Theano's generators; their distributions do not."""
import io

import numpy as np
import pytest

import mlcore as theano
import mlcore.tensor as T
from mlcore.compile.builders import OpFromGraph
from mlcore.compile.nanguardmode import NanGuardMode
from mlcore.gof.null_type import NullType
from mlcore.gradient import DisconnectedType, disconnected_type
from mlcore.sandbox import rng_mrg
from mlcore.sandbox.rng_mrg import MRG_RandomStreams
from mlcore.tensor.shared_randomstreams import RandomStreams


def fn(inputs, outputs, backend, **kwargs):
    return theano.function(inputs, outputs, backend=backend, **kwargs)


# --- RandomStreams ---------------------------------------------------------------------------------
def test_streams_item_access_sets_and_reads_a_streams_state(backend):
    random = RandomStreams(234)
    out = random.uniform((2, 2))
    f = fn([], out, backend, updates=random.updates())
    random[out.rng] = np.random.RandomState(5)
    first = f()
    assert isinstance(random[out.rng], np.random.RandomState)
    random[out.rng] = np.random.RandomState(5)          # the same state: the same draws
    np.testing.assert_array_equal(f(), first)
    with pytest.raises(KeyError, match="not the state of a stream"):
        random[theano.shared(np.zeros(2))]


def test_parameters_that_do_not_fit_the_size_are_a_value_error(backend):
    random = RandomStreams(1)
    low, high, size = T.dvector(), T.dvector(), T.lvector()
    free = fn([low, high], random.uniform(low=low, high=high), backend)
    assert free([-4., -2], [-1, 0]).shape == (2,)
    with pytest.raises(ValueError, match="uniform"):
        free([-4., -2], [-1, 0, 1])
    sized = fn([low, high, size], random.uniform(low=low, high=high, size=size, ndim=1), backend)
    assert sized([-4., -2], [-1, 0], [2]).shape == (2,)
    for args in (([-4., -2], [-1, 0], [1]), ([-4., -2], [-1], [1])):
        with pytest.raises(ValueError, match="do not broadcast to the size"):
            sized(*args)
    with pytest.raises((ValueError, AssertionError)):   # PyTensor's specify_shape raises the latter
        sized([-4., -2], [-1, 0], [1, 2])               # ndim=1 but two dims


def test_multinomial_with_symbolic_pvals_and_n(backend):
    random = RandomStreams(3)
    n, pvals = T.lvector(), T.matrix()
    out = random.multinomial(n=n, pvals=pvals)
    assert out.ndim == 2 and out.dtype == "int64"
    f = fn([n, pvals], out, backend)
    p = np.asarray([[.1, .9], [.5, .5], [.3, .7]], "float32")
    draws = np.array([f([4, 2, 3], p) for _ in range(400)])
    assert draws.shape == (400, 3, 2)
    np.testing.assert_array_equal(draws.sum(-1), np.broadcast_to([4, 2, 3], (400, 3)))
    np.testing.assert_allclose(draws[..., 1].mean(0), [3.6, 1.0, 2.1], atol=0.15)
    sized = fn([n, pvals], random.multinomial(n=n, pvals=pvals, size=(3,)), backend)
    assert sized([1, 2, 3], p).shape == (3, 2)
    with pytest.raises(ValueError):
        sized([1, 2], p[:-1])


def test_choice_p_zero_means_uniform_and_dtypes_follow_theano(backend):
    random = RandomStreams(7)
    picks = fn([], random.choice((11, 8), 10, 1, 0), backend)()
    assert picks.shape == (11, 8) and picks.dtype == "int64" and 0 <= picks.min() and picks.max() <= 9
    low, high = T.lscalar(), T.lscalar()
    small = random.random_integers(low=low, high=high, size=(20,), dtype="int8")
    assert small.dtype == "int8" and fn([low, high], small, backend)(0, 9).dtype == "int8"
    dlow, dhigh = T.dscalar(), T.dscalar()
    assert random.uniform(low=dlow, high=dhigh, size=(4,)).dtype == "float64"
    assert random.uniform(low=dlow, high=dhigh, size=(4,), dtype="float32").dtype == "float32"


def test_state_transfer_between_two_graphs(backend):
    def build(seed):
        rng = RandomStreams(seed)
        return rng, fn([], rng.uniform(size=(3,)), backend)
    (r1, f1), (r2, f2) = build(123), build(987)
    for (s1, _), (s2, _) in zip(r1.state_updates, r2.state_updates):
        s2.set_value(s1.get_value())
    np.testing.assert_allclose(f1(), f2())


# --- MRG_RandomStreams -----------------------------------------------------------------------------
def test_mrg_constructor_seed_and_rstate():
    assert rng_mrg.guess_n_streams((10, 20), warn=False) == 33
    assert rng_mrg.guess_n_streams((2, 2), warn=False) == 4
    with pytest.warns(UserWarning):
        assert rng_mrg.guess_n_streams(T.lvector(), warn=True) == 60 * 256
    R = MRG_RandomStreams(234, use_cuda=False)
    np.testing.assert_array_equal(R.rstate, [234] * 6)
    assert R.rstate.dtype == "int32"
    for bad in (0, rng_mrg.M2, [0, 0, 0, 1, 1, 1]):
        with pytest.raises(ValueError, match="seed"):
            MRG_RandomStreams(bad)
    MRG_RandomStreams([1, 2, 3, 4, 5, 6])


@pytest.mark.parametrize("size", [(0, 100), (-1, 100), (1, 0)])
def test_mrg_sizes_with_a_dim_below_one_are_refused(size):
    R = MRG_RandomStreams(234)
    for method in (R.uniform, R.binomial, R.normal, R.truncated_normal):
        with pytest.raises(ValueError, match="<= 0"):
            method(size)
    with pytest.raises(ValueError):
        R.multinomial(size, 1, [])


def test_mrg_uniform_excludes_both_bounds_and_keeps_moments(backend):
    R = MRG_RandomStreams(234)
    x = T.matrix()
    for size, inputs in (((200, 50), []), ((x.shape[0], 50), [np.zeros((200, 50), "float32")]), ((), [])):
        f = fn([x] if inputs else [], R.uniform(size=size, nstreams=rng_mrg.guess_n_streams(size)), backend)
        draws = np.array([f(*inputs) for _ in range(300 if size == () else 20)])
        assert draws.shape[1:] == (() if size == () else (200, 50)) and draws.dtype == "float32"
        assert draws.min() > 0 and draws.max() < 1
        assert abs(draws.mean() - 0.5) < 0.05 and abs(draws.std() - np.sqrt(1 / 12)) < 0.03


def test_mrg_binomial_default_p_normal_moments_and_multinomial_rows(backend):
    R = MRG_RandomStreams(234)
    coin = fn([], R.binomial((500, 50)), backend)()
    assert coin.dtype == "int64" and abs(coin.mean() - 0.5) < 0.02
    normal = fn([], R.normal((999, 49), avg=-5., std=2.), backend)()
    assert abs(normal.mean() + 5) < 0.05 and abs(normal.std() - 2) < 0.05
    pvals = np.random.default_rng(0).uniform(size=(450, 6))
    pvals /= pvals.sum(1, keepdims=True)
    f = fn([], R.multinomial(pvals=pvals, n=5, dtype="float32"), backend)
    counts = np.array([f() for _ in range(20)])
    assert counts.dtype == "float32" and counts.shape == (20, 450, 6) and np.all(counts.sum(-1) == 5)
    assert np.mean(np.abs(counts.mean(0) / 5 - pvals)) < 0.06


def test_mrg_broadcast_patterns():
    R = MRG_RandomStreams(234)
    x = T.matrix()
    column = np.full((10, 1), 0.1)
    for method in (R.uniform, R.binomial, R.normal):
        assert method(size=(10, 1)).broadcastable == (False, True)
        assert method(size=(x.shape[0], 1)).broadcastable == (False, True)
    assert R.multinomial(pvals=column).broadcastable == (False, True)
    assert R.uniform(size=(x.shape[0], x.shape[1]), broadcastable=(False, True)).broadcastable == (False, True)
    with pytest.raises(ValueError, match="broadcastable"):
        R.uniform(size=(100, 100), broadcastable=(False, True))


def test_mrg_choice_without_replacement(backend):
    R = MRG_RandomStreams(234)
    p, n = T.fmatrix(), T.iscalar()
    f = fn([p, n], R.choice(size=n, p=p, replace=False), backend, allow_input_downcast=True)
    pvals = np.random.default_rng(1).integers(1, 100, (2, 30)).astype("float32")
    pvals /= pvals.sum(1, keepdims=True)
    picks = f(pvals, 10)
    assert picks.shape == (2, 10) and all(len(set(row)) == 10 for row in picks)
    with pytest.raises(Exception, match="more than p's"):
        f(pvals, 40)
    with pytest.raises(ValueError, match="more than p's"):
        R.choice(size=40, p=pvals, replace=False)
    with pytest.raises(TypeError):
        R.choice(size=2, a=3, p=pvals)


def test_mrg_reseeding_and_too_large_draws(backend):
    idx = T.ivector()
    for new_seed, same in ((234, True), (None, True), (23, False)):
        R = MRG_RandomStreams(234)
        f1 = fn([], R.uniform((2, 2), dtype="float32"), backend)
        f3 = fn([idx], R.uniform(idx, nstreams=3, ndim=1, dtype="float32"), backend)
        before = [f1(), f1(), f3([4])]
        R.seed(new_seed)
        after = [f1(), f1(), f3([4])]
        assert all(np.allclose(a, b) == same for a, b in zip(before, after))
    huge = fn([], MRG_RandomStreams(5).uniform(size=(2 ** 31,)), backend)
    with pytest.raises(ValueError, match="at most"):
        huge()


# --- OpFromGraph -----------------------------------------------------------------------------------
@pytest.mark.parametrize("inline", [False, True])
def test_ofg_connection_pattern_is_a_method_with_shared_inputs_last(inline):
    x, y, z = T.matrices("xyz")
    op1 = OpFromGraph([x, y, z], [x * y, y * z], inline=inline)
    assert op1.connection_pattern(None) == [[True, False], [True, True], [False, True]]
    m, n, p, q = T.matrices("mnpq")
    o1, o2 = op1(m, n, p)
    op2 = OpFromGraph([m, n, p, q], list(op1(o1, q, o2)), inline=inline)
    assert op2.connection_pattern(None) == [[True, False], [True, True], [False, True], [True, True]]
    noise = RandomStreams(seed=234).uniform((2, 2))
    a, b = T.matrices("ab")
    op3 = OpFromGraph([a, b], [a + noise, b + 3, 3 + noise], inline=inline)
    assert op3.connection_pattern(None) == [[True, False, False], [False, True, False], [True, False, True]]
    assert len(op3.shared_inputs) == 1


def test_ofg_gradient_reaches_shared_variables_inside(backend):
    x, y, z = T.matrices("xyz")
    s = theano.shared(np.random.default_rng(0).random((2, 2)).astype("float32"))
    op = OpFromGraph([x, y, z], [x + y * z + s])
    out = op(x, y, z)
    f = fn([x, y, z], out - theano.grad(T.sum(out), s), backend)
    ones = np.ones((2, 2), "float32")
    np.testing.assert_allclose(f(ones, 3 * ones, 5 * ones), 15 + s.get_value(), rtol=1e-5)
    s.set_value(np.zeros((2, 2), "float32"))             # the function reads the current value
    np.testing.assert_allclose(f(ones, 3 * ones, 5 * ones), 15, rtol=1e-5)


def test_ofg_rop_overrides_are_what_rop_gives(backend):
    x, y, u, v = T.vectors("xyuv")

    def rop(inputs, points):
        return [points[0] * inputs[1] * 2.0 + inputs[0] * points[1] * 1.5]
    as_graph = OpFromGraph([x, y, u, v], rop([x, y], [u, v]))
    vals = np.random.default_rng(2).random((4, 8)).astype("float32")
    for override in (rop, as_graph):
        op = OpFromGraph([x, y], [x * y], rop_overrides=override)
        xx, yy, du, dv = T.vectors("a", "b", "c", "d")
        product = op(xx, yy)
        f = fn([xx, yy, du, dv], [theano.Rop(product, [xx, yy], [du, dv]), theano.grad(product.sum(), xx)], backend)
        jvp, gradient = f(*vals)
        np.testing.assert_allclose(jvp, vals[0] * vals[3] * 1.5 + vals[1] * vals[2] * 2.0, rtol=1e-5)
        np.testing.assert_allclose(gradient, vals[1], rtol=1e-5)      # grad stays the inner graph's


def test_ofg_override_entries_and_input_checks(backend):
    x, w, b = T.vectors("xwb")
    op = OpFromGraph([x, w, b], [x * w + b],
                     grad_overrides=[lambda i, g: g[0] * i[1] * 2, NullType()(), DisconnectedType()()])
    xx, ww, bb = T.vectors("p", "q", "r")
    dx, dw, db = theano.grad(T.sum(op(xx, ww, bb)), [xx, ww, bb], return_disconnected="Disconnected",
                             disconnected_inputs="ignore", null_gradients="return")
    assert dx.ndim == 1 and isinstance(dw.type, NullType) and db is None
    back = OpFromGraph([x, w], [w + T.round(w)], grad_overrides=lambda i, g: [g[0], disconnected_type()],
                       connection_pattern=[[True], [False]], on_unused_input="ignore")
    g = theano.grad(back(x, w).sum(), x)
    np.testing.assert_allclose(fn([x, w], g, backend)(np.ones(5, "float32"), np.ones(5, "float32")), np.ones(5))
    m = T.matrix()
    for bad in (((m,), (m,)), ([1], [1]), ([m, T.as_tensor_variable(1)], [m]), ([theano.shared(1)], [m])):
        with pytest.raises(TypeError, match="OpFromGraph"):
            OpFromGraph(*bad)
    with pytest.raises(TypeError, match="updates"):
        OpFromGraph([m], [m], updates={})


# --- compile modes ---------------------------------------------------------------------------------
def test_nan_guard_mode_catches_nan_inf_and_big_values():
    x = T.matrix()
    w = theano.shared(np.random.default_rng(3).standard_normal((5, 7)).astype("float32"))
    guarded = theano.function([x], T.dot(x, w), mode=NanGuardMode(nan_is_error=True, inf_is_error=True))
    guarded(np.ones((3, 5), "float32"))
    for bad in (np.inf, np.nan, 1e20):
        with pytest.raises(AssertionError):
            guarded(np.full((3, 5), bad, "float32"))
    relaxed = theano.function([x], x * 1, mode=NanGuardMode(nan_is_error=False, inf_is_error=False,
                                                             big_is_error=False))
    assert np.isnan(relaxed(np.full((2, 2), np.nan, "float32"))).all()


def test_monitor_mode_sees_the_nodes_and_mode_passes_can_be_chosen():
    seen = []

    def detect_nan(i, node, thunk):
        seen.extend(np.isnan(out[0]).any() for out in thunk.outputs)
    x = T.dscalar("x")
    mode = theano.compile.MonitorMode(post_func=detect_nan).excluding("fusion")
    f = theano.function([x], [T.log(x) * x], mode=mode)
    assert len(f.maker.fgraph.apply_nodes) == 2
    with np.errstate(all="ignore"):
        f(0)
    assert any(seen)
    assert theano.Mode(optimizer="merge").including("fast_compile").rewrites == ["merge"]
    assert theano.Mode().requiring("fusion").rewrites == ["fusion"]
    assert "fusion" not in theano.Mode().requiring("fast_compile").rewrites


def test_profile_stats_module_and_counts():
    from mlcore.compile.profiling import ProfileStats
    stats = ProfileStats(atexit_print=False)
    x = T.dvector()
    f = theano.function([x], T.exp(x) * 2, profile=stats)
    f([1.0])
    f([2.0])
    text = io.StringIO()
    stats.summary(file=text)
    assert stats.fct_callcount == 2 and stats.fct_call_time > 0 and "Function profiling" in text.getvalue()

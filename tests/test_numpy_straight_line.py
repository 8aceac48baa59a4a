"""The numpy backend's compiled form: its plan written out as one straight-line Python function."""
import numpy as np

import mlcore
import mlcore.tensor as T
from backends.numpy.straight_line import straight_line


def _function(profile=False):
    """A graph with a two-output node (a random draw and its next key), a constant, an output that
    is an input, a shared value updated in place and intermediates that die early."""
    x = T.dmatrix("x")
    w = mlcore.shared(np.arange(6.0).reshape(3, 2), name="w")
    noise = T.random.RandomStreams(seed=3).normal((2, 2))
    h = T.tanh(x @ w)
    return mlcore.function([x], [h.sum() + noise.sum(), x, T.constant(np.float64(7.0)), noise],
                           updates=[(w, w - 0.1 * x.T @ h)], backend="numpy", profile=profile)


def test_each_node_is_one_line_and_dead_values_are_dropped():
    fn = _function()
    source = fn._fn.source
    plan = fn._fn.plan
    calls = [line for line in source.splitlines() if " = k" in line]
    assert len(calls) == len(plan.nodes)
    assert source.splitlines()[0] == "def run(%s):" % ", ".join("v%d" % k for k in range(plan.n_inputs))
    dead = {s for slots in plan.free_after for s in slots if s >= plan.n_inputs + len(plan.constants)}
    deleted = {int(v.strip(" v")) for line in source.splitlines() if line.strip().startswith("del ")
               for v in line.strip()[4:].split(",")}
    assert dead and deleted == dead


def test_the_straight_line_computes_what_the_plan_interpreter_does():
    """Same inputs, same shared values and random keys: the written-out function (no profile)
    and Plan.run through the profiler's timer give the same outputs and updates, call after call."""
    x = np.random.default_rng(0).normal(size=(4, 3))
    fast, interpreted = _function(), _function(profile=True)
    for _ in range(3):
        for a, b in zip(fast(x), interpreted(x)):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(fast.shared[0].get_value(), interpreted.shared[0].get_value())
    assert "RandomVariable" in interpreted.profile.summary()   # read here, not printed at exit


def test_results_keep_their_declared_dtypes():
    """A kernel returning a numpy scalar or another dtype is coerced on its line, as in Plan.run."""
    x = T.fvector("x")
    fn = mlcore.function([x], [x.sum(), T.cast(x.shape[0], "float32") * 2], backend="numpy")
    total, doubled = fn(np.ones(5, "float32"))
    assert type(total) is np.ndarray and total.dtype == np.float32 and total == 5
    assert doubled.dtype == np.float32 and doubled == 10


def test_a_plan_with_only_constants_and_inputs():
    x = T.dvector("x")
    fn = mlcore.function([x], [x, T.constant(np.arange(3.0))], backend="numpy")
    run = straight_line(fn._fn.plan, [c.data for c in fn._fn.plan.constants])
    same, constant = run(np.ones(2))
    np.testing.assert_array_equal(same, np.ones(2))
    np.testing.assert_array_equal(constant, np.arange(3.0))

"""scan with theano.scan_module.until: the loop stops after the step whose condition is true, its
outputs have one row per step run, updates hold the last step's values, and gradients go through
the steps that ran.  Values against plain Python loops, gradients against the closed form and
finite differences, on every backend."""
import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from mlcore.scan_module import until


def test_the_tutorials_powers_of_two(backend):
    max_value = T.scalar("max_value")
    values, _ = mlcore.scan(lambda previous, limit: (previous * 2, until(previous * 2 > limit)),
                            outputs_info=T.constant(1.0), non_sequences=max_value, n_steps=1024)
    f = mlcore.function([max_value], values, backend=backend)
    np.testing.assert_array_equal(f(45), [2, 4, 8, 16, 32, 64])
    np.testing.assert_array_equal(f(3), [2, 4])         # a new value, a new length


def test_the_condition_never_met_runs_every_step(backend):
    values, _ = mlcore.scan(lambda previous: (previous + 1, until(T.gt(previous, 100))),
                            outputs_info=T.constant(0.0, dtype="float64"), n_steps=5)
    np.testing.assert_array_equal(mlcore.function([], values, backend=backend)(), [1, 2, 3, 4, 5])


def _running_sum_until(x, limit):
    total, rows = 0.0, []
    for value in x:
        total += value ** 2
        rows.append(total)
        if total > limit:
            break
    return np.array(rows)


def test_sequences_stop_early_and_the_gradient_covers_the_steps_run(backend, rng):
    x = T.dvector("x")
    out, _ = mlcore.scan(lambda xt, acc: (acc + xt ** 2, until(acc + xt ** 2 > 3.0)), sequences=x,
                         outputs_info=T.constant(0.0, dtype="float64"))
    f = mlcore.function([x], [out, T.grad(out[-1] + out.sum(), x)], backend=backend)
    value = rng.uniform(0.5, 1.2, size=8)
    got, gradient = f(value)
    expected = _running_sum_until(value, 3.0)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    ran = len(expected)
    weights = np.zeros(8)
    weights[:ran] = 1 + (ran - np.arange(ran))          # out[-1] and each later row of out.sum()
    np.testing.assert_allclose(gradient, 2 * value * weights, rtol=1e-12)
    T.verify_grad(lambda a: mlcore.scan(lambda xt, acc: (acc + xt ** 2, until(acc + xt ** 2 > 3.0)),
                                        sequences=a, outputs_info=T.constant(0.0, dtype="float64"))[0].sum(),
                  [value], rng=np.random.default_rng(0))


def test_updates_and_several_outputs(backend):
    counter = mlcore.shared(np.int64(0), name="counter")

    def step(previous):
        doubled = previous * 2
        return [doubled, doubled + 1], {counter: counter + 1}, until(doubled >= 8)
    (doubled, plus_one), updates = mlcore.scan(step, outputs_info=[T.constant(1.0, dtype="float64"), None],
                                               n_steps=10)
    f = mlcore.function([], [doubled, plus_one], updates=updates, backend=backend)
    got = f()
    np.testing.assert_array_equal(got[0], [2, 4, 8])
    np.testing.assert_array_equal(got[1], [3, 5, 9])
    assert counter.get_value() == 3


def test_the_condition_must_be_a_scalar():
    with pytest.raises(TypeError, match="scalar"):
        until(T.dvector("v") > 0)


def test_inside_a_traced_jax_loop_it_is_refused():
    x = T.dvector("x")

    def inner(xt):
        powers, _ = mlcore.scan(lambda p: (p * 2, until(p * 2 > xt)), outputs_info=T.constant(1.0, dtype="float64"),
                                n_steps=10)
        return powers.sum()
    out, _ = mlcore.scan(inner, sequences=x)
    np.testing.assert_array_equal(mlcore.function([x], out, backend="numpy")(np.array([3.0, 9.0])), [6, 30])
    with pytest.raises(ValueError, match="known only from the values"):
        mlcore.function([x], out, backend="jax")(np.array([3.0, 9.0]))

"""Theano's RandomStreams and MRG_RandomStreams: the tutorial's seeding and state recipes on rv.rng
(a numpy RandomState, as Theano's), the size/ndim rules, and every method's distribution checked
by its sample statistics (within five standard errors) or its exact invariants (permutations,
counts summing to n, distinct picks), on every backend."""
import pickle

import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from mlcore.graph.ops.random import RandomKeyState
from mlcore.sandbox.rng_mrg import MRG_RandomStreams
from mlcore.tensor.shared_randomstreams import RandomStreams

N = 20000


def within(sample_mean, expected, std, n=N):
    assert abs(sample_mean - expected) < 5 * std / np.sqrt(n), (sample_mean, expected)


def test_the_tutorials_seeding_and_state_recipes(backend):
    srng = RandomStreams(seed=234)
    rv_u, rv_n = srng.uniform((2, 2)), srng.normal((2, 2))
    f = mlcore.function([], rv_u, backend=backend)
    g = mlcore.function([], rv_n, no_default_updates=True, backend=backend)
    nearly_zeros = mlcore.function([], rv_u + rv_u - 2 * rv_u, backend=backend)
    assert np.all(f() != f()) and np.all(g() == g()) and np.all(abs(nearly_zeros()) < 1e-5)

    rng_val = rv_u.rng.get_value(borrow=True)
    assert isinstance(rng_val, np.random.RandomState)
    rng_val.seed(89234)                                  # seeds the stream
    rv_u.rng.set_value(rng_val, borrow=True)
    first = f()
    rng_val.seed(89234)
    rv_u.rng.set_value(rng_val, borrow=True)
    np.testing.assert_array_equal(f(), first)

    state_after_v0 = rv_u.rng.get_value().get_state()
    nearly_zeros()
    v1 = f()
    rng = rv_u.rng.get_value(borrow=True)
    rng.set_state(state_after_v0)
    rv_u.rng.set_value(rng, borrow=True)
    v2, v3 = f(), f()
    assert not np.allclose(v1, v2) and np.allclose(v1, v3)


def test_seed_reseeds_every_stream_and_updates_lists_them(backend):
    srng = RandomStreams(3)
    draws = [srng.uniform((3,)), srng.random_integers((3,), 0, 100)]
    assert srng.updates() == srng.state_updates and len(srng.updates()) == 2
    f = mlcore.function([], draws, backend=backend)
    srng.seed(7)
    first = f()
    srng.seed(7)
    for got, expected in zip(f(), first):
        np.testing.assert_array_equal(got, expected)
    assert all(draw.update == pair for draw, pair in zip(draws, srng.state_updates))


def test_a_stream_state_pickles():
    state = RandomKeyState(np.array([1, 2], "uint32"))
    back = pickle.loads(pickle.dumps(state))
    assert isinstance(back, np.random.RandomState)
    np.testing.assert_array_equal(np.asarray(back), [1, 2])
    srng = RandomStreams(5)
    f = mlcore.function([], srng.normal((3,)), backend="numpy")
    g = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(g(), f())           # the same state, drawn on from the same key
    with pytest.raises(ValueError, match="two uint32"):
        state.set_state(np.zeros(3))


def test_size_none_is_the_parameters_broadcast_shape(backend, rng):
    x = T.dmatrix("x")
    srng = RandomStreams(1)
    draws = [srng.normal(avg=x, std=0.0), srng.uniform(low=T.zeros(3), high=1.0), srng.binomial(n=x, p=0.0)]
    value = rng.uniform(1, 5, size=(2, 3))          # a count n of trials too
    normal, uniform, binomial = mlcore.function([x], draws, backend=backend)(value)
    np.testing.assert_array_equal(normal, value)       # std 0: the mean itself
    assert normal.dtype == "float64" and uniform.shape == (3,) and binomial.shape == (2, 3)


def test_ndim_gives_the_length_of_a_symbolic_size(backend):
    x = T.dmatrix("x")
    srng = RandomStreams(1)
    out = srng.uniform(size=T.as_tensor_variable(x.shape) * 2, ndim=2)
    assert out.ndim == 2
    assert mlcore.function([x], out, backend=backend)(np.zeros((2, 3))).shape == (4, 6)
    with pytest.raises(ValueError, match="ndim=3"):
        srng.uniform(size=(2, 3), ndim=3)


def test_random_integers_include_both_bounds_evenly(backend):
    sample = mlcore.function([], RandomStreams(2).random_integers((N,), 2, 5), backend=backend)()
    assert sample.dtype == "int64" and set(np.unique(sample)) == {2, 3, 4, 5}
    for k in range(2, 6):
        within(np.mean(sample == k), 0.25, np.sqrt(0.25 * 0.75))


def test_poisson_mean_and_variance(backend):
    sample = mlcore.function([], RandomStreams(3).poisson((N,), lam=3.0), backend=backend)()
    within(sample.mean(), 3.0, np.sqrt(3.0))
    assert abs(sample.var() - 3.0) < 0.3


def test_choice_with_replacement_follows_p(backend):
    srng = RandomStreams(4)
    p = np.array([0.1, 0.2, 0.7])
    weighted, uniform = mlcore.function([], [srng.choice((N,), a=[10.0, 20.0, 30.0], p=p),
                                             srng.choice((N,), a=4)], backend=backend)()
    for value, chance in zip([10.0, 20.0, 30.0], p):
        within(np.mean(weighted == value), chance, np.sqrt(chance * (1 - chance)))
    assert set(np.unique(uniform)) == {0, 1, 2, 3}


def test_choice_without_replacement_gives_distinct_entries(backend):
    srng = RandomStreams(5)
    f = mlcore.function([], [srng.choice((2, 3), a=6, replace=False),
                             srng.choice((4,), a=5, replace=False, p=[0.1, 0.1, 0.1, 0.1, 0.6])], backend=backend)
    for _ in range(5):
        everything, weighted = f()
        assert sorted(everything.ravel()) == list(range(6))
        assert len(set(weighted)) == 4 and set(weighted) <= set(range(5))
    with pytest.raises(ValueError, match="larger sample"):
        srng.choice((7,), a=6, replace=False)


def test_permutations_and_shuffled_rows(backend, rng):
    srng = RandomStreams(6)
    x = T.dmatrix("x")
    shuffled = srng.shuffle_row_elements(x)
    value = rng.normal(size=(4, 5))
    perms, out, again = mlcore.function([x], [srng.permutation((3, 2), n=6), shuffled,
                                              T.permute_row_elements(x, shuffled.permutation)], backend=backend)(value)
    assert perms.shape == (3, 2, 6) and all(sorted(p) == list(range(6)) for p in perms.reshape(-1, 6))
    np.testing.assert_array_equal(np.sort(out, axis=1), np.sort(value, axis=1))
    np.testing.assert_array_equal(out, again)


def test_multinomial_counts(backend):
    srng = RandomStreams(7)
    pvals = np.array([0.2, 0.3, 0.5])
    counts, batched = mlcore.function([], [srng.multinomial((N,), n=10, pvals=pvals),
                                           srng.multinomial(n=T.as_tensor_variable([5, 6]),
                                                            pvals=[[0.5, 0.5], [0.1, 0.9]])], backend=backend)()
    assert counts.shape == (N, 3) and np.all(counts.sum(axis=1) == 10) and counts.min() >= 0
    for k, chance in enumerate(pvals):
        within(counts[:, k].mean(), 10 * chance, np.sqrt(10 * chance * (1 - chance)))
    assert batched.shape == (2, 2) and list(batched.sum(axis=1)) == [5, 6]


def test_mrg_streams_have_theanos_arguments(backend):
    srng = MRG_RandomStreams()
    assert srng.default_instance_seed == 12345
    p = np.tile([[0.1, 0.3, 0.6]], (N, 1))
    draws = [srng.uniform((N,), nstreams=30), srng.normal((N,), avg=1.0, std=2.0, truncate=True),
             srng.binomial(size=(N,), n=1, p=0.25), srng.multinomial(pvals=p), srng.choice(size=2, p=p, replace=False),
             srng.choice(size=1, p=p)]
    uniform, truncated, binomial, multinomial, picked, with_replacement = mlcore.function([], draws, backend=backend)()
    within(uniform.mean(), 0.5, np.sqrt(1 / 12))
    assert np.all(np.abs(truncated - 1.0) <= 2 * 2.0 / 0.8796256610342398 + 1e-4)
    assert abs(truncated.std() - 2.0) < 0.05
    within(binomial.mean(), 0.25, np.sqrt(0.25 * 0.75))
    assert multinomial.shape == (N, 3) and np.all(multinomial.sum(axis=1) == 1)
    assert picked.shape == (N, 2) and np.all(picked[:, 0] != picked[:, 1])
    chosen_second = [sum(p[0, i] * p[0, j] / (1 - p[0, i]) for i in range(3) if i != j) for j in range(3)]
    for j in range(3):        # the first pick follows p; the second, p among those left
        within(np.mean(picked[:, 0] == j), p[0, j], np.sqrt(p[0, j] * (1 - p[0, j])))
        within(np.mean(picked[:, 1] == j), chosen_second[j], np.sqrt(chosen_second[j] * (1 - chosen_second[j])))
        within(np.mean(with_replacement[:, 0] == j), p[0, j], np.sqrt(p[0, j] * (1 - p[0, j])))


def test_mrg_argument_errors():
    srng = MRG_RandomStreams(1)
    assert srng.binomial((2,)).dtype == "int64"          # p=0.5 by default, as Theano's
    with pytest.raises(TypeError, match="pvals"):
        srng.multinomial()
    with pytest.raises(TypeError, match="a must be None"):
        srng.choice(2, a=3, p=[[0.5, 0.5]])
    picked = srng.multinomial_wo_replacement(n=2, pvals=[[0.2, 0.3, 0.5]])
    value = mlcore.function([], picked, backend="numpy")()
    assert value.shape == (1, 2) and value[0, 0] != value[0, 1]


def test_draws_have_test_values():
    with mlcore.change_flags(compute_test_value="raise"):
        x = T.dvector("x")
        x.tag.test_value = np.ones(3)
        y = x + RandomStreams(1).normal((3,), std=0.0)
    np.testing.assert_array_equal(y.tag.test_value, np.ones(3))

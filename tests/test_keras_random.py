"""keras.random (mlcore.random): Keras 3's signatures, the distributions on every backend (scipy's
tests at a fixed seed, so they cannot flake: each passes at the 0.1% level), Keras's seed rules
eagerly and in compiled functions, and a custom layer drawing noise in call() under predict and fit."""
import inspect

import numpy as np
import pytest
import scipy.stats as st

import mlcore
import mlcore.tensor as T
from mlcore import random as krandom

N = 20000
LEVEL = 1e-3          # a test of a right distribution fails this often; the seeds are fixed, so never here
LOGITS = np.log(np.array([[0.1, 0.2, 0.3, 0.4], [0.7, 0.1, 0.1, 0.1]], dtype="float32"))


def test_signatures_are_keras_s(keras):
    for name in ["normal", "uniform", "truncated_normal", "randint", "categorical", "dropout", "shuffle", "gamma",
                 "binomial", "beta"]:
        assert inspect.signature(getattr(krandom, name)) == inspect.signature(getattr(keras.random, name)), name
    assert str(inspect.signature(krandom.SeedGenerator)) == str(inspect.signature(keras.random.SeedGenerator))
    assert mlcore.random is krandom


# --- the distributions, compiled on each backend -----------------------------------------------------
def _graph_draws(backend):
    """One function drawing every distribution, its size symbolic (so the draws are graph variables)."""
    x = T.fvector("x")
    n = x.shape[0]
    gen = krandom.SeedGenerator(7)
    draws = {"normal": krandom.normal((n,), mean=1.0, stddev=3.0, seed=gen),
             "uniform": krandom.uniform((n,), minval=-2.0, maxval=2.0, seed=gen),
             "truncated_normal": krandom.truncated_normal((n,), mean=1.0, stddev=2.0, seed=gen),
             "gamma": krandom.gamma((n,), alpha=2.5, seed=gen),
             "beta": krandom.beta((n,), alpha=2.0, beta=5.0, seed=gen),
             "binomial": krandom.binomial((n,), counts=5, probabilities=0.3, seed=gen),
             "randint": krandom.randint((n,), 3, 10, seed=gen),
             "categorical": krandom.categorical(LOGITS + 0 * x[0], N, seed=gen),
             "dropout": krandom.dropout(T.ones_like(x), 0.25, seed=gen)}
    f = mlcore.function([x], list(draws.values()), backend=backend)
    return dict(zip(draws, f(np.zeros(N, "float32"))))


@pytest.fixture(scope="module")
def samples():
    """Each backend's draws, made once for the module."""
    made = {}

    def of(backend):
        if backend not in made:
            made[backend] = _graph_draws(backend)
        return made[backend]
    return of


def test_continuous_draws_follow_their_distributions(backend, samples):
    s = samples(backend)
    expected = {"normal": st.norm(1.0, 3.0), "uniform": st.uniform(-2.0, 4.0),
                "truncated_normal": st.truncnorm(-2.0, 2.0, loc=1.0, scale=2.0), "gamma": st.gamma(2.5),
                "beta": st.beta(2.0, 5.0)}
    for name, dist in expected.items():
        assert s[name].dtype == np.float32 and s[name].shape == (N,), name
        assert st.kstest(s[name], dist.cdf).pvalue > LEVEL, name
    assert -2.0 <= s["uniform"].min() and s["uniform"].max() < 2.0
    assert -3.0 <= s["truncated_normal"].min() and s["truncated_normal"].max() <= 5.0   # within 2 stddevs
    assert s["truncated_normal"].min() < -2.9 and s["truncated_normal"].max() > 4.9     # and reaching them


def _chi2_pvalue(values, probabilities):
    counts = np.bincount(values, minlength=len(probabilities))
    assert len(counts) == len(probabilities), "values outside the support"
    probabilities = np.asarray(probabilities, dtype="float64")
    return st.chisquare(counts, len(values) * probabilities / probabilities.sum()).pvalue


def test_discrete_draws_follow_their_distributions(backend, samples):
    s = samples(backend)
    assert s["binomial"].dtype == np.float32
    assert _chi2_pvalue(s["binomial"].astype(int), st.binom(5, 0.3).pmf(np.arange(6))) > LEVEL
    assert s["randint"].dtype == np.int32 and s["randint"].min() >= 3 and s["randint"].max() <= 9
    assert _chi2_pvalue(s["randint"] - 3, np.full(7, 1 / 7)) > LEVEL
    categorical = s["categorical"]
    assert categorical.shape == (2, N) and categorical.dtype == np.int32
    softmax = np.exp(LOGITS) / np.exp(LOGITS).sum(axis=1, keepdims=True)
    for row in range(2):
        assert _chi2_pvalue(categorical[row], softmax[row]) > LEVEL


def test_dropout_zeroes_a_fraction_and_scales_the_rest(backend, samples):
    kept = samples(backend)["dropout"]
    assert set(np.unique(kept)) == {0.0, np.float32(1 / 0.75)}
    dropped = np.mean(kept == 0)
    assert abs(dropped - 0.25) < 3.3 * np.sqrt(0.25 * 0.75 / N)   # the 0.1% two-sided normal bound


def test_compiled_draws_follow_keras_s_seed_rules(backend):
    x = T.fvector("x")
    gen = krandom.SeedGenerator(3)
    draws = [krandom.normal(x.shape, seed=gen), krandom.normal(x.shape, seed=gen),   # one generator, two draws
             krandom.normal(x.shape, seed=5), krandom.normal(x.shape)]
    f = mlcore.function([x], draws, backend=backend)
    first, second = f(np.zeros(50, "float32")), f(np.zeros(50, "float32"))
    assert not np.allclose(first[0], first[1])
    for k in (0, 1, 3):                                     # a generator, and seed=None, move on each call
        assert not np.allclose(first[k], second[k]), k
    np.testing.assert_array_equal(first[2], second[2])     # an int seed is one fixed key
    again = krandom.SeedGenerator(3)                       # the same seed, the same sequence
    g = mlcore.function([x], [krandom.normal(x.shape, seed=again), krandom.normal(x.shape, seed=again)],
                        backend=backend)
    np.testing.assert_array_equal(g(np.zeros(50, "float32")), first[:2])


def test_shuffle_permutes_each_slice_along_the_axis(backend):
    x = T.imatrix("x")
    f = mlcore.function([x], [krandom.shuffle(x, seed=krandom.SeedGenerator(1)), krandom.shuffle(x, axis=1, seed=2)],
                        backend=backend)
    values = np.arange(200, dtype="int32").reshape(20, 10)
    rows_shuffled, columns_shuffled = f(values)
    np.testing.assert_array_equal(np.sort(rows_shuffled, axis=0), values)
    np.testing.assert_array_equal(np.sort(columns_shuffled, axis=1), values)
    assert not np.array_equal(rows_shuffled, values) and not np.array_equal(columns_shuffled, values)
    orders = {tuple(np.argsort(rows_shuffled[:, j])) for j in range(10)}
    assert len(orders) > 1                                  # each column its own order, as numpy's permuted


# --- eager calls: numpy at once, with Keras's seed rules ---------------------------------------------
def test_eager_draws_are_numpy_and_follow_keras_s_seed_rules():
    a = krandom.normal((3, 4), seed=1)
    assert isinstance(a, np.ndarray) and a.shape == (3, 4) and a.dtype == np.float32
    np.testing.assert_array_equal(a, krandom.normal((3, 4), seed=1))
    assert not np.allclose(krandom.normal((3, 4)), krandom.normal((3, 4)))
    gen, twin = krandom.SeedGenerator(1), krandom.SeedGenerator(seed=1)
    first, second = krandom.uniform((5,), seed=gen), krandom.uniform((5,), seed=gen)
    assert not np.allclose(first, second)
    np.testing.assert_array_equal([krandom.uniform((5,), seed=twin), krandom.uniform((5,), seed=twin)], [first, second])
    np.testing.assert_array_equal(gen.state.get_value(), [1, 2])      # Keras's [seed, counter]
    assert krandom.randint((4,), 0, 3, dtype="int64", seed=1).dtype == np.int64
    assert krandom.uniform((2,), dtype="float64", seed=1).dtype == np.float64
    counts = krandom.binomial((2, 3), counts=np.array([1.0, 10.0, 100.0]), probabilities=0.5, seed=1)
    assert counts.dtype == np.float32 and (counts >= 0).all() and (counts <= [1, 10, 100]).all()
    mlcore.utils.set_random_seed(4)
    unseeded = krandom.normal((3,))
    mlcore.utils.set_random_seed(4)
    np.testing.assert_array_equal(krandom.normal((3,)), unseeded)


def test_eager_dropout_shuffle_and_categorical():
    x = np.arange(1, 25, dtype="float32").reshape(4, 6)
    out = krandom.dropout(x, 0.5, noise_shape=(1, 6), seed=3)     # one draw per column, for every row
    assert isinstance(out, np.ndarray)
    kept = out != 0
    assert (kept == kept[:1]).all() and 0 < kept[0].sum() < 6
    np.testing.assert_allclose(out[kept], 2 * x[kept])
    assert krandom.dropout(x, 0.0) is x
    np.testing.assert_array_equal(krandom.dropout(x, 1.0), np.zeros_like(x))
    np.testing.assert_array_equal(np.sort(krandom.shuffle(x, seed=1), axis=0), x)
    certain = np.array([[0.0, -np.inf, -np.inf], [-np.inf, -np.inf, 0.0]], dtype="float32")
    np.testing.assert_array_equal(krandom.categorical(certain, 5), [[0] * 5, [2] * 5])


def test_bad_arguments_are_refused_with_keras_s_errors():
    with pytest.raises(ValueError, match="requires a floating point `dtype`"):
        krandom.uniform((2,), dtype="int32")
    with pytest.raises(ValueError, match="requires an integer `dtype`"):
        krandom.randint((2,), 0, 5, dtype="float32")
    with pytest.raises(ValueError, match="`logits` should be a 2-D tensor"):
        krandom.categorical(np.zeros(3), 2)
    with pytest.raises(ValueError, match="Argument `seed` must be either an integer or an instance of `SeedGenerator`"):
        krandom.normal((2,), seed="one")
    with pytest.raises(ValueError, match="Argument `seed` must be an integer"):
        krandom.SeedGenerator(1.5)
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        krandom.SeedGenerator(1, dtype="int32")
    assert krandom.SeedGenerator.from_config(krandom.SeedGenerator(9, name="g").get_config()).get_config() == \
        {"seed": 9, "name": "g"}


# --- a layer that draws in call() ---------------------------------------------------------------------
def _noise_layer_class(keras_module):
    class AddNoise(keras_module.layers.Layer):
        """Adds N(0, 0.1) noise (a seeded generator) in training and at inference, as a custom Keras layer would."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = keras_module.random.SeedGenerator(1337)

        def call(self, x):
            return x + keras_module.random.normal(keras_module.ops.shape(x), stddev=0.1, seed=self.seed_generator)
    return AddNoise


def test_a_layer_drawing_in_call_gets_fresh_noise_per_call_and_trains(on_backend):
    AddNoise = _noise_layer_class(mlcore)
    mlcore.utils.set_random_seed(0)
    inputs = mlcore.Input((3,))
    model = mlcore.Model(inputs, mlcore.layers.Dense(1)(AddNoise()(inputs)))
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")
    first, second = model.predict(x, verbose=0), model.predict(x, verbose=0)
    assert not np.allclose(first, second)
    assert np.abs(first - second).max() < 2.0            # noise of stddev 0.1 through a small Dense
    model.compile(optimizer=mlcore.optimizers.SGD(0.1), loss="mse")
    losses = model.fit(x, y, batch_size=16, epochs=8, verbose=0).history["loss"]
    assert losses[-1] < 0.2 * losses[0]
    assert len(model.get_weights()) == 2                  # the generator's state is no weight, as in Keras
    layer = AddNoise()
    assert not np.allclose(layer(x[:4]), layer(x[:4]))    # eager calls of the layer move the state on too


def test_the_generator_state_is_no_weight_as_in_keras(keras, float32_jax):
    def weights_of(module):
        inputs = module.Input((3,))
        model = module.Model(inputs, module.layers.Dense(2)(_noise_layer_class(module)()(inputs)))
        return [w.shape for w in model.get_weights()]
    assert weights_of(mlcore) == weights_of(keras)


def test_normal_and_uniform_draws_differentiate_by_their_parameters(backend):
    """keras.random.normal(mean=, stddev=) and uniform(minval=, maxval=) of symbolic parameters have
    jax's reparameterization gradient (the draw is mean + stddev * z, minval + (maxval - minval) * u
    with z and u fixed by the seed): checked by finite differences, on every backend."""
    from mlcore import config
    from mlcore import random as mrandom
    from mlcore.gradient import verify_grad
    saved = dict(config._overrides)
    config.set_backend(backend)
    try:
        verify_grad(lambda m, s: (mrandom.normal((4, 3), mean=m, stddev=s, dtype="float64", seed=3) ** 2).sum(),
                    [np.array([0.5, -1.0, 2.0]), np.array(1.5)], rng=np.random.default_rng(0))
        verify_grad(lambda lo, hi: (mrandom.uniform((5,), minval=lo, maxval=hi, dtype="float64", seed=4) ** 3).sum(),
                    [np.array(-0.5), np.array(2.0)], rng=np.random.default_rng(1))
    finally:
        config._overrides.clear()
        config._overrides.update(saved)

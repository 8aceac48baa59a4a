"""Activations against Keras 3; initializers' statistics against Keras's formulas;
regularizers, constraints and the seeding of mlcore's generator."""
import math
import os

import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from mlcore import activations, constraints, initializers, regularizers
from mlcore.graph.ops import elemwise, nn
from mlcore.utils import rng

X = np.linspace(-8, 8, 41, dtype="float32").reshape(1, 41)


@pytest.fixture(scope="module")
def keras():
    """Keras 3 as the reference (numpy backend unless one is chosen: same code, no per-op compiles)."""
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    return pytest.importorskip("keras")


def evaluate(fn, *arrays):
    inputs = [T.tensor(dtype=a.dtype, shape=a.shape) for a in arrays]
    return mlcore.function(inputs, fn(*inputs), backend="numpy", on_unused_input="ignore")(*arrays)


ACTIVATION_CASES = [
    ("relu", {}), ("relu", dict(negative_slope=0.1, max_value=3.0, threshold=0.5)), ("relu", dict(max_value=6.0)),
    ("relu", dict(threshold=1.0)), ("relu", dict(negative_slope=0.1)), ("sigmoid", {}), ("softmax", {}),
    ("log_softmax", {}), ("tanh", {}), ("elu", dict(alpha=0.5)), ("selu", {}), ("softplus", {}), ("softsign", {}),
    ("exponential", {}), ("hard_sigmoid", {}), ("gelu", {}), ("gelu", dict(approximate=True)), ("silu", {}),
    ("swish", {}), ("leaky_relu", {}), ("relu6", {}), ("mish", {}), ("hard_silu", {}), ("hard_tanh", {}),
    ("log_sigmoid", {})]


@pytest.mark.parametrize("name, kwargs", ACTIVATION_CASES, ids=[n + str(k) for n, k in ACTIVATION_CASES])
def test_activations_match_keras(keras, name, kwargs):
    got = evaluate(lambda x: activations.get(name)(x, **kwargs), X)
    expected = np.asarray(getattr(keras.activations, name)(X, **kwargs))
    np.testing.assert_allclose(got, expected, rtol=2e-6, atol=5e-7)


def test_activations_evaluate_numbers_at_once(keras):
    np.testing.assert_allclose(activations.selu(X), np.asarray(keras.activations.selu(X)), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(activations.get("softmax")(X), np.asarray(keras.activations.softmax(X)), rtol=1e-6)


def test_exact_gelu_gradient_matches_the_normal_density():
    x = X.astype("float64")
    got = evaluate(lambda v: mlcore.grad(activations.gelu(v).sum(), v), x)
    cdf = 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))
    np.testing.assert_allclose(got, cdf + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi), atol=1e-6)


def test_sigmoid_and_softmax_are_the_graph_ops_losses_recognise():
    x = T.matrix()
    assert type(activations.sigmoid(x).owner.op) is elemwise.Sigmoid
    assert type(activations.get("softmax")(x).owner.op) is nn.Softmax


def test_activation_lookup():
    assert activations.get(None) is activations.linear
    assert activations.get("swish") is activations.silu
    assert activations.get(np.tanh) is np.tanh
    assert activations.serialize(activations.get("swish")) == "silu"
    assert activations.serialize(activations.relu) == "relu"
    assert activations.deserialize("elu") is activations.elu
    with pytest.raises(ValueError, match="'rellu'.*relu.*softmax"):
        activations.get("rellu")


@pytest.mark.parametrize("shape, fans", [((5,), (5, 5)), ((30, 20), (30, 20)), ((3, 3, 16, 32), (144, 288)),
                                         ((2, 4, 6, 8, 10), (48 * 8, 48 * 10)), ((), (1, 1))])
def test_compute_fans_as_keras(shape, fans):
    assert initializers.compute_fans(shape) == fans


@pytest.mark.parametrize("name, scale, mode, distribution", [
    ("glorot_uniform", 1.0, "fan_avg", "uniform"), ("glorot_normal", 1.0, "fan_avg", "normal"),
    ("he_uniform", 2.0, "fan_in", "uniform"), ("he_normal", 2.0, "fan_in", "normal"),
    ("lecun_uniform", 1.0, "fan_in", "uniform"), ("lecun_normal", 1.0, "fan_in", "normal")])
def test_variance_scaling_statistics(name, scale, mode, distribution):
    shape = (3, 3, 40, 60)  # a conv kernel: fans count the receptive field
    fan_in, fan_out = 9 * 40, 9 * 60
    n = {"fan_in": fan_in, "fan_avg": (fan_in + fan_out) / 2}[mode]
    values = initializers.get({"class_name": name, "config": {"seed": 0}})(shape)
    assert values.shape == shape and values.dtype == np.float32
    std = math.sqrt(scale / n)
    assert abs(values.mean()) < 0.05 * std
    assert values.std() == pytest.approx(std, rel=0.03)
    bound = math.sqrt(3 * scale / n) if distribution == "uniform" else 2 * std / 0.87962566103423978
    assert np.abs(values).max() <= bound * (1 + 1e-6)


def test_random_initializers_statistics_and_keras_defaults(keras):
    for name in ("RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling", "Orthogonal"):
        assert getattr(initializers, name)().get_config() == getattr(keras.initializers, name)().get_config()
    normal = initializers.RandomNormal(mean=1.0, stddev=2.0)((400, 500))
    assert normal.mean() == pytest.approx(1.0, abs=0.02) and normal.std() == pytest.approx(2.0, rel=0.01)
    uniform = initializers.RandomUniform(-1.0, 3.0)((400, 500))
    assert uniform.min() >= -1.0 and uniform.max() < 3.0 and uniform.mean() == pytest.approx(1.0, abs=0.01)
    truncated = initializers.TruncatedNormal(stddev=0.5)((400, 500))
    assert np.abs(truncated).max() <= 1.0 and truncated.std() == pytest.approx(0.5 * 0.87962566, rel=0.01)


def test_constant_identity_orthogonal(keras):
    assert np.all(initializers.Constant(3.5)((2, 3)) == 3.5)
    assert initializers.get("zeros")((2,)).tolist() == [0, 0] and initializers.get("one")((1,)).tolist() == [1]
    expected = np.asarray(keras.initializers.Identity(2.0)((3, 4)))
    np.testing.assert_array_equal(initializers.Identity(2.0)((3, 4)), expected)
    for shape in ((6, 4), (4, 6), (3, 3, 2, 5)):
        q = initializers.Orthogonal(gain=1.5, seed=3)(shape).reshape(-1, shape[-1])
        gram = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
        np.testing.assert_allclose(gram, 2.25 * np.eye(len(gram)), atol=1e-5)


def test_seeds_and_set_random_seed():
    seeded = initializers.GlorotUniform(seed=7)
    np.testing.assert_array_equal(seeded((4, 5)), seeded((4, 5)))  # Keras 3: same values every call
    unseeded = initializers.HeNormal()
    assert not np.array_equal(unseeded((4, 5)), unseeded((4, 5)))
    rng.set_random_seed(123)
    first = [unseeded((4, 5)), np.random.rand(), rng.get_generator().integers(100)]
    rng.set_random_seed(123)
    second = [unseeded((4, 5)), np.random.rand(), rng.get_generator().integers(100)]
    np.testing.assert_array_equal(first[0], second[0])
    assert first[1:] == second[1:]
    with pytest.raises(ValueError):
        rng.set_random_seed(1.5)


def test_initializer_lookup_and_config():
    for name, cls in (("glorot_uniform", initializers.GlorotUniform), ("uniform", initializers.RandomUniform),
                      ("normal", initializers.RandomNormal), ("zero", initializers.Zeros),
                      ("he_normal", initializers.HeNormal), ("VarianceScaling", initializers.VarianceScaling),
                      ("orthogonal", initializers.Orthogonal), ("identity", initializers.Identity)):
        assert type(initializers.get(name)) is cls
    original = initializers.VarianceScaling(scale=2.0, mode="fan_out", distribution="uniform", seed=4)
    again = initializers.deserialize(initializers.serialize(original))
    assert again.get_config() == original.get_config()
    np.testing.assert_array_equal(again((3, 3)), original((3, 3)))
    assert initializers.GlorotNormal.from_config(initializers.GlorotNormal(seed=1).get_config()).seed == 1
    assert initializers.get(np.ones((2, 2)))((2, 2), "float32").dtype == np.float32
    with pytest.raises(ValueError, match="'glorot'.*glorot_uniform"):
        initializers.get("glorot")


def test_regularizers():
    w = np.random.default_rng(5).normal(size=(4, 3)).astype("float32")
    for reg, expected in ((regularizers.L1(0.1), 0.1 * np.abs(w).sum()), (regularizers.l2(), 0.01 * (w ** 2).sum()),
                          (regularizers.L1L2(l1=0.2, l2=0.3), 0.2 * np.abs(w).sum() + 0.3 * (w ** 2).sum()),
                          (regularizers.get("l1_l2"), 0.0)):
        np.testing.assert_allclose(evaluate(reg, w), expected, rtol=1e-5)
    unit = w / np.linalg.norm(w, axis=1, keepdims=True)
    cosines = np.abs(unit @ unit.T)[~np.eye(4, dtype=bool)]
    np.testing.assert_allclose(evaluate(regularizers.OrthogonalRegularizer(0.5), w), 0.5 * 0.5 * cosines.sum() / 6,
                               rtol=1e-5)
    assert regularizers.get("l2").get_config() == {"l2": 0.01}
    again = regularizers.deserialize(regularizers.serialize(regularizers.L1L2(l1=0.1)))
    assert again.get_config() == {"l1": 0.1, "l2": 0.0}
    with pytest.raises(ValueError, match="non-negative"):
        regularizers.L2(-1.0)


def test_constraints_match_keras(keras):
    w = np.random.default_rng(6).normal(size=(5, 3)).astype("float32") * 3
    for name, kwargs in (("MaxNorm", dict(max_value=2.0)), ("NonNeg", {}), ("UnitNorm", dict(axis=1)),
                         ("MinMaxNorm", dict(min_value=1.0, max_value=3.0, rate=0.5))):
        got = evaluate(getattr(constraints, name)(**kwargs), w)
        np.testing.assert_allclose(got, np.asarray(getattr(keras.constraints, name)(**kwargs)(w)), rtol=1e-5)
    assert type(constraints.get("maxnorm")) is constraints.MaxNorm
    assert constraints.deserialize(constraints.serialize(constraints.MaxNorm(3, axis=1))).get_config() == \
        {"max_value": 3, "axis": 1}


class _DrawsJustBelowHigh:
    """A generator whose uniform draws are the largest float64 below high: in float32 they round to high."""

    def uniform(self, low, high, size):
        return np.full(size, np.nextafter(float(high), float(low)))


def test_uniform_draws_stay_below_high_in_float32(monkeypatch):
    values = rng.uniform(_DrawsJustBelowHigh(), -1.0, 3.0, (4,), "float32")
    assert values.dtype == np.float32 and (values < 3.0).all() and values[0] == np.nextafter(np.float32(3), np.float32(0))
    assert (rng.uniform(_DrawsJustBelowHigh(), -1.0, 3.0, (4,), "float64") < 3.0).all()
    initializer = initializers.RandomUniform(-1.0, 3.0)
    monkeypatch.setattr(initializer, "generator", _DrawsJustBelowHigh)
    assert initializer((2, 3)).max() < 3.0
    scaling = initializers.VarianceScaling(scale=3.0, mode="fan_in", distribution="uniform")
    monkeypatch.setattr(scaling, "generator", _DrawsJustBelowHigh)
    assert scaling((1, 5), dtype="float32").max() < np.float32(np.sqrt(3.0 * 3.0))

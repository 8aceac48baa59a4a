"""The Dot merge layer and Keras 2's K.batch_dot: values and static shapes against Keras 3's Dot on every
backend and against numpy's einsum, gradients against finite differences, configs, errors; and the
functional forms of the merge layers (subtract, multiply, average, maximum, minimum, dot)."""
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

import mlcore
from mlcore import backend as K
from mlcore import layers
from mlcore.graph.basic import TensorType

pytestmark = pytest.mark.usefixtures("numpy_backend", "float32_jax")

DOT_CASES = [  # (first sample shape, second sample shape, axes, normalize)
    ((5,), (5,), 1, False),
    ((5,), (5,), -1, True),
    ((3, 4), (3, 6), (1, 1), False),
    ((3, 4), (5, 4), (2, 2), True),
    ((4,), (4, 6), (1, 1), False),
    ((3, 4), (4,), (2, 1), False),
    ((2, 3, 4), (2, 5, 4), (3, 3), False),
    ((3, 4), (6, 3), (1, 2), True),
]


@pytest.mark.parametrize("first,second,axes,normalize", DOT_CASES)
def test_dot_matches_keras_on_every_backend(keras, rng, backend, first, second, axes, normalize):
    a = rng.normal(size=(3,) + first).astype("float32")
    b = rng.normal(size=(3,) + second).astype("float32")
    expected = np.asarray(keras.layers.Dot(axes, normalize=normalize)([a, b]))
    x, y = TensorType("float32", (None,) + first)("x"), TensorType("float32", (None,) + second)("y")
    out = layers.Dot(axes, normalize=normalize)([x, y])
    assert out.type.shape == keras.layers.Dot(axes, normalize=normalize)(
        [keras.Input(first), keras.Input(second)]).shape
    got = mlcore.function([x, y], out, backend=backend)(a, b)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_dot_is_a_batched_contraction(rng):
    """An independent reading: Dot(axes=(2, 1)) of (n, i, k) and (n, k, j) is einsum('nik,nkj->nij')."""
    a, b = rng.normal(size=(4, 3, 5)), rng.normal(size=(4, 5, 2))
    np.testing.assert_allclose(layers.Dot((2, 1))([a, b]), np.einsum("nik,nkj->nij", a, b), rtol=1e-6)
    np.testing.assert_allclose(K.batch_dot(a, b), np.einsum("nik,nkj->nij", a, b), rtol=1e-6)
    np.testing.assert_allclose(K.batch_dot(a, np.ones((4, 2, 5)), axes=(2, 2)),
                               np.repeat(a.sum(axis=2, keepdims=True), 2, axis=2), rtol=1e-6)
    cosine = layers.Dot(-1, normalize=True)([a[:, 0], 2 * a[:, 0]])
    np.testing.assert_allclose(cosine, np.ones((4, 1)), rtol=1e-6)


def test_dot_gradients_match_finite_differences(rng, floatx, numeric_grad):
    floatx("float64")
    x, y = TensorType("float64", (None, 3, 4))("x"), TensorType("float64", (None, 4))("y")
    weights = rng.normal(size=(2, 3))
    cost = (layers.Dot((2, 1), normalize=True)([x, y]) * weights).sum()
    gradient = mlcore.function([x, y], mlcore.grad(cost, [x, y]))
    value = mlcore.function([x, y], cost)
    values = [rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 4))]
    for k, grad in enumerate(gradient(*values)):
        np.testing.assert_allclose(grad, numeric_grad(value, values, k), rtol=1e-6, atol=1e-8)


def test_a_siamese_cosine_model_learns(rng):
    """Pairs (u, v) labelled 1 when v is u scaled, else 0: a shared Dense then Dot(normalize=True)."""
    u = rng.normal(size=(256, 6)).astype("float32")
    same = rng.random(256) < 0.5
    v = np.where(same[:, None], u * rng.uniform(0.5, 2, size=(256, 1)), rng.normal(size=(256, 6))).astype("float32")
    mlcore.utils.set_random_seed(0)
    left, right = layers.Input((6,)), layers.Input((6,))
    shared = layers.Dense(6)
    score = layers.Dense(1, activation="sigmoid")(layers.dot([shared(left), shared(right)], axes=1, normalize=True))
    model = mlcore.Model([left, right], score)
    model.compile(mlcore.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    model.fit([u, v], same.astype("float32"), epochs=30, batch_size=32, verbose=0)
    assert model.evaluate([u, v], same.astype("float32"), verbose=0)[1] > 0.95


def test_functional_forms_match_keras(keras, rng):
    a, b = (rng.normal(size=(3, 4)).astype("float32") for _ in range(2))
    for name in ("add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate"):
        np.testing.assert_allclose(getattr(layers, name)([a, b]), getattr(keras.layers, name)([a, b]), rtol=1e-6)
    np.testing.assert_allclose(layers.dot([a, b], axes=1), keras.layers.dot([a, b], axes=1), rtol=1e-5)


def test_config_round_trips_with_kerass_keys(keras):
    ours = layers.Dot(axes=(1, 2), normalize=True, name="similarity")
    theirs = keras.layers.Dot(axes=(1, 2), normalize=True, name="similarity")
    assert set(ours.get_config()) == set(theirs.get_config())
    again = layers.Dot.from_config(ours.get_config())
    assert (again.axes, again.normalize, again.name) == ((1, 2), True, "similarity")


def test_bad_arguments_and_inputs_are_named():
    with pytest.raises(TypeError, match="should be a list or an int"):
        layers.Dot(axes="last")
    with pytest.raises(ValueError, match="should contain two elements"):
        layers.Dot(axes=(1, 2, 3))
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.Dot(1)([layers.Input((3,))] * 3)
    with pytest.raises(ValueError, match=r"x.shape\[1\] != y.shape\[1\] \(3 != 4\)"):
        layers.Dot(1)([layers.Input((3,)), layers.Input((4,))])
    with pytest.raises(ValueError, match="over axis 0"):
        K.batch_dot(np.ones((2, 3)), np.ones((2, 3)), axes=0)

"""A model called without `training` leaves each layer its own call's default, as Keras 3 does: image
augmentation layers (training=True by default) augment, Dropout (training=False) and BatchNormalization
infer; predict() and an explicit training=False never augment."""
import numpy as np
import pytest

import mlcore

pytestmark = pytest.mark.usefixtures("float32_jax")


def build(api, kind):
    flip = api.layers.RandomFlip("horizontal_and_vertical", seed=3)
    dropout = api.layers.Dropout(0.5, seed=1)
    if kind == "sequential":
        return api.Sequential([api.Input((4, 4, 1)), flip, dropout])
    inputs = api.Input((4, 4, 1))
    return api.Model(inputs, dropout(flip(inputs)))


def changes(model, x, **kwargs):
    """Which of a few calls changed x: the flip's draws vary, dropout would zero entries."""
    outputs = [np.asarray(model(x, **kwargs)) for _ in range(6)]
    flipped = any(not np.array_equal(o, x) for o in outputs)
    dropped = any(np.count_nonzero(o) < np.count_nonzero(x) for o in outputs)
    return flipped, dropped


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_direct_calls_use_each_layers_default_as_keras(keras, kind):
    x = np.arange(1, 2 * 4 * 4 + 1, dtype="float32").reshape(2, 4, 4, 1)
    ours, theirs = build(mlcore, kind), build(keras, kind)
    assert changes(ours, x) == changes(theirs, x) == (True, False)
    assert changes(ours, x, training=False) == changes(theirs, x, training=False) == (False, False)
    assert changes(ours, x, training=True)[1] and changes(theirs, x, training=True)[1]
    np.testing.assert_array_equal(ours.predict(x, verbose=0), x)

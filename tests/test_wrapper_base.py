"""keras.layers.Wrapper, the base of users' wrappers: the same subclass written against Keras 3 and mlcore
predicts the same, holds the wrapped layer's weights, round-trips its config, and its weight file reads
both ways; TimeDistributed is one."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

import mlcore
from mlcore import layers

pytestmark = pytest.mark.usefixtures("numpy_backend")


def doubled(lib):
    """A user's wrapper: twice the wrapped layer's output."""
    class Doubled(lib.layers.Wrapper):
        def call(self, x):
            return 2 * self.layer(x)
    return Doubled


def model(lib):
    inputs = lib.layers.Input((3,))
    return lib.Model(inputs, doubled(lib)(lib.layers.Dense(2, name="inner"), name="twice")(inputs))


def test_a_users_wrapper_matches_keras_and_files_read_both_ways(keras, rng, tmp_path):
    ours, theirs = model(mlcore), model(keras)
    weights = [rng.normal(size=w.shape).astype("float32") for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    x = rng.normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(ours.predict(x, verbose=0), 2 * (x @ weights[0] + weights[1]), rtol=1e-6)
    ours.save_weights(tmp_path / "ours.weights.h5")
    fresh = model(keras)
    fresh.load_weights(tmp_path / "ours.weights.h5")
    np.testing.assert_allclose(fresh.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-6)


def test_config_round_trip_and_bad_layers():
    wrapper = doubled(mlcore)(layers.Dense(2, name="inner"))
    again = type(wrapper).from_config(wrapper.get_config())
    assert type(again.layer) is layers.Dense and again.layer.units == 2
    assert isinstance(layers.TimeDistributed(layers.Dense(1)), layers.Wrapper)
    with pytest.raises(ValueError, match="supplied to Wrapper isn't a supported layer type"):
        doubled(mlcore)("dense")

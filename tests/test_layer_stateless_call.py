"""Keras 3's Layer methods that every layer has, not only models: stateless_call (the call computed
from given values of the variables: outputs, new non-trainable values, and with return_losses the
losses), rematerialized_call, and quantize / quantized_build raising NotImplementedError where a layer
cannot be quantized.  Each is compared with Keras 3 itself, run on the same code."""
import warnings

import numpy as np
import pytest

import mlcore


@pytest.fixture(params=["mlcore", "keras"])
def lib(request):
    if request.param == "keras":
        return pytest.importorskip("keras")
    return mlcore


def _noisy_layer(lib):
    """Keras's own stateless_call test layer: an added loss, an assigned non-trainable variable, a
    seeded random draw and a regularized weight."""
    class Noisy(lib.layers.Layer):
        def __init__(self):
            super().__init__()
            self.seed_generator = lib.random.SeedGenerator(1337)
            self.ntw = self.add_weight(shape=(), initializer="zeros", trainable=False)
            self.tw = self.add_weight(shape=(), initializer="zeros", trainable=True, regularizer="l1")
            self.built = True

        def call(self, x):
            x = lib.ops.convert_to_tensor(x, dtype="float32")
            self.add_loss(lib.ops.sum(x))
            x = x + lib.random.normal(shape=(), seed=self.seed_generator)
            outputs = lib.ops.add(x, lib.ops.add(self.tw, self.ntw))
            self.ntw.assign(lib.ops.sum(x))         # after the read: mlcore's graph reads the value the
            return outputs                          # call started from (docs/KERAS_SUITE.md)
    return Noisy()


DATA = np.random.default_rng(0).random((3, 4))


def test_stateless_call_of_a_layer_gives_outputs_state_and_losses_as_keras(lib):
    layer = _noisy_layer(lib)
    state = [np.asarray(v.numpy()) for v in layer.non_trainable_variables]
    outputs, non_trainable, losses = layer.stateless_call(layer.trainable_variables, layer.non_trainable_variables,
                                                          DATA, return_losses=True)
    noise = np.asarray(outputs) - DATA.astype("float32")
    np.testing.assert_allclose(noise, noise[0, 0], rtol=1e-5)          # one draw (ntw and tw were 0)
    assert len(non_trainable) == 2                                      # the assigned variable, the seed state
    assigned = [np.asarray(v) for v in non_trainable if np.shape(v) == ()][0]
    np.testing.assert_allclose(assigned, (DATA + noise[0, 0]).sum(), rtol=1e-5)
    seed_state = [np.asarray(v) for v in non_trainable if np.shape(v) == (2,)][0]
    assert not np.array_equal(seed_state, [s for s in state if s.shape == (2,)][0])    # the next draw's state
    np.testing.assert_allclose([float(l) for l in losses], [DATA.sum(), 0.0], rtol=1e-5)   # add_loss, l1 of 0
    assert [np.asarray(v.numpy()).tolist() for v in layer.non_trainable_variables] == [s.tolist() for s in state]
    again, _ = layer.stateless_call(layer.trainable_variables, layer.non_trainable_variables, DATA)
    np.testing.assert_array_equal(np.asarray(again), np.asarray(outputs))   # the same state, the same draw


def test_stateless_call_equals_a_call_with_those_values(lib):
    dense = lib.layers.Dense(2)
    dense.build((None, 3))
    kernel = np.arange(6, dtype="float32").reshape(3, 2)
    x = np.ones((4, 3), "float32")
    outputs, non_trainable = dense.stateless_call([kernel, np.ones(2, "float32")], [], x)
    np.testing.assert_allclose(np.asarray(outputs), x @ kernel + 1)
    assert non_trainable == []
    assert np.abs(np.asarray(dense.kernel.numpy())).sum() > 0 and not np.allclose(dense.kernel.numpy(), kernel)


def test_stateless_call_returns_new_batch_statistics_in_training(lib):
    norm = lib.layers.BatchNormalization(momentum=0.5)
    norm.build((None, 2))
    x = np.arange(8, dtype="float32").reshape(4, 2)
    _, (mean, variance) = norm.stateless_call(norm.trainable_variables, norm.non_trainable_variables, x, training=True)
    np.testing.assert_allclose(np.asarray(mean), 0.5 * x.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(variance), 0.5 + 0.5 * x.var(axis=0), rtol=1e-6)
    np.testing.assert_array_equal(norm.moving_mean.numpy(), [0, 0])


def test_stateless_call_checks_the_layer_and_the_values(lib):
    with pytest.raises(ValueError, match="must be built"):
        lib.layers.Dense(2).stateless_call([], [], np.ones((1, 3)))
    dense = lib.layers.Dense(2)
    dense.build((None, 3))
    with pytest.raises(ValueError, match="corresponding 1:1"):
        dense.stateless_call([np.ones((3, 2))], [], np.ones((1, 3)))


def test_rematerialized_call_gives_the_call_outside_a_remat_scope(lib):
    dense = lib.layers.Dense(4)
    assert dense.rematerialized_call(dense.call, lib.ops.ones((2, 3))) == dense.call


def test_a_plain_layer_cannot_be_quantized(lib):
    layer = lib.layers.Layer()
    with pytest.raises(ValueError, match="Cannot quantize a layer that isn't yet built"):
        layer.quantize("int8")
    layer.build(None)
    for method, args in (("quantize", ("int8",)), ("quantized_build", ((2, 3), "int8"))):
        with pytest.raises(NotImplementedError, match="Layer Layer does not have a `%s` method implemented" % method):
            getattr(layer, method)(*args)


def test_quantizing_a_model_warns_for_its_layers_that_cannot_be(lib):
    model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2), lib.layers.Activation("relu")])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.quantize("int8")
    assert any("Activation does not have a `quantize` method implemented" in str(w.message) for w in caught)
    assert model.layers[0].quantization_mode == "int8"

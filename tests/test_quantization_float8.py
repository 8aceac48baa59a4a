"""model.quantize("float8") against Keras 3 on jax: the same variables (paths, dtypes, values), the same
predictions, the same kernels, biases, scales and amax histories after a few training steps (the scales
overwritten with their gradients by the optimizer, with and without gradient accumulation), and .keras
files both ways."""
import numpy as np
import pytest

import mlcore
from mlcore import dtype_policies, optimizers

RNG = np.random.RandomState(3)
X = (RNG.randn(8, 6) * 3).astype("float32")
Y = RNG.randn(8, 3).astype("float32")


def _twin_models(lib):
    inputs = lib.Input((6,))
    x = lib.layers.Dense(5, activation="relu", name="hidden")(inputs)
    outputs = lib.layers.EinsumDense("ab,bc->ac", output_shape=3, bias_axes="c", name="out")(x)
    return lib.Model(inputs, outputs)


def _float8_pair(keras):
    ours, theirs = _twin_models(mlcore), _twin_models(keras)
    theirs.set_weights(ours.get_weights())
    with pytest.warns(UserWarning, match="InputLayer"):
        ours.quantize("float8")
    theirs.quantize("float8")
    return ours, theirs


def _assert_same_weights(ours, theirs, tol=0):
    """tol: for numpy's float matmuls, whose sums may run in another order than XLA's."""
    assert [(w.path, np.dtype(w.dtype).name, tuple(w.shape), w.trainable) for w in ours.weights] == \
        [(w.path, w.dtype, tuple(w.shape), w.trainable) for w in theirs.weights]
    for a, b, w in zip(ours.get_weights(), theirs.get_weights(), theirs.weights):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol / 10, err_msg=w.path)


def test_float8_variables_and_predictions_match_keras(keras):
    ours, theirs = _float8_pair(keras)
    _assert_same_weights(ours, theirs)
    assert all(w.overwrite_with_gradient == ("scale" in w.path or "amax" in w.path) for w in ours.weights)
    assert ours.get_layer("hidden").dtype_policy == dtype_policies.deserialize(
        keras.dtype_policies.serialize(theirs.get_layer("hidden").dtype_policy))
    assert ours.get_layer("out").get_config() == theirs.get_layer("out").get_config()
    np.testing.assert_array_equal(ours.predict(X, verbose=0), theirs.predict(X, verbose=0))


@pytest.mark.parametrize("accumulation", [None, 2])
def test_float8_training_matches_keras(keras, on_backend, accumulation):
    ours, theirs = _float8_pair(keras)
    ours.compile(optimizer=optimizers.SGD(0.1, gradient_accumulation_steps=accumulation), loss="mse")
    theirs.compile(optimizer=keras.optimizers.SGD(0.1, gradient_accumulation_steps=accumulation), loss="mse")
    if on_backend == "theano":
        with pytest.raises(TypeError, match="The theano backend cannot compute in bfloat16"):
            ours.fit(X, Y, batch_size=4, epochs=1, verbose=0)
        return
    ours.fit(X, Y, batch_size=4, epochs=2, verbose=0, shuffle=False)
    theirs.fit(X, Y, batch_size=4, epochs=2, verbose=0, shuffle=False)
    history = ours.get_layer("hidden").inputs_amax_history.numpy()
    assert history[0] > 0 and (accumulation or history[-1] > 0)       # the histories roll
    tol = 1e-6 if on_backend == "numpy" else 0
    _assert_same_weights(ours, theirs, tol)
    np.testing.assert_allclose(ours.predict(X, verbose=0), theirs.predict(X, verbose=0), rtol=tol, atol=tol / 10)


def test_float8_inference_call_leaves_the_scales(keras):
    ours, _ = _float8_pair(keras)
    before = [w.numpy().copy() for w in ours.weights]
    x = mlcore.tensor.matrix("x")
    loss = ours(x, training=False).sum()
    weights = ours.trainable_weights
    step = mlcore.function([x], [], updates=optimizers.SGD(0.1).get_updates(weights, mlcore.grad(loss, weights)))
    step(X)
    for w, value in zip(ours.weights, before):
        if w.overwrite_with_gradient and "outputs_grad" not in w.path:     # Keras updates those in inference too
            np.testing.assert_array_equal(w.numpy(), value, err_msg=w.path)


def test_float8_keras_files_load_both_ways(keras, tmp_path):
    ours, theirs = _float8_pair(keras)
    for model, lib in ((ours, mlcore), (theirs, keras)):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
        model.fit(X, Y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    expected = theirs.predict(X, verbose=0)
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    in_keras = keras.saving.load_model(tmp_path / "ours.keras")
    in_mlcore = mlcore.saving.load_model(tmp_path / "theirs.keras")
    _assert_same_weights(in_mlcore, in_keras)
    np.testing.assert_array_equal(in_keras.predict(X, verbose=0), expected)
    np.testing.assert_array_equal(in_mlcore.predict(X, verbose=0), expected)
    assert in_mlcore.get_layer("hidden").dtype_policy.name == "float8_from_float32"


def test_overwrite_with_gradient_must_be_a_bool():
    layer = mlcore.layers.Dense(2)
    layer.build((None, 3))
    with pytest.raises(TypeError, match="`overwrite_with_gradient` must be a boolean"):
        layer.kernel.overwrite_with_gradient = 1

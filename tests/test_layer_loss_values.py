"""layer.losses read outside a graph gives values, as Keras's: the weights' penalties computed from
the weights as they are now, and the losses of the last eager call; inside a training step they stay
graph expressions, so fit() still differentiates them."""
import numpy as np

import mlcore as keras


def test_weight_penalties_are_values_of_the_current_weights():
    layer = keras.layers.Dense(2, kernel_regularizer=keras.regularizers.L2(0.5), bias_regularizer="l1")
    layer.build((None, 3))
    layer.bias.assign(np.array([1.0, -2.0], "float32"))
    kernel_penalty, bias_penalty = layer.losses
    assert isinstance(kernel_penalty, np.ndarray) and kernel_penalty.shape == ()
    np.testing.assert_allclose(kernel_penalty, 0.5 * np.sum(layer.kernel.numpy() ** 2), rtol=1e-6)
    np.testing.assert_allclose(bias_penalty, 0.01 * 3.0, rtol=1e-6)
    layer.kernel.assign(np.zeros((3, 2), "float32"))
    assert float(layer.losses[0]) == 0.0


def test_an_eager_calls_activity_penalty_comes_first():
    layer = keras.layers.Dense(2, kernel_initializer="ones", kernel_regularizer="l2", activity_regularizer="l1")
    x = np.ones((4, 3), "float32")
    layer(x)
    activity, kernel = layer.losses
    np.testing.assert_allclose(activity, 0.01 * np.abs(x @ np.ones((3, 2))).sum() / 4, rtol=1e-6)
    np.testing.assert_allclose(kernel, 0.01 * 6, rtol=1e-6)


def test_fit_still_pays_the_penalties():
    def fitted(regularizer):
        keras.utils.set_random_seed(1)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, kernel_regularizer=regularizer)])
        model.compile(keras.optimizers.SGD(0.1), "mse")
        x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
        model.fit(x, x @ np.array([[3.0], [-2.0], [1.0]], "float32"), epochs=20, verbose=0)
        return np.abs(model.layers[0].kernel.numpy()).sum()
    # ridge regression with lambda 1 on unit-variance inputs about halves these weights
    assert fitted(keras.regularizers.L2(1.0)) < 0.6 * fitted(None)

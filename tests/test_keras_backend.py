"""mlcore.backend, the `from keras import backend as K` of Keras 3 and of Keras 1/2 code."""
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

import mlcore
from mlcore import backend as K, config, layers

pytestmark = pytest.mark.usefixtures("numpy_backend")


@pytest.fixture
def channels_last():
    yield
    config.set_image_data_format("channels_last")


def test_settings_and_dtype_helpers_match_keras():
    keras = pytest.importorskip("keras")
    assert mlcore.backend is K and K.backend() == config.backend()
    assert (K.floatx(), K.epsilon(), K.image_data_format()) == (
        keras.backend.floatx(), keras.backend.epsilon(), keras.backend.image_data_format())
    for dtype in ("float64", np.float32, np.dtype("int8"), "bool"):
        assert K.standardize_dtype(dtype) == keras.backend.standardize_dtype(dtype)
        assert K.is_float_dtype(dtype) == keras.backend.is_float_dtype(dtype)
        assert K.is_int_dtype(dtype) == keras.backend.is_int_dtype(dtype)
    inputs = layers.Input((4,))
    assert K.is_keras_tensor(inputs) and K.is_keras_tensor(layers.Dense(2)(inputs))
    assert not K.is_keras_tensor(np.ones(2)) and not K.is_keras_tensor(mlcore.shared(np.ones(2)))


def test_keras1_dim_ordering_sets_the_image_data_format(channels_last):
    K.set_image_dim_ordering("th")
    assert K.image_data_format() == "channels_first" and K.image_dim_ordering() == "th"
    K.set_image_dim_ordering("tf")
    assert K.image_data_format() == "channels_last"
    with pytest.raises(ValueError, match="'th' or 'tf'"):
        K.set_image_dim_ordering("channels_first")


def test_keras2_math_on_values_and_in_a_custom_loss(rng):
    x = rng.normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(K.sum(K.square(x), axis=-1), (x ** 2).sum(-1), rtol=1e-6)
    np.testing.assert_allclose(K.l2_normalize(x, axis=1), x / np.linalg.norm(x, axis=1, keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(K.batch_flatten(np.ones((2, 3, 4))), np.ones((2, 12)))
    assert K.int_shape(layers.Input((5, 2))) == (None, 5, 2) and K.ndim(x) == 2 and K.count_params(x) == 12

    def rmse(y_true, y_pred):           # Keras 2 style: K.sqrt(K.mean(K.square(...)))
        return K.sqrt(K.mean(K.square(y_pred - y_true), axis=-1) + K.epsilon())

    model = mlcore.Sequential([layers.Input((3,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss=rmse)
    w, b = model.get_weights()
    y = rng.normal(size=(4, 1)).astype("float32")
    expected = np.mean(np.sqrt(np.mean((x @ w + b - y) ** 2, axis=-1) + 1e-7))
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), expected, rtol=1e-5)


def test_function_gives_intermediate_outputs(rng):
    model = mlcore.Sequential([layers.Input((4,)), layers.Dense(3, activation="relu"), layers.Dense(2)])
    hidden = K.function([model.input], [model.layers[0].output])
    x = rng.normal(size=(5, 4)).astype("float32")
    w, b = model.layers[0].get_weights()
    (got,) = hidden([x])
    np.testing.assert_allclose(got, np.maximum(x @ w + b, 0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(K.function([model.input], model.output)([x]), model.predict(x, verbose=0), rtol=1e-6)


def test_variables_and_gradients():
    v = K.variable([1.0, 2.0, 3.0], name="v")
    assert v.dtype == K.floatx() and K.get_value(v).tolist() == [1.0, 2.0, 3.0]
    K.set_value(v, [0.5, 0.5, 0.5])
    assert K.batch_get_value([v])[0].tolist() == [0.5] * 3
    x = K.placeholder(shape=(None, 3))
    (g,) = K.gradients(K.sum(K.square(x * v)), [v])
    value = np.ones((2, 3), "float32")
    np.testing.assert_allclose(K.function([x], [g])([value])[0], 2 * 0.5 * 2 * np.ones(3))


def test_clear_session_restarts_layer_names():
    layers.Dense(1), layers.Dense(1)
    K.clear_session()
    assert layers.Dense(1).name == "dense"

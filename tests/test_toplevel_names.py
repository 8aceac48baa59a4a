"""Keras 3's top-level names: the base classes users subclass (keras.Layer, keras.Loss, ...),
keras.version() and keras.device(), against Keras 3.15 where it has the same name."""
import numpy as np
import pytest

import mlcore
from mlcore import config

BASES = {"Layer": "layers", "Loss": "losses", "Metric": "metrics", "Optimizer": "optimizers",
         "Initializer": "initializers", "Regularizer": "regularizers"}


@pytest.mark.parametrize("name", sorted(BASES))
def test_top_level_base_classes_are_the_namespaces_own(name, keras):
    assert getattr(keras, name) is getattr(getattr(keras, BASES[name]), name)      # Keras's layout
    assert getattr(mlcore, name) is getattr(getattr(mlcore, BASES[name]), name)


def test_a_layer_subclassed_from_the_top_level_name_trains():
    class Scale(mlcore.Layer):
        def build(self, input_shape):
            self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")

        def call(self, inputs):
            return inputs * self.scale

    mlcore.utils.set_random_seed(0)
    model = mlcore.Sequential([mlcore.Input((2,)), Scale()])
    model.compile(optimizer=mlcore.optimizers.SGD(0.1), loss="mse")
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    model.fit(x, x * [3.0, -2.0], epochs=100, verbose=0)
    np.testing.assert_allclose(model.layers[0].scale.numpy(), [3.0, -2.0], atol=1e-3)


def test_version_is_mlcores():
    assert mlcore.version() == mlcore.__version__


def test_device_scope_sets_and_restores_the_device():
    before = config.device()
    with mlcore.device("cpu:0"):
        assert config.device() == "cpu"
        with mlcore.device("GPU:0"):
            assert config.device() == "gpu"
        assert config.device() == "cpu"
    assert config.device() == before


def test_device_scope_restores_after_an_error():
    before = config.device()
    with pytest.raises(KeyError):
        with mlcore.device("gpu"):
            raise KeyError("boom")
    assert config.device() == before


def test_functions_compiled_in_the_block_run_on_its_device(require_backend):
    """Compiled for the device named: on a machine without a GPU the gpu block's compile is refused,
    naming the device, and the cpu block's computes."""
    require_backend("jax")
    import mlcore.tensor as T
    x = T.dvector("x")
    with mlcore.device("cpu"):
        double = mlcore.function([x], 2 * x, backend="jax")
    np.testing.assert_allclose(double([1.0, 2.0]), [2.0, 4.0])
    if "gpu" not in __import__("backends").get_backend("jax").devices():
        with mlcore.device("gpu:0"), pytest.raises(RuntimeError, match="'gpu'"):
            mlcore.function([x], 2 * x, backend="jax")


@pytest.mark.gpu
def test_a_model_predicts_on_the_gpu_in_a_gpu_block(require_backend):
    require_backend("jax")
    model = mlcore.Sequential([mlcore.Input((3,)), mlcore.layers.Dense(2)])
    x = np.arange(6, dtype="float32").reshape(2, 3)
    expected = x @ model.layers[0].kernel.numpy() + model.layers[0].bias.numpy()
    with mlcore.device("gpu:0"):
        np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5)


@pytest.mark.parametrize("bad", ["tpu:0", "gpu0", 3, "gpu:1"])
def test_device_names_it_cannot_place_are_refused(bad):
    with pytest.raises(ValueError, match="device"):
        mlcore.device(bad)

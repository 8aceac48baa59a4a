"""Training paths that Keras's own layer tests (keras/src/layers/**/*_test.py, run by
tools/keras_layer_suite.py) take through run_layer_test and found missing: a subclassed model that
is fitted on a generator, a PyDataset or a dataset before it has seen any data (it is built from
the first batch, which is still trained on), and a model without trainable weights (fit warns and
runs, as Keras's)."""
import warnings

import numpy as np
import pytest

from mlcore import layers, models, ops
from mlcore.utils import PyDataset

pytestmark = pytest.mark.usefixtures("numpy_backend")


class Wrapped(models.Model):
    """A subclassed model around one layer, as run_layer_test's TestModel."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def call(self, x, training=False):
        return self.layer(x, training=training)


class Batches(PyDataset):
    def __init__(self, batches):
        super().__init__()
        self.batches = batches

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        return self.batches[index]


def data(seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=(4, 2)).astype("float32"))
            for _ in range(3)]


def fitted_kernel(feed):
    """The kernel after one epoch of SGD on the three batches of data(), given to fit as feed()."""
    layer = layers.Dense(2, kernel_initializer="ones", bias_initializer="zeros")
    model = Wrapped(layer)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(*feed(data()), epochs=1, shuffle=False, verbose=0)
    return layer.kernel.numpy()


def generator(batches):
    yield from batches


@pytest.mark.parametrize("feed", [
    lambda b: [generator(b)],
    lambda b: [Batches(b)],
    lambda b: [iter(b)],
], ids=["generator", "py_dataset", "iterator"])
def test_unbuilt_subclassed_model_fits_on_batches_as_on_arrays(feed):
    def as_arrays(batches):
        return [np.concatenate([x for x, _ in batches]), np.concatenate([y for _, y in batches])]
    by_arrays = Wrapped(layers.Dense(2, kernel_initializer="ones", bias_initializer="zeros"))
    by_arrays.compile(optimizer="sgd", loss="mse")
    by_arrays.fit(*as_arrays(data()), batch_size=4, shuffle=False, epochs=1, verbose=0)
    # the first batch builds the model and is trained on too: the same three steps as on the arrays
    np.testing.assert_allclose(fitted_kernel(feed), by_arrays.layer.kernel.numpy(), rtol=1e-6)
    assert not np.allclose(by_arrays.layer.kernel.numpy(), 1.0)


def test_unbuilt_subclassed_model_built_from_generator_takes_its_shapes():
    model = Wrapped(layers.Dense(5))
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((2, 7, 3), "float32")
    model.fit(generator([(x, np.ones((2, 7, 5), "float32"))]), steps_per_epoch=1, verbose=0)
    assert model.layer.kernel.shape == (3, 5)
    assert model.predict(x, verbose=0).shape == (2, 7, 5)


def test_empty_generator_cannot_build_a_model():
    model = Wrapped(layers.Dense(2))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="gave no batch"):
        model.fit(generator([]), verbose=0)


def test_model_without_trainable_weights_fits_with_keras_warning(keras):
    x = np.arange(12, dtype="float32").reshape(4, 3)
    y = np.zeros((4, 3), "float32")
    inputs = layers.Input((3,))
    model = models.Model(inputs, layers.Add()([inputs, inputs]))
    model.compile(optimizer="sgd", loss="mae")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert any("does not have any trainable weights" in str(w.message) for w in caught)
    k_inputs = keras.Input((3,))
    k_model = keras.Model(k_inputs, keras.layers.Add()([k_inputs, k_inputs]))
    k_model.compile(optimizer="sgd", loss="mae")
    k_history = k_model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    np.testing.assert_allclose(history.history["loss"], k_history.history["loss"], rtol=1e-6)
    np.testing.assert_allclose(history.history["loss"], [np.mean(2 * x)] * 2)


def test_frozen_model_still_fits_its_batch_statistics():
    x = np.random.default_rng(1).normal(3.0, 2.0, size=(64, 4)).astype("float32")
    norm = layers.BatchNormalization(momentum=0.0)
    model = models.Sequential([layers.Input((4,)), norm])
    norm.gamma.trainable = norm.beta.trainable = False
    model.compile(optimizer="sgd", loss=lambda y_true, y_pred: ops.sum(y_pred))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x, x, batch_size=64, epochs=1, verbose=0)
    np.testing.assert_allclose(norm.moving_mean.numpy(), x.mean(axis=0), rtol=1e-5)


# --- found by the quantization tests of keras/src/layers/core/*_test.py -----------------------------
def test_layer_built_without_a_call_saves_and_loads(tmp_path):
    """Sequential([built_layer]) has no Input: the layer's build_config carries its shape, as Keras's."""
    from mlcore.saving import load_model
    dense = layers.Dense(3)
    dense.build((None, 4))
    model = models.Sequential([dense])
    x = np.random.default_rng(2).normal(size=(2, 4)).astype("float32")
    model.save(tmp_path / "built.keras")
    loaded = load_model(tmp_path / "built.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


@pytest.mark.parametrize("mode", ["int8", "int4", "float8"])
def test_quantized_model_predicts_under_mixed_bfloat16(mode):
    """A quantized kernel's custom gradient reads its autocast weights in bfloat16, as its call does."""
    from mlcore import dtype_policies
    x = np.random.default_rng(3).normal(size=(4, 8)).astype("float32")
    saved = list(dtype_policies._global_policy)     # none set: floatx's, which later tests may change
    dtype_policies.set_dtype_policy("mixed_bfloat16")
    try:
        model = models.Sequential([layers.Input((8,)), layers.Dense(6)])
        want = np.asarray(model.predict(x, verbose=0), "float32")
        model.quantize(mode)
        got = model.predict(x, verbose=0)
    finally:
        dtype_policies._global_policy[:] = saved
    assert got.dtype.name == "bfloat16"
    np.testing.assert_allclose(np.asarray(got, "float32"), want, atol=0.25)


def test_bfloat16_targets_are_numbers():
    import ml_dtypes
    model = models.Sequential([layers.Input((3,)), layers.Dense(1, kernel_initializer="zeros")])
    model.compile(optimizer="sgd", loss="mse")
    y = np.full((4, 1), 2.0, ml_dtypes.bfloat16)
    history = model.fit(np.ones((4, 3), "float32"), y, batch_size=4, verbose=0)
    np.testing.assert_allclose(history.history["loss"], [4.0])


@pytest.mark.parametrize("wrapper", [layers.SpectralNormalization, layers.TimeDistributed])
def test_wrapped_built_layer_round_trips_through_serialize_keras_object(wrapper):
    """The inner layer's build_config survives serialize/deserialize as it survives get_config/from_config."""
    from mlcore.saving import deserialize_keras_object, serialize_keras_object
    inner = layers.Dense(2)
    inner(np.ones((10, 3, 4), "float32"))
    layer = wrapper(inner)
    revived = deserialize_keras_object(serialize_keras_object(layer))
    assert revived.layer.built and revived.layer.kernel.shape == (4, 2)
    assert revived.get_config() == layer.get_config() == type(layer).from_config(layer.get_config()).get_config()


def _two_input_model(module):
    """Model({"a": Input(name="first"), "b": ...}, {"out": ..., "aux": ...}): dict keys that are not the
    tensors' names, as Keras's functional tests make them."""
    a, b = module.Input((3,), name="first"), module.Input((2,), name="second")
    joined = module.layers.Concatenate()([a, b])
    outputs = {key: module.layers.Dense(1, name="dense_" + key, kernel_initializer="ones")(joined) for key in ("out", "aux")}
    model = module.Model({"a": a, "b": b}, outputs)
    model.compile("sgd", {"out": "mse", "aux": "mae"}, metrics={"out": ["mae"]})
    return model


def test_dicts_keyed_as_the_models_dicts_feed_fit_evaluate_and_predict():
    from mlcore import Input, Model
    import types
    keras = pytest.importorskip("keras")
    x = {"a": np.linspace(-1, 1, 12, dtype="float32").reshape(4, 3), "b": -np.ones((4, 2), "float32")}
    y = {"out": np.zeros((4, 1), "float32"), "aux": np.ones((4, 1), "float32")}
    ours = _two_input_model(types.SimpleNamespace(Input=Input, Model=Model, layers=layers))
    theirs = _two_input_model(keras)
    np.testing.assert_allclose(ours.predict(x, verbose=0)["out"], theirs.predict(x, verbose=0)["out"])
    ours_eval = ours.evaluate(x, y, verbose=0, return_dict=True)
    theirs_eval = theirs.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(ours_eval) == sorted(theirs_eval) == ["aux_loss", "loss", "out_loss", "out_mae"]
    for key in ours_eval:
        np.testing.assert_allclose(ours_eval[key], theirs_eval[key], rtol=1e-6)
    history = ours.fit(x, y, epochs=3, verbose=0)
    assert history.history["loss"][2] < history.history["loss"][0]
    by_names = ours.predict({"first": x["a"], "second": x["b"]}, verbose=0)["out"]      # the names still work
    np.testing.assert_allclose(by_names, ours.predict(x, verbose=0)["out"])
    with pytest.raises(ValueError, match="keyed"):
        ours.predict({"a": x["a"]}, verbose=0)


def test_a_model_made_with_dicts_saves_and_loads_its_dicts_both_ways(tmp_path):
    """Keras writes input_layers / output_layers as dicts for such a model; mlcore writes and reads them."""
    from mlcore import Input, Model
    import types
    keras = pytest.importorskip("keras")
    x = {"a": np.linspace(-1, 1, 12, dtype="float32").reshape(4, 3), "b": -np.ones((4, 2), "float32")}
    ours = _two_input_model(types.SimpleNamespace(Input=Input, Model=Model, layers=layers))
    theirs = _two_input_model(keras)
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # Keras's note that the dict keys are not the Inputs' names
        for loaded in (models.load_model(tmp_path / "ours.keras"), models.load_model(tmp_path / "theirs.keras"),
                       keras.saving.load_model(tmp_path / "ours.keras")):
            assert sorted(loaded.input) == ["a", "b"] and sorted(loaded.output) == ["aux", "out"]
            predicted = loaded.predict(x, verbose=0)
            for key in ("out", "aux"):
                np.testing.assert_allclose(np.asarray(predicted[key]), ours.predict(x, verbose=0)[key], rtol=1e-6)


def _model_with_losses(lib):
    """A subclassed model with its own regularized weight and add_loss, over a layer with both."""
    class Inner(lib.layers.Layer):
        def __init__(self):
            super().__init__()
            self.w = self.add_weight(shape=(), initializer="ones", regularizer=lib.regularizers.L2(0.5))
            self.built = True

        def call(self, x):
            self.add_loss(lib.ops.sum(x) * 2)
            return x * self.w

    class WithLosses(lib.Model):
        def __init__(self):
            super().__init__()
            self.inner = Inner()
            self.scale = self.add_weight(shape=(), initializer="ones", regularizer=lib.regularizers.L1(5.0))

        def call(self, x):
            self.add_loss(lib.ops.mean(x))
            return self.inner(x) * self.scale
    return WithLosses()


def test_a_subclassed_model_called_on_arrays_then_fitted_as_keras():
    """Its first call (on 2 rows) builds it without fixing the batch size and without the trace's
    losses leaking into the call; losses then list add_loss's terms before the weights' penalties, and
    the model's own weights come before its layers', in Keras's order; fit on 4 rows gives Keras's loss."""
    import mlcore
    keras = pytest.importorskip("keras")
    results = {}
    for name, lib in (("mlcore", mlcore), ("keras", keras)):
        model = _model_with_losses(lib)
        model(np.ones((2, 2), "float32"))
        losses = [float(np.asarray(l.eval() if hasattr(l, "eval") else l)) for l in model.losses]
        model.compile("sgd", "mse")
        history = model.fit(np.ones((4, 2), "float32"), np.zeros((4, 2), "float32"), batch_size=4, verbose=0)
        own_first = [w is model.scale for w in model.trainable_weights]
        results[name] = (losses, own_first, history.history["loss"])
    assert results["mlcore"][:2] == results["keras"][:2] == ([1.0, 8.0, 5.0, 0.5], [True, False])
    np.testing.assert_allclose(results["mlcore"][2], results["keras"][2], rtol=1e-6)

"""Keras 3's layer and model attributes: path, add_variable, build configs, save/load_own_variables,
dtype policies, Model.metrics / metrics_variables / jit_compile / run_eagerly, compared with Keras."""
import inspect

import numpy as np
import pytest

import mlcore
from mlcore import dtype_policies, mixed_precision
from mlcore.layers import LSTM, Dense, Input, Layer
from mlcore.models import Sequential, load_model

pytestmark = pytest.mark.usefixtures("numpy_backend")


def twin_sequential(module, dtype=None):
    return module.Sequential([module.Input((3,)), module.layers.Dense(4, name="hidden", dtype=dtype),
                              module.layers.Dense(2, name="out", dtype=dtype)], name="seq")


# --- path ------------------------------------------------------------------------------------------------
def test_paths_of_layers_and_weights_are_kerass(keras):
    for module in (mlcore, keras):
        seq = twin_sequential(module)
        lstm = module.Sequential([module.Input((5, 3)), module.layers.LSTM(2, name="rnn")], name="rec")
        x = module.Input((3,))
        alone = module.layers.Dense(2, name="alone")
        functional = module.Model(x, alone(x), name="fun")
        results = [(seq.path, [l.path for l in seq.layers], [w.path for w in seq.weights]),
                   [w.path for w in lstm.weights], (functional.path, alone.path, alone.kernel.path)]
        if module is mlcore:
            ours = results
    assert ours == results
    assert ours[0][2][0] == "seq/hidden/kernel" and ours[1][0] == "rec/rnn/lstm_cell/kernel"


def test_path_of_a_subclassed_models_layer_and_of_an_unbuilt_layer(keras):
    def make(module):
        class Net(module.Model):
            def __init__(self):
                super().__init__(name="net")
                self.inner = module.layers.Dense(2, name="inner")

            def call(self, x):
                return self.inner(x)
        net = Net()
        net(np.ones((2, 3), "float32"))
        return net.path, net.inner.path, net.inner.kernel.path, module.layers.Dense(2).path
    assert make(mlcore) == make(keras) == ("net", "net/inner", "net/inner/kernel", None)


# --- add_variable, build configs ---------------------------------------------------------------------
def test_add_variable_and_add_weight_take_kerass_arguments(keras):
    assert inspect.signature(Layer.add_variable) == inspect.signature(keras.layers.Layer.add_variable)
    # (self, *args, shape=None, ...): args only for shape, initializer and dtype by position
    assert inspect.signature(Layer.add_weight) == inspect.signature(keras.layers.Layer.add_weight)

    class Scale(Layer):
        def build(self, input_shape):
            self.w = self.add_variable((input_shape[-1],), "ones", regularizer="l2", name="w")
            self.steps = self.add_variable((), "zeros", dtype="int32", trainable=False, name="steps")

        def call(self, x):
            return x * self.w
    layer = Scale(name="scale")
    out = layer(np.full((2, 3), 2.0, "float32"))
    np.testing.assert_array_equal(out, np.full((2, 3), 2.0))
    assert [w.path for w in layer.trainable_weights] == ["scale/w"] and layer.steps.dtype == "int32"
    # an eager call builds on the array's shape, as Keras's
    assert len(layer.losses) == 1 and layer.get_build_config() == {"input_shape": (2, 3)}


def test_build_config_round_trip_matches_keras(keras):
    ours, theirs = Dense(3), keras.layers.Dense(3)
    assert ours.get_build_config() is None and theirs.get_build_config() is None
    ours.build((None, 4))
    theirs.build((None, 4))
    assert ours.get_build_config() == theirs.get_build_config() == {"input_shape": (None, 4)}
    fresh = Dense(3)
    fresh.build_from_config({"input_shape": [None, 4]})
    assert fresh.built and tuple(fresh.kernel.shape) == (4, 3)


# --- save_own_variables / load_own_variables ----------------------------------------------------------------
def counter_class(base, add):
    """A layer with a weight and a count of calls kept outside its weights, saved by its own methods."""
    class Counter(base):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seen = np.zeros(2, "int64")

        def build(self, input_shape):
            self.w = add(self, (input_shape[-1],))

        def call(self, x):
            return x * self.w

        def save_own_variables(self, store):
            store["0"] = self.w
            store["seen"] = self.seen

        def load_own_variables(self, store):
            self.w.assign(np.asarray(store["0"]))
            self.seen = np.array(store["seen"])
    return Counter


OurCounter = counter_class(Layer, lambda layer, shape: layer.add_weight(shape, "ones", name="w"))


def test_custom_state_round_trips_through_keras_and_weights_files(tmp_path):
    model = Sequential([Input((3,)), OurCounter(name="counter"), Dense(2, name="d")])
    model.layers[0].w.assign(np.array([1.0, 2.0, 3.0], "float32"))
    model.layers[0].seen = np.array([7, 9])
    x = np.arange(6, dtype="float32").reshape(2, 3)
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras", custom_objects={"Counter": OurCounter})
    np.testing.assert_array_equal(loaded.layers[0].seen, [7, 9])
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    model.save_weights(tmp_path / "m.weights.h5")
    fresh = Sequential([Input((3,)), OurCounter(name="counter"), Dense(2, name="d")])
    fresh.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_array_equal(fresh.layers[0].seen, [7, 9])
    np.testing.assert_allclose(fresh.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_a_keras_written_archive_with_custom_state_loads(keras, tmp_path, float32_jax):
    TheirCounter = counter_class(keras.layers.Layer,
                                 lambda layer, shape: layer.add_weight(shape=shape, initializer="ones", name="w"))
    theirs = keras.Sequential([keras.Input((3,)), TheirCounter(name="counter"), keras.layers.Dense(2, name="d")])
    theirs.layers[0].w.assign(np.array([1.0, -2.0, 0.5], "float32"))
    theirs.layers[0].seen = np.array([3, 4])
    theirs.save(tmp_path / "k.keras")
    ours = load_model(tmp_path / "k.keras", custom_objects={"Counter": OurCounter})
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_array_equal(ours.layers[0].seen, [3, 4])
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5)


def test_build_from_config_override_runs_on_loading(tmp_path):
    class Table(Layer):
        def get_build_config(self):
            return {"size": int(self.table.shape[0])}

        def build_from_config(self, config):
            self.table = self.add_weight((config["size"],), "zeros", name="table")
            self.built = True

        def build(self, input_shape):
            self.table = self.add_weight((input_shape[-1],), "zeros", name="table")

        def call(self, x):
            return x + self.table
    table = Table(name="table")
    model = Sequential([Input((4,)), table])
    table.table.assign(np.arange(4, dtype="float32"))
    model.save(tmp_path / "t.keras")
    calls = []
    Table.build_from_config = lambda self, config, original=Table.build_from_config: (
        calls.append(config), original(self, config))[1]
    loaded = load_model(tmp_path / "t.keras", custom_objects={"Table": Table})
    assert calls == [{"size": 4}]
    np.testing.assert_array_equal(loaded.predict(np.zeros((1, 4), "float32"), verbose=0), [[0, 1, 2, 3]])


# --- dtype policies --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["float32", "float64", "float16", "bfloat16", "int32", "mixed_float16",
                                  "mixed_bfloat16"])
def test_policies_are_kerass(keras, name):
    ours, theirs = dtype_policies.DTypePolicy(name), keras.DTypePolicy(name)
    for attribute in ("name", "compute_dtype", "variable_dtype", "quantization_mode"):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    assert repr(ours) == repr(theirs) and ours.get_config() == theirs.get_config()
    assert dtype_policies.serialize(ours) == keras.dtype_policies.serialize(theirs)
    assert dtype_policies.deserialize(keras.dtype_policies.serialize(theirs)) == ours
    assert dtype_policies.get(name) == ours and dtype_policies.get(ours) is ours


def test_policy_errors_and_the_global_policy(keras):
    with pytest.raises(ValueError, match="Cannot convert 'foo'"):
        dtype_policies.DTypePolicy("foo")
    with pytest.raises(TypeError, match="'name' must be a string"):
        dtype_policies.DTypePolicy(5)
    assert mixed_precision.global_policy() == mlcore.config.dtype_policy() == dtype_policies.DTypePolicy("float32")
    assert mixed_precision.Policy is mixed_precision.DTypePolicy is dtype_policies.DTypePolicy
    assert issubclass(dtype_policies.FloatDTypePolicy, dtype_policies.DTypePolicy)
    mlcore.config.set_dtype_policy("float64")
    try:
        layer = Dense(2)
        assert layer.dtype == layer.compute_dtype == "float64" and mixed_precision.global_policy().name == "float64"
    finally:
        dtype_policies._global_policy.clear()
    assert Dense(2).dtype == "float32"
    with pytest.raises(ValueError, match="Invalid `policy` argument"):
        mixed_precision.set_global_policy(16)


def test_layer_dtype_attributes_match_keras_and_run(keras, backend):
    for dtype in ("float64", keras.DTypePolicy("float64")):
        theirs = keras.layers.Dense(2, dtype=dtype)
        ours = Dense(2, dtype=dtype if isinstance(dtype, str) else dtype_policies.DTypePolicy("float64"))
        for attribute in ("dtype", "compute_dtype", "variable_dtype", "input_dtype"):
            assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
        assert ours.dtype_policy == dtype_policies.DTypePolicy("float64")
    model = Sequential([Input((3,), dtype="float64"), Dense(2, dtype="float64")])
    model.compile("sgd", "mse", backend=backend)
    x = np.linspace(-1, 1, 6).reshape(2, 3) / 3
    kernel, bias = model.get_weights()
    assert kernel.dtype == np.float64
    predicted = model.predict(x, verbose=0)
    assert predicted.dtype == np.float64
    np.testing.assert_allclose(predicted, x @ kernel + bias, rtol=1e-12)     # float32 would miss by ~1e-7


def test_a_float64_model_trains_in_float64():
    model = Sequential([Input((3,), dtype="float64"), Dense(2, dtype="float64")])
    model.compile("sgd", "mse")
    kernel, bias = model.get_weights()
    x, y = np.linspace(-1, 1, 12).reshape(4, 3) / 3, np.ones((4, 2))
    model.fit(x, y, batch_size=4, verbose=0)
    grad_kernel = 2 * x.T @ (x @ kernel + bias - y) / y.size
    learning_rate = float(np.float32(0.01))       # the optimizer's variables are float32, as Keras's
    np.testing.assert_allclose(model.layers[0].kernel.get_value(), kernel - learning_rate * grad_kernel, rtol=1e-12)
    assert model.layers[0].kernel.get_value().dtype == np.float64


def test_keras_written_policy_configs_load(keras, tmp_path, float32_jax):
    theirs = twin_sequential(keras, dtype="float16")
    theirs.save(tmp_path / "p.keras")
    ours = load_model(tmp_path / "p.keras")
    assert [layer.dtype_policy.name for layer in ours.layers] == ["float16", "float16"]
    x = np.linspace(-1, 1, 6, dtype="float16").reshape(2, 3)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=2e-3, atol=2e-3)
    mixed = twin_sequential(keras, dtype="mixed_float16")
    mixed.save(tmp_path / "mixed.keras")
    loaded = load_model(tmp_path / "mixed.keras")       # tests/test_mixed_precision.py checks it further
    assert [layer.dtype_policy.name for layer in loaded.layers] == ["mixed_float16", "mixed_float16"]


# --- Model.metrics and friends --------------------------------------------------------------------------------
def twin_fit(module, metrics, **compile_kwargs):
    model = twin_sequential(module)
    weights = [np.linspace(-1, 1, np.prod(w.shape)).reshape(w.shape).astype("float32") for w in model.weights]
    model.set_weights(weights)
    model.compile(optimizer="sgd", loss="mse", metrics=metrics, **compile_kwargs)
    before = list(model.metrics)
    x, y = np.linspace(0, 1, 15, dtype="float32").reshape(5, 3), np.ones((5, 2), "float32")
    history = model.fit(x, y, batch_size=2, shuffle=False, verbose=0)
    return model, before, history, model.evaluate(x, y, verbose=0)


@pytest.mark.parametrize("metrics", [["mae"], None])
def test_model_metrics_match_keras(keras, float32_jax, metrics):
    ours, our_before, our_history, our_eval = twin_fit(mlcore, metrics)
    theirs, their_before, their_history, their_eval = twin_fit(keras, metrics)
    assert [m.name for m in our_before] == [m.name for m in their_before]
    assert [type(m).__name__ for m in ours.metrics] == [type(m).__name__ for m in theirs.metrics]
    assert [m.name for m in ours.metrics] == [m.name for m in theirs.metrics]
    assert [v.path for v in ours.metrics_variables] == [v.path for v in theirs.metrics_variables]
    np.testing.assert_allclose([np.asarray(v) for v in ours.metrics_variables],
                               [np.asarray(v) for v in theirs.metrics_variables], rtol=1e-5)
    np.testing.assert_allclose(float(ours.metrics[0].result()), float(theirs.metrics[0].result()), rtol=1e-5)
    if metrics:
        got, expected = ours.metrics[1].result(), theirs.metrics[1].result()
        assert got == pytest.approx({k: float(v) for k, v in expected.items()}, rel=1e-5)
    np.testing.assert_allclose(our_eval, their_eval, rtol=1e-5)
    assert list(our_history.history) == list(their_history.history)
    # metrics_names stays the logs' keys, the order evaluate() returns (Keras: ['loss', 'compile_metrics'])
    assert ours.metrics_names == list(our_history.history)


def test_model_metrics_with_two_outputs_match_keras(keras, float32_jax):
    def make(module):
        x = module.Input((3,))
        model = module.Model(x, [module.layers.Dense(2, name="a")(x), module.layers.Dense(1, name="b")(x)])
        model.compile("sgd", ["mse", "mse"], metrics=[["mae"], ["mse"]])
        return model
    ours, theirs = make(mlcore), make(keras)
    assert [m.name for m in ours.metrics] == [m.name for m in theirs.metrics]
    ours.set_weights(theirs.get_weights())
    data = (np.ones((4, 3), "float32"), [np.ones((4, 2), "float32"), np.zeros((4, 1), "float32")])
    ours.fit(*data, verbose=0)
    theirs.fit(*data, verbose=0)
    assert [m.name for m in ours.metrics] == [m.name for m in theirs.metrics]
    assert [v.path for v in ours.metrics_variables] == [v.path for v in theirs.metrics_variables]
    np.testing.assert_allclose([np.asarray(v) for v in ours.metrics_variables],
                               [np.asarray(v) for v in theirs.metrics_variables], rtol=1e-5)


def test_jit_compile_run_eagerly_and_activity_regularizer_as_keras(keras):
    for kwargs in ({}, {"run_eagerly": True}, {"jit_compile": False}):
        ours, theirs = twin_sequential(mlcore), twin_sequential(keras)
        assert (ours.jit_compile, ours.run_eagerly) == (theirs.jit_compile, theirs.run_eagerly)
        ours.compile("sgd", "mse", **kwargs)
        theirs.compile("sgd", "mse", **kwargs)
        assert (ours.jit_compile, ours.run_eagerly) == (theirs.jit_compile, theirs.run_eagerly), kwargs
        assert ours.activity_regularizer is theirs.activity_regularizer is None
    assert Sequential().metrics == [] and Sequential().metrics_variables == []


def test_compute_output_spec_matches_keras(keras):
    ours = twin_sequential(mlcore).compute_output_spec(Input((3,)))
    theirs = twin_sequential(keras).compute_output_spec(keras.KerasTensor((None, 3)))
    assert (tuple(ours.type.shape), ours.dtype) == (tuple(theirs.shape), theirs.dtype)
    spec = LSTM(4).compute_output_spec(keras.KerasTensor((2, 5, 3)))
    assert tuple(spec.type.shape) == (2, 4) and spec.dtype == "float32"


def test_a_variable_equals_numbers_by_value_as_kerass(keras):
    """optimizer.iterations == 4 after four steps, as with Keras's variables (which compare values);
    a variable against a variable is still whether it is that one (Theano's ==), and hashing is
    by identity, so variables stay usable as keys and in lists."""
    x, y = np.ones((10, 2), "float32"), np.ones((10, 1), "float32")
    ours = Sequential([Input((2,)), Dense(1)])
    theirs = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    for model in (ours, theirs):
        model.compile("sgd", "mse")
        model.fit(x, y, batch_size=5, epochs=2, verbose=0)
        assert model.optimizer.iterations == 4 and not (model.optimizer.iterations != 4)
        assert bool(model.optimizer.iterations == 3) is False
    kernel, bias = ours.layers[0].kernel, ours.layers[0].bias
    assert (bias == bias.numpy()).all() and kernel == kernel and not (kernel == bias) and kernel != bias
    assert {kernel: 1, bias: 2}[bias] == 2 and [kernel, bias].index(bias) == 1


def test_variable_comparisons_in_a_schedule_and_a_regularizer_are_traced(keras):
    """Inside the training step a variable's == is the graph's comparison, as in Keras's jitted step:
    the schedule's learning rate follows the step count and the regularizer follows the weights
    (compared with Keras 3 running the same code)."""
    def run(lib):
        class Schedule(lib.optimizers.schedules.LearningRateSchedule):
            def __call__(self, step):
                return lib.ops.where(step == 0, 0.2, 0.0) + lib.ops.where(step == 1, 0.1, 0.0)

        def not_ones(w):
            return lib.ops.sum(lib.ops.where(w == 1.0, 0.0, 1.0))

        model = lib.Sequential([lib.Input((2,)), lib.layers.Dense(1, kernel_initializer="ones",
                                                                    kernel_regularizer=not_ones)])
        model.compile(lib.optimizers.SGD(Schedule()), "mse")
        x, y = np.ones((4, 2), "float32"), np.zeros((4, 1), "float32")
        losses = [float(model.train_on_batch(x, y)) for _ in range(4)]
        return losses, np.asarray(model.layers[0].kernel.numpy())
    (ours, our_kernel), (theirs, their_kernel) = run(mlcore), run(keras)
    np.testing.assert_allclose(ours, [4.0, 2.16, 2.0256, 2.0256], rtol=1e-5)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    np.testing.assert_allclose(our_kernel, their_kernel, rtol=1e-6)

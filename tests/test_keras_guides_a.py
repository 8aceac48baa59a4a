"""Snippets of Keras's official guides (keras-io guides/: functional_api, sequential_model,
making_new_layers_and_models_via_subclassing, training_with_built_in_methods,
writing_your_own_callbacks, serialization_and_saving) run on mlcore with only the imports changed,
each beside Keras 3 itself with the same weights: the values, names and shapes the guides print.
Small random data stands in for MNIST."""
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

import mlcore
from mlcore import layers

pytestmark = pytest.mark.usefixtures("numpy_backend")


def seeded(model, seed=1, scale=0.1):
    """Random weights from a seed: a mlcore model and a Keras one of the same layers get the same ones."""
    rng = np.random.RandomState(seed)
    model.set_weights([rng.randn(*w.shape).astype("float32") * scale for w in model.get_weights()])


def histories_match(mine, theirs, rtol=1e-4):
    assert sorted(mine.history) == sorted(theirs.history)
    for key in theirs.history:
        np.testing.assert_allclose(mine.history[key], theirs.history[key], rtol=rtol, err_msg=key)


# --- sequential_model.py ---------------------------------------------------------------------------------
def test_a_sequential_on_a_frozen_base_model_is_built_with_a_trainable_head(keras):
    """The transfer-learning blueprint: Sequential([frozen base_model, Dense]) takes the base model's
    input shape, so the head has its weights at once (it had none, and nothing to train)."""
    def build(lib):
        base = lib.Sequential([lib.Input((4,)), lib.layers.Dense(3)])
        base.trainable = False
        return lib.Sequential([base, lib.layers.Dense(2)])
    mine, theirs = build(mlcore), build(keras)
    assert mine.built and theirs.built and mine.output_shape == theirs.output_shape == (None, 2)
    assert (len(mine.trainable_weights), len(mine.non_trainable_weights)) == \
        (len(theirs.trainable_weights), len(theirs.non_trainable_weights)) == (2, 2)


def test_input_with_an_int_shape_fails_as_in_keras(keras):
    """keras.Input(shape=(784)) (an int, the guide's own slip) and bad dims: Keras's messages."""
    for shape in (784, (3.0,), (2, -1)):
        with pytest.raises(ValueError) as theirs:
            keras.Input(shape=shape)
        with pytest.raises(ValueError) as mine:
            mlcore.Input(shape=shape)
        assert str(mine.value) == str(theirs.value)


def test_layer_weights_print_as_keras_variables(keras):
    """layer.weights once the layer has run: Keras's repr, path and value."""
    values = [np.arange(12, dtype="float32").reshape(4, 3), np.zeros(3, "float32")]
    printed = []
    for lib in (mlcore, keras):
        layer = lib.layers.Dense(3, name="dense_guide")
        layer(np.ones((1, 4), "float32"))
        layer.set_weights(values)
        printed.append([repr(w) for w in layer.weights])
    assert printed[0] == printed[1]
    assert printed[0][1] == "<Variable path=dense_guide/bias, shape=(3,), dtype=float32, value=[0. 0. 0.]>"


# --- making_new_layers_and_models_via_subclassing.py -----------------------------------------------------
def linear_class(lib):
    class Linear(lib.layers.Layer):
        def __init__(self, units=32, input_dim=32):
            super().__init__()
            self.w = self.add_weight(shape=(input_dim, units), initializer="random_normal", trainable=True)
            self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

        def call(self, inputs):
            return lib.ops.matmul(inputs, self.w) + self.b
    return Linear


def test_unnamed_weights_take_keras_names(keras):
    """add_weight without a name: "variable", "variable_1"... from one counter, as Keras names them."""
    paths = []
    for lib, clear in ((mlcore, mlcore.utils.clear_session), (keras, keras.backend.clear_session)):
        clear()
        layer = linear_class(lib)(4, 2)
        layer(np.ones((2, 2), "float32"))
        assert layer.weights == [layer.w, layer.b]
        paths.append([w.path for w in layer.weights])
    assert paths[0] == paths[1] == ["linear/variable", "linear/variable_1"]


def compute_sum_class(lib):
    class ComputeSum(lib.layers.Layer):
        def __init__(self, input_dim):
            super().__init__()
            self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

        def call(self, inputs):
            self.total.assign_add(lib.ops.sum(inputs, axis=0))
            return self.total
    return ComputeSum


def test_a_non_trainable_weight_assigned_in_call_accumulates(keras):
    """The guide's ComputeSum: assign_add in call() updates the weight, and the call returns it."""
    x = np.ones((2, 2), "float32")
    for lib in (mlcore, keras):
        my_sum = compute_sum_class(lib)(2)
        np.testing.assert_array_equal(my_sum(x).numpy(), [2.0, 2.0])
        np.testing.assert_array_equal(my_sum(x).numpy(), [4.0, 4.0])
        assert (len(my_sum.weights), len(my_sum.non_trainable_weights), my_sum.trainable_weights) == (1, 1, [])
    # in a model's graph the assignment is an update of each predict step (Keras's jax backend cannot trace it)
    inputs = mlcore.Input((2,))
    model = mlcore.Model(inputs, compute_sum_class(mlcore)(2)(inputs))
    np.testing.assert_array_equal(model.predict(x, verbose=0), [2.0, 2.0])
    np.testing.assert_array_equal(model.predict(x, verbose=0), [4.0, 4.0])


def activity_regularization_classes(lib):
    class ActivityRegularizationLayer(lib.layers.Layer):
        def __init__(self, rate=1e-2):
            super().__init__()
            self.rate = rate

        def call(self, inputs):
            self.add_loss(self.rate * lib.ops.mean(inputs))
            return inputs

    class OuterLayer(lib.layers.Layer):
        def __init__(self):
            super().__init__()
            self.activity_reg = ActivityRegularizationLayer(1e-2)

        def call(self, inputs):
            return self.activity_reg(inputs)
    return ActivityRegularizationLayer, OuterLayer


def test_layer_losses_hold_the_last_calls_add_loss_values(keras):
    """layer.losses is empty before any call, then holds the losses of the last call only."""
    for lib in (mlcore, keras):
        layer = activity_regularization_classes(lib)[1]()
        assert len(layer.losses) == 0
        _ = layer(np.zeros((1, 1), "float32"))
        assert len(layer.losses) == 1
        _ = layer(np.full((1, 1), 3.0, "float32"))
        assert len(layer.losses) == len(layer.activity_reg.losses) == 1
        np.testing.assert_allclose(float(layer.losses[0]), 0.03, rtol=1e-6)


def test_compile_without_a_loss_trains_on_the_added_losses(keras, rng):
    """compile(optimizer=...) with no loss: the add_loss() terms are the loss; with a loss, they are
    added to it.  (Fresh models: Keras keeps the old loss when a model is compiled again without one.)"""
    x, y = rng.random((8, 3)).astype("float32"), rng.random((8, 3)).astype("float32")
    histories = []
    for lib in (mlcore, keras):
        for loss in (None, "mse"):
            inputs = lib.Input(shape=(3,))
            hidden = lib.layers.Dense(3)(inputs)
            model = lib.Model(inputs, activity_regularization_classes(lib)[0]()(hidden))
            model.layers[1].set_weights([np.eye(3, dtype="float32"), np.full(3, 0.5, "float32")])
            model.compile(optimizer=lib.optimizers.SGD(0.1), loss=loss)
            histories.append(model.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False))
    for mine, theirs in zip(histories[:2], histories[2:]):
        histories_match(mine, theirs)
    assert histories[0].history["loss"][1] < histories[0].history["loss"][0]


def test_compile_without_any_loss_fails_as_in_keras():
    inputs = mlcore.Input((3,))
    model = mlcore.Model(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match=r"No loss to compute. Provide a `loss` argument in `compile\(\)`."):
        model.fit(np.ones((2, 3)), np.ones((2, 1)), verbose=0)


# --- training_with_built_in_methods.py -------------------------------------------------------------------
def logistic_endpoint_model(lib):
    class LogisticEndpoint(lib.layers.Layer):
        def __init__(self, name=None, **kwargs):      # **kwargs (not in the guide): from_config passes dtype=
            super().__init__(name=name, **kwargs)
            self.loss_fn = lib.losses.BinaryCrossentropy(from_logits=True)

        def call(self, targets, logits, sample_weights=None):
            self.add_loss(self.loss_fn(targets, logits, sample_weights))
            return lib.ops.softmax(logits)

    inputs = lib.Input(shape=(3,), name="inputs")
    targets = lib.Input(shape=(10,), name="targets")
    logits = lib.layers.Dense(10)(inputs)
    predictions = LogisticEndpoint(name="predictions")(targets, logits)
    return lib.Model(inputs=[inputs, targets], outputs=predictions), LogisticEndpoint


def test_a_layer_called_on_two_tensors_trains_without_targets(keras, rng, tmp_path):
    """LogisticEndpoint(targets, logits): two positional tensors, the loss from add_loss, fit(data)
    without y; the model saves and loads (the second tensor is recorded as call()'s `logits`)."""
    data = {"inputs": rng.random((3, 3)).astype("float32"), "targets": rng.random((3, 10)).astype("float32")}
    histories = []
    for lib, clear in ((mlcore, mlcore.utils.clear_session), (keras, keras.backend.clear_session)):
        clear()
        model, _ = logistic_endpoint_model(lib)
        model.set_weights([np.full((3, 10), 0.1, "float32"), np.linspace(-1, 1, 10).astype("float32")])
        model.compile(optimizer="adam")
        histories.append(model.fit(data, epochs=2, verbose=0))
        assert [layer.name for layer in model.layers] == ["inputs", "targets", "dense", "predictions"]
    histories_match(*histories)
    model, endpoint = logistic_endpoint_model(mlcore)
    path = str(tmp_path / "endpoint.keras")
    model.save(path)
    again = mlcore.models.load_model(path, custom_objects={"LogisticEndpoint": endpoint})
    again.set_weights(model.get_weights())
    np.testing.assert_allclose(again.predict(data, verbose=0), model.predict(data, verbose=0), rtol=1e-6)


def two_output_model(lib):
    image_input = lib.Input(shape=(8, 8, 3), name="img_input")
    timeseries_input = lib.Input(shape=(None, 10), name="ts_input")
    x1 = lib.layers.GlobalMaxPooling2D()(lib.layers.Conv2D(3, 3)(image_input))
    x2 = lib.layers.GlobalMaxPooling1D()(lib.layers.Conv1D(3, 3)(timeseries_input))
    x = lib.layers.concatenate([x1, x2])
    score_output = lib.layers.Dense(1, name="score_output")(x)
    class_output = lib.layers.Dense(5, name="class_output")(x)
    return lib.Model(inputs=[image_input, timeseries_input], outputs=[score_output, class_output])


def test_an_output_without_a_loss_is_not_trained_on(keras, rng):
    """loss=[None, CategoricalCrossentropy()]: the score output has no loss term (its weights get
    zero gradients) and the logs have no per-output losses, as in Keras."""
    img, ts = rng.random((20, 8, 8, 3)).astype("float32"), rng.random((20, 12, 10)).astype("float32")
    score, classes = rng.random((20, 1)).astype("float32"), rng.random((20, 5)).astype("float32")
    runs = []
    for lib in (mlcore, keras):
        model = two_output_model(lib)
        seeded(model, seed=4, scale=0.3)
        model.compile(optimizer=lib.optimizers.RMSprop(1e-3), loss=[None, lib.losses.CategoricalCrossentropy()])
        before = model.get_layer("score_output").get_weights()
        history = model.fit([img, ts], [score, classes], batch_size=8, epochs=2, verbose=0, shuffle=False)
        after = model.get_layer("score_output").get_weights()
        runs.append(history)
        for b, a in zip(before, after):
            np.testing.assert_array_equal(a, b)
    assert list(runs[0].history) == ["loss"]
    np.testing.assert_allclose(runs[0].history["loss"], runs[1].history["loss"], rtol=1e-4)


def categorical_true_positives_class(lib):
    """The guide's custom metric, with ops.equal for its `==` (on mlcore's symbolic tensors `==` is
    Theano's identity test, not an elementwise comparison)."""
    class CategoricalTruePositives(lib.metrics.Metric):
        def __init__(self, name="categorical_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_pred = lib.ops.reshape(lib.ops.argmax(y_pred, axis=1), (-1, 1))
            values = lib.ops.cast(lib.ops.equal(lib.ops.cast(y_true, "int32"), lib.ops.cast(y_pred, "int32")),
                                  "float32")
            if sample_weight is not None:
                values = lib.ops.multiply(values, lib.ops.cast(sample_weight, "float32"))
            self.true_positives.assign_add(lib.ops.sum(values))

        def result(self):
            return self.true_positives + 0      # Keras's jax backend cannot return the variable itself

        def reset_state(self):
            self.true_positives.assign(0)
    return CategoricalTruePositives


def test_a_custom_metric_gets_sparse_labels_as_given(keras, rng):
    """With a sparse loss, a metric gets (n, 1) labels as they were given (the loss takes them as (n,)):
    the guide's CategoricalTruePositives counts the same hits as in Keras."""
    x, y = rng.random((100, 5)).astype("float32"), rng.integers(0, 3, (100, 1))
    histories = []
    for lib in (mlcore, keras):
        inputs = lib.Input((5,))
        model = lib.Model(inputs, lib.layers.Dense(3, activation="softmax")(inputs))
        seeded(model, scale=1.0)
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                      metrics=[categorical_true_positives_class(lib)()])
        histories.append(model.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False))
    histories_match(*histories)


def test_a_learning_rate_schedule_called_on_a_step_gives_a_number(keras):
    schedules = [lib.optimizers.schedules.ExponentialDecay(0.1, decay_steps=100000, decay_rate=0.96, staircase=True)
                 for lib in (mlcore, keras)]
    for step in (0, 150000, 200000):
        assert float(schedules[0](step)) == pytest.approx(float(schedules[1](step)), rel=1e-6)


def test_functional_models_name_their_outputs(keras):
    """model.output_names: the output layers' names, in the order of model.outputs (dict keys sorted)."""
    names = []
    for lib in (mlcore, keras):
        inputs = lib.Input((3,))
        outputs = {"priority": lib.layers.Dense(1, name="priority")(inputs),
                   "department": lib.layers.Dense(4, name="department")(inputs)}
        names.append(lib.Model(inputs, outputs).output_names)
    assert names[0] == names[1] == ["department", "priority"]


# --- serialization_and_saving.py -------------------------------------------------------------------------
def test_optimizer_iterations_are_a_variable_restored_on_loading(keras, rng, tmp_path):
    x, y = rng.random((128, 32)).astype("float32"), rng.random((128, 1)).astype("float32")
    counts = []
    for lib in (mlcore, keras):
        inputs = lib.Input(shape=(32,))
        model = lib.Model(inputs, lib.layers.Dense(1)(inputs))
        model.compile(optimizer=lib.optimizers.Adam(), loss="mean_squared_error")
        model.fit(x, y, verbose=0)
        path = str(tmp_path / ("%s.keras" % lib.__name__))
        model.save(path)
        counts.append(int(lib.models.load_model(path).optimizer.iterations.numpy()))
    assert counts[0] == counts[1] == 4


@pytest.fixture
def square_fn(keras):
    """x ** 2, registered as "guides_a>square_fn" with mlcore and with Keras for one test."""
    def make_square():
        def square(x):
            return x ** 2
        return square
    yield [lib.saving.register_keras_serializable(package="guides_a", name="square_fn")(make_square())
           for lib in (mlcore, keras)]
    for lib in (mlcore, keras):
        del lib.saving.get_custom_objects()["guides_a>square_fn"]


def test_a_registered_custom_activation_saves_by_its_registered_name(keras, square_fn, rng, tmp_path):
    """A Dense with a registered function as activation: Keras's function dict in the config, and the
    file loads in mlcore and in Keras."""
    mine, theirs = square_fn
    inputs = mlcore.Input((4,))
    model = mlcore.Model(inputs, layers.Dense(1, activation=mine, name="d")(inputs))
    assert model.get_layer("d").get_config()["activation"] == keras.layers.Dense(1, activation=theirs).get_config()[
        "activation"] == {"module": "builtins", "class_name": "function", "config": "guides_a>square_fn",
                          "registered_name": "function"}
    path = str(tmp_path / "custom_fn.keras")
    model.save(path)
    x = rng.random((4, 4)).astype("float32")
    np.testing.assert_allclose(mlcore.models.load_model(path).predict(x, verbose=0), model.predict(x, verbose=0))
    np.testing.assert_allclose(keras.models.load_model(path).predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5)


def my_dense_class(lib):
    class MyDense(lib.layers.Layer):
        def __init__(self, units, *, kernel_regularizer=None, kernel_initializer=None, nested_model=None, **kwargs):
            super().__init__(**kwargs)
            self.hidden_units = units
            self.kernel_regularizer = kernel_regularizer
            self.kernel_initializer = kernel_initializer
            self.nested_model = nested_model

        def get_config(self):
            config = super().get_config()
            config.update({"units": self.hidden_units, "kernel_regularizer": self.kernel_regularizer,
                           "kernel_initializer": self.kernel_initializer, "nested_model": self.nested_model})
            return config

        def build(self, input_shape):
            self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.hidden_units),
                                          regularizer=self.kernel_regularizer, initializer=self.kernel_initializer)

        def call(self, inputs):
            return lib.ops.matmul(inputs, self.kernel)
    return MyDense


def test_layers_and_regularizers_in_a_custom_config_are_serialized(keras):
    """get_config() returning a layer and a regularizer object: serialize() writes their dicts, as Keras."""
    specs = []
    for lib in (mlcore, keras):
        MyDense = my_dense_class(lib)
        inner = MyDense(units=16, kernel_regularizer=lib.regularizers.L1L2(l1=1e-5, l2=1e-4),
                        kernel_initializer="ones", name="inner")
        specs.append(lib.layers.serialize(MyDense(units=64, nested_model=inner, name="outer"))["config"])
    for spec in specs:
        spec.pop("dtype")               # Keras writes a DTypePolicy dict, mlcore the dtype's name
        spec["nested_model"]["config"].pop("dtype")
        spec["nested_model"].pop("module")
    assert specs[0] == specs[1]
    assert specs[0]["nested_model"]["config"]["kernel_regularizer"] == {
        "module": "keras.regularizers", "class_name": "L1L2", "config": {"l1": 1e-05, "l2": 0.0001},
        "registered_name": None}


def test_a_functional_model_of_a_layer_holding_layers_rebuilds_from_its_config(rng):
    """The guide's CustomModel layer (its sublayers in its config, deserialized in from_config)."""
    MyDense = my_dense_class(mlcore)

    class CustomModel(layers.Layer):
        def __init__(self, first_layer, second_layer=None, **kwargs):
            super().__init__(**kwargs)
            self.first_layer = first_layer
            self.second_layer = second_layer if second_layer is not None else layers.Dense(8)

        def get_config(self):
            return {**super().get_config(), "first_layer": self.first_layer, "second_layer": self.second_layer}

        @classmethod
        def from_config(cls, config):
            config["first_layer"] = layers.deserialize(config["first_layer"], {"MyDense": MyDense})
            config["second_layer"] = layers.deserialize(config["second_layer"])
            return cls(**config)

        def call(self, inputs):
            return self.first_layer(self.second_layer(inputs))

    inputs = mlcore.Input((32,))
    model = mlcore.Model(inputs, CustomModel(first_layer=MyDense(units=16, kernel_initializer="ones"))(inputs))
    new_model = mlcore.Model.from_config(model.get_config(), custom_objects={"CustomModel": CustomModel})
    assert new_model.output_shape == (None, 16)
    new_model.set_weights(model.get_weights())
    x = rng.random((2, 32)).astype("float32")
    np.testing.assert_allclose(new_model.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_freezing_a_nested_layer_keeps_the_weights_order(keras):
    """Keras 3 orders a layer's weights layer by layer: freezing one does not move its weights."""
    paths = []
    for lib in (mlcore, keras):
        class NestedDenseLayer(lib.layers.Layer):
            def __init__(self, units, name=None):
                super().__init__(name=name)
                self.dense_1 = lib.layers.Dense(units, name="dense_1")
                self.dense_2 = lib.layers.Dense(units, name="dense_2")

            def call(self, inputs):
                return self.dense_2(self.dense_1(inputs))

        nested_model = lib.Sequential([lib.Input((784,)), NestedDenseLayer(10, "nested")], name="seq")
        before = [v.path for v in nested_model.weights]
        nested_model.get_layer("nested").dense_1.trainable = False
        assert [v.path for v in nested_model.weights] == before
        paths.append(before)
        assert len(nested_model.trainable_weights) == 2
    assert paths[0] == paths[1] == ["seq/nested/dense_1/kernel", "seq/nested/dense_1/bias",
                                    "seq/nested/dense_2/kernel", "seq/nested/dense_2/bias"]

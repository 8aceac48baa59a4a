"""Losses, metrics and optimizers where Keras's own tests of them (keras/src/{losses,metrics,optimizers}/*_test.py,
run by tools/keras_layer_suite.py) found mlcore different, each checked against Keras 3 itself: the dtype of
a loss or metric (floatx or a DTypePolicy, read-only), crossentropies that refuse labels of another shape,
CTC with a label equal to the blank class, FBetaScore's argument errors, a callable learning rate, eager
apply_gradients with missing or float64 gradients, and numpy functions of a variable."""
import re
import warnings

import numpy as np
import pytest

import mlcore
from mlcore import dtype_policies, losses, metrics, optimizers

pytestmark = pytest.mark.usefixtures("numpy_backend")


class SquaredError(losses.Loss):
    def call(self, y_true, y_pred):
        return (y_true - y_pred) ** 2


@pytest.fixture
def global_mixed_policy():
    """mixed_float16 as the global policy for one test; none set after it, as before (setting the
    policy read before would pin floatx's float32 for later tests that switch floatx to float64)."""
    saved = list(dtype_policies._global_policy)
    dtype_policies.set_dtype_policy("mixed_float16")
    yield
    dtype_policies._global_policy[:] = saved


def test_a_loss_and_a_metric_compute_in_floatx_not_in_the_global_policy(global_mixed_policy):
    y_true, y_pred = np.array([1.0, 0.0], "float32"), np.array([0.1, 0.2], "float32")
    loss = SquaredError()
    assert loss.dtype == "float32" and loss(y_true, y_pred).dtype == np.float32
    metric = metrics.Mean()
    metric.update_state(y_pred)
    assert metric.dtype == "float32" and np.asarray(metric.result()).dtype == np.float32


def test_a_dtype_policy_gives_a_loss_and_a_metric_its_compute_dtype_and_dtype_is_read_only(keras):
    y_true, y_pred = np.array([1.0, 0.0], "float32"), np.array([0.1, 0.3], "float32")
    for lib in (mlcore, keras):
        loss = lib.losses.MeanSquaredError(dtype=lib.dtype_policies.DTypePolicy("mixed_float16"))
        assert loss.dtype == "float16" and np.asarray(loss(y_true, y_pred)).dtype == np.float16
        with pytest.raises(AttributeError):
            loss.dtype = "bfloat16"
        metric = lib.metrics.Mean(dtype=lib.dtype_policies.DTypePolicy("mixed_float16"))
        metric.update_state(np.array([1.0, 2.0]))
        assert metric.dtype == "float16" and float(metric.result()) == 1.5


@pytest.mark.parametrize("name", ["BinaryCrossentropy", "CategoricalCrossentropy", "BinaryFocalCrossentropy"])
def test_crossentropies_refuse_labels_of_another_shape_as_keras(keras, name):
    y_true = np.array([[0], [1], [2]])
    y_pred = np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]])
    for lib in (mlcore, keras):
        with pytest.raises(ValueError, match="must have the same shape"):
            getattr(lib.losses, name)()(y_true, y_pred)


def test_sparse_crossentropy_refuses_labels_that_do_not_match_the_predictions_without_their_class_axis(keras):
    with pytest.raises(ValueError, match="same shape up until the last dimension"):
        losses.sparse_categorical_crossentropy(np.zeros((4, 3)), np.full((4, 2, 5), 0.2))
    labels, predictions = np.array([[1], [0], [2]]), np.full((3, 4), 0.25)      # (n, 1) labels still fit
    np.testing.assert_allclose(losses.SparseCategoricalCrossentropy()(labels, predictions),
                               keras.losses.SparseCategoricalCrossentropy()(labels, predictions), rtol=1e-6)


def test_ctc_reads_a_label_equal_to_the_blank_inside_the_label_length_as_keras(keras):
    logits = (np.arange(24).reshape((2, 4, 3)).astype("float32") - 12) / 100
    y_true = np.array([[1, 2, 1, 0], [1, 2, 0, 2]])
    assert float(losses.CTC()(y_true, logits)) == pytest.approx(2.448645, rel=1e-5)     # Keras's test's figure
    np.testing.assert_allclose(losses.ctc(y_true, logits), keras.losses.ctc(y_true, logits), rtol=1e-5)
    rng = np.random.default_rng(0)
    for _ in range(10):
        steps, classes, labels = int(rng.integers(3, 9)), int(rng.integers(2, 5)), int(rng.integers(1, 5))
        logits = rng.normal(size=(3, steps, classes)).astype("float32")
        target = rng.integers(0, classes, size=(3, labels))
        target_length, output_length = rng.integers(0, labels + 1, 3), rng.integers(1, steps + 1, 3)
        blank = int(rng.integers(0, classes))
        np.testing.assert_allclose(
            mlcore.ops.ctc_loss(target, logits, target_length, output_length, mask_index=blank),
            keras.ops.ctc_loss(target, logits, target_length, output_length, mask_index=blank), rtol=1e-4)


@pytest.mark.parametrize("kwargs", [dict(beta=1), dict(beta=0.0), dict(beta=-0.5), dict(threshold=1),
                                    dict(threshold="0.5"), dict(threshold=0.0), dict(threshold=1.1),
                                    dict(average="invalid_average")])
def test_fbeta_score_refuses_arguments_in_keras_words(keras, kwargs):
    with pytest.raises(ValueError) as expected:
        keras.metrics.FBetaScore(**kwargs)
    with pytest.raises(ValueError, match=re.escape(str(expected.value))):
        metrics.FBetaScore(**kwargs)


def test_fbeta_and_r2_refuse_inputs_that_are_not_2d_in_keras_words(keras):
    for name in ("FBetaScore", "R2Score"):
        for y_true, y_pred in [(np.ones((2, 3, 4)), np.ones((2, 3, 4)))]:
            with pytest.raises(ValueError) as expected:
                getattr(keras.metrics, name)().update_state(y_true, y_pred)
            with pytest.raises(ValueError, match=re.escape(str(expected.value))):
                getattr(metrics, name)().update_state(y_true, y_pred)


def test_a_callable_learning_rate_is_asked_for_the_rate(keras):
    for lib in (mlcore, keras):
        variable = lib.Variable([[1.0, 2.0], [3.0, 4.0]])
        optimizer = lib.optimizers.SGD(learning_rate=lambda: 0.1)
        optimizer.apply_gradients([(np.ones((2, 2), "float32"), variable)])
        np.testing.assert_allclose(variable, [[0.9, 1.9], [2.9, 3.9]], rtol=1e-6)
        assert int(np.asarray(optimizer.iterations)) == 1
        assert optimizer.learning_rate == pytest.approx(0.1)
    assert [v.name for v in optimizer.variables] == ["iteration"]       # no learning-rate variable, as Keras


def test_a_callable_learning_rate_trains_a_model():
    rate = {"value": 0.0}
    model = mlcore.Sequential([mlcore.Input((2,)), mlcore.layers.Dense(1, kernel_initializer="ones")])
    model.compile(optimizers.SGD(learning_rate=lambda: rate["value"]), "mse")
    model.fit(np.ones((4, 2)), np.zeros((4, 1)), verbose=0)
    np.testing.assert_allclose(model.layers[0].kernel, np.ones((2, 1)))     # rate 0 when the step was built


def test_apply_gradients_skips_missing_gradients_with_a_warning_and_casts_float64_ones(keras):
    for lib in (mlcore, keras):
        kept, moved = lib.Variable([[3.0, 4.0], [5.0, 6.0]]), lib.Variable([[3.0, 4.0], [5.0, 6.0]])
        with pytest.raises(ValueError, match="No gradients provided for any variable."):
            lib.optimizers.SGD(learning_rate=1.0).apply_gradients([(None, kept)])
        with pytest.warns(UserWarning, match="Gradients do not exist"):
            lib.optimizers.SGD(learning_rate=1.0).apply_gradients([(None, kept), (np.ones((2, 2)), moved)])
        np.testing.assert_allclose(kept, [[3.0, 4.0], [5.0, 6.0]])
        np.testing.assert_allclose(moved, [[2.0, 3.0], [4.0, 5.0]])
        adam = lib.Variable([1.0, 2.0, 3.0, 4.0])
        lib.optimizers.Adam(learning_rate=0.5).apply_gradients(zip([np.array([1.0, 6.0, 7.0, 2.0])], [adam]))
        np.testing.assert_allclose(adam, [0.5, 1.5, 2.5, 3.5], rtol=1e-4, atol=1e-4)


def test_numpy_functions_of_a_variable_compute_on_its_value(keras):
    value = np.array([[1.0, -2.0], [3.0, 4.0]], "float32")
    for lib in (mlcore, keras):
        variable = lib.Variable(value)
        for fn in (np.min, np.max, np.mean, np.sum, np.std):
            assert fn(variable) == pytest.approx(fn(value))
        assert np.allclose(variable, value) and np.concatenate([variable, variable]).shape == (4, 2)


def test_a_numpy_function_of_a_weight_is_refused_inside_a_call_being_built():
    class Summing(mlcore.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(2,), initializer="ones")

        def call(self, x):
            return x * np.sum(self.w)       # would be a constant of the graph: no gradient reaches w

    with warnings.catch_warnings(), pytest.raises(TypeError, match="__array_function__"):
        Summing()(mlcore.Input((2,)))


@pytest.mark.parametrize("values, sample_weight", [([[1, 3], [5, 7]], [[1, 1], [1, 0]]), ([[1, 3], [5, 7]], [[1, 0]]),
                                                   (np.arange(24.0).reshape(2, 3, 4), [1.0, 0.5]),
                                                   (np.arange(24.0).reshape(2, 3, 4), None)])
def test_sum_and_mean_reduce_extra_axes_by_sum_and_by_mean_as_keras(keras, values, sample_weight):
    for name in ("Sum", "Mean"):
        ours, theirs = getattr(metrics, name)(), getattr(keras.metrics, name)()
        ours.update_state(values, sample_weight=sample_weight)
        theirs.update_state(values, sample_weight=sample_weight)
        assert float(ours.result()) == pytest.approx(float(theirs.result()))


def test_a_metric_wrapper_of_a_registered_function_round_trips_its_config():
    from mlcore.saving import register_keras_serializable

    @register_keras_serializable(package="suite_test", name="squared")
    def squared(y_true, y_pred):
        return (y_true - y_pred) ** 2

    for fn in (squared, metrics.binary_accuracy):
        revived = metrics.MeanMetricWrapper.from_config(metrics.MeanMetricWrapper(fn=fn, name="m").get_config())
        assert revived._fn is fn and revived.name == "m"
    with pytest.raises(ValueError, match="Unknown metric function: 'nowhere'"):
        metrics.deserialize({"class_name": "function", "config": "nowhere"})


def test_random_draws_take_bfloat16(keras):
    for lib in (mlcore, keras):
        assert str(lib.random.uniform((3,), dtype="bfloat16", seed=1).dtype) == "bfloat16"
        assert lib.backend.is_float_dtype("bfloat16")


def test_an_initializer_seeded_by_a_seed_generator_draws_anew_each_call_and_saves_it_as_keras(keras):
    ours = mlcore.initializers.RandomNormal(seed=mlcore.random.SeedGenerator(1337, name="gen"))
    first, second = ours((3, 3)), ours((3, 3))
    assert not np.allclose(first, second)
    theirs = keras.initializers.RandomNormal(seed=keras.random.SeedGenerator(1337, name="gen"))
    assert ours.get_config() == theirs.get_config()
    for config in (ours.get_config(), theirs.get_config()):      # the same seed repeats the sequence
        np.testing.assert_allclose(mlcore.initializers.RandomNormal.from_config(config)((3, 3)), first)
    with pytest.raises(ValueError, match="SeedGenerator"):
        mlcore.initializers.RandomNormal(seed="1")


def test_a_scalar_variable_converts_to_int_and_float_as_keras(keras):
    for lib in (mlcore, keras):
        assert int(lib.Variable(3.0)) == 3 and float(lib.Variable(2.5)) == 2.5
        with pytest.raises(TypeError, match="Only scalar arrays"):
            int(lib.Variable([1.0, 2.0]))
    optimizer = optimizers.SGD()
    assert int(optimizer.iterations) == 0


def two_outputs(lib):
    x = lib.Input(shape=(3,), name="input_a")
    a = lib.layers.Dense(1, name="output_a", kernel_initializer="ones")(x)
    b = lib.layers.Dense(1, name="output_b", activation="sigmoid", kernel_initializer="ones")(x)
    return lib.Model(x, [a, b])


@pytest.mark.parametrize("loss, loss_weights", [(["mean_squared_error", ["binary_crossentropy"]], [0.1, 2]),
                                                (["mse", ["mse", "binary_crossentropy"]], None),
                                                (["mse", ["mse", "binary_crossentropy"]], [1.0, 2.0, 3.0])])
def test_an_output_given_a_list_of_losses_adds_them_each_with_its_weight_as_keras(keras, loss, loss_weights):
    rng = np.random.default_rng(0)
    x, y1, y2 = rng.random((8, 3)), rng.random((8, 1)), rng.integers(0, 2, (8, 1)).astype("float32")
    totals = []
    for lib in (mlcore, keras):
        model = two_outputs(lib)
        model.compile("sgd", loss=loss, loss_weights=loss_weights)
        logs = model.evaluate(x, (y1, y2), verbose=0, return_dict=True)
        totals.append(logs["loss"])
        assert sorted(logs) == ["loss", "output_a_loss", "output_b_loss"]
    assert totals[0] == pytest.approx(totals[1], rel=1e-6)


def test_unknown_output_names_in_loss_and_metrics_dicts_are_refused_in_keras_words():
    model = two_outputs(mlcore)
    x, y = np.ones((2, 3)), (np.ones((2, 1)), np.ones((2, 1)))
    model.compile("sgd", loss={"output_a": "mse", "output_c": "binary_crossentropy"})
    with pytest.raises(ValueError, match=r"Expected keys \['output_a', 'output_b'\] in loss dict"):
        model.fit(x, y, verbose=0)
    model.compile("sgd", loss="mse", metrics={"output_c": ["mse"]})
    with pytest.raises(ValueError, match="(?s)Invalid `metrics`.*output_c"):
        model.fit(x, y, verbose=0)


def test_an_unknown_key_of_a_loss_dict_for_dict_outputs_is_keras_key_error(keras):
    """Keras reads the loss dict of a model with dict outputs as a structure: an unknown key has no path."""
    x, y = np.ones((2, 3)), {"output_a": np.ones((2, 1)), "output_b": np.ones((2, 1))}
    for lib in (keras, mlcore):
        inputs = lib.Input((3,))
        model = lib.Model(inputs, {"output_a": lib.layers.Dense(1)(inputs), "output_b": lib.layers.Dense(1)(inputs)})
        model.compile("sgd", loss={"output_a": "mse", "output_c": "binary_crossentropy"})
        with pytest.raises(KeyError, match=r"The path: \('output_c',\) in the `loss` argument, can't be found in "
                                           r"either the model's output"):
            model.fit(x, y, verbose=0)


@pytest.mark.parametrize("units, labels", [(1, (8, 1)), (1, (8,)), (4, (8,)), (4, (8, 1)), (4, "one-hot")])
def test_compile_with_crossentropy_picks_the_crossentropy_the_shapes_call_for_as_keras(keras, units, labels):
    rng = np.random.default_rng(0)
    x = rng.random((8, 3))
    y = np.eye(4)[rng.integers(0, 4, 8)] if labels == "one-hot" else rng.integers(0, max(units, 2), labels)
    results = []
    for lib in (mlcore, keras):
        model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(units, activation="sigmoid" if units == 1 else
                                                                  "softmax", kernel_initializer="ones")])
        model.compile("sgd", loss="crossentropy", metrics=["accuracy"])
        results.append(model.evaluate(x, y, verbose=0))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


def test_set_state_tree_takes_lists_as_values(keras):
    tree = {"optimizer_variables": {"adam": {"iteration": 0, "learning_rate": 1e-5}},
            "trainable_variables": {"output_a": {"bias": [0.5], "kernel": [[0.6], [0.7], [1.8]]}}}
    for lib in (mlcore, keras):
        x = lib.Input(shape=(3,), name="input_a")
        model = lib.Model(x, lib.layers.Dense(1, name="output_a")(x))
        model.compile(optimizer=lib.optimizers.Adam(name="adam"))   # the paths of the tree, whatever ran before
        model.set_state_tree(tree)
        np.testing.assert_allclose(model.layers[1].kernel, [[0.6], [0.7], [1.8]])
        np.testing.assert_allclose(model.layers[1].bias, [0.5])
        assert float(model.optimizer.learning_rate) == pytest.approx(1e-5)


def test_mean_iou_warns_of_float_weights_cast_to_its_int_dtype(keras):
    for lib in (mlcore, keras):
        with pytest.warns(UserWarning, match=r"weight.*float.*int.*casting"):
            lib.metrics.MeanIoU(num_classes=3)([0, 1, 1, 1], [0, 1, 1, 0], sample_weight=np.array([0.2, 0.3, 0.4, 0.1]))


def test_a_float_learning_rate_is_a_float_that_sets_the_optimizer_as_keras_variables_do(keras):
    from mlcore import backend as K
    for lib in (mlcore, keras):
        optimizer = lib.optimizers.SGD(learning_rate=0.1)
        assert float(optimizer.learning_rate) == pytest.approx(0.1)
        assert float(optimizer.learning_rate.numpy()) == pytest.approx(0.1)
        optimizer.learning_rate.assign(0.25)
        assert float(optimizer.learning_rate) == 0.25 and float(optimizer.learning_rate.value) == 0.25
    model = mlcore.Sequential([mlcore.Input((2,)), mlcore.layers.Dense(1, kernel_initializer="ones")])
    model.compile(optimizers.SGD(0.1), "mse")
    K.set_value(model.optimizer.lr, 0.0)            # Keras 2's idiom, after compile: the next steps use it
    assert K.get_value(model.optimizer.lr) == 0.0
    model.fit(np.ones((4, 2)), np.zeros((4, 1)), verbose=0)
    np.testing.assert_allclose(model.layers[0].kernel, np.ones((2, 1)))
    assert type(model.optimizer.learning_rate * 2) is float    # arithmetic gives numbers, not graphs


def test_a_seed_generator_serializes_as_keras_and_back(keras):
    from mlcore.saving import deserialize_keras_object, serialize_keras_object
    config = serialize_keras_object(mlcore.random.SeedGenerator(1337, name="gen"))     # named: the default
    assert config == keras.saving.serialize_keras_object(keras.random.SeedGenerator(1337, name="gen"))  # counts up
    revived = deserialize_keras_object(config)
    assert isinstance(revived, mlcore.random.SeedGenerator) and revived.get_config()["seed"] == 1337


def test_dict_batches_of_generators_datasets_and_sequences_go_by_key(keras):
    """A batch's dict of inputs (and of targets) is read by key, whatever its keys' order, as arrays are."""
    rng = np.random.default_rng(3)
    x = {"x": rng.normal(size=(8, 2)).astype("float32"), "o": rng.normal(size=(8, 3)).astype("float32")}
    y = {"out": rng.normal(size=(8, 1)).astype("float32"), "aux": rng.normal(size=(8, 2)).astype("float32")}

    def build(lib):
        x_in, o_in = lib.Input((2,), name="x"), lib.Input((3,), name="o")
        hidden = lib.layers.Concatenate()([lib.layers.Dense(4)(x_in), o_in])
        model = lib.Model({"x": x_in, "o": o_in}, {"out": lib.layers.Dense(1)(hidden),
                                                   "aux": lib.layers.Dense(2)(hidden)})
        model.compile("sgd", loss={"out": "mse", "aux": "mae"})
        return model
    ours, theirs = build(mlcore), build(keras)
    theirs.set_weights(ours.get_weights())
    expected = theirs.evaluate(x, y, verbose=0)

    def batches():
        for start in (0, 4):
            yield ({"x": x["x"][start:start + 4], "o": x["o"][start:start + 4]},
                   {"out": y["out"][start:start + 4], "aux": y["aux"][start:start + 4]})

    class Batches(mlcore.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, index):
            return list(batches())[index]
    dataset = mlcore.utils.dataset_ops.Dataset(lambda: batches(), 2)
    for data in (batches(), Batches(), dataset):
        np.testing.assert_allclose(ours.evaluate(data, verbose=0), expected, rtol=1e-5)
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), expected, rtol=1e-5)

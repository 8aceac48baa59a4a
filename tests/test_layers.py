"""Keras-compatible layers: forward passes against Keras 3 given the same weights, and the Layer
API (weights, trainable, initializers/regularizers/constraints, custom layers, nested models)."""
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

import mlcore
from mlcore import layers
from mlcore.models import Model, Sequential

pytestmark = pytest.mark.usefixtures("numpy_backend")


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def keras_twin(keras, mlcore_layer, keras_layer, *inputs, **call_kwargs):
    """(mlcore output, Keras output) of the two layers on the same inputs, Keras given mlcore's weights."""
    ours = mlcore_layer(list(inputs) if len(inputs) > 1 else inputs[0], **call_kwargs)
    theirs = keras_layer(list(inputs) if len(inputs) > 1 else inputs[0], **call_kwargs)
    if mlcore_layer.weights:
        keras_layer.set_weights(mlcore_layer.get_weights())
        theirs = keras_layer(list(inputs) if len(inputs) > 1 else inputs[0], **call_kwargs)
    return np.asarray(ours), np.asarray(theirs)


# --- forward passes against Keras 3 ---------------------------------------------------------------
def test_input_shapes_and_dtype():
    x = layers.Input(shape=(3, 4), name="pixels")
    assert x.type.shape == (None, 3, 4) and x.dtype == "float32"
    y = layers.Input(batch_shape=(8, 5), dtype="int64")
    assert y.type.shape == (8, 5) and y.dtype == "int64"
    with pytest.raises(ValueError, match="shape"):
        layers.Input()


def test_symbolic_tensors_and_variables_show_shapes_as_keras(keras):
    inputs = layers.Input((4,))
    dense = layers.Dense(3)
    outputs = dense(inputs)
    theirs = keras.layers.Dense(3)(keras.Input((4,)))
    assert inputs.shape == (None, 4) and outputs.shape == theirs.shape == (None, 3)
    assert outputs.shape[:-1] + (7,) == (None, 7) and str(outputs.shape) == str(theirs.shape)
    assert dense.kernel.shape == (4, 3)
    np.testing.assert_array_equal(np.array(dense.kernel), dense.get_weights()[0])


@pytest.mark.parametrize("activation", [None, "relu", "sigmoid", "tanh", "softmax"])
def test_dense_matches_keras(keras, rng, activation):
    x = rng.normal(size=(6, 5)).astype("float32")
    ours, theirs = keras_twin(keras, layers.Dense(4, activation=activation),
                              keras.layers.Dense(4, activation=activation), x)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_dense_on_3d_input_and_without_bias(keras, rng):
    x = rng.normal(size=(2, 3, 5)).astype("float32")
    ours, theirs = keras_twin(keras, layers.Dense(4, use_bias=False), keras.layers.Dense(4, use_bias=False), x)
    assert ours.shape == (2, 3, 4)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_dense_keras1_aliases(rng):
    layer = layers.Dense(output_dim=3, init="zeros", input_dim=7)
    model = Sequential([layer])
    assert model.input_shape == (None, 7) and model.output_shape == (None, 3)
    assert not np.any(layer.get_weights()[0])


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softmax", "elu", "softplus", "linear"])
def test_activation_matches_keras(keras, rng, name):
    x = rng.normal(size=(4, 6)).astype("float32")
    ours, theirs = keras_twin(keras, layers.Activation(name), keras.layers.Activation(name), x)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_activation_from_a_callable(rng):
    x = rng.normal(size=(4, 6)).astype("float32")
    np.testing.assert_allclose(layers.Activation(mlcore.activations.relu)(x), np.maximum(x, 0))
    np.testing.assert_allclose(layers.Dense(2, activation=lambda t: t * 0 + 1)(x), np.ones((4, 2)))


def test_dropout_is_identity_at_inference_and_drops_at_rate_when_training(rng):
    x = rng.uniform(1, 2, size=(200, 100)).astype("float32")
    layer = layers.Dropout(0.3, seed=1)
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer(x, training=False), x)
    out = np.asarray(layer(x, training=True))
    dropped = out == 0
    assert abs(dropped.mean() - 0.3) < 4 * np.sqrt(0.3 * 0.7 / x.size)      # 4 sigma of a binomial
    np.testing.assert_allclose(out[~dropped], x[~dropped] / 0.7, rtol=1e-6)
    np.testing.assert_allclose(out.mean(), x.mean(), rtol=0.02)             # inverted dropout keeps the mean


@pytest.mark.parametrize("backend_name", ["numpy", "jax", "theano"])
def test_dropout_noise_shape_shares_one_mask_along_its_ones(backend_name):
    dropout = layers.Dropout(0.5, noise_shape=(None, 1, None))
    x = layers.Input((30, 40))
    step = mlcore.function([x], dropout(x, training=True), backend=backend_name)
    out = step(np.ones((8, 30, 40), "float32"))
    assert set(np.unique(out)) == {0.0, 2.0}
    assert (out == out[:, :1, :]).all() and 0.35 < (out[:, 0, :] == 0).mean() < 0.65


def test_dropout_keras1_name_and_bad_rate():
    assert layers.Dropout(p=0.25).rate == 0.25
    with pytest.raises(ValueError, match="1.5"):
        layers.Dropout(1.5)


def test_dropout_draws_a_new_mask_on_each_call_of_a_compiled_function(rng):
    x_sym = layers.Input((1000,))
    step = mlcore.function([x_sym], layers.Dropout(0.5, seed=3)(x_sym, training=True))
    x = np.ones((1, 1000), "float32")
    first, second = step(x), step(x)
    assert set(np.unique(first)) == {0.0, 2.0}
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_flatten_matches_keras(keras, rng, data_format):
    x = rng.normal(size=(2, 3, 4, 5)).astype("float32")
    ours, theirs = keras_twin(keras, layers.Flatten(data_format=data_format),
                              keras.layers.Flatten(data_format=data_format), x)
    np.testing.assert_array_equal(ours, theirs)
    expected = np.moveaxis(x, 1, -1).reshape(2, -1) if data_format == "channels_first" else x.reshape(2, -1)
    np.testing.assert_array_equal(ours, expected)


def test_reshape_and_permute_match_keras(keras, rng):
    x = rng.normal(size=(2, 12)).astype("float32")
    for shape in [(3, 4), (-1, 2), (2, 2, 3)]:
        ours, theirs = keras_twin(keras, layers.Reshape(shape), keras.layers.Reshape(shape), x)
        np.testing.assert_array_equal(ours, theirs)
    y = rng.normal(size=(2, 3, 4)).astype("float32")
    ours, theirs = keras_twin(keras, layers.Permute((2, 1)), keras.layers.Permute((2, 1)), y)
    np.testing.assert_array_equal(ours, theirs)
    with pytest.raises(ValueError, match=r"\(5, 5\)"):
        Sequential([layers.Input((12,)), layers.Reshape((5, 5))])


def test_reshape_works_out_its_minus_one_for_the_layers_after_it(rng):
    """Keras knows Reshape((-1, 3))'s output shape from a known input size: Flatten then Dense build."""
    model = Sequential([layers.Input((6,)), layers.Reshape((-1, 3)), layers.Flatten(), layers.Dense(2)])
    assert model.layers[0].output_shape == (None, 2, 3) and model.layers[1].output_shape == (None, 6)
    x = rng.normal(size=(4, 6)).astype("float32")
    kernel, bias = model.layers[2].get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0), x @ kernel + bias, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"\(-1, 4\)"):
        Sequential([layers.Input((6,)), layers.Reshape((-1, 4))])


def test_lambda_layer(rng):
    x = rng.normal(size=(3, 4)).astype("float32")
    double = layers.Lambda(lambda t: t * 2 + 1)
    np.testing.assert_allclose(double(x), x * 2 + 1, rtol=1e-6)
    scaled = layers.Lambda(lambda t, k: t * k, arguments={"k": 3.0})
    model = Sequential([layers.Input((4,)), scaled, layers.Dense(2)])
    assert model.output_shape == (None, 2)
    np.testing.assert_allclose(scaled(x), 3 * x, rtol=1e-6)


@pytest.mark.parametrize("merge", ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"])
def test_merge_layers_match_keras(keras, rng, merge):
    a, b = rng.normal(size=(2, 4, 3)).astype("float32")
    inputs = [a, b]
    if merge not in ("Subtract", "Concatenate"):
        inputs.append(rng.normal(size=(4, 3)).astype("float32"))
    ours, theirs = keras_twin(keras, getattr(layers, merge)(), getattr(keras.layers, merge)(), *inputs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_concatenate_axis_and_functional_helpers(rng):
    a, b = layers.Input((2, 3)), layers.Input((2, 5))
    joined = layers.Concatenate(axis=-1)([a, b])
    assert joined.type.shape == (None, 2, 8)
    summed = layers.add([a, a])
    assert summed.type.shape == (None, 2, 3)
    with pytest.raises(ValueError, match="should be called on a list of inputs"):
        layers.Add()(a)


# --- BatchNormalization -----------------------------------------------------------------------------
def bn_reference(x, gamma, beta, mean, var, eps):
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def test_batch_normalization_inference_matches_keras_and_numpy(keras, rng):
    x = rng.normal(2, 3, size=(8, 5)).astype("float32")
    ours = layers.BatchNormalization()
    ours.build((None, 5))
    weights = [rng.uniform(0.5, 2, 5), rng.normal(size=5), rng.normal(size=5), rng.uniform(1, 4, 5)]
    ours.set_weights([w.astype("float32") for w in weights])
    theirs = keras.layers.BatchNormalization()
    theirs.build((None, 5))
    theirs.set_weights(ours.get_weights())
    out = np.asarray(ours(x))
    np.testing.assert_allclose(out, np.asarray(theirs(x, training=False)), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out, bn_reference(x, *weights, 1e-3), rtol=1e-5, atol=1e-5)


def test_batch_normalization_training_matches_keras_and_updates_moving_stats(keras, rng):
    """One training call: normalized by the batch's mean and biased variance; the moving stats move by
    momentum, exactly as Keras 3's (the same numbers after several steps)."""
    ours = layers.BatchNormalization(momentum=0.9, axis=1)
    theirs = keras.layers.BatchNormalization(momentum=0.9, axis=1)
    ours.build((None, 3, 4))
    theirs.build((None, 3, 4))
    ours.set_weights([w.astype("float32") for w in (rng.uniform(0.5, 2, 3), rng.normal(size=3),
                                                    rng.normal(size=3), rng.uniform(1, 2, 3))])
    theirs.set_weights(ours.get_weights())
    gamma, beta, mean, var = ours.get_weights()
    for _ in range(3):
        x = rng.normal(1, 2, size=(6, 3, 4)).astype("float32")
        out = np.asarray(ours(x, training=True))
        np.testing.assert_allclose(out, np.asarray(theirs(x, training=True)), rtol=1e-5, atol=1e-5)
        bm, bv = x.mean(axis=(0, 2)), x.var(axis=(0, 2))
        shape = (1, 3, 1)
        expected = bn_reference(x, gamma.reshape(shape), beta.reshape(shape), bm.reshape(shape),
                                bv.reshape(shape), 1e-3)
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
        mean, var = 0.9 * mean + 0.1 * bm, 0.9 * var + 0.1 * bv
        np.testing.assert_allclose(ours.get_weights()[2], mean, rtol=1e-5)
        np.testing.assert_allclose(ours.get_weights()[3], var, rtol=1e-5)
        for a, b in zip(ours.get_weights(), theirs.get_weights()):
            np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)


def test_batch_normalization_in_a_model_trains_with_batch_stats_and_predicts_with_moving_stats(rng):
    model = Sequential([layers.Input((4,)), layers.BatchNormalization(momentum=0.5)])
    model.compile("sgd", "mse")
    bn = model.layers[0]
    assert [w.name for w in bn.trainable_weights] == ["gamma", "beta"]
    assert [w.name for w in bn.non_trainable_weights] == ["moving_mean", "moving_variance"]
    x = rng.normal(3, 2, size=(10, 4)).astype("float32")
    model.train_on_batch(x, np.zeros((10, 4), "float32"))
    np.testing.assert_allclose(bn.moving_mean.get_value(), 0.5 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.get_value(), 0.5 + 0.5 * x.var(0), rtol=1e-5)
    gamma, beta, mean, var = bn.get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0), bn_reference(x, gamma, beta, mean, var, 1e-3),
                               rtol=1e-5, atol=1e-5)


def test_frozen_batch_normalization_runs_in_inference_mode_in_fit_as_keras(keras, rng):
    """trainable=False: moving statistics used and left alone by fit (Keras 3's fine-tuning rule)."""
    x = rng.normal(2, 3, size=(8, 4)).astype("float32")
    y = rng.normal(size=(8, 2)).astype("float32")
    models = []
    for lib in (mlcore, keras):
        model = lib.Sequential([lib.Input((4,)), lib.layers.BatchNormalization(name="bn"), lib.layers.Dense(2)])
        model.get_layer("bn").trainable = False
        model.compile(lib.optimizers.SGD(0.1), "mse")
        models.append(model)
    ours, theirs = models
    ours.get_layer("bn").set_weights([rng.uniform(0.5, 2, 4).astype("float32") for _ in range(4)])
    theirs.set_weights(ours.get_weights())
    frozen = ours.get_layer("bn").get_weights()
    assert ours.train_on_batch(x, y) == pytest.approx(float(theirs.train_on_batch(x, y)), rel=1e-5)
    for a, b in zip(ours.get_layer("bn").get_weights(), frozen):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)


def test_freezing_a_model_freezes_its_layers():
    inner = Sequential([layers.Input((3,)), layers.Dense(2, name="a"), layers.BatchNormalization(name="bn")])
    inner.trainable = False
    assert not inner.get_layer("a").trainable and not inner.get_layer("bn").trainable
    assert inner.trainable_weights == [] and len(inner.non_trainable_weights) == 6
    inner.trainable = True
    assert inner.get_layer("bn").trainable and len(inner.trainable_weights) == 4
    x = layers.Input((3,))
    frozen = Model(x, layers.Dense(1, name="head")(x), trainable=False)
    assert not frozen.get_layer("head").trainable


# --- initializers, regularizers, constraints ------------------------------------------------------
def test_initializers_by_name_object_and_callable():
    from mlcore import initializers
    by_name = layers.Dense(3, kernel_initializer="ones", bias_initializer="zeros")
    by_object = layers.Dense(3, kernel_initializer=initializers.Constant(0.5))
    by_callable = layers.Dense(3, kernel_initializer=lambda shape, dtype=None: np.full(shape, 2.0, dtype))
    for layer in (by_name, by_object, by_callable):
        layer.build((None, 2))
    np.testing.assert_array_equal(by_name.kernel.get_value(), np.ones((2, 3)))
    np.testing.assert_array_equal(by_object.kernel.get_value(), np.full((2, 3), 0.5))
    np.testing.assert_array_equal(by_callable.kernel.get_value(), np.full((2, 3), 2.0))
    with pytest.raises(ValueError, match="nope"):
        layers.Dense(3, kernel_initializer="nope")


def test_regularizers_add_to_the_training_loss(keras, rng):
    """The step's loss is the data loss plus l2 * sum(kernel**2) + l1 * sum(|bias|) + the activity penalty
    over the batch size (Keras 3), computed before the step updates the weights; Keras 3 agrees."""
    def build(lib, kernel_penalty):
        return lib.Sequential([lib.Input((4,)), lib.layers.Dense(3, kernel_regularizer="l2", bias_initializer="ones",
                                                                 bias_regularizer=lib.regularizers.L1(0.1),
                                                                 activity_regularizer="l1"),
                               lib.layers.Dense(1, kernel_regularizer=kernel_penalty)])
    model = build(mlcore, lambda w: 0.5 * mlcore.ops.sum_(w))
    theirs = build(keras, lambda w: 0.5 * keras.ops.sum(w))
    theirs.set_weights(model.get_weights())
    model.compile("sgd", "mse")
    theirs.compile("sgd", "mse")
    x = rng.normal(size=(5, 4)).astype("float32")
    y = rng.normal(size=(5, 1)).astype("float32")
    k1, b1, k2, b2 = model.get_weights()
    hidden = x @ k1 + b1
    data_loss = np.mean((hidden @ k2 + b2 - y) ** 2)
    penalty = 0.01 * np.sum(k1 ** 2) + 0.1 * np.sum(np.abs(b1)) + 0.5 * np.sum(k2) + 0.01 * np.sum(np.abs(hidden)) / 5
    assert model.test_on_batch(x, y) == pytest.approx(data_loss + penalty, rel=1e-5)
    assert model.train_on_batch(x, y) == pytest.approx(data_loss + penalty, rel=1e-5)
    assert float(theirs.train_on_batch(x, y)) == pytest.approx(data_loss + penalty, rel=1e-5)
    for a, b in zip(model.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)
    assert len(model.losses) == 3


def test_constraints_apply_after_each_update(rng):
    from mlcore import constraints
    model = Sequential([layers.Dense(3, input_dim=4, kernel_constraint="non_neg",
                                     bias_constraint=constraints.MaxNorm(0.1)),
                        layers.Dense(2, kernel_constraint=lambda w: mlcore.ops.clip(w, -0.01, 0.01))])
    model.compile(mlcore.optimizers.SGD(learning_rate=1.0), "mse")
    x = rng.normal(size=(8, 4)).astype("float32")
    model.train_on_batch(x, rng.normal(size=(8, 2)).astype("float32") * 10)
    kernel, bias, kernel2, _ = model.get_weights()
    assert kernel.min() >= 0
    assert np.linalg.norm(bias) <= 0.1 + 1e-6
    assert np.abs(kernel2).max() <= 0.01 + 1e-7


# --- the Layer API: custom layers, trainable, weights ---------------------------------------------
class Scale(layers.Layer):
    """A user layer: y = x * w + c, with w per feature."""

    def __init__(self, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.offset = offset

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")
        self.built = True

    def call(self, inputs):
        return inputs * self.w + self.offset

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "offset": self.offset}


def test_custom_layer_in_sequential_and_functional_models(rng):
    x = rng.normal(size=(6, 3)).astype("float32")
    seq = Sequential([layers.Input((3,)), Scale(1.0, name="scale")])
    np.testing.assert_allclose(seq.predict(x, verbose=0), x + 1, rtol=1e-6)
    inputs = layers.Input((3,))
    scale = Scale(2.0)
    func = Model(inputs, layers.Dense(2)(scale(inputs)))
    assert func.count_params() == 3 + 8
    assert scale.compute_output_shape((None, 3)) == (None, 3)
    clone = Scale.from_config(scale.get_config())
    assert clone.offset == 2.0 and clone.name == scale.name
    seq.compile("sgd", "mse")
    seq.fit(x, x * 3 + 1, epochs=2, batch_size=3, verbose=0)
    assert not np.allclose(seq.layers[0].w.get_value(), 1.0)     # its weight is trained
    restored = Sequential.from_config(seq.get_config(), custom_objects={"Scale": Scale})
    assert restored.layers[0].offset == 1.0


def test_model_used_as_a_layer(rng):
    inner_in = layers.Input((4,))
    inner = Model(inner_in, layers.Dense(3, activation="tanh")(inner_in), name="inner")
    outer_in = layers.Input((4,))
    outer = Model(outer_in, layers.Dense(1)(inner(outer_in)))
    seq = Sequential([layers.Input((4,)), inner, layers.Dense(2)])
    x = rng.normal(size=(5, 4)).astype("float32")
    k, b = inner.get_weights()
    hidden = np.tanh(x @ k + b)
    k2, b2 = outer.get_weights()[2:]
    np.testing.assert_allclose(outer.predict(x, verbose=0), hidden @ k2 + b2, rtol=1e-5, atol=1e-6)
    assert len(outer.weights) == 4 and len(seq.weights) == 4
    assert outer.layers[1] is inner
    outer.compile("sgd", "mse")
    outer.fit(x, np.ones((5, 1)), epochs=1, verbose=0)
    assert not np.allclose(inner.get_weights()[0], k)             # the inner model's weights train too


def test_trainable_false_freezes_weights_and_moves_them(rng):
    frozen = layers.Dense(4, name="frozen")
    model = Sequential([layers.Input((3,)), frozen, layers.Dense(1)])
    frozen.trainable = False
    assert frozen.trainable_weights == [] and len(frozen.non_trainable_weights) == 2
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    model.compile("adam", "mse")
    before = [w.copy() for w in model.get_weights()]
    model.fit(rng.normal(size=(20, 3)), rng.normal(size=(20, 1)), epochs=2, batch_size=4, verbose=0)
    after = model.get_weights()
    for w0, w1 in zip(before[:2], after[:2]):
        np.testing.assert_array_equal(w0, w1)
    assert not np.allclose(before[2], after[2])
    summary = []
    model.summary(print_fn=summary.append)
    assert "Non-trainable params: 16" in summary[0]


def test_get_set_weights_round_trip_and_wrong_shape(rng):
    model = Sequential([layers.Input((3,)), layers.Dense(4, name="hidden"), layers.Dense(2)])
    values = [rng.normal(size=w.shape).astype("float32") for w in model.weights]
    model.set_weights(values)
    for a, b in zip(model.get_weights(), values):
        np.testing.assert_array_equal(a, b)
    bad = list(values)
    bad[1] = np.zeros(5, "float32")
    with pytest.raises(ValueError) as err:
        model.set_weights(bad)
    assert "hidden" in str(err.value) and "(4,)" in str(err.value) and "(5,)" in str(err.value)
    for a, b in zip(model.get_weights(), values):       # nothing changed, not even the weights before
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="hidden"):
        model.get_layer("hidden").set_weights(values[:1])


def test_count_params_get_layer_and_sequential_add_pop():
    model = Sequential()
    model.add(layers.Dense(60, input_shape=(60,), activation="relu", name="hidden"))
    model.add(layers.Dense(1, activation="sigmoid"))
    assert model.count_params() == 3721
    assert model.get_layer("hidden") is model.layers[0]
    assert model.get_layer(index=1) is model.layers[1]
    with pytest.raises(ValueError, match="nope"):
        model.get_layer("nope")
    popped = model.pop()
    assert popped.units == 1 and len(model.layers) == 1 and model.output_shape == (None, 60)
    model.add(layers.Dense(2))
    assert model.output_shape == (None, 2) and model.count_params() == 3660 + 122


def test_unknown_activation_names_what_was_given():
    with pytest.raises(ValueError) as err:
        layers.Dense(3, activation="relux")
    assert "relux" in str(err.value) and "relu" in str(err.value)


def test_conv_activity_penalty_is_over_the_batch_size_as_in_keras(keras, rng):
    def build(lib):
        return lib.Sequential([lib.Input((5, 5, 2)), lib.layers.Conv2D(3, 3, activity_regularizer="l2"),
                               lib.layers.Flatten(), lib.layers.Dense(1)])
    model, theirs = build(mlcore), build(keras)
    theirs.set_weights(model.get_weights())
    model.compile("sgd", "mse")
    theirs.compile("sgd", "mse")
    x = rng.normal(size=(4, 5, 5, 2)).astype("float32")
    y = rng.normal(size=(4, 1)).astype("float32")
    kernel, bias = model.layers[0].get_weights()
    windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))   # (4, 3, 3, 2, 3, 3)
    conv = np.einsum("nhwcij,ijco->nhwo", windows, kernel) + bias
    out = conv.reshape(4, -1) @ model.layers[2].get_weights()[0] + model.layers[2].get_weights()[1]
    expected = np.mean((out - y) ** 2) + 0.01 * np.sum(conv ** 2) / 4
    assert model.test_on_batch(x, y) == pytest.approx(expected, rel=1e-4)
    assert float(theirs.test_on_batch(x, y)) == pytest.approx(expected, rel=1e-4)


# --- Keras 3's rules for merge inputs and unbuilt layers --------------------------------------------
@pytest.mark.parametrize("merge", ["Add", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"])
def test_merge_of_a_list_of_one_tensor_passes_it_through_as_keras(merge, keras, rng):
    value = rng.normal(size=(3, 4)).astype("float32")
    for lib in (mlcore, keras):
        inputs = lib.Input((4,))
        model = lib.Model(inputs, getattr(lib.layers, merge)()([inputs]))
        np.testing.assert_allclose(model.predict(value, verbose=0), value, rtol=1e-6)


@pytest.mark.parametrize("merge", ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"])
def test_merge_of_a_bare_tensor_raises_kerass_error(merge, keras):
    errors = []
    for lib in (mlcore, keras):
        with pytest.raises(ValueError) as err:
            getattr(lib.layers, merge)()(lib.Input((4,)))
        errors.append(str(err.value))
    assert errors[0] == errors[1]
    with pytest.raises(ValueError, match="at least 1 input"):
        getattr(layers, merge)()([])


def test_subtract_needs_exactly_two_inputs_as_keras(keras):
    errors = []
    for lib in (mlcore, keras):
        a = lib.Input((4,))
        with pytest.raises(ValueError) as err:
            lib.layers.Subtract()([a])
        errors.append(str(err.value))
    assert errors[0] == errors[1]


def test_count_params_of_an_unbuilt_layer_raises_kerass_error(keras):
    errors = []
    for lib in (mlcore, keras):
        with pytest.raises(ValueError) as err:
            lib.layers.Dense(3, name="not_built_yet").count_params()
        errors.append(str(err.value))
    assert errors[0] == errors[1]
    dense = layers.Dense(3)
    dense(layers.Input((5,)))
    assert dense.count_params() == 5 * 3 + 3

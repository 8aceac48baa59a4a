"""Embedding, LayerNormalization, UnitNormalization, the activation layers (LeakyReLU, ReLU, ELU, PReLU,
Softmax), the noise layers (GaussianNoise, GaussianDropout, AlphaDropout, SpatialDropout1D/2D),
ActivityRegularization, RepeatVector, UpSampling2D, Cropping2D, Rescaling and Identity: outputs against
Keras 3's layers holding the same weights, every backend against the numpy one (outputs and gradients),
gradients against finite differences, the noise layers' statistics, configs, and models that train and
save in files Keras 3 reads."""
import inspect
import json
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

import mlcore
from mlcore import function, grad, layers
from mlcore.graph.basic import TensorType
from mlcore.models import Sequential, load_model
from mlcore.models.serialization import layer_from_config
from mlcore.saving.keras3_config import keras_layer_spec, mlcore_spec

pytestmark = [pytest.mark.usefixtures("numpy_backend"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]  # jax arrays' __array__ in Keras

IMAGE = (3, 5, 6, 4)            # (batch, rows, cols, channels)
SEQUENCE = (3, 7, 5)            # (batch, steps, features)

# (layer class name, arguments, input kind): the layers whose output is a function of their input and weights
DETERMINISTIC = [
    ("Embedding", dict(input_dim=10, output_dim=4), "indices"),
    ("LayerNormalization", dict(), "sequence"),
    ("LayerNormalization", dict(axis=[1, 3], epsilon=0.1), "image"),
    ("LayerNormalization", dict(axis=[-1, 1]), "image"),        # Keras's order of the weight's axes: sorted
    ("LayerNormalization", dict(axis=2, center=False), "image"),
    ("LayerNormalization", dict(scale=False), "sequence"),
    ("UnitNormalization", dict(), "sequence"),
    ("UnitNormalization", dict(axis=[1, 2]), "image"),
    ("LeakyReLU", dict(), "sequence"),
    ("LeakyReLU", dict(negative_slope=0.05), "sequence"),
    ("ReLU", dict(), "sequence"),
    ("ReLU", dict(max_value=0.8), "sequence"),
    ("ReLU", dict(negative_slope=0.1, threshold=0.3), "sequence"),
    ("ReLU", dict(max_value=6.0, negative_slope=0.2, threshold=0.1), "sequence"),
    ("ELU", dict(), "sequence"),
    ("ELU", dict(alpha=0.5), "sequence"),
    ("PReLU", dict(), "sequence"),
    ("PReLU", dict(shared_axes=[1, 2]), "image"),
    ("PReLU", dict(shared_axes=1), "sequence"),
    ("Softmax", dict(), "sequence"),
    ("Softmax", dict(axis=1), "image"),
    ("Softmax", dict(axis=[1, 2]), "image"),
    ("Softmax", dict(axis=[2]), "image"),
    ("RepeatVector", dict(n=3), "vector"),
    ("UpSampling2D", dict(), "image"),
    ("UpSampling2D", dict(size=(2, 3), data_format="channels_first"), "image"),
    ("UpSampling2D", dict(size=(3, 2), interpolation="bilinear"), "image"),
    ("UpSampling2D", dict(size=2, data_format="channels_first", interpolation="bilinear"), "image"),
    ("Cropping2D", dict(cropping=1), "image"),
    ("Cropping2D", dict(cropping=((1, 0), (2, 1))), "image"),
    ("Cropping2D", dict(cropping=((0, 1), (0, 2)), data_format="channels_first"), "image"),
    ("Rescaling", dict(scale=1 / 255.0, offset=-0.5), "image"),
    ("Rescaling", dict(scale=[1.0, 2.0, 3.0, 4.0], offset=0.25), "image"),
    ("Identity", dict(), "sequence"),
    ("ActivityRegularization", dict(l1=0.1), "sequence"),
]
INPUT_SHAPES = {"indices": (3, 6), "vector": (3, 5), "sequence": SEQUENCE, "image": IMAGE}


def case_id(case):
    name, kwargs, _ = case
    return name + "".join("-%s=%s" % item for item in kwargs.items())


def make_input(kind, rng):
    if kind == "indices":
        return rng.integers(0, 10, size=INPUT_SHAPES[kind])
    return rng.normal(size=INPUT_SHAPES[kind]).astype("float32")


def input_variable(kind):
    dtype = "int64" if kind == "indices" else "float32"
    return TensorType(dtype, (None,) + INPUT_SHAPES[kind][1:])(kind)


def randomized(layer, rng):
    """The layer, built, with weights away from their initial values (PReLU's alpha, gamma, beta...)."""
    for w in layer.weights:
        w.set_value(rng.uniform(0.5, 1.5, w.shape).astype(w.dtype) * rng.choice([-1, 1], w.shape).astype(w.dtype))
    return layer


@pytest.fixture(scope="module")
def keras():
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "jax":
        pytest.skip("these comparisons use Keras's jax backend")
    return keras


# --- outputs against Keras 3 ------------------------------------------------------------------------------
@pytest.mark.parametrize("case", DETERMINISTIC, ids=case_id)
def test_layer_matches_keras(keras, rng, case):
    name, kwargs, kind = case
    x = make_input(kind, rng)
    ours = getattr(layers, name)(**kwargs)
    ours(x)
    randomized(ours, rng)
    theirs = getattr(keras.layers, name)(**kwargs)
    theirs(x)
    theirs.set_weights(ours.get_weights())
    got, expected = np.asarray(ours(x)), np.asarray(theirs(x))
    assert got.shape == expected.shape and got.dtype == expected.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
    assert ours.compute_output_shape((None,) + x.shape[1:]) == theirs.compute_output_shape((None,) + x.shape[1:])


def test_embedding_and_layer_normalization_against_numpy(rng):
    """The math spelled out, apart from Keras: a table lookup; (x - mean) / sqrt(var + eps) * gamma + beta."""
    embedding = randomized(layers.Embedding(10, 4), rng)
    indices = rng.integers(0, 10, size=(2, 3))
    np.testing.assert_array_equal(embedding(indices), embedding.get_weights()[0][indices])
    norm = layers.LayerNormalization(axis=[1, 2], epsilon=0.01)
    x = rng.normal(2, 3, size=(4, 3, 5)).astype("float32")
    norm(x)
    gamma, beta = randomized(norm, rng).get_weights()
    mean, var = x.mean(axis=(1, 2), keepdims=True), x.var(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(norm(x), (x - mean) / np.sqrt(var + 0.01) * gamma + beta, rtol=1e-5, atol=1e-5)


def test_softmax_mask_matches_keras(keras, rng):
    x = rng.normal(size=(3, 4, 5)).astype("float32")
    mask = rng.integers(0, 2, size=(3, 1, 5)).astype(bool)
    mask[0, 0] = False                          # a row masked out entirely gives zeros
    for m in (mask, mask.astype("float32") * 0.9):
        got = np.asarray(layers.Softmax()(x, mask=m))
        np.testing.assert_allclose(got, np.asarray(keras.layers.Softmax()(x, mask=m)), rtol=1e-6, atol=1e-7)
    assert not got[0].any()
    symbolic = TensorType("bool", (None, 1, 5))("mask")
    x_var = TensorType("float32", (None, 4, 5))("x")
    fn = function([x_var, symbolic], layers.Softmax()(x_var, mask=symbolic))
    np.testing.assert_allclose(fn(x, mask), got, rtol=1e-6)


# --- every backend, outputs and gradients -----------------------------------------------------------------
@pytest.fixture(scope="module")
def graph():
    """One graph of all the deterministic layers: their outputs and the gradients of sum(output * r) with
    respect to each input and weight."""
    rng = np.random.default_rng(7)
    inputs = {kind: input_variable(kind) for kind in INPUT_SHAPES}
    outputs, wrt = [], []
    for name, kwargs, kind in DETERMINISTIC:
        layer = getattr(layers, name)(**kwargs)
        y = layer(inputs[kind])
        randomized(layer, rng)
        outputs.append(y)
        targets = ([] if kind == "indices" else [inputs[kind]]) + layer.weights
        r = rng.normal(size=(INPUT_SHAPES[kind][0],) + tuple(y.type.shape[1:])).astype("float32")
        wrt.extend(grad((y * r).sum(), targets) if targets else [])
    values = {kind: make_input(kind, rng) for kind in INPUT_SHAPES}
    return list(inputs.values()), outputs + wrt, [values[kind] for kind in inputs]


@pytest.fixture(scope="module")
def numpy_results(graph):
    inputs, outputs, values = graph
    return function(inputs, outputs, backend="numpy", on_unused_input="ignore")(*values)


@pytest.mark.parametrize("name", ["jax", "theano"])
def test_backends_agree_with_numpy(graph, numpy_results, require_backend, name):
    inputs, outputs, values = graph
    got = function(inputs, outputs, backend=require_backend(name), on_unused_input="ignore")(*values)
    assert len(got) == len(numpy_results)
    for k, (a, b) in enumerate(zip(got, numpy_results)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg="output %d" % k)


@pytest.mark.parametrize("case", [c for c in DETERMINISTIC if c[0] not in ("Identity", "Rescaling")], ids=case_id)
def test_gradients_match_finite_differences(floatx, numeric_grad, rng, case):
    """d sum(layer(x) * r) / d(x, weights), in float64, against central differences of the layer's output."""
    floatx("float64")
    name, kwargs, kind = case
    x = make_input(kind, rng)
    x = x if kind == "indices" else x.astype("float64")
    x_var = TensorType(x.dtype, (None,) + x.shape[1:])("x")
    layer = getattr(layers, name)(**kwargs)
    y = layer(x_var)
    randomized(layer, rng)
    r = rng.normal(size=(x.shape[0],) + tuple(y.type.shape[1:]))
    weights = layer.weights
    targets = ([] if kind == "indices" else [x_var]) + weights
    grads = function([x_var], grad((y * r).sum(), targets))(x)
    forward = function([x_var], (y * r).sum())

    def cost(x_value, *weight_values):
        for w, v in zip(weights, weight_values):
            w.set_value(v)
        return forward(x_value)
    values = [x] + [w.get_value().copy() for w in weights]
    for k, g in zip(range(0 if kind != "indices" else 1, len(values)), grads):
        np.testing.assert_allclose(g, numeric_grad(cost, values, k), rtol=1e-5, atol=1e-6)


# --- the noise layers ---------------------------------------------------------------------------------------
def noise_layers():
    return [layers.GaussianNoise(0.2, seed=1), layers.GaussianDropout(0.3, seed=2),
            layers.AlphaDropout(0.2, seed=3), layers.AlphaDropout(0.4, noise_shape=(None, 1, None), seed=4),
            layers.SpatialDropout1D(0.4, seed=5), layers.SpatialDropout2D(0.3, seed=6),
            layers.SpatialDropout2D(0.5, data_format="channels_first", seed=7)]


def test_noise_layers_in_training_on_every_backend(backend):
    """Fresh draws at each call of the compiled function; the spread, the values and the fraction dropped
    that each layer promises (within 5 sigma of the number of independent draws)."""
    sequence, image = TensorType("float32", (None, 60, 40))("s"), TensorType("float32", (None, 12, 10, 30))("i")
    made = noise_layers()
    outputs = [layer(image if "2D" in type(layer).__name__ else sequence, training=True) for layer in made]
    fn = function([sequence, image], outputs, backend=backend)
    s, i = np.ones((15, 60, 40), "float32"), np.ones((15, 12, 10, 30), "float32")
    first, second = fn(s, i), fn(s, i)
    for a, b in zip(first, second):
        assert not np.array_equal(a, b)
    noise, gaussian_dropout, alpha, alpha_shared, spatial1d, spatial2d, spatial2d_first = first
    assert abs(noise.mean() - 1) < 5 * 0.2 / np.sqrt(noise.size) and noise.std() == pytest.approx(0.2, rel=0.02)
    assert abs(gaussian_dropout.mean() - 1) < 5 * 0.66 / np.sqrt(noise.size)
    assert gaussian_dropout.std() == pytest.approx(np.sqrt(0.3 / 0.7), rel=0.02)
    assert (alpha_shared == alpha_shared[:, :1]).all()           # one draw per (sample, feature)
    for out, rate in ((alpha, 0.2), (alpha_shared[:, 0], 0.4)):
        kept_value, dropped_value = alpha_dropout_values(rate)
        dropped = np.isclose(out, dropped_value, rtol=1e-6)
        assert (dropped | np.isclose(out, kept_value, rtol=1e-6)).all()
        assert abs(np.mean(dropped) - rate) < 5 * np.sqrt(rate * (1 - rate) / out.size)
    for out, rate, axes in ((spatial1d, 0.4, (1,)), (spatial2d, 0.3, (1, 2)), (spatial2d_first, 0.5, (2, 3))):
        assert set(np.unique(out)) == {0, np.float32(1 / (1 - rate))}
        maps = out.max(axis=axes)
        assert (out.min(axis=axes) == maps).all()                 # whole feature maps kept or dropped
        assert abs(np.mean(maps == 0) - rate) < 5 * np.sqrt(rate * (1 - rate) / maps.size)


def alpha_dropout_values(rate, x=1.0):
    """AlphaDropout's output for a kept x and for a dropped one (Klambauer et al.'s affine correction)."""
    alpha_p = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946
    a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
    return a * x - a * alpha_p * rate, a * alpha_p - a * alpha_p * rate


def test_noise_layers_take_the_values_keras_does(keras):
    """On inputs of ones Keras's layers give the same set of values as mlcore's (the draws differ)."""
    x = np.ones((40, 30, 20), "float32")
    for ours, theirs in ((layers.AlphaDropout(0.3, seed=1), keras.layers.AlphaDropout(0.3, seed=1)),
                         (layers.SpatialDropout1D(0.25, seed=1), keras.layers.SpatialDropout1D(0.25, seed=1))):
        got, expected = np.unique(ours(x, training=True)), np.unique(np.asarray(theirs(x, training=True)))
        np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_noise_layers_pass_inputs_through_at_inference(rng):
    x3, x4 = rng.normal(size=(2, 5, 6)).astype("float32"), rng.normal(size=(2, 5, 6, 3)).astype("float32")
    for layer in noise_layers():
        x = x4 if "2D" in type(layer).__name__ else x3
        np.testing.assert_array_equal(layer(x), x)
        np.testing.assert_array_equal(layer(x, training=False), x)


def test_noise_layers_draw_from_mlcores_seeded_generator_without_a_seed():
    outputs = []
    for _ in range(2):
        mlcore.utils.set_random_seed(11)
        outputs.append(layers.GaussianNoise(0.5)(np.zeros((2, 8), "float32"), training=True))
    np.testing.assert_array_equal(*outputs)
    assert np.asarray(outputs[0]).std() > 0


def test_spatial_dropouts_are_dropouts():
    assert isinstance(layers.SpatialDropout1D(0.1), layers.Dropout)
    assert isinstance(layers.SpatialDropout2D(0.1), layers.Dropout)


# --- ActivityRegularization and the Embedding's penalties -----------------------------------------------------
def test_activity_regularization_adds_kerass_penalty(keras, rng):
    def build(lib):
        return lib.Sequential([lib.Input((4,)), lib.layers.Dense(3), lib.layers.ActivityRegularization(l1=0.1, l2=0.2),
                               lib.layers.Dense(1)])
    ours, theirs = build(mlcore), build(keras)
    theirs.set_weights(ours.get_weights())
    x, y = rng.normal(size=(5, 4)).astype("float32"), rng.normal(size=(5, 1)).astype("float32")
    k1, b1, k2, b2 = ours.get_weights()
    hidden = x @ k1 + b1
    expected = np.mean((hidden @ k2 + b2 - y) ** 2) + (0.1 * np.abs(hidden).sum() + 0.2 * (hidden ** 2).sum()) / 5
    for model in (ours, theirs):
        model.compile("sgd", "mse")
        assert float(model.test_on_batch(x, y)) == pytest.approx(expected, rel=1e-5)


def test_embedding_regularizers_and_constraint_apply_in_training(rng):
    embedding = layers.Embedding(6, 3, embeddings_regularizer=mlcore.regularizers.L2(0.5),
                                 activity_regularizer="l1", embeddings_constraint="non_neg")
    model = Sequential([layers.Input((4,), dtype="int32"), embedding, layers.Flatten(), layers.Dense(1)])
    model.compile(mlcore.optimizers.SGD(1.0), "mse")
    x, y = rng.integers(0, 6, size=(5, 4)), rng.normal(size=(5, 1)).astype("float32") * 10
    table, kernel, bias = model.get_weights()
    looked_up = table[x]
    expected = (np.mean((looked_up.reshape(5, -1) @ kernel + bias - y) ** 2) + 0.5 * np.sum(table ** 2)
                + 0.01 * np.abs(looked_up).sum() / 5)
    assert model.train_on_batch(x, y) == pytest.approx(expected, rel=1e-5)
    assert embedding.get_weights()[0].min() >= 0


# --- models that train, save and load ------------------------------------------------------------------------
def text_model(lib):
    L = lib.layers
    return lib.Sequential([lib.Input((6,)), L.Embedding(20, 8, name="embed"), L.SpatialDropout1D(0.1),
                           L.LayerNormalization(name="norm"), L.Flatten(), L.Dense(12), L.LeakyReLU(0.1),
                           L.GaussianNoise(0.05), L.GaussianDropout(0.1), L.AlphaDropout(0.05),
                           L.ActivityRegularization(l2=1e-4), L.RepeatVector(2), L.PReLU(name="prelu"),
                           L.Flatten(), L.Dense(3), L.Softmax()], name="text")


def image_model(lib):
    L = lib.layers
    return lib.Sequential([lib.Input((6, 6, 2)), L.Rescaling(0.5, offset=0.1), L.Cropping2D(1),
                           L.UpSampling2D(interpolation="bilinear"), L.Conv2D(8, 3, name="conv"),
                           L.PReLU(shared_axes=[1, 2], name="prelu"), L.ReLU(max_value=6.0), L.ELU(0.5),
                           L.SpatialDropout2D(0.1), L.UpSampling2D((1, 2)), L.UnitNormalization(),
                           L.Identity(), L.Flatten(), L.Dense(3), L.Softmax()], name="image")


def data_for(build, rng, n=32):
    x = rng.integers(0, 20, size=(n, 6)).astype("float32") if build is text_model else \
        rng.uniform(0, 2, size=(n, 6, 6, 2)).astype("float32")
    return x, np.eye(3, dtype="float32")[rng.integers(0, 3, size=n)]


@pytest.mark.parametrize("build", [text_model, image_model])
def test_model_trains_saves_and_loads_in_mlcore_and_keras(tmp_path, keras, rng, build):
    model = build(mlcore)
    model.compile(mlcore.optimizers.Adam(0.01), "categorical_crossentropy")
    x, y = data_for(build, rng)
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=30, batch_size=8, verbose=0)
    assert model.evaluate(x, y, verbose=0) < 0.8 * before
    expected = model.predict(x, verbose=0)
    fresh = build(mlcore)
    fresh.load_weights(_saved(model.save_weights, tmp_path / "m.weights.h5"))
    np.testing.assert_allclose(fresh.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    archive = _saved(model.save, tmp_path / "m.keras")
    np.testing.assert_allclose(load_model(archive).predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    theirs = keras.saving.load_model(archive)
    np.testing.assert_allclose(np.asarray(theirs.predict(x, verbose=0)), expected, rtol=1e-4, atol=1e-5)
    assert [type(layer).__name__ for layer in theirs.layers] == [type(layer).__name__ for layer in model.layers]


@pytest.mark.parametrize("build", [text_model, image_model])
def test_keras_archives_and_weights_load_in_mlcore(tmp_path, keras, rng, build):
    theirs = build(keras)
    theirs.set_weights([w + rng.normal(scale=0.1, size=np.shape(w)).astype("float32") for w in theirs.get_weights()])
    x, _ = data_for(build, rng, n=5)
    expected = np.asarray(theirs.predict(x, verbose=0))
    ours = load_model(_saved(theirs.save, tmp_path / "k.keras"))
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-5)
    fresh = build(mlcore)
    fresh.load_weights(_saved(theirs.save_weights, tmp_path / "k.weights.h5"))
    np.testing.assert_allclose(fresh.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-5)


def _saved(save, path):
    save(str(path))
    return str(path)


# --- configs, signatures, arguments --------------------------------------------------------------------------
ALL_NEW = ["Embedding", "LayerNormalization", "UnitNormalization", "LeakyReLU", "ReLU", "ELU", "PReLU", "Softmax",
           "GaussianNoise", "GaussianDropout", "AlphaDropout", "SpatialDropout1D", "SpatialDropout2D",
           "ActivityRegularization", "RepeatVector", "UpSampling2D", "Cropping2D", "Rescaling", "Identity"]
REQUIRED = {"Embedding": dict(input_dim=5, output_dim=2), "GaussianNoise": dict(stddev=0.1),
            "GaussianDropout": dict(rate=0.1), "AlphaDropout": dict(rate=0.1), "SpatialDropout1D": dict(rate=0.1),
            "SpatialDropout2D": dict(rate=0.1), "RepeatVector": dict(n=2), "Rescaling": dict(scale=2.0)}
# where Keras 3's signature or config differs, and why
KERAS_ONLY_PARAMETERS = {}
MLCORE_ONLY_PARAMETERS = {"SpatialDropout1D": {"kwargs"}, "SpatialDropout2D": {"kwargs"},  # input_shape=...
                          "LayerNormalization": {"rms_scaling"}}  # Keras's, popped from its kwargs; named, it loads
@pytest.mark.parametrize("name", [n for n in ALL_NEW if n != "Identity"])     # Identity: the base Layer's
def test_signature_matches_keras(keras, name):
    def parameters(cls, leave_out):
        return [(p.name, p.default) for p in inspect.signature(cls).parameters.values() if p.name not in leave_out]
    ours = parameters(getattr(layers, name), MLCORE_ONLY_PARAMETERS.get(name, ()))
    assert ours == parameters(getattr(keras.layers, name), KERAS_ONLY_PARAMETERS.get(name, ()))


@pytest.mark.parametrize("name", ALL_NEW)
def test_config_has_kerass_keys_and_values_and_round_trips(keras, name):
    kwargs = REQUIRED.get(name, {})
    ours, theirs = getattr(layers, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
    saved, ref = keras_layer_spec(ours)["config"], theirs.get_config()      # as a .keras file holds it
    assert set(saved) == set(ref)
    for key in set(saved) - {"name", "dtype"}:
        assert json.loads(json.dumps(saved[key])) == json.loads(json.dumps(ref[key])), key
    mine = ours.get_config()
    again = type(ours).from_config(mine)
    assert type(again) is type(ours) and again.get_config() == mine


def test_configs_keep_their_arguments():
    samples = [layers.Embedding(7, 3, embeddings_initializer="zeros"), layers.LayerNormalization([1, 2], 0.1, False),
               layers.PReLU("ones", shared_axes=(1, 2)), layers.Softmax([1, 2]),
               layers.AlphaDropout(0.2, (None, 1, 3), 9),
               layers.UpSampling2D(3, "channels_first", "bilinear"), layers.Cropping2D(((1, 2), (3, 4))),
               layers.Rescaling(np.array([1.0, 2.0]), 0.5), layers.ELU(0.3), layers.ReLU(2.0, 0.1, 0.2)]
    for layer in samples:
        again = type(layer).from_config(layer.get_config())
        assert again.get_config() == layer.get_config()
    assert samples[-2].get_config()["alpha"] == 0.3 and samples[-3].get_config()["scale"] == [1.0, 2.0]


def test_rescaling_reads_kerass_saved_arrays(keras):
    spec = keras.saving.serialize_keras_object(keras.layers.Rescaling(np.array([2.0, 3.0], "float32")))
    assert spec["config"]["scale"]["class_name"] == "__numpy__"
    layer = layer_from_config(mlcore_spec(spec))
    np.testing.assert_allclose(layer(np.ones((1, 2), "float32")), [[2.0, 3.0]])


def test_keras_2_and_1_spellings():
    assert layers.LeakyReLU(alpha=0.2).negative_slope == 0.2
    model = Sequential([layers.Embedding(50, 4, input_length=7)])
    assert model.input_shape == (None, 7) and model.output_shape == (None, 7, 4)
    table = np.arange(12, dtype="float32").reshape(6, 2)
    embedding = layers.Embedding(6, 2, weights=[table])
    np.testing.assert_array_equal(embedding(np.array([[5, 0]])), table[[[5, 0]]])
    assert type(layers.Embedding(6, 2, init="zeros").embeddings_initializer).__name__ == "Zeros"
    for cls in (layers.UpSampling2D, layers.Cropping2D):
        assert cls(dim_ordering="th").data_format == "channels_first"
    assert layers.SpatialDropout2D(0.1, dim_ordering="tf").data_format == "channels_last"


@pytest.mark.parametrize("make, error, message", [
    (lambda: layers.Embedding(0, 3), ValueError, "input_dim"),
    (lambda: layers.Embedding(5, 2.5), ValueError, "output_dim"),
    (lambda: layers.LayerNormalization(axis="last"), TypeError, "axis"),
    (lambda: layers.UnitNormalization(axis=1.5), TypeError, "axis"),
    (lambda: layers.LeakyReLU(-0.1), ValueError, "negative_slope"),
    (lambda: layers.ReLU(max_value=-1.0), ValueError, "max_value"),
    (lambda: layers.ReLU(threshold=-1.0), ValueError, "threshold"),
    (lambda: layers.GaussianNoise(1.5), ValueError, "stddev"),
    (lambda: layers.GaussianDropout(-0.1), ValueError, "rate"),
    (lambda: layers.AlphaDropout(2), ValueError, "rate"),
    (lambda: layers.SpatialDropout1D(1.5), ValueError, "rate"),
    (lambda: layers.RepeatVector(2.0), TypeError, "integer"),
    (lambda: layers.RepeatVector(0), ValueError, "positive"),
    (lambda: layers.UpSampling2D(0), ValueError, "size"),
    (lambda: layers.UpSampling2D(interpolation="bicubic"), NotImplementedError, "bicubic"),
    (lambda: layers.UpSampling2D(interpolation="cubic"), ValueError, "interpolation"),
    (lambda: layers.Cropping2D(-1), ValueError, "negative"),
    (lambda: layers.Cropping2D((1, 2, 3)), ValueError, "cropping"),
    (lambda: layers.Cropping2D(((1, -1), (0, 0))), ValueError, "cropping"),
    (lambda: layers.SpatialDropout2D(0.1, data_format="channels_middle"), ValueError, "data_format"),
])
def test_argument_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("make, shape, message", [
    (lambda: layers.RepeatVector(2, name="rv"), (None, 3, 4), "'rv'.*ndim=2"),
    (lambda: layers.UpSampling2D(name="up"), (None, 3, 4), "'up'.*ndim=4"),
    (lambda: layers.UpSampling2D(interpolation="bilinear", name="up"), (None, None, 4, 2), "'up'.*image size"),
    (lambda: layers.Cropping2D(2, name="crop"), (None, 4, 8, 2), "'crop'.*smaller"),
    (lambda: layers.SpatialDropout2D(0.1, name="sd"), (None, 4, 3), "'sd'.*ndim=4"),
    (lambda: layers.LayerNormalization(axis=3, name="ln"), (None, 4, 3), "'ln'.*axis 3.*out of bounds"),
    (lambda: layers.LayerNormalization(name="ln"), (None, 4, None), "'ln'.*must be known"),
    (lambda: layers.PReLU(name="pr"), (None, None, 3), "'pr'.*must be known"),
    (lambda: layers.UnitNormalization(axis=-3, name="un"), (None, 4), "'un'.*out of bounds"),
])
def test_input_shape_errors_name_the_layer_and_shape(make, shape, message):
    with pytest.raises(ValueError, match=message):
        make()(TensorType("float32", shape)("x"))


def test_eager_calls_and_output_shapes(rng):
    assert layers.Embedding(9, 5).compute_output_shape((None, 4)) == (None, 4, 5)
    assert layers.RepeatVector(3).compute_output_shape((None, 7)) == (None, 3, 7)
    assert layers.UpSampling2D((2, 3), "channels_first").compute_output_shape((None, 4, 5, 6)) == (None, 4, 10, 18)
    assert layers.Cropping2D(((1, 0), (2, 2))).compute_output_shape((None, 5, 6, 3)) == (None, 4, 2, 3)
    assert layers.UpSampling2D()(np.ones((1, 2, 2, 1), "float32")).shape == (1, 4, 4, 1)
    images = rng.integers(0, 256, size=(2, 3, 3, 1), dtype="uint8")
    out = np.asarray(layers.Rescaling(1 / 255.0)(images))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, images / 255.0, rtol=1e-6)
    per_sample, over_batch = layers.LayerNormalization(), layers.LayerNormalization(axis=[0, 1])
    per_sample(TensorType("float32", (None, 4))("x"))
    over_batch(TensorType("float32", (8, 4))("x"))
    assert per_sample.rowwise and not over_batch.rowwise     # fit may not pad the batch of the latter

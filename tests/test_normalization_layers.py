"""Normalization (with adapt), GroupNormalization and RMSNormalization: outputs against Keras 3's layers holding
the same weights on every backend, adapt against numpy's statistics and Keras's adapt (arrays and batches),
gradients against finite differences, a model that adapts, fits and learns on every backend, configs,
signatures, errors, and weight files and .keras archives that go both ways with Keras 3."""
import inspect
import json
import os
import types

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

import mlcore
from mlcore import function, grad, layers
from mlcore import tensor as T
from mlcore.graph.basic import TensorType, clone
from mlcore.models import load_model
from mlcore.saving.keras3_config import keras_layer_spec
from mlcore.utils import PyDataset

pytestmark = [pytest.mark.usefixtures("numpy_backend"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]  # jax arrays' __array__ in Keras

SHAPE = (3, 6, 5, 8)            # (batch, rows, cols, channels)

# (layer class name, arguments): layers whose output is a function of their input and weights
CASES = [
    ("GroupNormalization", dict(groups=4)),
    ("GroupNormalization", dict(groups=-1)),                      # instance normalization
    ("GroupNormalization", dict(groups=1, center=False)),         # a LayerNormalization over all but the batch
    ("GroupNormalization", dict(groups=2, axis=1, epsilon=0.1)),  # channels_first-like: groups of rows
    ("GroupNormalization", dict(groups=3, axis=-3, scale=False)),
    ("RMSNormalization", dict()),
    ("RMSNormalization", dict(axis=[2, 3], epsilon=0.5)),
    ("Normalization", dict(mean=2.0, variance=3.0)),
    ("Normalization", dict(mean=np.linspace(-1, 1, 8), variance=np.linspace(0.5, 2, 8), invert=True)),
    ("Normalization", dict(axis=(1, 3), mean=np.ones(8), variance=np.full(8, 4.0))),   # aligned from the right
    ("Normalization", dict(axis=(-1, 1), mean=np.ones((6, 8)), variance=np.full((6, 8), 0.25))),
    ("Normalization", dict(axis=[2])),          # mean, variance and count as weights (adapt's)
    ("Normalization", dict(axis=None, invert=True)),
]


def case_id(case):
    name, kwargs = case
    return name + "".join("-%s=%s" % (k, np.shape(v) if isinstance(v, np.ndarray) else v) for k, v in kwargs.items())


def random_value(weight, rng):
    """A float weight's value moved off its initial one (a variance stays positive); count is kept."""
    shape, dtype = tuple(weight.shape), np.dtype(weight.dtype)
    if dtype.kind != "f":
        return np.asarray(weight)
    if weight.name == "variance":
        return rng.uniform(0.5, 2.0, shape).astype(dtype)
    return (rng.uniform(0.5, 1.5, shape) * rng.choice([-1, 1], shape)).astype(dtype)


def randomized(layer, rng):
    layer.set_weights([random_value(w, rng) for w in layer.weights])
    return layer


def keras_set_weights(target, values):
    """set_weights on a layer or model of mlcore or Keras.  Keras's Normalization reads its statistics from
    copies that set_weights leaves stale (loading and adapt refresh them): refreshed here."""
    target.set_weights(values)
    for layer in getattr(target, "layers", [target]):
        if hasattr(layer, "finalize_state"):
            layer.finalize_state()


@pytest.fixture(scope="module")
def keras_adapt(keras):
    """Keras 3's adapt tests `isinstance(data, tf.data.Dataset)`, which imports TensorFlow, not installed here;
    that test is pointed at a class no data is an instance of, so lists and generators of batches reach
    Keras's own streaming code."""
    from keras.src.layers.preprocessing import normalization
    saved = normalization.tf
    normalization.tf = types.SimpleNamespace(data=types.SimpleNamespace(Dataset=type("NoDataset", (), {})))
    yield keras
    normalization.tf = saved


# --- outputs against Keras 3, on every backend ----------------------------------------------------------
@pytest.fixture(scope="module")
def built_cases(keras):
    """Each case's mlcore layer on one symbolic input, with random weights, and Keras's output for them."""
    rng = np.random.default_rng(3)
    x_value = rng.normal(1.0, 2.0, size=SHAPE).astype("float32")
    x = TensorType("float32", (None,) + SHAPE[1:])("x")
    outputs, expected = [], []
    for name, kwargs in CASES:
        ours = getattr(layers, name)(**kwargs)
        outputs.append(ours(x))
        randomized(ours, rng)
        theirs = getattr(keras.layers, name)(**kwargs)
        theirs(x_value)
        keras_set_weights(theirs, ours.get_weights())
        expected.append(np.asarray(theirs(x_value)))
        assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
        assert [w.trainable for w in ours.weights] == [w.trainable for w in theirs.weights]
        assert [np.dtype(w.dtype) for w in ours.weights] == [np.dtype(w.dtype) for w in theirs.weights]
        assert ours.compute_output_shape(x.type.shape) == theirs.compute_output_shape(x.type.shape)
    return x, x_value, outputs, expected


def test_outputs_match_keras_on_every_backend(built_cases, backend):
    x, x_value, outputs, expected = built_cases
    got = function([x], outputs, backend=backend)(x_value)
    for case, a, b in zip(CASES, got, expected):
        assert a.shape == b.shape and a.dtype == b.dtype == np.float32, case_id(case)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-5, err_msg=case_id(case))


def test_the_math_against_numpy(rng):
    """The formulas spelled out apart from Keras: GroupNormalization on inputs with unknown spatial dims,
    RMSNormalization over axes that are not trailing (where Keras 3's scale, not reshaped, fails to broadcast)."""
    x = rng.normal(size=(2, 4, 3, 6)).astype("float32")
    unknown, known = TensorType("float32", (None, None, None, 6))("x"), TensorType("float32", (None, 4, 3, 6))("x")
    group, rms = layers.GroupNormalization(groups=3, epsilon=0.01), layers.RMSNormalization(axis=[1, 3])
    y_group, y_rms = group(unknown), rms(known)
    assert y_group.type.shape == (None, None, None, 6)
    gamma, beta = randomized(group, rng).get_weights()
    (scale,) = randomized(rms, rng).get_weights()
    g = x.reshape(2, 4, 3, 3, 2)
    mean, var = g.mean(axis=(1, 2, 4), keepdims=True), g.var(axis=(1, 2, 4), keepdims=True)
    expected = ((g - mean) / np.sqrt(var + 0.01)).reshape(x.shape) * gamma + beta
    np.testing.assert_allclose(function([unknown], y_group)(x), expected, rtol=1e-5, atol=1e-5)
    expected = x / np.sqrt((x ** 2).mean(axis=(1, 3), keepdims=True) + 1e-6) * scale[:, None, :]
    np.testing.assert_allclose(function([known], y_rms)(x), expected, rtol=1e-5, atol=1e-5)


# --- adapt ---------------------------------------------------------------------------------------------------
class Batches(PyDataset):
    """mlcore's PyDataset of (x, y) batches of uneven sizes."""

    def __init__(self, x, sizes):
        super().__init__()
        self.x, self.ends = x, np.cumsum(sizes)

    def __len__(self):
        return len(self.ends)

    def __getitem__(self, k):
        start = self.ends[k - 1] if k else 0
        return self.x[start:self.ends[k]], np.zeros(self.ends[k] - start)


def uneven_batches(x):
    return [x[:7], x[7:8], x[8:20], x[20:]]


@pytest.mark.parametrize("axis", [-1, None, (1, 3), (-1, 1), (0, 2)], ids=str)
def test_adapt_gives_numpys_mean_and_variance(rng, axis):
    x = rng.normal(5.0, 3.0, size=(24, 4, 3, 2)) * rng.uniform(0.1, 10, size=(1, 4, 1, 2))
    keep = () if axis is None else tuple(sorted(a % 4 for a in np.atleast_1d(axis)))
    reduce = tuple(d for d in range(4) if d not in keep)
    mean, variance = x.mean(axis=reduce), x.var(axis=reduce)
    sources = [x, uneven_batches(x), (b for b in uneven_batches(x)), Batches(x, [5, 9, 10])]
    if 0 in keep:       # the batch axis kept: batches of the same size, split along a reduced axis
        sources = [x, [x[:, :1], x[:, 1:]]]
    for data in sources:
        layer = layers.Normalization(axis=axis)
        layer.adapt(data)
        got_mean, got_variance, count = layer.get_weights()
        np.testing.assert_allclose(got_mean, mean, rtol=1e-6)
        np.testing.assert_allclose(got_variance, variance, rtol=1e-5)
        assert got_mean.dtype == np.float32 and count.dtype == np.int32 and count == 0     # Keras 3 keeps it at 0
        np.testing.assert_allclose(layer(x), (x - np.expand_dims(mean, reduce)) / np.sqrt(np.expand_dims(variance,
                                   reduce)), rtol=1e-4, atol=1e-4)


def test_adapt_matches_keras_on_arrays_and_batches(keras_adapt, rng):
    x = (rng.normal(size=(30, 3, 4)) * [[[1.0], [10.0], [100.0]]] + 50).astype("float32")
    for axis in (-1, None, (1, 2), 1):
        for data in (x, uneven_batches(x)):
            ours, theirs = layers.Normalization(axis=axis), keras_adapt.layers.Normalization(axis=axis)
            ours.adapt(data)
            theirs.adapt(data)
            for a, b in zip(ours.get_weights(), theirs.get_weights()):
                np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5)
            np.testing.assert_allclose(ours(x), np.asarray(theirs(x)), rtol=1e-5, atol=1e-5)


def test_adapt_again_replaces_the_statistics_and_compiled_calls_see_them(rng):
    layer = layers.Normalization()
    x_var = TensorType("float32", (None, 3))("x")
    fn = function([x_var], layer(x_var))
    x = rng.normal(size=(10, 3)).astype("float32")
    np.testing.assert_array_equal(fn(x), x)            # before adapt: mean 0, variance 1 (Keras's too)
    layer.adapt(x * 4 + 2)
    np.testing.assert_allclose(fn(x * 4 + 2), (x - x.mean(0)) / x.std(0), rtol=1e-4, atol=1e-5)
    layer.adapt(x)
    np.testing.assert_allclose(fn(x), (x - x.mean(0)) / x.std(0), rtol=1e-4, atol=1e-5)


def test_calls_before_adapt_and_invert_match_keras(keras):
    x = np.arange(12, dtype="float32").reshape(4, 3)
    np.testing.assert_array_equal(layers.Normalization()(x), np.asarray(keras.layers.Normalization()(x)))
    ours, theirs = layers.Normalization(invert=True), keras.layers.Normalization(invert=True)
    ours.adapt(x)
    theirs.adapt(x)
    z = np.array([[1.0, 2.0, 3.0]], "float32")
    np.testing.assert_allclose(ours(z), np.asarray(theirs(z)), rtol=1e-6)
    back = layers.Normalization(invert=True)
    back.build((None, 3))
    back.set_weights(ours.get_weights())
    forward = layers.Normalization()
    forward.adapt(x)
    np.testing.assert_allclose(back(forward(x)), x, rtol=1e-5, atol=1e-5)
    assert np.asarray(layers.Normalization()(x.astype("int32"))).dtype == np.float32


# --- gradients ---------------------------------------------------------------------------------------------
GRADIENT_CASES = [c for c in CASES if c[0] != "Normalization"] + [("RMSNormalization", dict(axis=1))]


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=case_id)
def test_gradients_match_finite_differences(floatx, rng, case):
    """The gradients with respect to the input and every weight, in float64, by T.verify_grad: the layer's
    graph with the input and the weights replaced by verify_grad's arguments (theano.clone's way)."""
    floatx("float64")
    name, kwargs = case
    x = TensorType("float64", (None,) + SHAPE[1:])("x")
    layer = getattr(layers, name)(**kwargs)
    y = layer(x)
    weights = randomized(layer, rng).weights
    T.verify_grad(lambda *args: clone(y, dict(zip([x] + weights, args))),
                  [rng.normal(1.0, 2.0, size=SHAPE)] + [w.get_value() for w in weights], rng=rng)


def test_gradients_agree_on_every_backend(built_cases, backend):
    x, x_value, outputs, _ = built_cases
    rng = np.random.default_rng(5)
    cost = sum((y * rng.normal(size=SHAPE).astype("float32")).sum() for y in outputs)
    wrt = [x] + [w for y in outputs for w in y.tag["keras_history"][0].trainable_weights]
    reference = function([x], grad(cost, wrt), backend="numpy")(x_value)
    got = function([x], grad(cost, wrt), backend=backend)(x_value)
    for k, (a, b) in enumerate(zip(got, reference)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4, err_msg="gradient %d" % k)


# --- in a model: adapt, compile, fit -----------------------------------------------------------------------
def regression_data(rng, n=64):
    """Features on wildly different scales (a plain Dense barely moves in a few epochs); a linear target."""
    x = rng.normal(size=(n, 3)) * [1000.0, 0.01, 10.0] + [5000.0, -3.0, 100.0]
    z = (x - [5000.0, -3.0, 100.0]) / [1000.0, 0.01, 10.0]
    return x.astype("float32"), (z @ [[1.5], [-2.0], [0.5]] + 0.3).astype("float32")


def normalized_regression(lib, x):
    norm = lib.layers.Normalization(name="norm")
    norm.adapt(x)
    return lib.Sequential([lib.Input((3,)), norm, lib.layers.Dense(1, name="out")])


def test_model_with_adapted_normalization_fits_and_learns_on_every_backend(rng, backend):
    x, y = regression_data(rng)
    model = normalized_regression(mlcore, x)
    statistics = model.layers[0].get_weights()
    model.compile(mlcore.optimizers.Adam(0.05), "mse", backend=backend)
    before = model.evaluate(x, y, verbose=0)
    history = model.fit(x, y, epochs=40, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.01 * before
    for a, b in zip(model.layers[0].get_weights(), statistics):     # not trained
        np.testing.assert_array_equal(a, b)
    assert [w.name for w in model.trainable_weights] == ["kernel", "bias"]


# --- configs, signatures, files ------------------------------------------------------------------------------
NEW = ["Normalization", "GroupNormalization", "RMSNormalization"]
CONFIG_SAMPLES = [("Normalization", dict()), ("Normalization", dict(axis=None, mean=1.5, variance=2.0, invert=True)),
                  ("Normalization", dict(axis=(1, 2), mean=[[1.0, 2.0]], variance=[[3.0, 4.0]])),
                  ("GroupNormalization", dict()),
                  ("GroupNormalization", dict(groups=-1, axis=1, epsilon=0.1, center=False,
                                              gamma_regularizer="l2", beta_constraint="non_neg")),
                  ("RMSNormalization", dict()), ("RMSNormalization", dict(axis=[1, 2], epsilon=1e-3))]


@pytest.mark.parametrize("name", NEW)
def test_signature_matches_keras(keras, name):
    def parameters(cls):
        return [(p.name, p.default) for p in inspect.signature(cls).parameters.values()]
    assert parameters(getattr(layers, name)) == parameters(getattr(keras.layers, name))


@pytest.mark.parametrize("case", CONFIG_SAMPLES, ids=case_id)
def test_config_has_kerass_keys_and_values_and_round_trips(keras, case):
    name, kwargs = case
    ours, theirs = getattr(layers, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
    saved, ref = keras_layer_spec(ours)["config"], theirs.get_config()      # as a .keras file holds it
    assert set(saved) == set(ref)
    assert comparable(saved) == comparable(ref)
    mine = ours.get_config()
    again = type(ours).from_config(json.loads(json.dumps(mine)))
    assert type(again) is type(ours) and again.get_config() == mine
    assert comparable(type(theirs).from_config(json.loads(json.dumps(saved))).get_config()) == comparable(ref)


def comparable(config):
    """A config as JSON holds it, less the name and the dtype (Keras writes a DTypePolicy, mlcore its name)."""
    return json.loads(json.dumps({k: v for k, v in config.items() if k not in ("name", "dtype")}))


def image_model(lib, rng=None):
    """Every new layer, adapted on data when rng is given."""
    L = lib.layers
    norm = L.Normalization(axis=(1, 3), name="norm")
    if rng is not None:
        norm.adapt(rng.normal(3.0, 2.0, size=(20, 6, 5, 4)).astype("float32"))
    return lib.Sequential([lib.Input((6, 5, 4)), norm, L.Conv2D(8, 3, name="conv"),
                           L.GroupNormalization(groups=4, name="group"), L.RMSNormalization(name="rms"),
                           L.Normalization(axis=None, mean=0.5, variance=4.0, name="fixed"), L.Flatten(),
                           L.Dense(3, name="out")], name="image")


def perturbed(model, rng):
    """mlcore's or Keras's model with every float weight moved off its initial value."""
    keras_set_weights(model, [random_value(w, rng) for w in model.weights])
    return model


def save_keras_weights(model, path):
    """Keras 3's save_weights writes .weights.h5 only; its legacy writer makes the .h5 Keras 2 would."""
    if path.endswith(".weights.h5"):
        model.save_weights(path)
        return
    import h5py
    from keras.src.legacy.saving import legacy_h5_format
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


@pytest.mark.parametrize("suffix", [".weights.h5", ".h5", ".keras"])
def test_files_go_both_ways_with_keras(tmp_path, keras, rng, suffix):
    x = rng.normal(3.0, 2.0, size=(5, 6, 5, 4)).astype("float32")
    ours = perturbed(image_model(mlcore, rng), rng)
    theirs = perturbed(image_model(keras, rng), rng)
    expected_ours, expected_theirs = ours.predict(x, verbose=0), np.asarray(theirs.predict(x, verbose=0))
    mine, keras_file = str(tmp_path / ("m" + suffix)), str(tmp_path / ("k" + suffix))
    if suffix == ".keras":
        ours.save(mine)
        theirs.save(keras_file)
        in_keras, in_mlcore = keras.saving.load_model(mine), load_model(keras_file)
        assert [type(layer).__name__ for layer in in_keras.layers] == [type(layer).__name__ for layer in ours.layers]
    else:
        ours.save_weights(mine)
        save_keras_weights(theirs, keras_file)
        in_keras, in_mlcore = image_model(keras), image_model(mlcore)
        in_keras.load_weights(mine)
        in_mlcore.load_weights(keras_file)
    np.testing.assert_allclose(np.asarray(in_keras.predict(x, verbose=0)), expected_ours, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(in_mlcore.predict(x, verbose=0), expected_theirs, rtol=1e-4, atol=1e-4)
    for a, b in zip(in_mlcore.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, np.asarray(b))


# --- errors ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, error, message", [
    (lambda: layers.Normalization(mean=1.0), ValueError, "both `mean` and `variance`"),
    (lambda: layers.Normalization(mean=[1.0, 2.0], variance=[1.0, 2.0, 3.0]), ValueError, r"same shape.*\(2,\).*\(3,\)"),
    (lambda: layers.Normalization(axis=None, mean=[1.0], variance=[1.0]), ValueError, r"rank of `mean`.*\(1,\)"),
    (lambda: layers.GroupNormalization(groups=0), ValueError, "groups=0"),
    (lambda: layers.GroupNormalization(groups=2.0), ValueError, "groups=2.0"),
    (lambda: layers.RMSNormalization(axis="last"), TypeError, "RMSNormalization.*axis"),
])
def test_argument_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("make, shape, message", [
    (lambda: layers.Normalization(axis=3, name="n"), (None, 3), r"'n'.*range \[-ndim, ndim\).*\(None, 3\)"),
    (lambda: layers.Normalization(axis=1, name="n"), (None, None), r"'n'.*known shape.*\(None, None\)"),
    (lambda: layers.Normalization(mean=[1.0, 2.0], variance=[1.0, 1.0], name="n"), (None, 3),
     r"'n'.*\(2,\) does not broadcast.*\(None, 3\)"),
    (lambda: layers.GroupNormalization(groups=3, name="g"), (None, 5, 4), r"'g'.*\(None, 5, 4\).*multiple"),
    (lambda: layers.GroupNormalization(groups=8, name="g"), (None, 5, 4), r"'g'.*\(None, 5, 4\).*more than"),
    (lambda: layers.GroupNormalization(groups=2, name="g"), (None, 5, None), r"'g'.*\(None, 5, None\).*defined"),
    (lambda: layers.GroupNormalization(axis=3, name="g"), (None, 5, 4), r"'g'.*out of bounds.*\(None, 5, 4\)"),
    (lambda: layers.GroupNormalization(groups=1, axis=0, name="g"), (4, 5), r"'g'.*\(4, 5\).*batch axis"),
    (lambda: layers.RMSNormalization(axis=2, name="r"), (None, 4), r"'r'.*out of bounds.*\(None, 4\)"),
    (lambda: layers.RMSNormalization(name="r"), (None, None), r"'r'.*must be known.*\(None, None\)"),
])
def test_input_shape_errors_name_the_layer_and_shape(make, shape, message):
    with pytest.raises(ValueError, match=message):
        make()(TensorType("float32", shape)("x"))


def test_adapt_errors_name_the_layer_and_shape(rng):
    layer = layers.Normalization(axis=(1, 2), name="n")
    layer.adapt(rng.normal(size=(4, 3, 2)))
    with pytest.raises(ValueError, match=r"'n'.*input_shape=\(4, 3, 2\).*data.shape=\(4, 3, 3\)"):
        layer.adapt(rng.normal(size=(4, 3, 3)))
    with pytest.raises(ValueError, match=r"'n'.*data.shape=\(2, 3\)"):
        layer.adapt([rng.normal(size=(4, 3, 2)), rng.normal(size=(2, 3))])
    with pytest.raises(ValueError, match="'n'.*no data"):
        layers.Normalization(name="n").adapt([])
    with pytest.raises(TypeError, match="'n'.*`.shape`.*list"):
        layers.Normalization(name="n").adapt([[1.0, 2.0]])
    with pytest.raises(TypeError, match="'n'.*iterable of batches.*int"):
        layers.Normalization(name="n").adapt(5)
    with pytest.raises(ValueError, match="'n'.*given them at construction"):
        layers.Normalization(mean=1.0, variance=2.0, name="n").adapt(rng.normal(size=(4, 3)))

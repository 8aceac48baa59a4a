"""Losses and metrics against Keras 3 on random inputs, the logits path of the
crossentropies at extreme logits, lookup by name, and the metric accumulators."""
import os

import numpy as np
import pytest

import mlcore
import mlcore.tensor as T
from mlcore import activations, losses, metrics

RNG = np.random.default_rng(1)
PROBS = RNG.uniform(0.01, 0.99, (6, 4)).astype("float32")
DIST = PROBS / PROBS.sum(-1, keepdims=True)
BITS = (RNG.random((6, 4)) > 0.5).astype("float32")
LOGITS = (RNG.normal(size=(6, 4)) * 3).astype("float32")
LABELS = RNG.integers(0, 4, 6)
ONE_HOT = np.eye(4, dtype="float32")[LABELS]
WEIGHTS = RNG.uniform(0, 2, 6).astype("float32")


@pytest.fixture(scope="module")
def keras():
    """Keras 3 as the reference (numpy backend unless one is chosen: same code, no per-op compiles)."""
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    return pytest.importorskip("keras")


def symbolic(array):
    return T.tensor(dtype=array.dtype, shape=array.shape)


def evaluate(fn, *arrays):
    """fn applied to symbolic stand-ins for arrays, compiled (numpy backend) and run on them."""
    inputs = [symbolic(a) for a in arrays]
    return mlcore.function(inputs, fn(*inputs), backend="numpy", on_unused_input="ignore")(*arrays)


LOSS_CASES = [
    ("mean_squared_error", (BITS, PROBS), {}), ("mean_absolute_error", (BITS, PROBS), {}),
    ("mean_absolute_percentage_error", (BITS + 0.5, PROBS), {}), ("mean_squared_logarithmic_error", (BITS, PROBS), {}),
    ("hinge", (BITS, LOGITS), {}), ("squared_hinge", (BITS * 2 - 1, LOGITS), {}),
    ("categorical_hinge", (ONE_HOT, LOGITS), {}), ("kl_divergence", (DIST, ONE_HOT * 0.9 + 0.025), {}),
    ("poisson", (BITS, PROBS), {}), ("cosine_similarity", (BITS, LOGITS), {}), ("huber", (BITS, LOGITS), {"delta": 0.7}),
    ("log_cosh", (BITS, LOGITS), {}),
    ("binary_crossentropy", (BITS, PROBS), {}), ("binary_crossentropy", (BITS, LOGITS), {"from_logits": True}),
    ("binary_crossentropy", (BITS, PROBS), {"label_smoothing": 0.2}),
    ("categorical_crossentropy", (ONE_HOT, PROBS), {}),
    ("categorical_crossentropy", (ONE_HOT, LOGITS), {"from_logits": True, "label_smoothing": 0.1}),
    ("sparse_categorical_crossentropy", (LABELS, DIST), {}),
    ("sparse_categorical_crossentropy", (LABELS[:, None], LOGITS), {"from_logits": True}),
    ("sparse_categorical_crossentropy", (LABELS, LOGITS), {"from_logits": True, "ignore_class": 2}),
]


@pytest.mark.parametrize("name, arrays, kwargs", LOSS_CASES, ids=[c[0] + str(c[2]) for c in LOSS_CASES])
def test_loss_functions_match_keras(keras, name, arrays, kwargs):
    got = evaluate(lambda *xs: getattr(losses, name)(*xs, **kwargs), *arrays)
    expected = np.asarray(getattr(keras.losses, name)(*arrays, **kwargs))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


CLASS_CASES = [("MeanSquaredError", {}, (BITS[:, 0], PROBS[:, :1])),
               ("BinaryCrossentropy", {"from_logits": True}, (BITS, LOGITS)),
               ("CategoricalCrossentropy", {"label_smoothing": 0.1}, (ONE_HOT, DIST)),
               ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 1}, (LABELS, LOGITS)),
               ("Huber", {"delta": 0.5}, (BITS, LOGITS))]


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none", "mean_with_sample_weight"])
@pytest.mark.parametrize("name, kwargs, arrays", CLASS_CASES, ids=[c[0] for c in CLASS_CASES])
def test_loss_classes_weight_and_reduce_as_keras(keras, name, kwargs, arrays, reduction):
    ours = getattr(losses, name)(reduction=reduction, **kwargs)
    theirs = getattr(keras.losses, name)(reduction=reduction, **kwargs)
    np.testing.assert_allclose(evaluate(ours, *arrays), np.asarray(theirs(*arrays)), rtol=1e-5, atol=1e-6)
    got = evaluate(lambda t, p, w: ours(t, p, sample_weight=w), *arrays, WEIGHTS)
    np.testing.assert_allclose(got, np.asarray(theirs(*arrays, sample_weight=WEIGHTS)), rtol=1e-5, atol=1e-6)
    assert ours.name == theirs.name


@pytest.mark.parametrize("activation, loss, labels", [
    (activations.softmax, losses.categorical_crossentropy, ONE_HOT[:2]),
    (activations.softmax, losses.sparse_categorical_crossentropy, LABELS[:2]),
    (activations.sigmoid, losses.binary_crossentropy, BITS[:2])])
def test_crossentropy_uses_the_logits_of_a_final_softmax_or_sigmoid(activation, loss, labels):
    logits = np.array([[1e4, -1e4, 0.0, 3.0], [-1e4, 2e4, 1e4, -5.0]], dtype="float32")
    x, y = T.matrix("logits"), symbolic(labels)
    cost = loss(y, activation(x)).mean()
    value, gradient = mlcore.function([y, x], [cost, mlcore.grad(cost, x)], backend="numpy")(labels, logits)
    assert np.isfinite(value) and np.all(np.isfinite(gradient))
    direct = loss(y, x, from_logits=True).mean()
    np.testing.assert_allclose(value, mlcore.function([y, x], direct, backend="numpy")(labels, logits), rtol=1e-6)


def test_probabilities_are_clipped_when_no_logits_are_available():
    probabilities = np.array([[0.0, 1.0], [1.0, 0.0]], dtype="float32")
    got = evaluate(losses.binary_crossentropy, np.array([[1.0, 0.0], [0.0, 1.0]], "float32"), probabilities)
    eps = np.float32(1e-7)
    expected = -(np.log(eps) + np.log(np.float32(1) - (np.float32(1) - eps))) / 2  # both terms clipped
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_numbers_in_numbers_out_as_keras_eager(keras):
    np.testing.assert_allclose(losses.categorical_crossentropy(ONE_HOT, DIST),
                               np.asarray(keras.losses.categorical_crossentropy(ONE_HOT, DIST)), rtol=1e-5)
    np.testing.assert_allclose(losses.BinaryCrossentropy()(BITS, PROBS, sample_weight=WEIGHTS),
                               float(keras.losses.BinaryCrossentropy()(BITS, PROBS, sample_weight=WEIGHTS)), rtol=1e-5)
    np.testing.assert_allclose(metrics.sparse_categorical_accuracy(LABELS, PROBS),
                               np.asarray(keras.metrics.sparse_categorical_accuracy(LABELS, PROBS)))
    assert losses.mean_squared_error(BITS.astype("float64"), PROBS).dtype == np.float32  # floats taken as floatx


def test_loss_lookup():
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("categorical_crossentropy") is losses.categorical_crossentropy
    assert isinstance(losses.get("BinaryCrossentropy"), losses.BinaryCrossentropy)
    for old in ("mean_squared_error", "mae", "MAPE", "msle", "kld", "kullback_leibler_divergence", "logcosh",
                "cosine_proximity", "squared_hinge", "poisson", "hinge"):
        assert callable(losses.get(old))
    assert losses.get(None) is None
    fn = lambda t, p: p  # noqa: E731
    assert losses.get(fn) is fn
    with pytest.raises(ValueError, match="'mean_squard_error'.*mean_squared_error"):
        losses.get("mean_squard_error")
    y2, p3 = T.matrix(shape=(None, 1)), T.matrix(shape=(None, 3))
    assert losses.get("crossentropy", T.vector(), p3) is losses.sparse_categorical_crossentropy
    assert losses.get("ce", p3, p3) is losses.categorical_crossentropy
    assert losses.get("crossentropy", y2, y2) is losses.binary_crossentropy


def test_loss_serialization_round_trip():
    loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1, reduction="sum")
    again = losses.deserialize(losses.serialize(loss))
    assert type(again) is losses.CategoricalCrossentropy and again.get_config() == loss.get_config()
    assert losses.deserialize({"class_name": "function", "config": "mse"}) is losses.mean_squared_error


METRIC_CASES = [
    ("BinaryAccuracy", {}, (BITS, PROBS)), ("BinaryAccuracy", {"threshold": 0.3}, (BITS[:, 0], PROBS[:, :1])),
    ("CategoricalAccuracy", {}, (ONE_HOT, PROBS)), ("SparseCategoricalAccuracy", {}, (LABELS[:, None], PROBS)),
    ("Accuracy", {}, (LABELS, RNG.integers(0, 4, 6))), ("TopKCategoricalAccuracy", {"k": 2}, (ONE_HOT, PROBS)),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, (LABELS, PROBS)), ("MeanSquaredError", {}, (BITS, PROBS)),
    ("MeanAbsoluteError", {}, (BITS, PROBS)), ("RootMeanSquaredError", {}, (BITS, PROBS)),
    ("BinaryCrossentropy", {}, (BITS, PROBS)), ("CategoricalCrossentropy", {}, (ONE_HOT, DIST)),
    ("SparseCategoricalCrossentropy", {}, (LABELS, DIST)), ("CosineSimilarity", {}, (BITS, PROBS)),
    ("Hinge", {}, (BITS, PROBS)), ("KLDivergence", {}, (ONE_HOT, DIST)), ("LogCoshError", {}, (BITS, PROBS)),
]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name, kwargs, arrays", METRIC_CASES, ids=[c[0] + str(c[1]) for c in METRIC_CASES])
def test_metrics_match_keras_over_two_batches(keras, name, kwargs, arrays, weighted):
    ours, theirs = getattr(metrics, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    for part in (slice(0, 4), slice(4, 6)):
        weight = WEIGHTS[part] if weighted else None
        ours.update_state(arrays[0][part], arrays[1][part], weight)
        theirs.update_state(arrays[0][part], arrays[1][part], weight)
    assert ours.name == theirs.name
    np.testing.assert_allclose(ours.result(), float(theirs.result()), rtol=1e-5, atol=1e-7)
    ours.reset_state()
    assert ours.result() == 0.0


def test_mean_and_sum_match_keras(keras):
    for name in ("Mean", "Sum"):
        ours, theirs = getattr(metrics, name)(), getattr(keras.metrics, name)()
        for values, weight in (([1.0, 2.0, 3.0], [1.0, 0.0, 2.0]), (5.0, None)):
            ours.update_state(values, weight)
            theirs.update_state(values, weight)
        np.testing.assert_allclose(ours.result(), float(theirs.result()))


def test_update_state_accumulates_the_sample_weighted_mean_over_batches():
    metric = metrics.BinaryAccuracy()
    truth, scores = BITS[:, :1], PROBS[:, :1]
    for part in (slice(0, 4), slice(4, 6)):
        metric.update_state(truth[part], scores[part], sample_weight=WEIGHTS[part])
    hits = ((scores > 0.5) == truth)[:, 0]
    assert float(metric.result()) == pytest.approx(np.sum(hits * WEIGHTS) / np.sum(WEIGHTS), rel=1e-6)
    metric.reset_state()
    assert float(metric.result()) == 0.0


@pytest.mark.parametrize("y_true, y_pred, expected", [
    ((None, 1), (None, 1), metrics.BinaryAccuracy), ((None,), (None, 1), metrics.BinaryAccuracy),
    ((None,), (None, 5), metrics.SparseCategoricalAccuracy), ((None, 1), (None, 5), metrics.SparseCategoricalAccuracy),
    ((None, 5), (None, 5), metrics.CategoricalAccuracy)])
def test_accuracy_resolves_from_shapes_as_keras_compile(y_true, y_pred, expected):
    for identifier in ("accuracy", "acc"):
        metric = metrics.get(identifier, y_true=T.tensor(shape=y_true), y_pred=T.tensor(shape=y_pred))
        assert type(metric) is expected and metric.name == identifier


def test_accuracy_falls_back_on_the_loss_when_shapes_are_unknown():
    unknown = T.matrix()
    assert type(metrics.get("acc", loss=losses.binary_crossentropy)) is metrics.BinaryAccuracy
    assert type(metrics.get("acc", loss="sparse_categorical_crossentropy", y_pred=unknown)) is \
        metrics.SparseCategoricalAccuracy
    assert type(metrics.get("accuracy", loss=losses.CategoricalCrossentropy())) is metrics.CategoricalAccuracy


def test_compile_style_names_and_wrapping():
    y = T.matrix(shape=(None, 3))
    assert metrics.get("mse", y_true=y, y_pred=y).name == "mse"
    assert type(metrics.get("mse", y_true=y, y_pred=y)) is metrics.MeanSquaredError
    assert metrics.get("mean_absolute_error", y_true=y, y_pred=y).name == "mean_absolute_error"
    wrapped = metrics.get(losses.mean_squared_logarithmic_error, y_true=y, y_pred=y)
    assert isinstance(wrapped, metrics.MeanMetricWrapper) and wrapped.name == "mean_squared_logarithmic_error"
    custom = metrics.TopKCategoricalAccuracy(k=2, name="top2")
    assert metrics.get(custom, y_true=y, y_pred=y) is custom and custom.name == "top2"


def test_plain_get_is_keras_metrics_get():
    assert type(metrics.get("accuracy")) is metrics.Accuracy
    assert type(metrics.get("mse")) is metrics.MeanSquaredError and metrics.get("mse").name == "mean_squared_error"
    assert type(metrics.get("categorical_accuracy")) is metrics.CategoricalAccuracy
    with pytest.raises(ValueError, match="'acuracy'.*accuracy"):
        metrics.get("acuracy")
    config = metrics.serialize(metrics.BinaryAccuracy(threshold=0.7, name="ba"))
    again = metrics.deserialize(config)
    assert again.threshold == 0.7 and again.name == "ba"

"""The focal, Dice, Tversky and generalized crossentropy losses and the F-score, R2, correlation,
IoU and rate-at-rate metrics: against Keras 3 on the same random data and sample weights (the
metrics streamed over batches), against numpy formulas, against finite differences (the losses'
gradients), inside evaluate and fit on every backend, by name and through their configs."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")     # before any keras import (keras picks its backend once)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import mlcore  # noqa: E402
import mlcore.tensor as T  # noqa: E402
from mlcore import losses, metrics, optimizers  # noqa: E402
from mlcore.layers import Dense  # noqa: E402
from mlcore.models import Sequential  # noqa: E402

import test_losses_metrics as checks  # noqa: E402
from test_losses_metrics import BITS, DIST, LABELS, LOGITS, ONE_HOT, PROBS  # noqa: E402

RNG = np.random.default_rng(7)
MASKS = (RNG.random((6, 3, 3, 1)) > 0.5).astype("float32")
MASK_PROBS = RNG.uniform(0, 1, (6, 3, 3, 1)).astype("float32")


# --- losses --------------------------------------------------------------------------------------
LOSS_CASES = [
    ("binary_focal_crossentropy", (BITS, PROBS), {}),
    ("binary_focal_crossentropy", (BITS, LOGITS), {"from_logits": True, "apply_class_balancing": True, "alpha": 0.4}),
    ("binary_focal_crossentropy", (BITS, PROBS), {"gamma": 3.5, "label_smoothing": 0.2, "axis": 0}),
    ("categorical_focal_crossentropy", (ONE_HOT, DIST), {}),
    ("categorical_focal_crossentropy", (ONE_HOT, LOGITS), {"from_logits": True, "alpha": [0.1, 0.2, 0.3, 0.4]}),
    ("categorical_focal_crossentropy", (ONE_HOT, PROBS), {"gamma": 1.0, "label_smoothing": 0.1}),
    ("dice", (BITS, PROBS), {}), ("dice", (MASKS, MASK_PROBS), {"axis": (1, 2, 3)}),
    ("tversky", (BITS, PROBS), {"axis": -1}), ("tversky", (MASKS, MASK_PROBS), {"alpha": 0.3, "beta": 0.7,
                                                                                  "axis": (1, 2, 3)}),
]


@pytest.mark.parametrize("name, arrays, kwargs", LOSS_CASES, ids=[c[0] + str(c[2]) for c in LOSS_CASES])
def test_loss_functions_match_keras(keras, name, arrays, kwargs):
    checks.test_loss_functions_match_keras(keras, name, arrays, kwargs)       # compiled
    np.testing.assert_allclose(getattr(losses, name)(*arrays, **kwargs),     # and eager, on numbers
                               np.asarray(getattr(keras.losses, name)(*arrays, **kwargs)), rtol=1e-5, atol=1e-6)


CLASS_CASES = [("BinaryFocalCrossentropy", {"apply_class_balancing": True, "gamma": 3.0}, (BITS, PROBS)),
               ("BinaryFocalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, (BITS, LOGITS)),
               ("CategoricalFocalCrossentropy", {"alpha": 0.5, "gamma": 1.5}, (ONE_HOT, DIST)),
               ("Dice", {"axis": (1, 2, 3)}, (MASKS, MASK_PROBS)),
               ("Tversky", {"alpha": 0.8, "beta": 0.2, "axis": -1}, (BITS, PROBS)),
               ("CategoricalGeneralizedCrossEntropy", {"q": 0.3}, (LABELS, DIST))]


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none", "mean_with_sample_weight"])
@pytest.mark.parametrize("name, kwargs, arrays", CLASS_CASES, ids=[c[0] + str(c[1]) for c in CLASS_CASES])
def test_loss_classes_weight_reduce_and_configure_as_keras(keras, name, kwargs, arrays, reduction):
    checks.test_loss_classes_weight_and_reduce_as_keras(keras, name, kwargs, arrays, reduction)
    ours = getattr(losses, name)(reduction=reduction, **kwargs)
    assert ours.get_config() == getattr(keras.losses, name)(reduction=reduction, **kwargs).get_config()
    again = losses.deserialize(losses.serialize(ours))
    assert type(again) is type(ours) and again.get_config() == ours.get_config()


def test_whole_batch_dice_and_labels_given_as_a_column():
    """Dice and Tversky over everything by default (one number a batch), a generalized crossentropy
    of (n, 1) labels as of (n,) labels (Keras's documented shapes)."""
    intersection = np.sum(BITS * PROBS)
    expected = 1 - 2 * intersection / (BITS.sum() + PROBS.sum() + 1e-7)
    np.testing.assert_allclose(losses.Dice()(BITS, PROBS), expected, rtol=1e-6)
    np.testing.assert_allclose(losses.tversky(BITS, PROBS), expected, rtol=1e-6)      # alpha = beta = 0.5
    loss = losses.CategoricalGeneralizedCrossEntropy(reduction=None)
    np.testing.assert_allclose(loss(LABELS[:, None], DIST), loss(LABELS, DIST), rtol=1e-7)
    np.testing.assert_allclose(loss(LABELS, DIST), (1 - np.sqrt(DIST[np.arange(6), LABELS])) / 0.5, rtol=1e-6)


def test_focal_crossentropies_against_the_formula_of_the_paper():
    """Lin et al.: FL(p_t) = -alpha_t (1 - p_t)^gamma log(p_t); gamma = 0 gives back crossentropy."""
    p_t = np.where(BITS == 1, PROBS, 1 - PROBS)
    alpha_t = np.where(BITS == 1, 0.25, 0.75)
    expected = np.mean(-alpha_t * (1 - p_t) ** 2 * np.log(p_t), axis=-1)
    np.testing.assert_allclose(losses.binary_focal_crossentropy(BITS, PROBS, apply_class_balancing=True), expected,
                               rtol=1e-5)
    np.testing.assert_allclose(losses.binary_focal_crossentropy(BITS, PROBS, gamma=0.0),
                               losses.binary_crossentropy(BITS, PROBS), rtol=1e-6)
    p = DIST[np.arange(6), LABELS]
    np.testing.assert_allclose(losses.categorical_focal_crossentropy(ONE_HOT, DIST, alpha=0.5, gamma=2.0),
                               -0.5 * (1 - p) ** 2 * np.log(p), rtol=1e-5)


GRADIENT_CASES = [
    (losses.binary_focal_crossentropy, BITS, {"apply_class_balancing": True, "gamma": 2.5}, PROBS),
    (losses.binary_focal_crossentropy, BITS, {"from_logits": True}, LOGITS),
    (losses.categorical_focal_crossentropy, ONE_HOT, {"alpha": [0.2, 0.3, 0.1, 0.4]}, DIST),
    (losses.categorical_focal_crossentropy, ONE_HOT, {"from_logits": True, "label_smoothing": 0.1}, LOGITS),
    (losses.dice, MASKS, {"axis": (1, 2, 3)}, MASK_PROBS), (losses.tversky, BITS, {"alpha": 0.7, "beta": 0.3}, PROBS),
    (lambda y, p, **kw: losses.categorical_generalized_cross_entropy(y, p, q=0.4), LABELS, {}, DIST),
]


@pytest.mark.parametrize("fn, y_true, kwargs, y_pred", GRADIENT_CASES, ids=[str(i) for i in range(len(GRADIENT_CASES))])
def test_loss_gradients_match_finite_differences(fn, y_true, kwargs, y_pred):
    T.verify_grad(lambda p: fn(y_true.astype(p.dtype) if y_true.dtype.kind == "f" else y_true, p, **kwargs),
                  [y_pred.astype("float64")], rng=np.random.default_rng(0))


def test_losses_by_name_and_bad_arguments():
    for name, expected in (("binary_focal_crossentropy", losses.binary_focal_crossentropy), ("dice", losses.dice),
                           ("categorical_focal_crossentropy", losses.categorical_focal_crossentropy),
                           ("tversky", losses.tversky)):
        assert losses.get(name) is expected
    for name in ("BinaryFocalCrossentropy", "CategoricalFocalCrossentropy", "Dice", "Tversky"):
        assert type(losses.get(name)).__name__ == name
    with pytest.raises(ValueError, match=r"CategoricalGeneralizedCrossEntropy: q must be in the interval \(0, 1\)"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.0)
    with pytest.raises(ValueError, match="axis"):
        losses.categorical_focal_crossentropy(ONE_HOT, DIST, axis=True)
    with pytest.warns(SyntaxWarning, match=r"categorical_focal_crossentropy.*\(6, 1\)"):
        losses.categorical_focal_crossentropy(BITS[:, :1], PROBS[:, :1])


# --- metrics standalone --------------------------------------------------------------------------
N = 40
SCORES = RNG.random((N, 3)).astype("float32")
MULTI = (RNG.random((N, 3)) < 0.3 + 0.5 * SCORES).astype("float32")
TARGETS = RNG.normal(size=(N, 3)).astype("float32")
ESTIMATES = (TARGETS + 0.6 * RNG.normal(size=(N, 3))).astype("float32")
CLASSES, GUESSES = RNG.integers(0, 4, N), RNG.integers(0, 4, N)
CLASS_SCORES = (np.eye(4)[CLASSES] * 0.4 + RNG.random((N, 4))).astype("float32")
Y_BINARY = (RNG.random(N) > 0.4).astype("float32")
S_BINARY = np.clip(0.6 * Y_BINARY + 0.7 * RNG.random(N) - 0.2, 0, 1).astype("float32")   # exact 0s and 1s too
SAMPLE_WEIGHTS = RNG.uniform(0.1, 2, N).astype("float32")

METRIC_CASES = [
    ("F1Score", {}, (MULTI, SCORES)), ("F1Score", {"average": "micro", "threshold": 0.5}, (MULTI, SCORES)),
    ("F1Score", {"average": "macro"}, (MULTI, SCORES)), ("F1Score", {"average": "weighted"}, (MULTI, SCORES)),
    ("FBetaScore", {"beta": 2.0, "threshold": 0.4}, (MULTI, SCORES)),
    ("FBetaScore", {"average": "weighted", "beta": 0.5}, (MULTI, SCORES)),
    ("R2Score", {}, (TARGETS, ESTIMATES)), ("R2Score", {"class_aggregation": None}, (TARGETS, ESTIMATES)),
    ("R2Score", {"class_aggregation": "variance_weighted_average", "num_regressors": 4}, (TARGETS, ESTIMATES)),
    ("R2Score", {"num_regressors": 39}, (TARGETS[:, :1], ESTIMATES[:, :1])),      # falls back to plain R2
    ("PearsonCorrelation", {}, (TARGETS, ESTIMATES)), ("ConcordanceCorrelation", {}, (TARGETS, ESTIMATES)),
    ("IoU", {"num_classes": 4, "target_class_ids": [0, 2]}, (CLASSES, GUESSES)),
    ("MeanIoU", {"num_classes": 4}, (CLASSES, GUESSES)),
    ("MeanIoU", {"num_classes": 3, "ignore_class": 1}, (CLASSES, GUESSES)),    # class 3 is out of range
    ("OneHotIoU", {"num_classes": 4, "target_class_ids": [1, 3]}, (np.eye(4, dtype="float32")[CLASSES], CLASS_SCORES)),
    ("OneHotMeanIoU", {"num_classes": 4}, (np.eye(4, dtype="float32")[CLASSES], CLASS_SCORES)),
    ("BinaryIoU", {}, (Y_BINARY, S_BINARY)), ("BinaryIoU", {"target_class_ids": [1], "threshold": 0.3},
                                              (Y_BINARY, S_BINARY)),
    ("PrecisionAtRecall", {"recall": 0.7}, (Y_BINARY[:, None], S_BINARY[:, None])),
    ("RecallAtPrecision", {"precision": 0.8, "num_thresholds": 30}, (Y_BINARY[:, None], S_BINARY[:, None])),
    ("SensitivityAtSpecificity", {"specificity": 0.6}, (Y_BINARY[:, None], S_BINARY[:, None])),
    ("SpecificityAtSensitivity", {"sensitivity": 0.9, "num_thresholds": 1}, (Y_BINARY[:, None], S_BINARY[:, None])),
    ("PrecisionAtRecall", {"recall": 0.5, "class_id": 1}, (MULTI, SCORES)),
]


def streamed(metric, arrays, weights):
    for part in (slice(0, 13), slice(13, 30), slice(30, None)):
        metric.update_state(arrays[0][part], arrays[1][part], None if weights is None else weights[part])
    return np.asarray(metric.result())


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name, kwargs, arrays", METRIC_CASES, ids=[c[0] + str(c[1]) for c in METRIC_CASES])
def test_metrics_match_keras_over_three_batches(keras, name, kwargs, arrays, weighted):
    weights = SAMPLE_WEIGHTS if weighted else None
    if weighted and "IoU" in name:
        weights = np.ceil(3 * SAMPLE_WEIGHTS).astype("int32")     # IoU counts in integers
    ours, theirs = getattr(metrics, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    got = streamed(ours, arrays, weights)
    np.testing.assert_allclose(got, streamed(theirs, arrays, weights), rtol=2e-5, atol=1e-6)
    assert ours.get_config() == {**theirs.get_config(), "name": ours.name}
    again = metrics.deserialize(metrics.serialize(ours))
    assert type(again) is type(ours) and again.get_config() == ours.get_config()
    ours.reset_state()
    np.testing.assert_allclose(streamed(ours, arrays, weights), got, rtol=1e-6)     # the same after a reset


def test_f1_and_iou_from_numpy_counts():
    predicted = SCORES > 0.5
    weights = SAMPLE_WEIGHTS[:, None]
    tp, fp = np.sum(weights * (predicted & (MULTI == 1)), 0), np.sum(weights * (predicted & (MULTI == 0)), 0)
    fn = np.sum(weights * (~predicted & (MULTI == 1)), 0)
    f1 = metrics.F1Score(threshold=0.5)
    np.testing.assert_allclose(streamed(f1, (MULTI, SCORES), SAMPLE_WEIGHTS), 2 * tp / (2 * tp + fp + fn), rtol=1e-5)
    f2 = metrics.FBetaScore(average="micro", beta=2.0, threshold=0.5)
    tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
    np.testing.assert_allclose(streamed(f2, (MULTI, SCORES), SAMPLE_WEIGHTS), 5 * tp / (5 * tp + 4 * fn + fp), rtol=1e-5)
    confusion = np.zeros((4, 4))
    np.add.at(confusion, (CLASSES, GUESSES), 1)
    iou = np.diag(confusion) / (confusion.sum(0) + confusion.sum(1) - np.diag(confusion))
    np.testing.assert_allclose(streamed(metrics.MeanIoU(4), (CLASSES, GUESSES), None), iou.mean(), rtol=1e-5)


def test_r2_correlations_and_precision_at_recall_from_numpy():
    weights = SAMPLE_WEIGHTS[:, None]
    mean = np.sum(weights * TARGETS, 0) / np.sum(weights)
    r2 = 1 - np.sum(weights * (TARGETS - ESTIMATES) ** 2, 0) / np.sum(weights * (TARGETS - mean) ** 2, 0)
    metric = metrics.R2Score(class_aggregation=None)
    np.testing.assert_allclose(streamed(metric, (TARGETS, ESTIMATES), SAMPLE_WEIGHTS), r2, rtol=1e-4)
    adjusted = metrics.R2Score(num_regressors=5)
    n = TARGETS.size
    np.testing.assert_allclose(streamed(adjusted, (TARGETS, ESTIMATES), None),
                               1 - (1 - np.mean(1 - np.sum((TARGETS - ESTIMATES) ** 2, 0) /
                                                np.sum((TARGETS - TARGETS.mean(0)) ** 2, 0))) * (n - 1) / (n - 6),
                               rtol=1e-4)
    rows = [np.corrcoef(t, e)[0, 1] for t, e in zip(TARGETS, ESTIMATES)]
    np.testing.assert_allclose(metrics.pearson_correlation(TARGETS, ESTIMATES), rows, rtol=1e-4)
    columns = [np.corrcoef(t, e)[0, 1] for t, e in zip(TARGETS.T, ESTIMATES.T)]
    np.testing.assert_allclose(metrics.pearson_correlation(TARGETS, ESTIMATES, axis=0), columns, rtol=1e-4)
    np.testing.assert_allclose(streamed(metrics.PearsonCorrelation(), (TARGETS, ESTIMATES), SAMPLE_WEIGHTS),
                               np.sum(SAMPLE_WEIGHTS * rows) / np.sum(SAMPLE_WEIGHTS), rtol=1e-4)
    thresholds = np.linspace(0, 1, 200)
    above = S_BINARY[None, :] > thresholds[:, None]
    hits, positives = np.sum(above & (Y_BINARY == 1), 1), np.sum(Y_BINARY == 1)
    precision = np.where(above.sum(1) > 0, hits / np.maximum(above.sum(1), 1), 0)
    best = np.max(np.where(hits / positives >= 0.7, precision, 0))
    np.testing.assert_allclose(metrics.PrecisionAtRecall(0.7)(Y_BINARY, S_BINARY), best, rtol=1e-5)


def test_metric_lookup_and_errors_name_the_metric_and_shape():
    for identifier, cls in (("f1_score", metrics.F1Score), ("F1Score", metrics.F1Score),
                            ("f_beta_score", metrics.FBetaScore), ("r2_score", metrics.R2Score),
                            ("pearson_correlation", metrics.PearsonCorrelation),
                            ("concordance_correlation", metrics.ConcordanceCorrelation),
                            ("binary_io_u", metrics.BinaryIoU)):
        assert type(metrics.get(identifier)) is cls
    assert metrics.get({"class_name": "PrecisionAtRecall", "config": {"recall": 0.4}}).recall == 0.4
    with pytest.raises(ValueError, match=r"F1Score expects 2D inputs.*y_pred.shape=\(5,\)"):
        metrics.F1Score().update_state(np.ones(5), np.ones(5))
    with pytest.raises(ValueError, match=r"R2Score expects 2D inputs.*\(2, 2, 2\)"):
        metrics.R2Score().update_state(np.ones((2, 2, 2)), np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match=r"MeanIoU: y_true and y_pred.*\(6,\) and \(5,\)"):
        metrics.MeanIoU(3).update_state(np.ones(6), np.ones(5))
    with pytest.raises(ValueError, match=r"IoU: target class id 3 is out of range, which is \[0, 3\)"):
        metrics.IoU(3, [0, 3])
    with pytest.raises(ValueError, match="beta"):
        metrics.FBetaScore(beta=2)
    with pytest.raises(ValueError, match="average"):
        metrics.F1Score(average="samples")
    with pytest.raises(ValueError, match="class_aggregation"):
        metrics.R2Score(class_aggregation="mean")
    with pytest.raises(ValueError, match=r"`recall` must be in the range \[0, 1\]"):
        metrics.PrecisionAtRecall(1.5)


# --- inside evaluate and fit, every backend -------------------------------------------------------
def frozen(units, activation, loss, metric_list, backend):
    """A model that does not learn (learning rate 0), so fit's metrics are those of predict()."""
    mlcore.utils.set_random_seed(5)
    model = Sequential([Dense(units, input_dim=5, activation=activation)])
    model.compile(optimizers.SGD(learning_rate=0.0), loss, metrics=metric_list, backend=backend)
    return model


def model_cases(keras):
    """(units, activation, targets, our loss and metrics, Keras's loss and metrics by log name)."""
    onehot = np.eye(4, dtype="float32")[CLASSES]
    return [
        (1, "sigmoid", Y_BINARY[:, None], losses.BinaryFocalCrossentropy(apply_class_balancing=True),
         [metrics.PrecisionAtRecall(0.6, name="par"), "binary_io_u", metrics.F1Score(threshold=0.5, name="f1"),
          metrics.SpecificityAtSensitivity(0.8, name="sas")],
         keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True),
         {"par": keras.metrics.PrecisionAtRecall(0.6), "binary_io_u": keras.metrics.BinaryIoU(),
          "f1": keras.metrics.F1Score(threshold=0.5), "sas": keras.metrics.SpecificityAtSensitivity(0.8)}),
        (4, "softmax", onehot, "categorical_focal_crossentropy",
         ["f1_score", metrics.FBetaScore(average="macro", beta=2.0, name="f2"), metrics.OneHotMeanIoU(4, name="miou")],
         keras.losses.CategoricalFocalCrossentropy(),
         {"f1_score": keras.metrics.F1Score(), "f2": keras.metrics.FBetaScore(average="macro", beta=2.0),
          "miou": keras.metrics.OneHotMeanIoU(4)}),
        (3, "sigmoid", MULTI, losses.Tversky(alpha=0.7, beta=0.3, axis=-1),
         [metrics.F1Score(average="weighted", threshold=0.5, name="f1w"), metrics.RecallAtPrecision(0.5, name="rap")],
         keras.losses.Tversky(alpha=0.7, beta=0.3, axis=-1),
         {"f1w": keras.metrics.F1Score(average="weighted", threshold=0.5),
          "rap": keras.metrics.RecallAtPrecision(0.5)}),
        (3, None, TARGETS, "mse",
         ["r2_score", "pearson_correlation", "concordance_correlation",
          metrics.R2Score(class_aggregation="variance_weighted_average", num_regressors=2, name="adjusted")],
         keras.losses.MeanSquaredError(),
         {"r2_score": keras.metrics.R2Score(), "pearson_correlation": keras.metrics.PearsonCorrelation(),
          "concordance_correlation": keras.metrics.ConcordanceCorrelation(),
          "adjusted": keras.metrics.R2Score(class_aggregation="variance_weighted_average", num_regressors=2)}),
    ]


@pytest.mark.parametrize("case", range(4), ids=["binary", "categorical", "multi_label", "regression"])
@pytest.mark.parametrize("backend_name", ["numpy", "jax", "theano"])
def test_in_evaluate_and_fit_on_every_backend(keras, require_backend, backend_name, case):
    """Batches of 16 leave a short one of 8 (padded on jax); the values are Keras's over the same
    predictions, the metrics streamed over the same batches."""
    require_backend(backend_name)
    units, activation, y, loss, metric_list, keras_loss, keras_metrics = model_cases(keras)[case]
    x = np.random.default_rng(case).normal(size=(N, 5)).astype("float32")
    model = frozen(units, activation, loss, metric_list, backend_name)
    predictions = model.predict(x, verbose=0)
    for metric in keras_metrics.values():
        for start in range(0, N, 16):
            metric.update_state(y[start:start + 16], predictions[start:start + 16])
    expected = {name: np.asarray(metric.result()) for name, metric in keras_metrics.items()}   # F1: one per class
    expected["loss"] = np.asarray(keras_loss(y, predictions))
    evaluated = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False).history
    assert sorted(evaluated) == sorted(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(evaluated[name], value, rtol=2e-5, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(history[name][0], value, rtol=2e-5, atol=1e-6, err_msg=name)


def test_a_model_with_the_new_loss_and_metrics_saves_and_loads(tmp_path):
    x = RNG.normal(size=(N, 5)).astype("float32")
    model = frozen(1, "sigmoid", "binary_focal_crossentropy",
                   [metrics.F1Score(threshold=0.5, name="f1"), metrics.RecallAtPrecision(0.6, name="rap"), "r2_score"],
                   "numpy")
    before = model.evaluate(x, Y_BINARY, verbose=0, return_dict=True)
    model.save(tmp_path / "model.h5")
    after = mlcore.models.load_model(tmp_path / "model.h5").evaluate(x, Y_BINARY, verbose=0, return_dict=True)
    assert sorted(after) == sorted(before)
    for name, value in before.items():
        assert after[name] == pytest.approx(value, rel=1e-6), name

"""Stateful metrics as Keras 3 writes them (variables made with add_variable, assigned in
update_state, read in result) and the confusion-matrix metrics, standalone and compiled into
fit/evaluate on every backend, against Keras 3 itself and against counts made with numpy."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")     # before any keras import (keras picks its backend once)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import mlcore  # noqa: E402
from mlcore import callbacks, metrics, optimizers  # noqa: E402
from mlcore.graph import ops as graph_ops  # noqa: E402
from mlcore.layers import Dense  # noqa: E402
from mlcore.models import Sequential, load_model  # noqa: E402


def true_positives_class(base, ops):
    """Keras's documented example of a metric, written once for Keras's and for mlcore's classes."""
    class BinaryTruePositives(base):
        def __init__(self, name="binary_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), initializer="zeros", name="true_positives")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_true, y_pred = ops.cast(y_true, "bool"), ops.cast(y_pred, "bool")
            values = ops.cast(ops.logical_and(ops.equal(y_true, True), ops.equal(y_pred, True)), self.dtype)
            if sample_weight is not None:
                values = ops.multiply(values, ops.cast(sample_weight, self.dtype))
            self.true_positives.assign(self.true_positives + ops.sum(values))

        def result(self):
            return self.true_positives

        def reset_state(self):
            self.true_positives.assign(0)
    return BinaryTruePositives


BinaryTruePositives = true_positives_class(metrics.Metric, mlcore.ops)


class HitsAndMisses(metrics.Metric):
    """Assigns a variable and reads it back in one update, and returns a dict: Keras runs the
    assignments in order, so `misses` must see `seen` after this batch."""

    def __init__(self, name="hits_and_misses", **kwargs):
        super().__init__(name=name, **kwargs)
        self.seen = self.add_variable((), "zeros", name="seen")
        self.hits = self.add_variable((), "zeros", name="hits")
        self.misses = self.add_variable((), "zeros", name="misses")

    def update_state(self, y_true, y_pred, sample_weight=None):
        hit = graph_ops.cast(graph_ops.eq(graph_ops.flatten(y_true), graph_ops.flatten(y_pred) > 0.5), self.dtype)
        self.seen.assign_add(graph_ops.cast(hit.shape[0], self.dtype))
        self.hits.assign_add(graph_ops.sum_(hit))
        self.misses.assign(self.seen - self.hits)

    def result(self):
        return {"hit_rate": self.hits / self.seen, "misses": self.misses}


def binary_data(rng, n=40):
    y_true = (rng.random(n) > 0.4).astype("float32")
    scores = np.clip(0.6 * y_true + 0.7 * rng.random(n) - 0.2, 0, 1).astype("float32")
    return y_true, scores, rng.random(n).astype("float32")


def test_a_keras_style_metric_runs_standalone_as_in_keras(keras, rng):
    y_true, scores, weights = binary_data(rng)
    predicted = (scores > 0.5).astype("float32")
    ours, theirs = BinaryTruePositives(), true_positives_class(keras.metrics.Metric, keras.ops)()
    for part in (slice(0, 25), slice(25, None)):
        for metric in (ours, theirs):
            metric.update_state(y_true[part], predicted[part], sample_weight=weights[part])
    expected = np.sum(weights * (y_true == 1) * (predicted == 1))
    assert float(ours.result()) == pytest.approx(float(theirs.result()), rel=1e-6)
    assert float(ours.result()) == pytest.approx(expected, rel=1e-6)
    assert np.asarray(ours.result()).shape == ()
    assert [v.name for v in ours.variables] == ["true_positives"] and not ours.variables[0].trainable
    ours.reset_state()
    assert float(ours.result()) == 0.0
    assert float(ours(y_true, predicted)) == np.sum((y_true == 1) & (predicted == 1))


def test_assignments_in_one_update_are_seen_in_order():
    metric = HitsAndMisses()
    metric.update_state(np.array([1, 0, 1, 1.0]), np.array([0.9, 0.8, 0.1, 0.7]))
    metric.update_state(np.array([0, 0.0]), np.array([0.2, 0.3]))
    result = metric.result()
    assert float(result["hit_rate"]) == pytest.approx(4 / 6) and float(result["misses"]) == 2.0


CONFUSION_CASES = [
    ("TruePositives", {}), ("FalsePositives", {"thresholds": [0.2, 0.5, 0.8]}), ("TrueNegatives", {}),
    ("FalseNegatives", {"thresholds": 0.3}), ("Precision", {}), ("Precision", {"thresholds": [0.3, 0.7]}),
    ("Recall", {}), ("Recall", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}), ("AUC", {}),
    ("AUC", {"curve": "PR"}), ("AUC", {"curve": "PR", "summation_method": "minoring"}),
    ("AUC", {"summation_method": "majoring", "num_thresholds": 50}), ("AUC", {"curve": "PRGAIN"}),
    ("AUC", {"thresholds": [0.1, 0.4, 0.45, 0.9]}), ("AUC", {"from_logits": True}),
]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name, kwargs", CONFUSION_CASES, ids=[c[0] + str(c[1]) for c in CONFUSION_CASES])
def test_confusion_metrics_match_keras_over_two_batches(keras, rng, name, kwargs, weighted):
    y_true, scores, weights = binary_data(rng)
    if kwargs.get("from_logits"):
        scores = (scores - 0.5) * 6
    ours, theirs = getattr(metrics, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    for part in (slice(0, 25), slice(25, None)):
        for metric in (ours, theirs):
            metric.update_state(y_true[part, None], scores[part, None], weights[part] if weighted else None)
    np.testing.assert_allclose(ours.result(), np.asarray(theirs.result()), rtol=2e-5, atol=1e-6)
    assert ours.get_config() == {**theirs.get_config(), "name": ours.name}
    ours.reset_state()
    assert not np.any(ours.result())


@pytest.mark.parametrize("kwargs", [{"top_k": 2}, {"class_id": 1}, {"top_k": 1, "class_id": 2},
                                    {"thresholds": [0.2, 0.4], "class_id": 0}])
@pytest.mark.parametrize("name", ["Precision", "Recall"])
def test_top_k_and_class_id_match_keras(keras, rng, name, kwargs):
    y_true = (rng.random((30, 4)) > 0.6).astype("float32")
    scores = rng.random((30, 4)).astype("float32")
    scores[0] = [0.5, 0.5, 0.5, 0.1]                            # a tie: top_k keeps the first ones
    weights = rng.random(30).astype("float32")
    ours, theirs = getattr(metrics, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    for metric in (ours, theirs):
        metric.update_state(y_true, scores, sample_weight=weights)
    np.testing.assert_allclose(ours.result(), np.asarray(theirs.result()), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("label_weights", [None, [0.2, 1.0, 3.0]])
def test_multi_label_auc_matches_keras(keras, rng, label_weights):
    y_true = (rng.random((30, 3)) > 0.5).astype("float32")
    scores = np.clip(0.5 * y_true + 0.6 * rng.random((30, 3)), 0, 1).astype("float32")
    for curve in ("ROC", "PR"):
        ours = metrics.AUC(curve=curve, multi_label=True, label_weights=label_weights)
        theirs = keras.metrics.AUC(curve=curve, multi_label=True, label_weights=label_weights)
        for metric in (ours, theirs):
            metric.update_state(y_true[:20], scores[:20])
            metric.update_state(y_true[20:], scores[20:])
        np.testing.assert_allclose(ours.result(), np.asarray(theirs.result()), rtol=1e-5)


def test_names_and_lookup_follow_keras():
    for identifier, cls in (("precision", metrics.Precision), ("recall", metrics.Recall), ("auc", metrics.AUC),
                            ("AUC", metrics.AUC), ("true_positives", metrics.TruePositives),
                            ("false_negatives", metrics.FalseNegatives)):
        assert type(metrics.get(identifier)) is cls
    first, second = metrics.Precision(), metrics.Precision()
    assert first.name.startswith("precision") and second.name != first.name     # Keras numbers them
    again = metrics.deserialize(metrics.serialize(metrics.AUC(num_thresholds=7, curve="pr", name="pr_auc")))
    assert (again.name, again.num_thresholds, again.curve) == ("pr_auc", 7, "PR")
    with pytest.raises(ValueError, match="curve"):
        metrics.AUC(curve="nope")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        metrics.Precision(thresholds=[0.5, 1.5])


def frozen_model(backend):
    """A model that does not learn (learning rate 0): every batch of fit sees the predictions of
    predict(), so the metrics of fit, evaluate and numpy can be compared."""
    mlcore.utils.set_random_seed(3)
    model = Sequential([Dense(6, input_dim=3, activation="tanh"), Dense(1, activation="sigmoid")])
    model.compile(optimizers.SGD(learning_rate=0.0), "binary_crossentropy", backend=backend,
                  metrics=["accuracy", BinaryTruePositives(), metrics.Precision(thresholds=0.45, name="p45"),
                           "recall", metrics.AUC(name="auc"), HitsAndMisses()])
    return model


def expected_logs(y, scores):
    """The metrics of frozen_model from numpy counts and Keras's own AUC."""
    import keras
    positive = scores > 0.5
    auc = keras.metrics.AUC()
    auc.update_state(y, scores)
    return {"accuracy": np.mean(positive == y), "binary_true_positives": np.sum((y == 1) & (scores > 0)),
            "p45": np.sum((scores > 0.45) & (y == 1)) / np.sum(scores > 0.45),
            "recall": np.sum(positive & (y == 1)) / np.sum(y == 1), "auc": float(auc.result()),
            "hit_rate": np.mean(positive == y), "misses": np.sum(positive != y)}


@pytest.mark.parametrize("backend_name", ["numpy", "jax", "theano"])
def test_compiled_metrics_in_fit_evaluate_and_batch_logs(keras, rng, require_backend, backend_name):
    require_backend(backend_name)
    x = rng.normal(size=(50, 3)).astype("float32")
    y = (x[:, 0] + 0.5 * rng.normal(size=50) > 0).astype("float32")
    model = frozen_model(backend_name)
    scores = model.predict(x, verbose=0)[:, 0]
    batch_logs = []
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False, callbacks=[
        callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: batch_logs.append(dict(logs)))])
    expected = expected_logs(y, scores)
    for name, value in expected.items():      # each epoch starts from zero: the second equals the first
        np.testing.assert_allclose(history.history[name], [value, value], rtol=1e-5, err_msg=name)
    first = slice(0, 16)      # after the first batch, the logs hold the metrics of that batch alone
    assert batch_logs[0]["binary_true_positives"] == np.sum((y[first] == 1) & (scores[first] > 0))
    assert batch_logs[0]["misses"] == np.sum((scores[first] > 0.5) != y[first])
    evaluated = model.evaluate(x[:30], y[:30], batch_size=7, verbose=0, return_dict=True)
    for name, value in expected_logs(y[:30], scores[:30]).items():
        assert evaluated[name] == pytest.approx(value, rel=1e-5), name
    assert model.evaluate(x, y, verbose=0, return_dict=True)["auc"] == pytest.approx(expected["auc"], rel=1e-5)


@pytest.mark.parametrize("backend_name", ["numpy", "jax"])
def test_steps_per_execution_and_sample_weights_give_the_same_metrics(rng, require_backend, backend_name):
    require_backend(backend_name)
    x = rng.normal(size=(45, 3)).astype("float32")
    y = (x[:, 1] > 0).astype("float32")
    weights = rng.random(45).astype("float32")
    results = []
    for steps in (1, 4):
        model = frozen_model(backend_name)
        model.compile(optimizers.SGD(learning_rate=0.0), "binary_crossentropy", backend=backend_name,
                      steps_per_execution=steps, weighted_metrics=[metrics.TruePositives(name="tp"), "recall"])
        results.append(model.fit(x, y, sample_weight=weights, batch_size=10, verbose=0).history)
    scores = model.predict(x, verbose=0)[:, 0]
    hits = (y == 1) & (scores > 0.5)
    assert results[0]["tp"][0] == pytest.approx(np.sum(weights * hits), rel=1e-5)
    assert results[0]["recall"][0] == pytest.approx(np.sum(weights * hits) / np.sum(weights * (y == 1)), rel=1e-5)
    for name in results[0]:
        assert results[1][name] == pytest.approx(results[0][name], rel=1e-5), name


def test_save_and_load_with_stateful_metrics(tmp_path, rng):
    x = rng.normal(size=(30, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    model = frozen_model("numpy")
    before = model.evaluate(x, y, verbose=0, return_dict=True)
    model.save(tmp_path / "model.h5")
    loaded = load_model(tmp_path / "model.h5", custom_objects={"BinaryTruePositives": BinaryTruePositives,
                                                               "HitsAndMisses": HitsAndMisses})
    after = loaded.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(after) == sorted(before)
    for name, value in before.items():
        assert after[name] == pytest.approx(value, rel=1e-6), name


def test_a_metric_used_before_compile_starts_from_zero_in_fit(rng):
    x = rng.normal(size=(20, 3)).astype("float32")
    y = np.ones(20, dtype="float32")
    metric = BinaryTruePositives()
    metric.update_state(np.ones(5), np.ones(5))
    model = Sequential([Dense(1, input_dim=3, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy", metrics=[metric], backend="numpy")
    assert model.fit(x, y, batch_size=8, verbose=0).history["binary_true_positives"] == [20.0]

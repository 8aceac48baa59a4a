"""Keras 3's scikit-learn wrappers (SKLearnClassifier / SKLearnRegressor / SKLearnTransformer) against
keras.wrappers on the same data and the same initial weights, and scikit-learn's estimator checks."""
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

import mlcore
from mlcore.wrappers import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer

pytestmark = pytest.mark.usefixtures("numpy_backend")


def initial_weights(n_in, n_out, hidden=6):
    rng = np.random.default_rng(n_in * 100 + n_out)
    return [rng.normal(0, 0.5, (n_in, hidden)).astype("float32"), np.zeros(hidden, "float32"),
            rng.normal(0, 0.5, (hidden, n_out)).astype("float32"), np.zeros(n_out, "float32")]


def builder(lib, output_activation, loss):
    """model(X, y) for either library: the same MLP, the same initial weights, SGD."""
    def model(X, y, hidden=6):
        n_out = y.shape[1] if y.ndim > 1 else 1
        net = lib.Sequential([lib.layers.Input((X.shape[1],)), lib.layers.Dense(hidden, activation="relu"),
                              lib.layers.Dense(n_out, activation=output_activation)])
        net.set_weights(initial_weights(X.shape[1], n_out, hidden))
        net.compile(optimizer=lib.optimizers.SGD(0.1), loss=loss)
        return net
    return model


FIT = {"epochs": 3, "batch_size": 8, "shuffle": False, "verbose": 0}


@pytest.fixture
def data(rng):
    x = rng.normal(size=(40, 4))
    labels = np.array(["b", "c", "a"])[(x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5)]
    return x, labels, x @ [1.0, -2.0, 0.5, 0.0] + 0.3


def fitted_pair(keras, wrapper, keras_wrapper, activation, loss, x, y):
    ours = wrapper(model=builder(mlcore, activation, loss), fit_kwargs=FIT).fit(x, y)
    theirs = keras_wrapper(model=builder(keras, activation, loss), fit_kwargs=dict(FIT)).fit(x, y)
    return ours, theirs


def test_classifier_matches_keras(keras, float32_jax, data):
    x, labels, _ = data
    ours, theirs = fitted_pair(keras, SKLearnClassifier, keras.wrappers.SKLearnClassifier, "softmax",
                               "categorical_crossentropy", x, labels)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    assert ours.n_features_in_ == theirs.n_features_in_ == 4
    np.testing.assert_allclose(ours.history_.history["loss"], theirs.history_.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(ours.decision_function(x), theirs.decision_function(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ours.predict(x), theirs.predict(x))
    assert ours.score(x, labels) == theirs.score(x, labels) > 0.5
    assert ours.model_.outputs[0].type.shape[-1] == 3     # one-hot: a column per class


def test_binary_targets_are_one_hot_too(keras, float32_jax, data):
    x, labels, _ = data
    y = (labels == "a").astype(int)
    ours, theirs = fitted_pair(keras, SKLearnClassifier, keras.wrappers.SKLearnClassifier, "softmax",
                               "categorical_crossentropy", x, y)
    assert ours.model_.outputs[0].type.shape[-1] == 2
    np.testing.assert_allclose(ours.decision_function(x), theirs.decision_function(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ours.predict(x), theirs.predict(x))


def test_regressor_and_transformer_match_keras(keras, float32_jax, data):
    x, _, target = data
    ours, theirs = fitted_pair(keras, SKLearnRegressor, keras.wrappers.SKLearnRegressor, None, "mse", x, target)
    assert ours.predict(x).shape == (40,)
    np.testing.assert_allclose(ours.predict(x), theirs.predict(x), rtol=1e-5, atol=1e-5)
    assert ours.score(x, target) == pytest.approx(theirs.score(x, target), rel=1e-5)
    ours, theirs = fitted_pair(keras, SKLearnTransformer, keras.wrappers.SKLearnTransformer, None, "mse", x, target)
    assert ours.transform(x).shape == (40, 1)
    np.testing.assert_allclose(ours.transform(x), theirs.transform(x), rtol=1e-5, atol=1e-5)


def test_a_compiled_model_is_cloned_unless_warm_start(data):
    x, labels, _ = data
    net = builder(mlcore, "softmax", "categorical_crossentropy")(x, np.zeros((1, 3)))
    before = net.get_weights()
    clf = SKLearnClassifier(model=net, fit_kwargs=FIT).fit(x, labels)
    assert clf.model_ is not net
    for a, b in zip(before, net.get_weights()):
        np.testing.assert_array_equal(a, b)
    warm = SKLearnClassifier(model=builder(mlcore, "softmax", "categorical_crossentropy"), warm_start=True,
                             fit_kwargs=FIT).fit(x, labels)
    first, first_loss = warm.model_, warm.history_.history["loss"][-1]
    warm.fit(x, labels)
    assert warm.model_ is first and warm.history_.history["loss"][0] < first_loss
    assert warm.epoch_ == 3


def test_clone_grid_search_and_pipeline(data):
    x, labels, _ = data
    clf = SKLearnClassifier(model=builder(mlcore, "softmax", "categorical_crossentropy"),
                            model_kwargs={"hidden": 4}, fit_kwargs=dict(FIT, epochs=2))
    copy = clone(clf)
    assert copy.get_params() == clf.get_params() and not hasattr(copy, "model_")
    search = GridSearchCV(make_pipeline(StandardScaler(), clf), {"sklearnclassifier__model_kwargs": [
        {"hidden": 3}, {"hidden": 5}]}, cv=2).fit(x, labels)
    assert search.best_params_["sklearnclassifier__model_kwargs"] in ({"hidden": 3}, {"hidden": 5})
    best = search.best_estimator_[-1]
    assert best.model_.layers[0].units == best.model_kwargs["hidden"]
    assert set(search.predict(x)) <= {"a", "b", "c"}
    assert clf.fit_kwargs == dict(FIT, epochs=2)    # fit(**kwargs) does not write into fit_kwargs
    clf.fit(x, labels, epochs=1)
    assert clf.fit_kwargs["epochs"] == 2 and clf.epoch_ == 1


def test_bad_models_and_targets(data):
    x, labels, target = data
    uncompiled = mlcore.Sequential([mlcore.layers.Input((4,)), mlcore.layers.Dense(3)])
    with pytest.raises(RuntimeError, match="needs to be compiled"):
        SKLearnClassifier(model=uncompiled).fit(x, labels)
    model = builder(mlcore, "softmax", "categorical_crossentropy")
    with pytest.raises(ValueError, match="Target type: continuous"):
        SKLearnClassifier(model=model).fit(x, target)
    with pytest.raises(ValueError, match="only one class"):
        SKLearnClassifier(model=model).fit(x, np.zeros(40))
    with pytest.raises(ValueError, match="4 features"):
        SKLearnClassifier(model=model, fit_kwargs=FIT).fit(x, labels).predict(x[:, :3])


def dynamic_model(X, y, loss, out_activation_function="softmax", layers=(10,)):
    """Keras's own sklearn_test model."""
    inp = mlcore.layers.Input(shape=(X.shape[1],))
    hidden = inp
    for units in layers:
        hidden = mlcore.layers.Dense(units, activation="relu")(hidden)
    out = mlcore.layers.Dense(y.shape[1] if len(y.shape) > 1 else 1, activation=out_activation_function)(hidden)
    model = mlcore.models.Model(inp, [out])
    model.compile(loss=loss, optimizer="rmsprop")
    return model


# the checks Keras's sklearn_test expects to fail, for its reasons (non-deterministic fits, tiny data)
EXPECTED_FAILED_CHECKS = {
    "SKLearnClassifier": dict.fromkeys([
        "check_classifiers_regression_target", "check_parameters_default_constructible",
        "check_classifiers_one_label_sample_weights", "check_classifiers_classes",
        "check_classifier_data_not_an_array", "check_supervised_y_2d", "check_fit_idempotent",
        "check_classifiers_train"], "as in Keras's sklearn_test"),
    "SKLearnRegressor": {"check_parameters_default_constructible": "as in Keras's sklearn_test"},
    "SKLearnTransformer": {"check_parameters_default_constructible": "as in Keras's sklearn_test"},
}


@pytest.mark.parametrize("estimator", [
    SKLearnClassifier(model=dynamic_model, model_kwargs={"loss": "categorical_crossentropy", "layers": [20, 20, 20]},
                      fit_kwargs={"epochs": 5, "verbose": 0}),
    SKLearnRegressor(model=dynamic_model, model_kwargs={"loss": "mse"}, fit_kwargs={"verbose": 0}),
    SKLearnTransformer(model=dynamic_model, model_kwargs={"loss": "mse"}, fit_kwargs={"verbose": 0}),
], ids=lambda e: type(e).__name__)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
def test_scikit_learn_estimator_checks(estimator):
    results = check_estimator(estimator, expected_failed_checks=EXPECTED_FAILED_CHECKS[type(estimator).__name__],
                              on_fail=None)
    failed = [(r["check_name"], r["exception"]) for r in results if r["status"] == "failed"]
    assert not failed
    assert sum(r["status"] == "passed" for r in results) >= 38

"""The scikit-learn wrappers: Keras 2's build_fn= with sk_params and scikeras's model=, fit / predict /
predict_proba / score, get_params / set_params, clone, cross_val_score, Pipeline and GridSearchCV."""
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import mlcore
from mlcore import layers
from mlcore.models import Sequential
from mlcore.wrappers import KerasClassifier, KerasRegressor

pytestmark = pytest.mark.usefixtures("numpy_backend")


@pytest.fixture
def blobs(rng):
    """Two well separated classes labelled with strings, in 4 features of different scales."""
    x = np.concatenate([rng.normal(-1, 0.5, (30, 4)), rng.normal(1, 0.5, (30, 4))]) * [1, 10, 100, 0.1]
    labels = np.array(["rock"] * 30 + ["mine"] * 30)
    order = rng.permutation(60)
    return x[order].astype("float32"), labels[order]


built_with = []


def create_model(hidden=8, optimizer="adam"):
    """A Keras 2 tutorial's build function: it compiles the model itself."""
    built_with.append((hidden, optimizer))
    model = Sequential([layers.Dense(hidden, input_dim=4, activation="relu"), layers.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer=optimizer, metrics=["accuracy"])
    return model


def uncompiled(units=3):
    return Sequential([layers.Input((4,)), layers.Dense(8, activation="relu"),
                       layers.Dense(units, activation="softmax")])


def test_build_fn_style(blobs):
    x, y = blobs
    built_with.clear()
    clf = KerasClassifier(build_fn=create_model, hidden=6, epochs=30, batch_size=8, verbose=0, random_state=0)
    assert clf.fit(StandardScaler().fit_transform(x), y) is clf
    assert built_with == [(6, "adam")]
    assert list(clf.classes_) == ["mine", "rock"] and len(clf.history_["loss"]) == 30
    xs = StandardScaler().fit_transform(x)
    proba = clf.predict_proba(xs)
    assert proba.shape == (60, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(clf.predict(xs), clf.classes_[proba.argmax(axis=1)])
    assert clf.score(xs, y) == pytest.approx(np.mean(clf.predict(xs) == y)) and clf.score(xs, y) > 0.9
    # the model's own sigmoid output is P(class 1) = P(classes_[1])
    np.testing.assert_allclose(proba[:, 1], clf.model_.predict(xs, verbose=0)[:, 0], rtol=1e-6)


def test_model_style_with_loss_and_optimizer_given_to_the_wrapper(blobs):
    x, y = blobs
    y3 = np.where(np.arange(60) % 7 == 0, "other", y)          # three classes
    clf = KerasClassifier(model=uncompiled, loss="categorical_crossentropy", optimizer="adam", epochs=20,
                          batch_size=8, random_state=1)
    clf.fit(StandardScaler().fit_transform(x), y3)
    assert clf.model_.optimizer.__class__.__name__ == "Adam"
    assert list(clf.classes_) == ["mine", "other", "rock"]
    assert clf.predict_proba(StandardScaler().fit_transform(x)).shape == (60, 3)
    sparse = KerasClassifier(model=uncompiled, model__units=3, loss="sparse_categorical_crossentropy",
                             epochs=2, random_state=1).fit(x, y3)
    assert sparse.predict(x).shape == (60,)
    with pytest.raises(ValueError, match="loss"):
        KerasClassifier(model=uncompiled).fit(x, y)


def test_one_hot_targets_are_classes_0_to_k(blobs):
    x, y = blobs
    one_hot = np.eye(2, dtype="float32")[(y == "rock").astype(int)]
    clf = KerasClassifier(model=lambda: uncompiled(2), loss="categorical_crossentropy", epochs=1).fit(x, one_hot)
    assert list(clf.classes_) == [0, 1] and set(clf.predict(x)) <= {0, 1}


def test_a_compiled_model_instance_is_copied_for_each_fit(blobs):
    x, y = blobs
    template = uncompiled(2)
    template.compile("sgd", "categorical_crossentropy")
    clf = KerasClassifier(model=template, epochs=1)
    clf.fit(x, y)
    assert clf.model_ is not template and clf.model_.optimizer.__class__.__name__ == "SGD"
    first = clf.model_
    clf.fit(x, y)
    assert clf.model_ is not first


def test_get_params_set_params_and_clone():
    clf = KerasClassifier(build_fn=create_model, hidden=5, epochs=3, batch_size=4)
    params = clf.get_params()
    assert params["hidden"] == 5 and params["epochs"] == 3 and params["build_fn"] is create_model
    assert clf.set_params(hidden=7, epochs=2) is clf
    assert clf.get_params()["hidden"] == 7 and clf.epochs == 2
    copy = clone(clf)
    assert copy is not clf and copy.get_params() == clf.get_params()
    assert not hasattr(copy, "model_")


def test_set_params_and_grid_search_reach_the_build_function(blobs):
    x, y = blobs
    built_with.clear()
    grid = GridSearchCV(KerasClassifier(build_fn=create_model, epochs=2, verbose=0),
                        {"optimizer": ["sgd", "rmsprop"], "hidden": [3]}, cv=2)
    grid.fit(x, y)
    assert {b for b in built_with} == {(3, "sgd"), (3, "rmsprop")}
    assert set(grid.cv_results_["param_optimizer"]) == {"sgd", "rmsprop"}


def test_cross_val_score_and_pipeline(blobs):
    x, y = blobs
    pipeline = Pipeline([("standardize", StandardScaler()),
                         ("mlp", KerasClassifier(build_fn=create_model, epochs=20, batch_size=5, verbose=0,
                                                 random_state=7))])
    scores = cross_val_score(pipeline, x, y, cv=KFold(3, shuffle=True, random_state=0))
    assert scores.shape == (3,) and scores.mean() > 0.9
    pipeline.set_params(mlp__epochs=1)
    assert pipeline.named_steps["mlp"].epochs == 1


def test_nb_epoch_and_fit_overrides(blobs):
    x, y = blobs
    clf = KerasClassifier(build_fn=create_model, nb_epoch=3, verbose=0)
    clf.fit(x, y)
    assert len(clf.history_["loss"]) == 3
    clf.fit(x, y, epochs=2)
    assert len(clf.history_["loss"]) == 2


def test_random_state_makes_fits_repeatable(blobs):
    x, y = blobs
    runs = [KerasClassifier(build_fn=create_model, epochs=2, batch_size=8, random_state=3).fit(x, y).predict_proba(x)
            for _ in range(2)]
    np.testing.assert_array_equal(runs[0], runs[1])


def make_regressor(units=8):
    model = Sequential([layers.Input((3,)), layers.Dense(units, activation="tanh"), layers.Dense(1)])
    model.compile(loss="mse", optimizer=mlcore.optimizers.Adam(0.05))
    return model


def test_regressor(rng):
    x = rng.normal(size=(80, 3)).astype("float32")
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.3
    reg = KerasRegressor(build_fn=make_regressor, units=6, epochs=60, batch_size=16, verbose=0, random_state=0)
    reg.fit(x, y)
    prediction = reg.predict(x)
    assert prediction.shape == (80,)
    r2 = 1 - np.sum((y - prediction) ** 2) / np.sum((y - y.mean()) ** 2)
    assert reg.score(x, y) == pytest.approx(r2, rel=1e-5) and r2 > 0.9
    assert clone(reg).get_params()["units"] == 6
    scores = cross_val_score(Pipeline([("scale", StandardScaler()), ("reg", clone(reg).set_params(epochs=5))]),
                             x, y, cv=2)
    assert scores.shape == (2,)
    scikeras_style = KerasRegressor(model=lambda: make_regressor(4), epochs=1).fit(x, y)
    assert scikeras_style.predict(x).shape == (80,)


def test_non_numeric_features_are_refused(blobs):
    x, y = blobs
    with pytest.raises(TypeError, match="numeric"):
        KerasClassifier(build_fn=create_model).fit(x.astype(str), y)


def test_keras2_module_path_of_the_wrappers(blobs):
    """Keras 2 code imports them from keras.wrappers.scikit_learn (the Sonar article does)."""
    from mlcore.wrappers import scikit_learn
    assert scikit_learn.KerasClassifier is KerasClassifier and scikit_learn.KerasRegressor is KerasRegressor
    x, y = blobs
    clf = scikit_learn.KerasClassifier(build_fn=create_model, epochs=20, batch_size=8, verbose=0, random_state=0)
    assert clf.fit(StandardScaler().fit_transform(x), y).score(StandardScaler().fit_transform(x), y) > 0.9

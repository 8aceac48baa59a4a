"""keras.distillation against Keras 3.15: the same teacher and student weights and data, trained a few
SGD steps by each, give the same logs and the same student weights; errors, predict, configs and
saving as Keras has them."""
import numpy as np
import pytest

import mlcore
from mlcore.distillation import DistillationLoss, Distiller, FeatureDistillation, LogitsDistillation

pytestmark = pytest.mark.usefixtures("float32_jax")
TOLERANCE = dict(rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    return rng.normal(size=(12, 5)).astype("float32"), rng.integers(0, 3, size=(12,))


def functional(api, name, hidden):
    inputs = api.Input((5,))
    features = api.layers.Dense(hidden, activation="tanh", name=name + "_hidden")(inputs)
    return api.Model(inputs, api.layers.Dense(3, name=name + "_out")(features), name=name)


def twin_models(keras, build=functional):
    """(mlcore's (teacher, student), Keras's (teacher, student)) with equal weights, seeded."""
    mlcore.utils.set_random_seed(0)
    ours = build(mlcore, "teacher", 6), build(mlcore, "student", 6)
    theirs = build(keras, "teacher", 6), build(keras, "student", 6)
    for mine, other in zip(ours, theirs):
        other.set_weights(mine.get_weights())
    return ours, theirs


def distillers(keras, losses, build=functional, **kwargs):
    """A Distiller of each, on twin models; losses(api) gives the distillation losses."""
    (teacher, student), (k_teacher, k_student) = twin_models(keras, build)
    return (Distiller(teacher, student, losses(mlcore), **kwargs),
            keras.distillation.Distiller(k_teacher, k_student, losses(keras), **kwargs))


def student_logits_loss(api):
    """The students output logits: a loss that normalizes them as probabilities (from_logits=False) divides
    by their sum, which can come near zero, and turns float32 rounding into differences of 1e-5."""
    return api.losses.SparseCategoricalCrossentropy(from_logits=True)


def fit_both(keras, ours, theirs, data, loss, epochs=2, batch_size=4, backend=None, **compile_kwargs):
    """Each compiled with SGD(0.1) and loss(api) (ours on `backend`), then fit; their histories."""
    ours.compile(optimizer=mlcore.optimizers.SGD(0.1), loss=loss(mlcore), backend=backend, **compile_kwargs)
    theirs.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss(keras), **compile_kwargs)
    return [model.fit(*data, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0).history
            for model in (ours, theirs)]


def assert_same_training(ours, theirs, histories):
    mine, other = histories
    assert sorted(mine) == sorted(other)
    for key in other:
        np.testing.assert_allclose(mine[key], other[key], err_msg=key, **TOLERANCE)
    for a, b in zip(ours.student.get_weights() + ours.teacher.get_weights(),
                    theirs.student.get_weights() + theirs.teacher.get_weights()):
        np.testing.assert_allclose(a, b, **TOLERANCE)


def test_logits_and_feature_losses_weighted_train_as_keras(keras, data):
    """A KLDivergence on softened logits and an MSE between hidden layers, weighted 1 and 0.5, with a
    student loss weight of 0.3: the logs of two epochs and the weights after them are Keras's; the teacher
    is frozen."""
    ours, theirs = distillers(keras, lambda api: [
        api.distillation.LogitsDistillation(temperature=2.0, loss=api.losses.KLDivergence()),
        api.distillation.FeatureDistillation(loss="mse", teacher_layer_name="teacher_hidden",
                                             student_layer_name="student_hidden")],
        distillation_loss_weights=[1.0, 0.5], student_loss_weight=0.3)
    teacher_before = ours.teacher.get_weights()
    histories = fit_both(keras, ours, theirs, data, student_logits_loss,
                         metrics=["accuracy"])
    assert_same_training(ours, theirs, histories)
    assert set(histories[0]) == {"loss", "accuracy", "student_loss", "distillation_loss", "total_loss"}
    for before, after in zip(teacher_before, ours.teacher.get_weights()):
        np.testing.assert_array_equal(before, after)
    assert len(ours.trainable_weights) == len(theirs.trainable_weights) == 4
    assert [w.path for w in ours.non_trainable_weights] == [w.path for w in theirs.non_trainable_weights]
    np.testing.assert_allclose(ours.evaluate(*data, verbose=0), theirs.evaluate(*data, verbose=0), **TOLERANCE)


def test_default_logits_loss_on_sequential_models_and_a_custom_loss_train_as_keras(keras, data):
    """The default loss name "kl_divergence" (Keras's function, applied to the scaled logits), a custom
    DistillationLoss beside it, Sequential models, and a Loss instance as the student's loss."""
    def sequential(api, name, hidden):
        return api.Sequential([api.Input((5,)), api.layers.Dense(hidden, activation="relu", name=name + "_hidden"),
                               api.layers.Dense(3, name=name + "_out")], name=name)

    def losses(api):
        class MeanAbsoluteGap(api.distillation.DistillationLoss):
            def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
                return api.ops.mean(api.ops.abs(teacher_outputs - student_outputs))
        return [api.distillation.LogitsDistillation(), MeanAbsoluteGap()]

    ours, theirs = distillers(keras, losses, build=sequential, distillation_loss_weights=[0.7, 0.2])
    histories = fit_both(keras, ours, theirs, data,
                         lambda api: api.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert_same_training(ours, theirs, histories)


def test_feature_distillation_of_sequential_layers_and_final_outputs(keras, data):
    """Cosine similarity between Sequential models' hidden layers, plus MAE between the final outputs
    (no layer names), with only distillation (student_loss_weight=0): Keras's numbers."""
    def sequential(api, name, hidden):
        return api.Sequential([api.Input((5,)), api.layers.Dense(4, activation="tanh", name=name + "_hidden"),
                               api.layers.Dense(3, name=name + "_out")], name=name)

    ours, theirs = distillers(keras, lambda api: [
        api.distillation.FeatureDistillation(loss="cosine_similarity", teacher_layer_name="teacher_hidden",
                                             student_layer_name="student_hidden"),
        api.distillation.FeatureDistillation(loss=api.losses.MeanAbsoluteError())],
        build=sequential, student_loss_weight=0.0)
    histories = fit_both(keras, ours, theirs, data, student_logits_loss, epochs=1)
    assert_same_training(ours, theirs, histories)
    assert histories[0]["student_loss"] == [0.0]


def test_predict_gives_the_student_outputs(keras, data):
    ours, theirs = distillers(keras, lambda api: api.distillation.LogitsDistillation())
    expected = theirs.predict(data[0], verbose=0)
    np.testing.assert_allclose(ours.predict(data[0], verbose=0), expected, **TOLERANCE)
    np.testing.assert_allclose(ours.student.predict(data[0], verbose=0), expected, **TOLERANCE)


def test_training_on_the_theano_backend_matches_keras(keras, data):
    pytest.importorskip("pytensor")
    ours, theirs = distillers(keras, lambda api: api.distillation.LogitsDistillation(
        temperature=4.0, loss=api.losses.KLDivergence()))
    histories = fit_both(keras, ours, theirs, data, student_logits_loss, epochs=1,
                         batch_size=6, backend="theano")
    assert_same_training(ours, theirs, histories)


def test_configs_are_keras_configs(keras):
    for make in (lambda api: api.distillation.LogitsDistillation(temperature=2.5, loss=["kl_divergence", None]),
                 lambda api: api.distillation.LogitsDistillation(loss=api.losses.KLDivergence()),
                 lambda api: api.distillation.FeatureDistillation("mae", "a", "b")):
        config = make(mlcore).get_config()
        assert config == make(keras).get_config()
        assert type(make(mlcore)).from_config(config).get_config() == config
    ours, theirs = distillers(keras, lambda api: api.distillation.LogitsDistillation(), student_loss_weight=0.25)
    mine, other = ours.get_config(), theirs.get_config()
    assert list(mine) == list(other)
    assert mine["distillation_losses"] == other["distillation_losses"]
    assert (mine["student_loss_weight"], mine["distillation_loss_weights"]) == (0.25, [1.0])


def test_save_and_load_keep_weights_losses_and_training(tmp_path, keras, data):
    ours, theirs = distillers(keras, lambda api: [
        api.distillation.LogitsDistillation(temperature=2.0),
        api.distillation.FeatureDistillation(teacher_layer_name="teacher_hidden",
                                             student_layer_name="student_hidden")],
        distillation_loss_weights=[1.0, 0.5])
    ours.compile(optimizer=mlcore.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    ours.fit(*data, batch_size=4, epochs=1, verbose=0)
    ours.save(tmp_path / "distiller.keras")
    with pytest.warns(UserWarning, match="compile\\(\\)` was not called"):   # its compile() is its own, as in Keras
        loaded = mlcore.saving.load_model(tmp_path / "distiller.keras")
    assert not loaded.compiled
    loaded.compile(optimizer=mlcore.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    assert type(loaded) is Distiller and loaded.distillation_loss_weights == [1.0, 0.5]
    assert loaded.teacher.trainable is False
    assert loaded.distillation_losses[1].teacher_layer_name == "teacher_hidden"
    np.testing.assert_allclose(loaded.predict(data[0], verbose=0), ours.predict(data[0], verbose=0))
    expected = ours.evaluate(*data, verbose=0, return_dict=True)
    np.testing.assert_allclose(list(loaded.evaluate(*data, verbose=0, return_dict=True).values()),
                               list(expected.values()), **TOLERANCE)
    # Keras reads the archive too: same config, same predictions
    reread = keras.saving.load_model(tmp_path / "distiller.keras", compile=False)
    np.testing.assert_allclose(reread.predict(data[0], verbose=0), ours.predict(data[0], verbose=0), **TOLERANCE)
    # and Keras's archive is read here
    theirs.save(tmp_path / "keras_distiller.keras")
    ours_again = mlcore.saving.load_model(tmp_path / "keras_distiller.keras")
    assert [type(loss).__name__ for loss in ours_again.distillation_losses] == ["LogitsDistillation",
                                                                                "FeatureDistillation"]
    np.testing.assert_allclose(ours_again.predict(data[0], verbose=0), theirs.predict(data[0], verbose=0),
                               **TOLERANCE)


class Subclassed(mlcore.Model):
    def __init__(self):
        super().__init__()
        self.dense = mlcore.layers.Dense(3)

    def call(self, inputs):
        return self.dense(inputs)


def _error_cases(api):
    teacher, student = functional(api, "teacher", 7), functional(api, "student", 4)
    wide = api.Model(*_io(api, 6), name="wide")
    logits = api.distillation.LogitsDistillation
    return {
        "not a model": (lambda: api.distillation.Distiller("teacher", student, logits()), "must be a keras.Model"),
        "input shapes": (lambda: api.distillation.Distiller(wide, student, logits()), "input shapes are incompatible"),
        "weight range": (lambda: api.distillation.Distiller(teacher, student, logits(), student_loss_weight=1.5),
                         "between 0.0 and 1.0"),
        "no losses": (lambda: api.distillation.Distiller(teacher, student, None), "cannot be `None`"),
        "weights length": (lambda: api.distillation.Distiller(teacher, student, [logits(), logits()],
                                                              distillation_loss_weights=[1.0]),
                           r"distillation_loss_weights \(1\) must match"),
        "temperature": (lambda: logits(temperature=0), "temperature must be positive"),
        "temperature type": (lambda: logits(temperature="3"), "temperature must be a number"),
        "all None logits": (lambda: logits(loss=[None, None]), "At least one loss must be non-`None`"),
        "all None features": (lambda: api.distillation.FeatureDistillation(loss=None), "at least one non-`None`"),
        "unknown layer": (lambda: api.distillation.Distiller(teacher, student, api.distillation.FeatureDistillation(
            teacher_layer_name="nope")), "In teacher model: No such layer: nope"),
    }


def _io(api, features):
    inputs = api.Input((features,))
    return inputs, api.layers.Dense(3)(inputs)


@pytest.mark.parametrize("case", sorted(_error_cases(mlcore)))
def test_bad_arguments_raise_keras_errors(keras, case):
    make, message = _error_cases(mlcore)[case]
    with pytest.raises(ValueError, match=message):
        make()
    make, message = _error_cases(keras)[case]
    with pytest.raises(ValueError, match=message):
        make()


def test_compile_and_layer_names_errors():
    teacher, student = functional(mlcore, "teacher", 7), functional(mlcore, "student", 4)
    distiller = Distiller(teacher, student, LogitsDistillation())
    with pytest.raises(ValueError, match="'loss' cannot be `None`"):
        distiller.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="metrics must be a list or tuple"):
        distiller.compile(optimizer="sgd", loss="mse", metrics="accuracy")
    with pytest.raises(ValueError, match="requires Functional or Sequential models. The student"):
        Distiller(teacher, Subclassed(), FeatureDistillation(teacher_layer_name="teacher_hidden"))
    with pytest.raises(NotImplementedError):
        DistillationLoss().compute_loss(None, None)

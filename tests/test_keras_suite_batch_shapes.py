"""fit, evaluate and predict on batches that are not what the model's Inputs declare, checked side by side
with Keras 3 on the same weights: a model built with a batch size (build((64, 3)), Input(batch_shape=...))
takes any batch size, as Keras's steps do, while its shapes, summary and config keep the one given (a
stateful RNN's model keeps it for its steps too); and None for an optional Input, in a dict, a list or a
tuple of inputs, goes to the layers as None, as in Keras's eager calls."""
import numpy as np
import pytest

import mlcore

pytestmark = pytest.mark.usefixtures("numpy_backend")


def both(keras):
    return (keras, mlcore)


def same_weights(ours, theirs):
    theirs.set_weights(ours.get_weights())
    return ours, theirs


def assert_close(ours, theirs):
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=2e-5, atol=1e-6)


def assert_same_history(ours, theirs):
    assert sorted(ours.history) == sorted(theirs.history)
    for key in ours.history:
        assert_close(ours.history[key], theirs.history[key])


def data(rng, n, features=3, outputs=2):
    return rng.normal(size=(n, features)).astype("float32"), rng.normal(size=(n, outputs)).astype("float32")


def compile_both(keras, ours, theirs, **kwargs):
    for lib, model in ((mlcore, ours), (keras, theirs)):
        model.compile(optimizer=lib.optimizers.SGD(0.05), loss="mse", **kwargs)


def run_everything(keras, ours, theirs, rng):
    """predict (a last partial batch), evaluate, fit on 100 rows, then the single-batch methods, in both
    libraries, compared; the weights after fit too."""
    x, y = data(rng, 10)
    assert_close(ours.predict(x, batch_size=4, verbose=0), theirs.predict(x, batch_size=4, verbose=0))
    compile_both(keras, ours, theirs, metrics=["mae"])
    assert_close(ours.evaluate(x, y, batch_size=4, verbose=0), theirs.evaluate(x, y, batch_size=4, verbose=0))
    x_fit, y_fit = data(rng, 100)
    assert_same_history(ours.fit(x_fit, y_fit, epochs=2, shuffle=False, verbose=0),
                        theirs.fit(x_fit, y_fit, epochs=2, shuffle=False, verbose=0))
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        assert_close(a, b)
    assert_close(ours.train_on_batch(x, y), theirs.train_on_batch(x, y))
    assert_close(ours.test_on_batch(x[:3], y[:3]), theirs.test_on_batch(x[:3], y[:3]))
    assert_close(ours.predict_on_batch(x[:7]), theirs.predict_on_batch(x[:7]))


def summary_text(model):
    lines = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    return "\n".join(lines)


def test_a_sequential_built_with_a_batch_size_takes_any_batch(keras, rng):
    def build(lib):
        model = lib.Sequential([lib.layers.Dense(4, activation="tanh"), lib.layers.Dense(2)])
        model.build((64, 3))
        return model
    ours, theirs = same_weights(build(mlcore), build(keras))
    run_everything(keras, ours, theirs, rng)
    for model in (ours, theirs):        # the size given stays in the model's description
        assert (model.input_shape, model.output_shape) == ((64, 3), (64, 2))
        assert tuple(model.get_config()["build_input_shape"]) == (64, 3)
        assert tuple(model.get_config()["layers"][0]["config"]["batch_shape"]) == (64, 3)
        assert "(64, 2)" in summary_text(model)


def test_a_functional_model_whose_input_has_a_batch_shape_takes_any_batch(keras, rng):
    def build(lib):
        inputs = lib.Input(batch_shape=(64, 3))
        return lib.Model(inputs, lib.layers.Dense(2)(lib.layers.Dense(5, activation="relu")(inputs)))
    ours, theirs = same_weights(build(mlcore), build(keras))
    run_everything(keras, ours, theirs, rng)
    for model in (ours, theirs):
        assert tuple(model.inputs[0].shape) == (64, 3)
        assert tuple(model.get_config()["layers"][0]["config"]["batch_shape"]) == (64, 3)


@pytest.mark.parametrize("kind", ["batch_shape", "optional_input"])
def test_steps_per_execution_on_jax(keras, rng, kind):
    """Runs of steps_per_execution steps on jax, where a model of mlcore's row-wise layers runs the short
    last batch padded to a full one in the last run: with a declared batch size of another size, or None
    for an optional input."""
    def build(lib):
        if kind == "optional_input":
            return optional_input_model(lib, "dict")
        return lib.Sequential([lib.Input(batch_shape=(64, 3)), lib.layers.Dense(2)])
    ours, theirs = same_weights(build(mlcore), build(keras))
    xa, y = data(rng, 100)
    x = {"a": xa, "b": None} if kind == "optional_input" else xa
    ours.compile(optimizer=mlcore.optimizers.SGD(0.05), loss="mse", steps_per_execution=3, backend="jax")
    theirs.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", steps_per_execution=3)
    assert ours._steps.train.pads_short_batches([y]) == (kind == "batch_shape")    # its own layer is not row-wise
    assert_same_history(ours.fit(x, y, batch_size=14, epochs=2, shuffle=False, verbose=0),    # 7 x 14 + 2 rows
                        theirs.fit(x, y, batch_size=14, epochs=2, shuffle=False, verbose=0))
    assert_close(ours.predict(x, batch_size=14, verbose=0), theirs.predict(x, batch_size=14, verbose=0))


def test_a_subclassed_model_built_with_a_batch_size_takes_any_batch(keras, rng):
    def build(lib):
        class Scaled(lib.Model):
            def __init__(self):
                super().__init__()
                self.dense = lib.layers.Dense(2)

            def call(self, x):
                return self.dense(x) * 2.0
        model = Scaled()
        model.build((64, 3))
        return model
    x, y = data(rng, 10)
    theirs = build(keras)
    theirs(x[:1])           # Keras's build((64, 3)) of a subclassed model leaves its Dense unbuilt
    ours, theirs = same_weights(build(mlcore), theirs)
    assert_close(ours.predict(x, batch_size=4, verbose=0), theirs.predict(x, batch_size=4, verbose=0))
    compile_both(keras, ours, theirs)
    assert_close(ours.evaluate(x, y, batch_size=4, verbose=0), theirs.evaluate(x, y, batch_size=4, verbose=0))


def test_a_stateful_rnn_keeps_its_batch_size(keras, rng):
    """One batch compared: Keras 3.15's predict on jax does not carry the states on to the next batch,
    its eager calls do (mlcore's predict does too)."""
    def build(lib):
        return lib.Sequential([lib.Input(batch_shape=(4, 5, 3)), lib.layers.LSTM(2, stateful=True)])
    ours, theirs = same_weights(build(mlcore), build(keras))
    x = rng.normal(size=(6, 5, 3)).astype("float32")
    assert_close(ours.predict(x[:4], verbose=0), theirs.predict(x[:4], verbose=0))
    for model in (ours, theirs):
        with pytest.raises(ValueError):         # its states hold 4 samples, not the last batch's 2
            model.predict(x, batch_size=4, verbose=0)


def optional_input_model(lib, structure):
    """Dense(a + b), or Dense(a) where the optional b is None; its Inputs given as a dict or a list."""
    class AddIfGiven(lib.layers.Layer):
        def call(self, a, b=None):
            return a if b is None else a + b
    a, b = lib.Input((3,), name="a"), lib.Input((3,), name="b", optional=True)
    outputs = lib.layers.Dense(2)(AddIfGiven()(a, b))
    return lib.Model({"a": a, "b": b} if structure == "dict" else [a, b], outputs)


@pytest.mark.parametrize("structure", ["dict", "list"])
def test_none_for_an_optional_input_in_fit_evaluate_and_predict(keras, rng, structure):
    xa, y = data(rng, 10)
    xb = rng.normal(size=(10, 3)).astype("float32")
    ours, theirs = same_weights(optional_input_model(mlcore, structure), optional_input_model(keras, structure))
    without_b = ({"a": xa, "b": None}, [xa, None], (xa, None))
    for x in without_b:
        assert_close(ours.predict(x, batch_size=4, verbose=0), theirs.predict(x, batch_size=4, verbose=0))
        assert_close(ours.predict_on_batch(x), theirs.predict_on_batch(x))
    with_b = ours.predict({"a": xa, "b": xb}, batch_size=4, verbose=0)     # another function: both given
    assert_close(with_b, theirs.predict({"a": xa, "b": xb}, batch_size=4, verbose=0))
    assert not np.allclose(with_b, ours.predict({"a": xa, "b": None}, verbose=0))
    compile_both(keras, ours, theirs)
    for x in without_b:
        assert_close(ours.evaluate(x, y, batch_size=4, verbose=0), theirs.evaluate(x, y, batch_size=4, verbose=0))
        assert_same_history(ours.fit(x, y, batch_size=4, shuffle=False, verbose=0),
                            theirs.fit(x, y, batch_size=4, shuffle=False, verbose=0))
        assert_close(ours.train_on_batch(x, y), theirs.train_on_batch(x, y))
    assert_same_history(ours.fit({"a": xa, "b": None}, y, batch_size=4, validation_split=0.2, shuffle=False,
                                 verbose=0),
                        theirs.fit({"a": xa, "b": None}, y, batch_size=4, validation_split=0.2, shuffle=False,
                                   verbose=0))
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        assert_close(a, b)


def test_none_for_an_optional_input_from_a_generator_and_in_validation_data(keras, rng):
    xa, y = data(rng, 10)

    def batches():
        for start in range(0, 10, 4):
            yield {"a": xa[start:start + 4], "b": None}, y[start:start + 4]
    ours, theirs = same_weights(optional_input_model(mlcore, "dict"), optional_input_model(keras, "dict"))
    compile_both(keras, ours, theirs)
    assert_same_history(ours.fit(batches(), validation_data=([xa, None], y), verbose=0),
                        theirs.fit(batches(), validation_data=([xa, None], y), verbose=0))


def test_none_for_a_required_input_of_fit_and_predict_raises(keras):
    for lib in both(keras):
        model = optional_input_model(lib, "dict")
        model.compile(optimizer="sgd", loss="mse")
        with pytest.raises(ValueError, match="The input 'a' is not optional"):
            model.predict({"a": None, "b": np.ones((4, 3), "float32")}, verbose=0)
        with pytest.raises(ValueError, match="The input 'a' is not optional"):
            model.fit([None, np.ones((4, 3), "float32")], np.ones((4, 2), "float32"), verbose=0)


def test_stateless_call_takes_none_for_an_optional_input(keras, rng):
    """A custom train_step on such data calls stateless_call with None, as Keras's jax trainer does."""
    ours, theirs = same_weights(optional_input_model(mlcore, "dict"), optional_input_model(keras, "dict"))
    xa, xb = rng.normal(size=(2, 5, 3)).astype("float32")
    trainable = [v.numpy() for v in ours.trainable_variables]
    for x in ({"a": xa, "b": None}, {"a": xa, "b": xb}):
        got, _ = ours.stateless_call(trainable, [], x)
        expected, _ = theirs.stateless_call(trainable, [], x)
        assert_close(got, expected)


def test_an_own_compute_loss_reads_x_of_any_batch(keras, rng):
    """compute_loss(x=...) of a model whose Input declares a batch size gets the step's batch."""
    def build(lib):
        class PenalizedByInputs(lib.Model):
            def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
                return lib.ops.mean((y_pred - y) ** 2) + 0.1 * lib.ops.mean(x ** 2)
        inputs = lib.Input(batch_shape=(64, 3))
        return PenalizedByInputs(inputs, lib.layers.Dense(2)(inputs))
    ours, theirs = same_weights(build(mlcore), build(keras))
    x, y = data(rng, 10)
    compile_both(keras, ours, theirs)
    assert_close(ours.evaluate(x, y, batch_size=4, verbose=0), theirs.evaluate(x, y, batch_size=4, verbose=0))
    assert_same_history(ours.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0),
                        theirs.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0))

"""Sequential and functional models: summary(), several inputs and outputs (per-output losses, loss
weights, metrics and their History keys), configs and JSON.  Checked against Keras 3 where it runs."""
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

import mlcore
from mlcore import layers
from mlcore.models import Model, Sequential, model_from_json

pytestmark = pytest.mark.usefixtures("numpy_backend")


def sonar_mlp(lib):
    """The seed article's model, built with mlcore or keras."""
    return lib.Sequential([lib.Input((60,)), lib.layers.Dense(60, activation="relu", name="hidden"),
                           lib.layers.Dense(1, activation="sigmoid", name="out")], name="sonar")


def two_in_two_out(lib):
    a, b = lib.Input((3,), name="a"), lib.Input((2,), name="b")
    hidden = lib.layers.Dense(4, activation="tanh", name="hidden")(lib.layers.Concatenate(name="concat")([a, b]))
    o1 = lib.layers.Dense(1, name="o1")(hidden)
    o2 = lib.layers.Dense(3, activation="softmax", name="o2")(hidden)
    return lib.Model([a, b], [o1, o2], name="two_by_two")


def branches(lib):
    """Not sequential for Keras's summary (two calls at the same depth) though no layer merges."""
    x = lib.Input((4,), name="x")
    hidden = lib.layers.Dense(3, name="trunk")(x)
    return lib.Model(x, [lib.layers.Dense(1, name="left")(hidden), lib.layers.Dense(2, name="right")(hidden)],
                     name="branches")


def chain_with_nested_model(lib):
    """A functional chain (one Input row, no Connected to column) holding a Sequential and a functional model."""
    x = lib.Input((5,), name="x")
    inner_in = lib.Input((4,), name="inner_in")
    inner = lib.Model(inner_in, lib.layers.Dense(3, name="inner_dense")(inner_in), name="inner")
    stack = lib.Sequential([lib.Input((5,)), lib.layers.Dense(4, name="stacked")], name="stack")
    return lib.Model(x, lib.layers.Activation("relu", name="act")(inner(stack(x))), name="chain")


def shared_layer(lib):
    x1, x2 = lib.Input((3,), name="x1"), lib.Input((3,), name="x2")
    shared = lib.layers.Dense(2, name="shared")
    return lib.Model([x1, x2], lib.layers.Add(name="sum")([shared(x1), shared(x2)]), name="siamese")


def uneven_branches(lib):
    """Branches of different lengths: layer order by depth differs from the order of the layer calls."""
    x = lib.Input((4,), name="x")
    long_branch = lib.layers.Dense(3, name="b2")(lib.layers.Dense(3, name="b1")(x))
    short_branch = lib.layers.Dense(3, name="a1")(x)
    merged = lib.layers.Add(name="add")([short_branch, long_branch])
    return lib.Model(x, [lib.layers.Dense(1, name="head")(merged), short_branch], name="uneven")


def summary_lines(model, **kwargs):
    printed = []
    model.summary(print_fn=printed.append, **kwargs)
    return [line.rstrip() for text in printed for line in text.rstrip("\n").split("\n")]


# --- summary ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("build", [sonar_mlp, two_in_two_out, branches, chain_with_nested_model, shared_layer])
def test_summary_matches_keras(keras, monkeypatch, build):
    monkeypatch.setenv("COLUMNS", "120")         # both size the table from the terminal: fix it
    ours, theirs = build(mlcore), build(keras)
    assert summary_lines(ours) == summary_lines(theirs)
    assert summary_lines(ours, line_length=70) == summary_lines(theirs, line_length=70)


def frozen_long_names(lib):
    """A name too long for its cell (rich cuts it with an ellipsis), a frozen layer, an unbuilt one."""
    model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(5, name="a_layer_name_much_too_long_for_its_column"),
                            lib.layers.BatchNormalization(name="bn"), lib.layers.Dense(1, name="out")], name="frozen")
    model.get_layer("bn").trainable = False
    return model


@pytest.mark.parametrize("build, kwargs", [
    (frozen_long_names, dict(show_trainable=True)), (two_in_two_out, dict(show_trainable=True)),
    (chain_with_nested_model, dict(expand_nested=True)), (shared_layer, dict(expand_nested=True)),
    (frozen_long_names, dict(layer_range=["b.*", "out"])), (two_in_two_out, dict(layer_range=["concat", "o1"]))])
def test_summary_options_match_keras(keras, monkeypatch, build, kwargs):
    monkeypatch.setenv("COLUMNS", "120")
    assert summary_lines(build(mlcore), **kwargs) == summary_lines(build(keras), **kwargs)


def test_summary_marks_unbuilt_layers_as_keras():
    lines = summary_lines(Sequential([layers.Dense(3, name="later")], name="unbuilt"))
    assert any("later (Dense)" in line and line.rstrip("│ ").endswith("0 (unbuilt)") for line in lines)


def test_summary_after_training_counts_optimizer_slots_as_keras(keras, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    x, y = np.zeros((4, 60), "float32"), np.zeros((4, 1), "float32")
    ours, theirs = sonar_mlp(mlcore), sonar_mlp(keras)
    for model in (ours, theirs):
        model.compile("adam", "binary_crossentropy")
        model.fit(x, y, verbose=0)
    lines, expected = summary_lines(ours), summary_lines(theirs)
    # Keras on jax counts its int32 step counter as 4 bytes, mlcore's counter is int64: 4 bytes more in all
    total = [k for k, line in enumerate(expected) if line.startswith(" Total params")]
    assert lines[:total[0]] + lines[total[0] + 1:] == expected[:total[0]] + expected[total[0] + 1:]
    assert lines[total[0]].split("(")[0] == expected[total[0]].split("(")[0]
    assert " Trainable params: 3,721 (14.54 KB)" in lines and " Optimizer params: 7,444 (29.08 KB)" in lines


def test_summary_default_print_and_total_line(capsys):
    sonar_mlp(mlcore).summary()
    out = capsys.readouterr().out
    assert out.startswith('Model: "sonar"') and " Total params: 3,721 (14.54 KB)" in out
    assert "hidden (Dense)" in out and "(None, 60)" in out


@pytest.mark.parametrize("build", [two_in_two_out, branches, chain_with_nested_model, shared_layer,
                                   uneven_branches])
def test_layer_and_weight_order_match_keras(keras, build):
    """Keras orders a functional model's layers by depth; weights lists and legacy h5 files follow it."""
    ours, theirs = build(mlcore), build(keras)
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]


# --- several inputs and outputs -----------------------------------------------------------------------
def multi_data(rng, n=12):
    x = [rng.normal(size=(n, 3)).astype("float32"), rng.normal(size=(n, 2)).astype("float32")]
    y = [rng.normal(size=(n, 1)).astype("float32"), np.eye(3, dtype="float32")[rng.integers(0, 3, n)]]
    return x, y


@pytest.mark.parametrize("compile_args", [
    dict(loss=["mse", "categorical_crossentropy"], metrics=[["mae"], ["accuracy"]]),
    dict(loss={"o1": "mae", "o2": "categorical_crossentropy"}, loss_weights={"o1": 2.0, "o2": 0.5},
         metrics={"o2": "accuracy"}),
    dict(loss=["mse", "categorical_crossentropy"], loss_weights=[0.3, 1.0], metrics=["mse", "accuracy"]),
], ids=["lists", "dicts", "loss_weights_list"])
def test_multi_output_losses_and_history_keys_match_keras(keras, rng, compile_args):
    x, y = multi_data(rng)
    ours, theirs = two_in_two_out(mlcore), two_in_two_out(keras)
    theirs.set_weights(ours.get_weights())
    for model in (ours, theirs):
        model.compile(optimizer="sgd", **compile_args)
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0), rtol=1e-5)
    ours_history = ours.fit(x, y, batch_size=4, shuffle=False, epochs=2, verbose=0).history
    theirs_history = theirs.fit(x, y, batch_size=4, shuffle=False, epochs=2, verbose=0).history
    assert sorted(ours_history) == sorted(theirs_history)
    for key in theirs_history:
        np.testing.assert_allclose(ours_history[key], theirs_history[key], rtol=1e-4, err_msg=key)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("compile_args", [
    dict(metrics=["accuracy"]), dict(weighted_metrics=["accuracy"]),
    dict(metrics=["accuracy"], weighted_metrics=["accuracy"]),
    dict(metrics=["accuracy", "mae"], weighted_metrics=["mae"]), dict(metrics=["mae", "mae"])])
def test_weighted_and_repeated_metrics_named_and_ordered_as_keras(keras, rng, compile_args):
    """Keras logs a metric repeated as name_1, a weighted one whose name is taken as weighted_name;
    evaluate's list lists the metrics found under their own names (twice where a metric and a
    weighted metric share one), then the rest sorted."""
    x, y = rng.normal(size=(12, 3)).astype("float32"), rng.integers(0, 2, (12, 1)).astype("float32")
    sample_weight = rng.uniform(size=12).astype("float32")
    ours, theirs = (lib.Sequential([lib.Input((3,)), lib.layers.Dense(1, activation="sigmoid")]) for lib in (mlcore, keras))
    theirs.set_weights(ours.get_weights())
    for model in (ours, theirs):
        model.compile("sgd", "binary_crossentropy", **compile_args)
    as_dict = ours.evaluate(x, y, sample_weight=sample_weight, verbose=0, return_dict=True)
    assert as_dict == pytest.approx(theirs.evaluate(x, y, sample_weight=sample_weight, verbose=0, return_dict=True))
    assert list(as_dict) == sorted(as_dict)
    np.testing.assert_allclose(ours.evaluate(x, y, sample_weight=sample_weight, verbose=0),
                               theirs.evaluate(x, y, sample_weight=sample_weight, verbose=0), rtol=1e-5)
    np.testing.assert_allclose(ours.test_on_batch(x, y, sample_weight=sample_weight),
                               theirs.test_on_batch(x, y, sample_weight=sample_weight), rtol=1e-5)


def test_multi_output_evaluate_lists_output_losses_then_metrics_sorted_as_keras(keras, rng):
    x, y = multi_data(rng)
    ours, theirs = two_in_two_out(mlcore), two_in_two_out(keras)
    theirs.set_weights(ours.get_weights())
    for model in (ours, theirs):
        model.compile("sgd", ["mse", "categorical_crossentropy"], metrics=[["mse", "accuracy"], ["mse", "accuracy"]])
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0), rtol=1e-5)


def test_predict_of_a_model_with_dict_outputs_is_a_dict(rng):
    x = layers.Input((3,), name="x")
    hidden = layers.Dense(2, name="hidden")(x)
    model = Model(x, {"score": layers.Dense(1, name="score")(hidden), "probs": layers.Dense(2, name="probs")(hidden)})
    data = rng.normal(size=(5, 3)).astype("float32")
    predicted = model.predict(data, verbose=0)
    assert sorted(predicted) == ["probs", "score"]
    assert predicted["score"].shape == (5, 1) and predicted["probs"].shape == (5, 2)
    on_batch = model.predict_on_batch(data)
    np.testing.assert_allclose(on_batch["probs"], predicted["probs"], rtol=1e-6)


def test_fit_before_compile_raises_what_keras_2_and_keras_3_raise():
    model = Sequential([layers.Input((3,)), layers.Dense(1)])
    for call in (lambda: model.fit(np.zeros((2, 3)), np.zeros(2), verbose=0),
                 lambda: model.evaluate(np.zeros((2, 3)), np.zeros(2), verbose=0)):
        with pytest.raises(ValueError, match="compile"):
            call()
        with pytest.raises(RuntimeError, match="compile"):
            call()


def test_multi_output_total_is_the_weighted_sum_of_the_output_losses(rng):
    x, y = multi_data(rng)
    model = two_in_two_out(mlcore)
    model.compile("sgd", loss=["mse", "categorical_crossentropy"], loss_weights=[0.25, 2.0])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "o1_loss", "o2_loss"]
    p1, p2 = model.predict(x, verbose=0)
    mse = np.mean((p1 - y[0]) ** 2)
    cce = np.mean(-np.sum(y[1] * np.log(np.clip(p2, 1e-7, 1)), axis=-1))
    assert logs["o1_loss"] == pytest.approx(mse, rel=1e-5)
    assert logs["o2_loss"] == pytest.approx(cce, rel=1e-5)
    assert logs["loss"] == pytest.approx(0.25 * mse + 2.0 * cce, rel=1e-5)


def test_inputs_and_targets_given_as_dicts_by_name(rng):
    x, y = multi_data(rng)
    model = two_in_two_out(mlcore)
    model.compile("sgd", loss=["mse", "categorical_crossentropy"])
    by_position = model.evaluate(x, y, verbose=0)
    by_name = model.evaluate({"b": x[1], "a": x[0]}, {"o2": y[1], "o1": y[0]}, verbose=0)
    np.testing.assert_allclose(by_name, by_position, rtol=1e-6)
    predicted = model.predict({"b": x[1], "a": x[0]}, verbose=0)
    np.testing.assert_allclose(predicted[0], model.predict(x, verbose=0)[0], rtol=1e-6)


def test_unknown_output_name_in_loss_dict_is_named():
    model = two_in_two_out(mlcore)
    with pytest.raises(ValueError) as err:
        model.compile("sgd", loss={"o1": "mse", "o3": "mse"})
        model.evaluate(*multi_data(np.random.default_rng(0)), verbose=0)
    assert "o3" in str(err.value) and "o1" in str(err.value) and "o2" in str(err.value)


def test_keras1_input_output_names(rng):
    x = layers.Input((3,))
    model = Model(input=x, output=layers.Dense(2)(x))
    assert model.input_shape == (None, 3) and model.output_shape == (None, 2)


def test_shared_layer_and_model_default_names():
    x1, x2 = layers.Input((3,)), layers.Input((3,))
    shared = layers.Dense(2, name="shared")
    model = Model([x1, x2], layers.Add()([shared(x1), shared(x2)]))
    assert model.name.startswith("functional")
    assert Sequential().name.startswith("sequential")
    assert len(model.weights) == 2 and model.count_params() == 8
    ones = np.ones((1, 3), "float32")
    k, b = shared.get_weights()
    # float32 sums in another order: an output near zero (the weights are random) may differ by a few ulps
    np.testing.assert_allclose(model.predict([ones, 2 * ones], verbose=0), 3 * ones @ k + 2 * b, rtol=1e-6, atol=1e-6)


# --- configs ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("build", [sonar_mlp, two_in_two_out, shared_layer, chain_with_nested_model])
def test_config_and_json_round_trip(rng, build):
    model = build(mlcore)
    clone = model_from_json(model.to_json())
    assert type(clone) is type(model) and clone.name == model.name
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    clone.set_weights(model.get_weights())
    x = [np.asarray(rng.normal(size=(5,) + t.type.shape[1:]), "float32") for t in model.inputs]
    for a, b in zip(mlcore.layers.base.flatten(model.predict(x, verbose=0)),
                    mlcore.layers.base.flatten(clone.predict(x, verbose=0))):
        np.testing.assert_array_equal(a, b)
    again = type(model).from_config(model.get_config())
    assert again.get_config() == model.get_config()


def test_sequential_builds_from_the_first_data_it_sees(rng):
    model = Sequential([layers.Dense(4, activation="relu"), layers.Dense(1)])
    assert not model.built
    model.compile("sgd", "mse")
    model.fit(rng.normal(size=(8, 5)), rng.normal(size=(8, 1)), verbose=0)
    assert model.built and model.input_shape == (None, 5) and model.count_params() == 5 * 4 + 4 + 5


def test_pop_of_an_empty_sequential_raises_kerass_errors():
    """Keras 3 raises IndexError there, Keras 2 TypeError("There are no layers in the model.")."""
    keras = pytest.importorskip("keras")
    with pytest.raises(IndexError):
        keras.Sequential().pop()
    for error in (IndexError, TypeError):
        with pytest.raises(error, match="There are no layers in the model."):
            Sequential().pop()
    model = Sequential([layers.Input((3,)), layers.Dense(2)])
    assert isinstance(model.pop(), layers.Dense) and model.layers == []
    with pytest.raises(IndexError):
        model.pop()


def test_get_metrics_result_and_reset_metrics_as_keras(rng):
    model = Sequential([layers.Input((3,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    x = rng.normal(size=(20, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    assert model.evaluate(x, y, verbose=0, return_dict=True) == model.get_metrics_result()
    model.reset_metrics()
    assert model.get_metrics_result() == {"accuracy": 0.0, "loss": 0.0}
    with pytest.raises(RuntimeError, match="compile"):
        Sequential([layers.Input((3,)), layers.Dense(1)]).get_metrics_result()

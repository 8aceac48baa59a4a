"""keras.utils / keras.models helpers beside Keras 3's own, on the same inputs: pad_sequences, Progbar,
clone_model, get_source_inputs, serialize/deserialize_keras_object, clear_session, is_keras_tensor,
pack/unpack_x_y_sample_weight and timeseries_dataset_from_array."""
import json
import time

import numpy as np
import pytest

import mlcore
from mlcore import layers, utils
from mlcore.function import function
from mlcore.preprocessing import sequence

pytestmark = pytest.mark.usefixtures("numpy_backend")

RAGGED = [[1, 2, 3], [4, 5], [], [6, 7, 8, 9, 10], [11]]
VECTORS = [np.arange(6.0).reshape(3, 2), np.ones((1, 2)), np.zeros((0, 2)), -np.arange(8.0).reshape(4, 2)]


# --- pad_sequences ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("sequences", [RAGGED, VECTORS, [np.array([1, 2]), (3,), [4, 5, 6]], [[]], [[0.5, 1.5]]],
                         ids=["ints", "vectors", "mixed", "empty", "floats"])
@pytest.mark.parametrize("kwargs", [{}, {"maxlen": 2}, {"maxlen": 7}, {"padding": "post"},
                                    {"truncating": "post", "maxlen": 3}, {"padding": "post", "truncating": "post",
                                                                          "maxlen": 4, "value": -1},
                                    {"dtype": "float32", "value": 0.25, "maxlen": 6}, {"dtype": "int64"}])
def test_pad_sequences_matches_keras(keras, sequences, kwargs):
    if not any(len(s) for s in sequences) and "maxlen" not in kwargs:
        kwargs = dict(kwargs, maxlen=3)          # Keras takes np.max of the lengths: 0 here
    expected = keras.utils.pad_sequences(sequences, **kwargs)
    got = utils.pad_sequences(sequences, **kwargs)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_pad_sequences_of_strings_and_keras2_path(keras):
    words = [["the", "cat"], ["a"], ["one", "two", "three"]]
    kwargs = {"dtype": object, "value": "<pad>", "maxlen": 2}
    np.testing.assert_array_equal(utils.pad_sequences(words, **kwargs), keras.utils.pad_sequences(words, **kwargs))
    assert sequence.pad_sequences is utils.pad_sequences


@pytest.mark.parametrize("sequences, kwargs, message", [
    (RAGGED, {"padding": "middle"}, 'Padding type "middle" not understood'),
    (RAGGED, {"truncating": "both"}, 'Truncating type "both" not understood'),
    (RAGGED, {"value": "x"}, "is not compatible with `value`'s type"),
    ([[1, 2], 3], {}, "must be a list of iterables"),
    ([["a", "b"], ["c"]], {}, "invalid literal"),
    ([[[1, 2], [3, 4]], [[1, 2, 3]]], {}, "is different from expected shape"),
], ids=["padding", "truncating", "string-value", "non-iterable", "ragged-text", "step-shape"])
def test_pad_sequences_rejects_what_keras_rejects(keras, sequences, kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras.utils.pad_sequences(sequences, **kwargs)
    with pytest.raises(ValueError, match=message):
        utils.pad_sequences(sequences, **kwargs)


# --- Progbar ----------------------------------------------------------------------------------------------
def _drive(progbar_class, kwargs, script, monkeypatch):
    """The same calls at the same times: the clock is frozen at 0 for the start, then at each step's time."""
    monkeypatch.setattr(time, "time", lambda: 0.0)
    bar = progbar_class(**kwargs)
    for now, method, args in script:
        monkeypatch.setattr(time, "time", lambda now=now: now)
        getattr(bar, method)(*args)


PROGBAR_SCRIPTS = {
    "bar": ({"target": 10}, [(0.5, "update", (1, [("loss", 0.9)])), (1.25, "update", (4, [("loss", 0.5)])),
                             (1.26, "update", (5, [("loss", 0.4)])), (3.0, "update", (10, [("loss", 0.1)]))]),
    "stateful": ({"target": 120, "width": 30, "stateful_metrics": ["acc"], "unit_name": "sample"},
                 [(0.002, "update", (1, [("loss", 2.0), ("acc", 0.1)])),
                  (0.4, "add", (59, [("loss", 0.00001), ("acc", 0.5)])),
                  (90.0, "update", (100, [("loss", -0.2), ("acc", 0.7)])),
                  (4000.0, "update", (120, [("loss", 0.3), ("acc", 0.9)], True))]),
    "verbose2": ({"target": 3, "verbose": 2}, [(0.1, "update", (1, [("loss", 1.0)])),
                                               (0.2, "update", (2, [("loss", -0.0001)])),
                                               (0.9, "add", (1, [("loss", 0.5)]))]),
    "unknown": ({"target": None, "interval": 0.0}, [(1.0, "update", (1, [("mae", 3.0)])),
                                                    (2.0, "update", (7, [("mae", 1.0)])),
                                                    (2.5, "update", (8, None, True))]),
}


@pytest.mark.parametrize("name", list(PROGBAR_SCRIPTS))
def test_progbar_prints_what_keras_prints(keras, capsys, monkeypatch, name):
    kwargs, script = PROGBAR_SCRIPTS[name]
    outputs = []
    for progbar_class in (keras.utils.Progbar, utils.Progbar):
        _drive(progbar_class, kwargs, script, monkeypatch)
        outputs.append(capsys.readouterr().out)
    assert outputs[0] and outputs[1] == outputs[0]


# --- clone_model ------------------------------------------------------------------------------------------
def _weights(model, rng):
    return [rng.normal(size=w.shape).astype("float32") for w in model.get_weights()]


def _sequential(lib):
    return lib.Sequential([lib.layers.Input((5,), name="features"), lib.layers.Dense(4, activation="tanh"),
                           lib.layers.Dense(3, activation="softmax")], name="stack")


def _functional(lib):
    """Two inputs, a shared Dense, a merge: the graph clone_model must rebuild."""
    a, b = lib.layers.Input((4,), name="a"), lib.layers.Input((4,), name="b")
    shared = lib.layers.Dense(3, activation="relu", name="shared")
    merged = lib.layers.Concatenate(name="merge")([shared(a), shared(b)])
    return lib.Model([a, b], lib.layers.Dense(2, name="head")(merged), name="pair")


@pytest.mark.parametrize("build", [_sequential, _functional], ids=["sequential", "functional"])
def test_clone_model_matches_keras_and_has_its_own_weights(keras, backend, rng, build):
    mlcore.utils.clear_session()
    keras.utils.clear_session()         # both name counters from zero: the clones' names are compared
    ours, theirs = build(mlcore), build(keras)
    our_clone, their_clone = mlcore.models.clone_model(ours), keras.models.clone_model(theirs)
    assert type(our_clone) is type(ours) and our_clone.name == their_clone.name
    assert [l.name for l in our_clone.layers] == [l.name for l in their_clone.layers]
    assert all(a is not b for a, b in zip(our_clone.layers, ours.layers))
    fresh = our_clone.get_weights()
    assert [w.shape for w in fresh] == [w.shape for w in ours.get_weights()]
    assert any(not np.allclose(a, b) for a, b in zip(fresh, ours.get_weights()))   # initialised anew
    values = _weights(ours, rng)
    our_clone.set_weights(values)
    their_clone.set_weights(values)
    inputs = [rng.normal(size=(6,) + tuple(t.shape[1:])).astype("float32") for t in our_clone.inputs]
    predict = function(our_clone.inputs, our_clone.outputs, backend=backend)
    np.testing.assert_allclose(predict(*inputs)[0], their_clone.predict(inputs, verbose=0), rtol=1e-5, atol=1e-6)
    before = [w.copy() for w in ours.get_weights()]
    our_clone.set_weights([w + 1 for w in values])
    for old, now in zip(before, ours.get_weights()):
        np.testing.assert_array_equal(old, now)     # the original's weights are its own


def test_clone_function_and_call_function_as_keras(keras):
    seen = {}
    for lib in (keras, mlcore):
        calls = []

        def clone_function(layer, lib=lib, calls=calls):
            calls.append(layer.name)
            config = layer.get_config()
            if "activation" in config:
                config["activation"] = "sigmoid"
            return type(layer).from_config(config)

        def call_function(layer, *args, lib=lib, **kwargs):
            out = layer(*args, **kwargs)
            return lib.layers.Dropout(0.5)(out) if layer.name == "head" else out
        clone = lib.models.clone_model(_functional(lib), clone_function=clone_function, call_function=call_function)
        seen[lib.__name__] = (calls, clone.get_layer("shared").get_config()["activation"],
                              [type(l).__name__ for l in clone.layers])
    assert seen["mlcore"] == seen["keras"]


def test_clone_model_rewires_inputs_keeps_compilation_and_clones_nested_models(rng):
    model = _sequential(mlcore)
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    new_input = layers.Input((5,), name="other")
    clone = mlcore.models.clone_model(model, input_tensors=[new_input])
    assert clone.inputs[0] is new_input and clone.compiled
    assert clone.get_compile_config() == model.get_compile_config()
    x, y = rng.normal(size=(8, 5)).astype("float32"), np.eye(3, dtype="float32")[rng.integers(0, 3, 8)]
    assert np.isfinite(clone.evaluate(x, y, verbose=0)).all()
    a = layers.Input((4,))
    inner = _functional(mlcore)
    b = layers.Input((4,))
    outer = mlcore.Model([a, b], layers.Dense(1)(inner([a, b])))
    shallow, deep = mlcore.models.clone_model(outer), mlcore.models.clone_model(outer, recursive=True)
    for clone in (shallow, deep):
        nested = [l for l in clone.layers if isinstance(l, mlcore.Model)][0]
        assert nested is not inner and [l.name for l in nested.layers] == [l.name for l in inner.layers]
    with pytest.raises(ValueError, match="must be a KerasTensor"):
        mlcore.models.clone_model(model, input_tensors=[np.zeros((1, 5))])
    with pytest.raises(ValueError, match="same structure as model.input"):
        mlcore.models.clone_model(inner, input_tensors=[layers.Input((4,))])


def test_clone_model_of_subclassed_models_and_bad_arguments_as_keras(keras):
    def subclass(lib, with_config):
        class Tiny(lib.Model):
            def __init__(self, units=3, **kwargs):
                super().__init__(**kwargs)
                self.units, self.dense = units, lib.layers.Dense(units)

            def call(self, x):
                return self.dense(x)
        if with_config:
            Tiny.get_config = lambda self: {"units": self.units, "name": self.name}
        return Tiny(units=2)
    for lib in (keras, mlcore):
        model = subclass(lib, True)
        model.build((None, 4))
        clone = lib.models.clone_model(model)
        assert type(clone) is type(model) and clone.units == 2 and clone is not model
        assert len(clone.get_weights()) == 2
        with pytest.raises(ValueError, match="`clone_function` and `input_tensors` are only supported"):
            lib.models.clone_model(model, clone_function=lambda layer: layer)
        with pytest.raises(ValueError, match="`call_function` is only supported for Functional models"):
            lib.models.clone_model(model, call_function=lambda layer, *a, **k: layer(*a, **k))
        with pytest.raises(ValueError, match="not supported with Sequential models"):
            lib.models.clone_model(_sequential(lib), call_function=lambda layer, *a, **k: layer(*a, **k))
        with pytest.raises(ValueError, match=r"Unexpected keyword argument\(s\): \('foo',\)"):
            lib.models.clone_model(model, foo=1)
    with pytest.raises(NotImplementedError, match="get_config"):
        mlcore.models.clone_model(subclass(mlcore, False))


# --- get_source_inputs, is_keras_tensor, clear_session, pack/unpack ---------------------------------------
def test_get_source_inputs_and_is_keras_tensor_as_keras(keras):
    names = {}
    for lib in (keras, mlcore):
        a, b, c = (lib.layers.Input((3,), name=n) for n in "abc")
        ab = lib.layers.Add()([lib.layers.Dense(3)(b), a])
        out = lib.layers.Concatenate()([ab, lib.layers.Dense(3)(a), c])
        names[lib.__name__] = ([t.name for t in lib.utils.get_source_inputs(out)],
                               [t.name for t in lib.utils.get_source_inputs(a)],
                               lib.utils.is_keras_tensor(out), lib.utils.is_keras_tensor(np.ones(2)))
        assert lib.utils.get_source_inputs(5) == 5
    assert names["mlcore"] == names["keras"] == (["b", "a", "c"], ["a"], True, False)


def test_clear_session_resets_layer_names_as_keras(keras):
    for lib in (keras, mlcore):
        lib.layers.Dense(1), lib.layers.Dense(1)
        lib.utils.clear_session()
        assert [lib.layers.Dense(1).name, lib.layers.Dense(1).name] == ["dense", "dense_1"]
    assert mlcore.utils.clear_session is mlcore.backend.clear_session


@pytest.mark.parametrize("data", [np.ones(3), (np.ones(3),), (np.ones(3), np.zeros(3)), [np.ones(3), np.zeros(3)],
                                  (np.ones(3), None, np.arange(3.0)), (1, 2, 3)], ids=range(6))
def test_unpack_x_y_sample_weight_as_keras(keras, data):
    expected, got = keras.utils.unpack_x_y_sample_weight(data), utils.unpack_x_y_sample_weight(data)
    assert len(got) == 3 and all(a is b for a, b in zip(got, expected))


@pytest.mark.parametrize("args", [(1,), ((1, 2),), ([1],), (1, 2), (1, 2, 3), (1, None, 3)], ids=range(6))
def test_pack_x_y_sample_weight_as_keras(keras, args):
    assert utils.pack_x_y_sample_weight(*args) == keras.utils.pack_x_y_sample_weight(*args)


def test_unpack_rejects_four_items(keras):
    for lib in (keras, mlcore):
        with pytest.raises(ValueError):
            lib.utils.unpack_x_y_sample_weight((1, 2, 3, 4))


# --- serialize_keras_object / deserialize_keras_object ----------------------------------------------------
def _pairs(lib):
    """The same objects in Keras and mlcore, one per family."""
    return [lib.initializers.GlorotUniform(seed=3), lib.initializers.Constant(0.5), lib.regularizers.L1L2(0.1, 0.2),
            lib.constraints.MaxNorm(2.0), lib.losses.Huber(delta=2.0), lib.metrics.Precision(thresholds=0.3),
            lib.optimizers.SGD(learning_rate=0.25, momentum=0.5), lib.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9),
            lib.layers.Dense(3, activation="relu", kernel_regularizer=lib.regularizers.L2(0.01), name="d")]


def _same_config(ours, theirs):
    """Every setting the two configs share holds the same value (Keras has arguments mlcore lacks)."""
    shared = set(ours) & set(theirs)
    assert shared
    for key in shared:
        a, b = ours[key], theirs[key]
        if isinstance(a, dict) and isinstance(b, dict):
            assert a.get("class_name") == b.get("class_name"), key
        elif key != "dtype":
            assert a == pytest.approx(b) if isinstance(a, float) else a == b, key


@pytest.mark.parametrize("k", range(9))
def test_serialized_objects_load_in_keras_and_back(keras, k):
    ours, theirs = _pairs(mlcore)[k], _pairs(keras)[k]
    spec = utils.serialize_keras_object(ours)
    assert {key: spec[key] for key in ("module", "class_name", "registered_name")} == \
        {key: keras.utils.serialize_keras_object(theirs)[key] for key in ("module", "class_name", "registered_name")}
    in_keras = keras.utils.deserialize_keras_object(spec)
    assert type(in_keras) is type(theirs)
    _same_config(ours.get_config(), in_keras.get_config())
    back = utils.deserialize_keras_object(keras.utils.serialize_keras_object(theirs))
    assert type(back) is type(ours)
    _same_config(back.get_config(), theirs.get_config())
    assert type(utils.deserialize_keras_object(spec)) is type(ours)


@pytest.mark.parametrize("name", ["relu", "softmax", "mean_squared_error", "binary_crossentropy"])
def test_functions_serialize_by_name_as_keras(keras, name):
    ours = getattr(mlcore.activations, name, None) or getattr(mlcore.losses, name)
    theirs = getattr(keras.activations, name, None) or getattr(keras.losses, name)
    assert utils.serialize_keras_object(ours) == keras.utils.serialize_keras_object(theirs)
    assert utils.deserialize_keras_object(keras.utils.serialize_keras_object(theirs)) is ours


@pytest.mark.parametrize("value", [slice(1, None, 2), (Ellipsis, slice(None, 3)), b"bytes", [slice(None), None]])
def test_slices_ellipsis_and_bytes_serialize_as_keras(keras, value):
    """The values of a saved x[...] key: a functional model's GetItem nodes hold them."""
    spec = utils.serialize_keras_object(value)
    assert spec == keras.utils.serialize_keras_object(value)
    expected = list(value) if isinstance(value, tuple) else value      # Keras reads a tuple back as a list
    assert utils.deserialize_keras_object(spec) == keras.utils.deserialize_keras_object(spec) == expected


def test_models_plain_data_and_custom_objects_round_trip(keras, rng):
    data = {"a": [1, (2.5, "x")], "b": None, "c": np.arange(6).reshape(2, 3)}
    spec = utils.serialize_keras_object(data)
    assert spec == keras.utils.serialize_keras_object(data)
    back = utils.deserialize_keras_object(spec)
    np.testing.assert_array_equal(back["c"], data["c"])
    assert back["a"] == keras.utils.deserialize_keras_object(spec)["a"] == [1, [2.5, "x"]]   # tuples as lists
    assert back["b"] is None

    model = _sequential(mlcore)
    model.compile(optimizer=mlcore.optimizers.Adam(0.01), loss="categorical_crossentropy")
    in_keras = keras.utils.deserialize_keras_object(utils.serialize_keras_object(model))
    in_keras.set_weights(model.get_weights())
    x = rng.normal(size=(4, 5)).astype("float32")
    np.testing.assert_allclose(in_keras.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    back = utils.deserialize_keras_object(keras.utils.serialize_keras_object(in_keras))
    assert [l.name for l in back.layers] == [l.name for l in model.layers] and back.compiled

    @mlcore.saving.register_keras_serializable(package="test_utils_more")
    def doubled(x):
        return 2 * x
    spec = utils.serialize_keras_object(doubled)
    assert spec["config"] == "test_utils_more>doubled" and spec["registered_name"] == "function"    # as Keras
    assert utils.deserialize_keras_object(spec) is doubled
    with pytest.raises(ValueError, match="could not locate function"):
        utils.deserialize_keras_object({"module": "builtins", "class_name": "function", "config": "nope"})
    with pytest.raises(TypeError, match="serialize_keras_object: cannot serialize"):
        utils.serialize_keras_object(object())


# --- timeseries_dataset_from_array ------------------------------------------------------------------------
def _windows(data, starts, length, rate):
    return np.stack([data[s:s + length * rate:rate] for s in starts])


def test_timeseries_follows_kerass_documented_examples():
    """Example 1, 2 and 3 of Keras's docstring, run as written there."""
    batches = list(utils.timeseries_dataset_from_array(np.arange(99), None, sequence_length=10, sampling_rate=2,
                                                       sequence_stride=3, shuffle=False))
    steps = np.concatenate(batches)
    np.testing.assert_array_equal(steps[0], np.arange(0, 20, 2))
    np.testing.assert_array_equal(steps[1], np.arange(3, 23, 2))
    np.testing.assert_array_equal(steps[-1], np.arange(78, 98, 2))
    assert len(steps) == 27
    data = np.arange(50.0) ** 2
    inputs, targets = next(iter(utils.timeseries_dataset_from_array(data[:-10], data[10:], sequence_length=10)))
    np.testing.assert_array_equal(inputs[0], data[:10])
    assert targets[0] == data[10]
    x, y = np.arange(100), np.arange(100) * 2
    pairs = zip(utils.timeseries_dataset_from_array(x, None, sequence_length=20, sequence_stride=20),
                utils.timeseries_dataset_from_array(y, None, sequence_length=20, sequence_stride=20))
    inputs, targets = next(pairs)
    np.testing.assert_array_equal(inputs[0], x[:20])
    np.testing.assert_array_equal(targets[1], y[20:40])


@pytest.mark.parametrize("kwargs", [
    {"sequence_length": 4}, {"sequence_length": 3, "sequence_stride": 2, "sampling_rate": 3, "batch_size": 5},
    {"sequence_length": 5, "start_index": 7, "end_index": 30, "batch_size": 4},
    {"sequence_length": 2, "batch_size": None, "start_index": 3}], ids=range(4))
def test_timeseries_windows_and_targets(rng, kwargs):
    data, targets = rng.normal(size=(40, 3)), rng.normal(size=40)
    dataset = utils.timeseries_dataset_from_array(data, targets, **kwargs)
    length, rate = kwargs["sequence_length"], kwargs.get("sampling_rate", 1)
    start, end = kwargs.get("start_index", 0), kwargs.get("end_index", 40)
    starts = np.arange(0, end - start - (length - 1) * rate, kwargs.get("sequence_stride", 1))
    items = list(dataset)
    if kwargs.get("batch_size", 128) is None:
        x, y = np.stack([i[0] for i in items]), np.array([i[1] for i in items])
    else:
        assert [len(i[0]) for i in items[:-1]] == [kwargs.get("batch_size", 128)] * (len(items) - 1)
        x, y = np.concatenate([i[0] for i in items]), np.concatenate([i[1] for i in items])
    np.testing.assert_array_equal(x, _windows(data[start:end], starts, length, rate))
    np.testing.assert_array_equal(y, targets[start:][starts])


def test_timeseries_shuffles_with_kerass_seeded_order_and_feeds_fit(rng):
    data = np.arange(30.0)[:, None]
    first = utils.timeseries_dataset_from_array(data, None, 4, shuffle=True, seed=7, batch_size=None)
    order = np.arange(27)
    np.random.RandomState(7).shuffle(order)
    np.testing.assert_array_equal(np.stack(list(first)), _windows(data, order, 4, 1))

    series = np.sin(np.arange(200) / 5.0).astype("float32")[:, None]
    dataset = utils.timeseries_dataset_from_array(series[:-8], series[8:, 0], sequence_length=8, batch_size=32)
    model = mlcore.Sequential([layers.Input((8, 1)), layers.Flatten(), layers.Dense(1)])
    model.compile(optimizer=mlcore.optimizers.Adam(0.05), loss="mse")
    history = model.fit(dataset, epochs=5, verbose=0)
    assert len(history.history["loss"]) == 5 and history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(dataset, verbose=0).shape == (len(series) - 15, 1)
    assert np.isfinite(model.evaluate(dataset, verbose=0))


@pytest.mark.parametrize("kwargs, message", [
    ({"start_index": -1}, "`start_index` must be 0 or greater"),
    ({"start_index": 20}, "`start_index` must be lower than the length of the data"),
    ({"start_index": 5, "end_index": 4}, "`end_index` must be higher than `start_index`"),
    ({"end_index": 20}, "`end_index` must be lower than the length of the data"),
    ({"end_index": -2}, "`end_index` must be higher than 0"),
    ({"sampling_rate": 0}, "`sampling_rate` must be higher than 0"),
    ({"sampling_rate": 20}, "`sampling_rate` must be lower than the length"),
    ({"sequence_stride": -1}, "`sequence_stride` must be higher than 0"),
    ({"sequence_stride": 25}, "`sequence_stride` must be lower than the length"),
], ids=range(9))
def test_timeseries_rejects_what_keras_rejects(keras, kwargs, message):
    """Keras checks its arguments before it needs tf.data, so its errors are compared directly."""
    for make in (keras.utils.timeseries_dataset_from_array, utils.timeseries_dataset_from_array):
        with pytest.raises(ValueError, match=message):
            make(np.arange(20), None, 3, **kwargs)


def test_lambdas_serialize_as_keras_and_load_only_outside_safe_mode(keras):
    offset = 2

    def make():
        return lambda x, power=2: x ** power + offset
    for writer, reader in ((utils, keras.utils), (keras.utils, utils), (utils, utils)):
        with pytest.warns(UserWarning, match="includes a `lambda`"):
            spec = json.loads(json.dumps(writer.serialize_keras_object({"activation": make()})))
        assert spec["activation"]["class_name"] == "__lambda__" and len(spec["activation"]["config"]["value"]) == 3
        with pytest.raises(ValueError, match="arbitrary code execution"):
            reader.deserialize_keras_object(spec)
        assert reader.deserialize_keras_object(spec, safe_mode=False)["activation"](3) == 11


@pytest.mark.parametrize("config, error", [({"class_name": "function", "config": ["a"]},
                                            "Expected 'config' to be a non-null str"),
                                           ({"class_name": "Dense", "config": [1, 2, 3]},
                                            "Expected 'config' to be a dict for Dense")])
def test_malformed_configs_are_type_errors_as_keras(keras, config, error):
    for lib in (keras, mlcore):
        with pytest.raises(TypeError, match=error):
            lib.utils.deserialize_keras_object(config)


@pytest.mark.parametrize("spec", [{"class_name": "Dense", "module": "keras.layers", "config": {"units": 1}},
                                  {"class_name": "function", "module": "keras.activations", "config": "relu"}])
def test_a_builtin_with_another_registered_name_is_refused_as_keras(keras, spec):
    """Keras's guard: a built-in's config does not pick another object by registered name."""
    for lib in (keras, mlcore):
        for name in ("builtins.eval", "my_pkg>MyDense"):
            with pytest.raises(ValueError, match="resolved to a Keras built-in"):
                lib.utils.deserialize_keras_object({**spec, "registered_name": name})
        assert lib.utils.deserialize_keras_object({**spec, "registered_name": None}) is not None

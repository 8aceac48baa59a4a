"""Functional and Sequential models as Keras 3's own model tests (keras/src/models/functional_test.py,
sequential_test.py and cloning_test.py, run by tools/keras_layer_suite.py) found them to differ: the
structures a model takes its inputs in and gives its outputs in, rank standardization, models made from
intermediate tensors, nested configs, and Keras's errors and warnings.  Each is checked side by side with
Keras 3 itself."""
import warnings

import numpy as np
import pytest

import mlcore

pytestmark = pytest.mark.usefixtures("numpy_backend")


def both(keras):
    return (keras, mlcore)


def structure_warnings(records):
    return [str(w.message) for w in records if str(w.message).startswith("The structure of `inputs` doesn't match")]


def call_recording_warnings(fn):
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        result = fn()
    return result, structure_warnings(records)


def test_model_inputs_and_outputs_must_be_keras_tensors(keras):
    for lib in both(keras):
        a, b = lib.Input((3,), name="a"), lib.Input((3,), name="b")
        out = lib.layers.Dense(2)(a + b)
        with pytest.raises(ValueError, match="All `inputs` values must be KerasTensors"):
            lib.Model({"a": "input_a", "b": b}, out)
        with pytest.raises(ValueError, match="All `outputs` values must be KerasTensors"):
            lib.Model({"a": a, "b": b}, "outputs")


def test_inputs_given_by_name_or_by_the_models_dict_keys(keras):
    x = {"a": np.ones((2, 3), "float32"), "b": np.ones((2, 4), "float32")}
    for lib in both(keras):
        a, b = lib.Input((3,), name="a"), lib.Input((4,), name="b")
        out = lib.layers.Dense(4)(lib.layers.Concatenate()([a, b]))
        by_name = lib.Model([a, b], out)
        assert by_name(x).shape == (2, 4)
        assert by_name({"a": lib.Input((3,), batch_size=2), "b": lib.Input((4,), batch_size=2)}).shape == (2, 4)
        with pytest.warns(UserWarning, match="all keys in the dict must match the names"):
            other_keys = lib.Model({"c": a, "d": b}, out)
        assert other_keys({"c": x["a"], "d": x["b"]}).shape == (2, 4)
        with pytest.raises(ValueError):
            other_keys(x)         # the Inputs' names are not its keys
        with pytest.raises(ValueError, match=r"expects 2 named input\(s\) with keys"):
            other_keys(x["a"])


def test_a_dict_with_an_extra_key_warns_and_gives_the_models_key(keras):
    x = {"a": np.full((2, 3), 2.0, "float32"), "b": np.zeros((2, 1), "float32")}
    seen = []
    for lib in both(keras):
        a = lib.Input((3,), batch_size=2, name="a")
        model = lib.Model({"a": a}, a * 5 + 2)
        out, eager_warnings = call_recording_warnings(lambda: model(x))
        _, symbolic_warnings = call_recording_warnings(
            lambda: model({"a": lib.Input((3,), batch_size=2), "b": lib.Input((1,), batch_size=2)}))
        seen.append((len(eager_warnings), len(symbolic_warnings)))
        np.testing.assert_allclose(out, np.full((2, 3), 12.0))
    assert seen[0] == seen[1] == (1, 0)
    # Keras feeds the dict's first values in sorted key order; mlcore takes the model's keys, whatever
    # the extra keys sort as
    np.testing.assert_allclose(model({"0": np.zeros((2, 1), "float32"), "a": x["a"]}), np.full((2, 3), 12.0))


def test_structure_warnings_and_errors_of_calls_and_predict(keras):
    ones = np.ones((2, 2), "float32")
    found = {}
    for lib in both(keras):
        i1, i2 = lib.Input((2,), name="i1"), lib.Input((2,), name="i2")
        added = lib.layers.Add()([i1, i2])
        as_dict = lib.Model({"i1": i1, "i2": i2}, added)
        as_list = lib.Model([i1, i2], added)
        unsorted = lib.Model({"IT": i1, "IS": i2}, added)
        _, predict_list = call_recording_warnings(lambda: as_dict.predict([ones, 0 * ones], verbose=0))
        _, predict_tuple = call_recording_warnings(lambda: as_list.predict((ones, ones), verbose=0))
        _, call_list = call_recording_warnings(lambda: as_dict([ones, ones]))
        assert predict_list and call_list and predict_list[0].splitlines()[1] == "Expected: {'i1': 'i1', 'i2': 'i2'}"
        found[lib.__name__] = (len(predict_list), len(predict_tuple), len(call_list))
        with pytest.raises(ValueError, match="The structure of `inputs` doesn't match the expected structure"):
            unsorted([ones, ones])
    assert found["mlcore"] == found["keras"] == (1, 0, 1)


def test_none_for_a_required_input_raises_in_calls_and_fit(keras):
    for lib in both(keras):
        x = lib.Input((3,), name="x")
        model = lib.Model(x, lib.layers.Dense(1)(x))
        model.compile(optimizer="sgd", loss="mse")
        with pytest.raises(ValueError, match="The input 'x' is not optional"):
            model.fit([None], np.ones((4, 1)), epochs=1, verbose=0)
        with pytest.raises(ValueError, match="The input 'x' is not optional"):
            model(None)


def test_rank_standardization_squeezes_or_expands_a_trailing_one(keras):
    x = np.arange(6, dtype="float32").reshape(2, 3)
    for lib in both(keras):
        flat = lib.Input((3,), batch_size=2)
        model = lib.Model(flat, lib.layers.Dense(3)(flat))
        np.testing.assert_allclose(model(x[..., None]), model(x))
        assert model.predict(x[..., None], verbose=0).shape == (2, 3)
        column = lib.Input((3, 1), batch_size=2)
        assert lib.Model(column, lib.layers.Dense(3)(column))(x).shape == (2, 3, 3)
        scalar = lib.Input((1,))
        assert lib.Model(scalar, lib.layers.Dense(2)(scalar)).predict(np.ones(5, "float32"), verbose=0).shape == (5, 2)
        foo = lib.Input((3,), name="foo")
        with pytest.raises(ValueError, match="name 'foo' .* path ''"):
            lib.Model(foo, lib.layers.Dense(3)(foo))(np.ones((2, 3, 4), "float32"))
        nested = [{"foo": lib.Input((3,), name="my_input")}]
        with pytest.raises(ValueError, match="name 'my_input' .* path '0.foo'"):
            lib.Model(nested, lib.layers.Dense(3)(nested[0]["foo"]))(np.float32(1.0))
    # Keras's symbolic call skips the standardization its eager call makes; mlcore's makes it in both
    assert model(mlcore.Input((3, 1), batch_size=2)).shape == (2, 3)


def test_input_spec_of_a_functional_model(keras):
    for lib in both(keras):
        x = lib.Input((4,))
        model = lib.Model(x, lib.layers.Dense(2)(x))
        with pytest.raises(ValueError, match=r"expected shape=\(None, 4\), found shape=\(2, 3\)"):
            model(np.zeros((2, 3)))
        with pytest.raises(ValueError, match=r"expects 1 .*input"):
            model([np.zeros((2, 4)), np.zeros((2, 4))])
        spec = model.input_spec[0]
        assert (spec.shape, spec.allow_last_axis_squeeze) == ((None, 4), True)
        model.input_spec = lib.layers.InputSpec(shape=(None, 5))
        with pytest.raises(ValueError, match=r"expected shape=\(None, 5\), found shape=\(2, 4\)"):
            model(np.zeros((2, 4)))
        assert lib.Sequential([lib.Input((4,)), lib.layers.Dense(2)]).input_spec is None


def test_eager_inputs_take_their_inputs_dtype(keras):
    for lib in both(keras):
        half, whole = lib.Input((2,), dtype="float16"), lib.Input((2,), dtype="int32")
        model = lib.Model((half, whole), (half + 2, whole + 2))
        floats, ints = model((np.ones((2, 2)), np.ones((2, 2))))
        assert (str(floats.dtype), str(ints.dtype)) == ("float16", "int32")
        summed = lib.layers.Dense(1, kernel_initializer="ones", use_bias=False)(lib.ops.cast(whole, "float32"))
        np.testing.assert_allclose(lib.Model(whole, summed)(np.full((1, 2), 1.7)), [[2.0]])  # 1.7 read as 1


def test_output_structures_survive_the_config(keras):
    x = np.ones((2, 3), "float32")
    for lib in both(keras):
        inputs = lib.Input((3,), batch_size=2, name="input")
        a, b = lib.layers.Dense(4)(inputs), lib.layers.Dense(5)(inputs)
        for outputs in ([a, b], (a, b), {"a": a, "b": b}):
            restored = lib.Model.from_config(lib.Model(inputs, outputs).get_config())
            assert type(restored(x)) is type(outputs)
            assert type(restored(lib.Input((3,), batch_size=2))) is type(outputs)
        single = lib.Model(inputs, [a])
        assert not isinstance(single(x), (list, tuple))     # an eager call gives the one output alone
        assert isinstance(single(lib.Input((3,))), list)


def test_deeply_nested_model_round_trips_through_keras_archives(keras, tmp_path):
    def nested(lib):
        L = lib.layers
        i1, i2, i3 = L.Input((1,), name="one"), L.Input((2,), name="two"), L.Input((3,), name="three")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # the keys are not the Inputs' names
            return lib.Model({"1": i1, "others": {"2": i2, "3": i3}},
                             {"1": L.Dense(1)(i1), "others": {"2": L.Dense(2)(i2), "3": L.Dense(3)(i3)}})
    x = {"1": np.ones((2, 1), "float32"), "others": {"2": np.ones((2, 2), "float32"), "3": np.ones((2, 3), "float32")}}
    ours, theirs = nested(mlcore), nested(keras)
    assert ours.get_config()["input_layers"] == theirs.get_config()["input_layers"]
    ours.save(tmp_path / "ours.keras")
    theirs.save(tmp_path / "theirs.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        in_keras = keras.saving.load_model(tmp_path / "ours.keras")
        in_mlcore = mlcore.saving.load_model(tmp_path / "ours.keras")
        from_keras = mlcore.saving.load_model(tmp_path / "theirs.keras")
    for model, reference in ((in_keras, ours), (in_mlcore, ours), (from_keras, theirs)):
        out, expected = model(x), reference(x)
        assert set(out) == {"1", "others"} and set(out["others"]) == {"2", "3"}
        np.testing.assert_allclose(np.asarray(out["others"]["3"]), np.asarray(expected["others"]["3"]), rtol=1e-6)
    deep = mlcore.Input((3,), name="deep")
    nested_list = mlcore.Model([[deep]], mlcore.layers.Dense(2)(deep))
    assert mlcore.models.model_from_json(nested_list.to_json()).to_json() == nested_list.to_json()


def test_a_model_of_intermediate_tensors_starts_from_new_input_layers(keras, tmp_path):
    x = np.ones((1, 2, 3), "float32")
    for lib in both(keras):
        inputs = lib.Input((None, 2), name="input")
        x1 = lib.layers.Dense(3, name="dense1")(inputs)
        x2 = lib.layers.Dense(4, name="dense2")(x1)
        outputs = lib.layers.Dense(5, name="dense3")(x2)
        full = lib.Model(inputs, outputs)
        partial = lib.Model(x1, outputs)
        assert [type(l).__name__ for l in partial.layers] == ["InputLayer", "Dense", "Dense"]
        assert [l.name for l in partial.layers[1:]] == ["dense2", "dense3"]
        assert partial.layers[1] is full.get_layer("dense2")
        assert [type(l).__name__ for l in lib.Model(x1, x2).layers] == ["InputLayer", "Dense"]
        expected = full.get_layer("dense3")(full.get_layer("dense2")(x))
        np.testing.assert_allclose(np.asarray(partial(x)), np.asarray(expected), rtol=1e-6)
        partial.save(tmp_path / ("%s.keras" % lib.__name__))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        revived = keras.saving.load_model(tmp_path / "mlcore.keras")
    assert [l.name for l in revived.layers[1:]] == ["dense2", "dense3"]


def test_disconnected_outputs_name_their_path(keras):
    for lib in both(keras):
        i1, i2 = lib.Input((2,), name="input1"), lib.Input((2,), name="input2")
        for outputs, path in (({"output1": i1 * 2, "output2": i2 * 3}, "output2"), ([i1 * 2, i1 + i2], "1"),
                              (i2 * 3, "")):
            with pytest.raises(ValueError, match="Output with path `%s` is not connected to `inputs`" % path):
                lib.Model(i1, outputs)


def _config(inbound_nodes_of_b):
    layers = [{"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
               "config": {"batch_input_shape": [None, 10], "dtype": "float32", "name": "input_1"}},
              {"class_name": "Dense", "name": "node_a", "config": {"units": 10, "name": "node_a"},
               "inbound_nodes": [[["node_b", 0, 0, {}]]]}]
    if inbound_nodes_of_b is not None:
        layers.append({"class_name": "Dense", "name": "node_b", "config": {"units": 10, "name": "node_b"},
                       "inbound_nodes": inbound_nodes_of_b})
    return {"name": "broken", "layers": layers, "input_layers": [["input_1", 0, 0]],
            "output_layers": [["node_a", 0, 0]]}


def test_broken_configs_raise_keras_errors(keras):
    for lib in both(keras):
        with pytest.raises(ValueError, match="has loops or disconnected nodes"):
            lib.Model.from_config(_config([[["node_a", 0, 0, {}]]]))
        with pytest.raises(ValueError, match="Missing node: node_b"):
            lib.Model.from_config(_config(None))


def test_layers_attribute_is_reserved(keras):
    for lib in both(keras):
        x = lib.Input((3,))
        with pytest.raises(AttributeError, match="`Model.layers` attribute is reserved"):
            lib.Model(x, lib.layers.Dense(5)(x)).layers = []
        with pytest.raises(AttributeError, match=r"Use `add\(\)` and `pop\(\)`"):
            lib.Sequential().layers = []


def two_positional_layer(lib):
    """A layer whose call takes two required positional arguments, which a Sequential cannot feed."""
    class BadLayer(lib.layers.Layer):
        def call(self, inputs, training):
            return inputs
    return BadLayer()


def test_sequential_errors_in_kerass_words(keras):
    for lib in both(keras):
        with pytest.raises(ValueError, match="Only instances of `keras.Layer` can be added"):
            lib.Sequential().add({})
        model = lib.Sequential([lib.Input((2,), batch_size=3)])
        with pytest.raises(ValueError, match="already been configured"):
            model.add(lib.Input((2,), batch_size=3))
        model.add(lib.layers.Dense(2))
        with pytest.raises(ValueError, match="already been configured"):
            model.build((3, 4))
        model.build((3, 2))
        with pytest.raises(ValueError, match="no layers"):
            lib.Sequential()(np.ones((3, 2)))
        model = lib.Sequential([two_positional_layer(lib)])
        with pytest.raises(ValueError, match="can only have a single.*positional"):
            model.build((None, 2))


def test_sequential_of_an_input_alone_keeps_its_shape_through_the_config():
    model = mlcore.Sequential([mlcore.Input((4,))])
    again = mlcore.Sequential.from_config(model.get_config())
    again.add(mlcore.layers.Dense(2))
    assert again.input_shape == (None, 4)


def test_clone_model_with_structured_input_tensors(keras):
    for lib in both(keras):
        x, y = lib.Input((3,)), lib.Input((3,))
        inputs, outputs = {"x": x, "y": y}, {"z1": x + y, "z2": lib.layers.Dense(5)(x + y)}
        model = lib.Model(inputs, outputs)
        for given in (None, {"x": lib.Input((3,)), "y": lib.Input((3,))}):
            clone = lib.models.clone_model(model, input_tensors=given)
            lib.tree.assert_same_structure(clone.input, inputs)
            lib.tree.assert_same_structure(clone.output, outputs)
        with pytest.raises(ValueError, match="`input_tensors` must have the same structure as model.input"):
            lib.models.clone_model(model, input_tensors=(x, y))


def test_predict_gives_the_outputs_in_the_models_structure_as_keras(keras):
    import collections
    import mlcore
    pair = collections.namedtuple("Pair", ["y1", "y2"])
    for lib in (mlcore, keras):
        x = lib.Input((3,))
        a, b = lib.layers.Dense(1)(x), lib.layers.Dense(1)(x)
        kinds = [type(lib.Model(x, outputs).predict(np.ones((2, 3)), verbose=0)).__name__
                 for outputs in ([a], (a, b), [a, b], pair(a, b), {"a": a, "b": b})]
        assert kinds == ["ndarray", "tuple", "list", "Pair", "dict"]


def test_an_unused_input_is_the_models_and_in_its_config(keras, rng):
    """Keras keeps an Input no output reads (losses may use it): first among the shallowest operations."""
    orders, outputs = {}, {}
    for lib in both(keras):
        a, b = lib.Input((3,), name="a"), lib.Input((3,), name="b")
        model = lib.Model({"a": a, "b": b}, lib.layers.Dense(2, name="d")(a) * 2)
        orders[lib.__name__] = ([op.name.split("_")[0] for op in model.operations],   # op names count up
                                [layer.name for layer in model.layers])
        outputs[lib.__name__] = model
    assert orders["mlcore"] == orders["keras"] == (["a", "d", "b", "multiply"], ["a", "d", "b"])
    ours, theirs = outputs["mlcore"], outputs["keras"]
    theirs.set_weights(ours.get_weights())
    x = {"a": rng.normal(size=(4, 3)).astype("float32"), "b": rng.normal(size=(4, 3)).astype("float32")}
    again = mlcore.Model.from_config(ours.get_config())
    again.set_weights(ours.get_weights())
    np.testing.assert_allclose(again.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    assert [layer.name for layer in again.layers] == ["a", "d", "b"]


def test_operations_is_a_functional_models_only(keras):
    for lib in both(keras):
        class Subclassed(lib.Model):
            def call(self, x):
                return x
        assert not hasattr(Subclassed(), "operations")


def test_export_checks_the_format_as_keras_and_says_why_it_cannot_write_it(keras, tmp_path):
    for lib in both(keras):
        inputs = lib.Input((3,))
        model = lib.Model(inputs, lib.layers.Dense(2)(inputs))
        with pytest.raises(ValueError, match=r"Unrecognized format=bad_format. Supported formats are: "
                                             r"\['tf_saved_model', 'onnx', 'openvino', 'litert', 'torch'\]"):
            model.export(tmp_path / "exported", format="bad_format")
        with pytest.raises(ValueError, match="LiteRT export requires TensorFlow or PyTorch backend."):
            model.export(tmp_path / "exported", format="litert")
    with pytest.raises(NotImplementedError, match=r"cannot be exported to onnx .*model.save\('model.keras'\)"):
        model.export(tmp_path / "exported", format="onnx")
    assert not (tmp_path / "exported").exists()


def test_flatten_layers_walks_the_layers_in_keras_order(keras):
    """Keras's private, much-used _flatten_layers: self, then the layers held, each once, a layer's
    own sublayers taken next, last first (Keras's deque); InputLayers, which mlcore's Sequential
    does not hold, left out of the comparison."""
    def names(layers):
        return [type(layer).__name__ + ":" + layer.name.split("_")[0] for layer in layers
                if type(layer).__name__ != "InputLayer"]

    def nested(lib):
        inner = lib.Sequential([lib.layers.Dense(2, name="a_inner"), lib.layers.Dense(1, name="b_inner")])
        return lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, name="c_outer"), inner])
    ours, theirs = nested(mlcore), nested(keras)
    assert names(ours._flatten_layers()) == names(theirs._flatten_layers())
    assert names(ours._flatten_layers(include_self=False, recursive=False)) == \
        names(theirs._flatten_layers(include_self=False, recursive=False))
    shared = mlcore.layers.Dense(2)
    a = mlcore.Input((2,))
    twice = mlcore.Model(a, shared(shared(a)))          # a layer called twice is listed once
    assert [layer for layer in twice._flatten_layers(include_self=False) if layer is not twice.layers[0]] == [shared]


def test_export_archive_is_refused_when_made_with_the_way_out():
    """keras.export.ExportArchive writes a TensorFlow SavedModel; mlcore says at once that it cannot."""
    from mlcore.export import ExportArchive
    with pytest.raises(NotImplementedError, match=r"ExportArchive cannot write a TensorFlow SavedModel .*"
                                                  r"model.save\('model.keras'\)"):
        ExportArchive()
    with pytest.raises(ValueError, match="Unsupported format: onnx"):     # Keras's check, first
        ExportArchive(format="onnx")
    assert mlcore.export.ExportArchive is ExportArchive

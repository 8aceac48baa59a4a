"""keras.saving.KerasFileEditor and keras.legacy.saving / keras.utils.legacy, against Keras 3.15 itself:
the same files (written by mlcore and by Keras), the same edits, the same answers."""
import copy
import os

import h5py
import numpy as np
import pytest

import mlcore
from mlcore.legacy import saving as legacy
from mlcore.saving import KerasFileEditor


def _model(lib, extra=False, compiled=False):
    """Keras's own editor test's models: two Dense layers (extra=True: three)."""
    inputs = lib.Input((2,))
    x = lib.layers.Dense(3, name="mydense")(inputs)
    if extra:
        x = lib.layers.Dense(3, name="myotherdense")(x)
    x = lib.layers.BatchNormalization(name="norm")(x)
    model = lib.Model(inputs, lib.layers.Dense(3, name="output_layer")(x))
    if compiled:
        model.compile(optimizer="adam", loss="mse")
        model.fit(np.ones((4, 2), "float32"), np.ones((4, 3), "float32"), verbose=0)
    return model


def _flat(tree, path=""):
    """{"/layers/dense/0": array} of an editor's tree."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{path}/{key}"))
        else:
            flat[f"{path}/{key}"] = np.asarray(value)
    return flat


def _assert_same_tree(ours, theirs):
    ours, theirs = _flat(ours), _flat(theirs)
    assert list(ours) == list(theirs)
    for key in ours:
        np.testing.assert_array_equal(ours[key], theirs[key])
        assert ours[key].dtype == theirs[key].dtype


@pytest.fixture(scope="module")
def files(keras, tmp_path_factory):
    """The same compiled, trained model saved by Keras and by mlcore: {"keras": path, "mlcore": path}."""
    folder = tmp_path_factory.mktemp("file_editor")
    paths = {}
    for lib in (keras, mlcore):
        paths[lib.__name__] = str(folder / f"{lib.__name__}.keras")
        _model(lib, compiled=True).save(paths[lib.__name__])
    return paths


@pytest.mark.parametrize("writer", ["keras", "mlcore"])
def test_view_and_summary_match_keras(keras, files, writer, capsys):
    theirs = keras.saving.KerasFileEditor(files[writer])
    theirs.summary()
    expected = capsys.readouterr().out
    ours = KerasFileEditor(files[writer])
    ours.summary()
    assert capsys.readouterr().out.split() == expected.split()   # rich wraps Keras's long lines (a long path)
    _assert_same_tree(ours.weights_dict, theirs.weights_dict)
    assert ours.object_metadata == theirs.object_metadata
    assert ours.config == theirs.config and ours.metadata == theirs.metadata
    assert len(_flat(ours.weights_dict)) == 8 + 2 + 2 * 6  # 8 layer weights, 6 trainable; adam: 2 + 2 each


@pytest.mark.parametrize("writer", ["keras", "mlcore"])
def test_compare_of_a_trained_model_matches_keras(keras, files, writer, capsys):
    expected = keras.saving.KerasFileEditor(files[writer]).compare(_model(keras, extra=True))
    keras_text = capsys.readouterr().out
    ours = KerasFileEditor(files[writer]).compare(_model(mlcore, extra=True))
    assert ours == expected and ours["status"] == "error"
    assert capsys.readouterr().out.split() == keras_text.split()    # rich wraps Keras's lines at 80 columns


def test_edits_as_keras_does_them_load_in_both_libraries(keras, tmp_path):
    """Keras's own editor test, step by step on both editors, then the result loaded by both libraries."""
    source = str(tmp_path / "source.keras")
    _model(keras).save(source)
    editors = (keras.saving.KerasFileEditor(source), KerasFileEditor(source))
    targets = (_model(keras, extra=True), _model(mlcore, extra=True))
    new_kernel, new_bias = np.random.default_rng(0).random((3, 3)), np.arange(3.0)

    def both(step):
        results = [step(editor, target) for editor, target in zip(editors, targets)]
        assert results[0] == results[1]
        return results[1]
    assert both(lambda e, t: e.compare(t))["error_count"] == 1     # the middle layer, dense_2 in the target
    both(lambda e, t: e.rename_object("layers/dense_1", "dense_2"))
    both(lambda e, t: e.add_object("layers/dense_1", weights={"0": new_kernel}))
    # one weight missing (dense_1's bias), counted as Keras 3.15 counts it (see file_editor._compare)
    assert both(lambda e, t: e.compare(t)) == {"status": "error", "error_count": 4, "match_count": 30}
    both(lambda e, t: e.add_weights("dense_1", weights={"1": new_bias}))
    assert both(lambda e, t: e.compare(t))["status"] == "success"
    both(lambda e, t: e.add_object("layers/extra", weights={"0": np.zeros(2)}))
    assert both(lambda e, t: e.compare(t))["status"] == "error"
    both(lambda e, t: e.delete_object("layers/extra"))
    _assert_same_tree(editors[1].weights_dict, editors[0].weights_dict)
    saved = [str(tmp_path / f"{name}.weights.h5") for name in ("keras", "mlcore")]
    for editor, path in zip(editors, saved):
        editor.save(path)
    for target, path in zip(targets, reversed(saved)):      # each library loads the other's file
        target.load_weights(path)
    for model in targets:
        np.testing.assert_allclose(model.get_layer("myotherdense").get_weights()[0], new_kernel, rtol=1e-6)
        np.testing.assert_array_equal(model.get_layer("myotherdense").get_weights()[1], new_bias)
    reopened = KerasFileEditor(saved[1])
    assert reopened.compare(targets[1])["status"] == "success"
    reopened.delete_weight("dense_1", "1")
    assert reopened.compare(targets[1])["status"] == "error"
    reopened.add_weights("dense_1", {"1": np.zeros(7)})
    assert reopened.compare(targets[1])["status"] == "error"
    reopened.delete_weight("dense_1", "1")
    reopened.add_weights("dense_1", {"1": np.zeros(3)})
    assert reopened.compare(targets[1])["status"] == "success"


def test_nested_models_and_rnn_cells_are_part_of_the_tree(keras, tmp_path):
    """Keras 3.15's editor leaves out an object whose vars group is empty together with what it holds
    (a nested model's layers, an LSTM's cell) and loses them when it saves; this editor keeps them."""
    def build(lib):
        inner = lib.Sequential([lib.Input((5, 3)), lib.layers.Dense(2, name="inner_dense")], name="inner")
        return lib.Sequential([lib.Input((5, 3)), lib.layers.LSTM(3, return_sequences=True), inner])
    path = str(tmp_path / "nested.keras")
    build(keras).save(path)
    editor = KerasFileEditor(path)
    assert list(_flat(editor.weights_dict)) == [
        "/layers/lstm/cell/0", "/layers/lstm/cell/1", "/layers/lstm/cell/2",
        "/layers/sequential/layers/dense/0", "/layers/sequential/layers/dense/1"]
    assert editor.object_metadata["/layers/sequential/layers/dense"] == {"name": "inner_dense"}
    assert editor.compare(build(mlcore))["status"] == "success"
    kernel = np.full((3, 2), 0.5, "float32")
    editor.delete_weight("layers/sequential/layers/dense", "0")
    editor.add_weights("layers/sequential/layers/dense", {"0": kernel})
    editor.save(str(tmp_path / "nested.weights.h5"))
    model = build(keras)
    model.load_weights(str(tmp_path / "nested.weights.h5"))
    np.testing.assert_array_equal(model.layers[1].layers[0].get_weights()[0], kernel)


@pytest.fixture
def editor(files):
    return KerasFileEditor(files["mlcore"])


@pytest.mark.parametrize("edit, message", [
    (lambda e: e.rename_object("dense", "a/b"), "should be a leaf name"),
    (lambda e: e.rename_object("layers/nothing", "x"), "Path 'layers/nothing' not found"),
    (lambda e: e.delete_object("nothing"), "Source name 'nothing' does not appear"),
    (lambda e: e.delete_object("0"), "Name '0' occurs more than once"),
    (lambda e: e.add_object("layers/missing/dense", {"0": np.zeros(2)}), "Path 'layers/missing' not found"),
    (lambda e: e.add_object("layers/x", [np.zeros(2)]), "Argument `weights` should be a dict"),
    (lambda e: e.add_weights("layers/dense", {"1": np.zeros(2), "2": "text"}), "entry '2'"),
    (lambda e: e.delete_weight("layers/dense", "7"),
     r"Weight 7 not found in object layers/dense. Weights found: \['0', '1'\]"),
    (lambda e: e.delete_weight("layers/dense/0", "0"), "is a weight, not an object"),
])
def test_a_failed_edit_names_the_problem_and_changes_nothing(editor, edit, message):
    before = copy.deepcopy(editor.weights_dict)
    with pytest.raises(ValueError, match=message):
        edit(editor)
    _assert_same_tree(editor.weights_dict, before)


def test_file_errors(editor, files, tmp_path):
    with pytest.raises(ValueError, match=r"expected a `.keras` `.weights.h5` extension. Received: filepath=m.h5"):
        KerasFileEditor("m.h5")
    with pytest.raises(FileNotFoundError, match="absent.keras"):
        KerasFileEditor(str(tmp_path / "absent.keras"))
    (tmp_path / "bad.keras").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="bad.keras.*not a zip file"):
        KerasFileEditor(str(tmp_path / "bad.keras"))
    with pytest.raises(ValueError, match=r"expected a `.weights.h5` extension. Received: filepath=out.h5"):
        editor.save("out.h5")


def test_save_is_atomic(editor, tmp_path):
    target = tmp_path / "kept.weights.h5"
    editor.save(str(target))
    before = target.read_bytes()
    editor.weights_dict["layers"]["broken"] = {"0": np.array([object()], dtype=object)}   # h5 cannot store it
    with pytest.raises(Exception):
        editor.save(str(target))
    assert target.read_bytes() == before and os.listdir(tmp_path) == ["kept.weights.h5"]


def test_links_and_virtual_datasets_are_refused(tmp_path):
    """A weights file must not make the editor read other files."""
    other = str(tmp_path / "other.weights.h5")
    with h5py.File(other, "w") as f:
        f.create_dataset("s", data=np.arange(5, dtype="float32"))
    cases = {"external": lambda f: f.__setitem__("layers", h5py.ExternalLink(other, "/")),
             "soft": lambda f: (f.create_group("real"), f.__setitem__("layers", h5py.SoftLink("/real"))),
             "virtual": lambda f: f.create_group("layers/dense/vars").create_virtual_dataset(
                 "0", _virtual_layout(other))}
    for name, make in cases.items():
        path = str(tmp_path / f"{name}.weights.h5")
        with h5py.File(path, "w") as f:
            make(f)
        with pytest.raises(ValueError, match={"external": "ExternalLink", "soft": "SoftLink"}.get(name, name)):
            KerasFileEditor(path)


def _virtual_layout(source):
    layout = h5py.VirtualLayout(shape=(5,), dtype="float32")
    layout[:] = h5py.VirtualSource(source, "s", shape=(5,))
    return layout


@pytest.fixture(scope="module")
def serializable(keras):
    """A registered custom layer holding an initializer object in its config, in both libraries."""
    def define(lib):
        @lib.saving.register_keras_serializable(package="file_editor_test")
        class Scaled(lib.layers.Layer):
            def __init__(self, init="ones", **kwargs):
                super().__init__(**kwargs)
                self.init = lib.initializers.get(init)

            def get_config(self):
                return {**super().get_config(), "init": self.init}
        return Scaled
    return define(keras), define(mlcore)


def test_legacy_serialization_matches_keras(keras, serializable):
    def objects(lib, scaled):
        return [lib.layers.Dense(3, activation="relu", name="d"), lib.layers.Conv2D(2, 3, padding="same", name="c"),
                lib.Sequential([lib.Input((4,), name="in"), lib.layers.Dense(2, name="x")], name="s"),
                lib.initializers.GlorotUniform(seed=1), lib.optimizers.Adam(0.01, name="opt"), lib.activations.relu, None,
                scaled(init=lib.initializers.Constant(2.0), name="scaled")]
    for theirs, ours in zip(objects(keras, serializable[0]), objects(mlcore, serializable[1])):
        expected = keras.legacy.saving.serialize_keras_object(theirs)
        assert legacy.serialize_keras_object(ours) == expected
        assert mlcore.utils.legacy.serialize_keras_object(ours) == expected
    config = legacy.serialize_keras_object(serializable[1](init=mlcore.initializers.Constant(2.0), name="scaled"))
    assert config["class_name"] == "file_editor_test>Scaled" and config["config"]["init"]["__passive_serialization__"]


def test_legacy_deserialization_round_trips(keras):
    model = mlcore.Sequential([mlcore.Input((4,)), mlcore.layers.Dense(2, activation="relu", name="x")], name="s")
    config = legacy.serialize_keras_object(model)
    rebuilt = legacy.deserialize_keras_object(config, module_objects=vars(mlcore.models))
    assert legacy.serialize_keras_object(rebuilt) == config
    keras_2 = {"class_name": "Dense", "config": {"units": 2, "activation": "relu", "name": "relu",
                                                  "kernel_initializer": {"class_name": "GlorotUniform",
                                                                         "config": {"seed": 3}}}}
    ours = mlcore.legacy.saving.deserialize_keras_object(keras_2, module_objects=vars(mlcore.layers))
    theirs = keras.legacy.saving.deserialize_keras_object(keras_2, module_objects=vars(keras.layers))
    assert ours.get_config() == theirs.get_config() and ours.name == "relu"
    assert legacy.deserialize_keras_object("relu", module_objects=vars(mlcore.activations)) is \
        mlcore.activations.relu
    assert isinstance(legacy.deserialize_keras_object("Zeros", module_objects=vars(mlcore.initializers)),
                      mlcore.initializers.Zeros)
    with pytest.raises(ValueError, match="Unknown layer: 'Nope'"):
        legacy.deserialize_keras_object({"class_name": "Nope", "config": {}}, vars(mlcore.layers),
                                        printable_module_name="layer")
    with pytest.raises(ValueError, match="Expecting python dict contains `class_name` and `config`"):
        legacy.deserialize_keras_object({"config": {}})
    with pytest.raises(ValueError, match="Could not interpret serialized object: 3"):
        legacy.deserialize_keras_object(3)

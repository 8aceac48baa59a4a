"""keras.ops calls that Keras 3's .keras archives keep as nodes of their own (KerasOperation): the masks of
Embedding(mask_zero=True) and Masking in functional models, and ops written between layers.  Models
Keras 3 saves that way load in mlcore and predict the same on every backend, train, save back in each
format, and load again in Keras 3."""
import importlib
import inspect
import json
import os
import zipfile

os.environ.setdefault("KERAS_BACKEND", "jax")     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

from mlcore.models import load_model
from mlcore.models.operations import KerasOperation

pytestmark = [pytest.mark.usefixtures("numpy_backend", "float32_jax"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]  # jax arrays' __array__ in Keras


def masked_tagger(keras):
    """Embedding(mask_zero) -> LSTM -> masked mean: Keras saves the mask as a NotEqual op node."""
    tokens = keras.Input((6,), dtype="int32")
    hidden = keras.layers.LSTM(3, return_sequences=True)(keras.layers.Embedding(12, 4, mask_zero=True)(tokens))
    return keras.Model(tokens, keras.layers.GlobalAveragePooling1D()(hidden)), padded_tokens()


def ops_between_layers(keras):
    """Masking (NotEqual and Any nodes), then concatenate([h, tanh(h) * 2]) written with keras.ops."""
    inputs = keras.Input((5, 4))
    h = keras.layers.LSTM(3)(keras.layers.Masking()(inputs))
    outputs = keras.ops.concatenate([h, keras.ops.tanh(h) * 2.0], axis=-1)
    x = np.random.default_rng(1).normal(size=(3, 5, 4)).astype("float32")
    x[0, 3:], x[1, :2] = 0, 0
    return keras.Model(inputs, outputs), x


def padded_tokens():
    return np.array([[3, 5, 0, 0, 0, 0], [7, 0, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6], [0, 0, 9, 8, 0, 0]])


@pytest.mark.parametrize("build", [masked_tagger, ops_between_layers])
def test_keras_archives_with_op_nodes_load_and_predict_the_same(tmp_path, keras, build, backend):
    theirs, x = build(keras)
    theirs.save(tmp_path / "theirs.keras")
    ops = [spec["class_name"] for spec in json.loads(zipfile.ZipFile(tmp_path / "theirs.keras").read(
        "config.json"))["config"]["layers"] if spec["module"].startswith("keras.src.ops")]
    assert ops       # the premise: Keras wrote op nodes
    ours = load_model(tmp_path / "theirs.keras")
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]   # ops are not layers
    assert sorted(op.keras_class for op in {node.layer for node in ours._nodes}
                  if isinstance(op, KerasOperation)) == sorted(ops)
    ours.compile("sgd", "mse", backend=backend)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("build", [masked_tagger, ops_between_layers])
def test_loaded_op_nodes_save_back_in_every_format(tmp_path, keras, build):
    theirs, x = build(keras)
    expected = theirs.predict(x, verbose=0)
    theirs.save(tmp_path / "theirs.keras")
    ours = load_model(tmp_path / "theirs.keras")
    ours.save(tmp_path / "ours.keras")
    np.testing.assert_allclose(keras.models.load_model(tmp_path / "ours.keras").predict(x, verbose=0), expected,
                               rtol=1e-5, atol=2e-6)
    for name in ("ours.keras", "ours.h5"):
        ours.save(tmp_path / name)
        np.testing.assert_allclose(load_model(tmp_path / name).predict(x, verbose=0), expected, rtol=1e-5,
                                   atol=2e-6)


def test_a_loaded_masked_model_trains_as_keras_reads_it(tmp_path, keras):
    """After fitting the loaded tagger, Keras given its weights predicts what it predicts: the mask held."""
    theirs, tokens = masked_tagger(keras)
    theirs.save(tmp_path / "theirs.keras")
    ours = load_model(tmp_path / "theirs.keras")
    ours.compile("adam", "mse")
    history = ours.fit(tokens, np.ones((4, 3), "float32"), epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours.predict(tokens, verbose=0), theirs.predict(tokens, verbose=0), rtol=1e-5,
                               atol=2e-6)


def test_an_op_mlcore_lacks_is_named(tmp_path, keras):
    """mlcore has every keras.ops function of Keras 3.15: a later Keras's op is played by a renamed one."""
    inputs = keras.Input((4,))
    keras.Model(inputs, keras.ops.view(inputs, "int32")).save(tmp_path / "view.keras")
    with zipfile.ZipFile(tmp_path / "view.keras") as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    files["config.json"] = files["config.json"].replace(b'"View"', b'"Reinterpret"').replace(b'"view"', b'"reinterpret"')
    with zipfile.ZipFile(tmp_path / "later.keras", "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    with pytest.raises(TypeError, match=r"Keras operation Reinterpret \('reinterpret'\) has no mlcore.ops function "
                                         r"'reinterpret'"):
        load_model(tmp_path / "later.keras")


def test_the_op_table_names_arguments_mlcore_functions_take():
    """Each Keras op class in mlcore/models/keras_op_classes.py stands for an mlcore.ops function that takes
    its call's and its constructor's arguments under Keras's names, so that a saved node replays by name."""
    from mlcore import ops
    from mlcore.models.keras_op_classes import KERAS_OP_CLASSES
    for name, (module, _, call_names, constructor_names) in KERAS_OP_CLASSES.items():
        function = getattr(ops.image if module == "image" else ops, name)
        parameters = inspect.signature(function).parameters
        takes_any = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
        variadic = [p.name for p in parameters.values() if p.kind is p.VAR_POSITIONAL]
        for argument in call_names:
            assert argument[1:] in variadic if argument.startswith("*") else argument in parameters, (name, argument)
        assert all(argument in parameters or takes_any for argument in constructor_names), name


@pytest.mark.parametrize("name", ["sum", "add", "get_item", "split", "einsum", "where", "full_like", "image.resize"])
def test_the_op_table_agrees_with_keras(keras, name):
    from mlcore.models.keras_op_classes import KERAS_OP_CLASSES
    module, keras_class, call_names, constructor_names = KERAS_OP_CLASSES[name.split(".")[-1]]
    cls = getattr(importlib.import_module("keras.src.ops." + module), keras_class)
    parameters = list(inspect.signature(cls.call).parameters.values())[1:]
    assert tuple(("*" if p.kind is p.VAR_POSITIONAL else "") + p.name for p in parameters
                 if p.kind is not p.VAR_KEYWORD) == call_names
    assert set(constructor_names) <= set(inspect.signature(cls.__init__).parameters)

"""Assets in .keras archives: Keras's saving_lib hands each layer that has save_assets(dir) / load_assets(dir)
a folder assets/<the layer's path in model.weights.h5>; its lookup layers keep an adapted vocabulary there
(vocabulary.txt, special tokens first) instead of in config.json."""
import json
import zipfile

import numpy as np

import mlcore
from mlcore import layers as L


def lookup_model():
    lookup = L.IntegerLookup()
    lookup.adapt(np.array([[7, 7, 7, 3, 3, 12], [12, 7, 5, 5, 5, 5]]))
    inputs = L.Input((4,), dtype="int64")
    return mlcore.Model(inputs, lookup(inputs))


def as_keras_writes_it(source, target, vocabulary, layer_path="layers/integer_lookup"):
    """source's archive with the adapted vocabulary moved out of the layer's config into the assets, the
    layout Keras 3 writes (IndexLookup.get_config has vocabulary None, save_assets writes vocabulary.txt)."""
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    for layer in config["config"]["layers"]:
        if layer["class_name"] == "IntegerLookup":
            layer["config"]["vocabulary"] = None
            layer["config"].pop("has_input_vocabulary", None)
    members["config.json"] = json.dumps(config).encode()
    members["assets/%s/vocabulary.txt" % layer_path] = "\n".join(str(v) for v in vocabulary).encode()
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_an_adapted_vocabulary_in_the_assets_loads(tmp_path):
    model = lookup_model()
    model.save(tmp_path / "mlcore.keras")
    vocabulary = model.layers[1].get_vocabulary()
    assert vocabulary == [-1, 7, 5, 12, 3]          # OOV, then by count, ties to the larger token
    as_keras_writes_it(tmp_path / "mlcore.keras", tmp_path / "keras.keras", vocabulary)
    loaded = mlcore.models.load_model(tmp_path / "keras.keras")
    assert loaded.layers[1].get_vocabulary() == vocabulary
    x = np.array([[5, 7, 12, 99], [3, 3, 5, 0]])
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), [[2, 1, 3, 0], [4, 4, 2, 0]])


class Vocabulary(L.Layer):
    """A layer whose state is a file, as a user's layer with Keras's save_assets / load_assets."""

    def __init__(self, words=(), **kwargs):
        super().__init__(**kwargs)
        self.words = list(words)

    def call(self, x):
        return x

    def save_assets(self, dir_path):
        with open("%s/words.txt" % dir_path, "w") as f:
            f.write("\n".join(self.words))

    def load_assets(self, dir_path):
        with open("%s/words.txt" % dir_path) as f:
            self.words = f.read().split("\n")


def test_a_layers_own_assets_round_trip(tmp_path):
    inputs = L.Input((3,))
    model = mlcore.Model(inputs, L.Dense(2)(Vocabulary(["ab", "c d"], name="words")(inputs)))
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        assert archive.read("assets/layers/vocabulary/words.txt") == b"ab\nc d"
    loaded = mlcore.models.load_model(path, custom_objects={"Vocabulary": Vocabulary})
    assert loaded.get_layer("words").words == ["ab", "c d"]

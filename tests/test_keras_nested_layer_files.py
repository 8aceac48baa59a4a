"""Weight files of layers that hold layers, against Keras 3 itself: custom layers with sublayer attributes
(keras.io's TokenAndPositionEmbedding and TransformerBlock), lists, dicts and nested lists of layers, nested
custom layers, a subclassed model, a Sequential of custom layers and mlcore's own holders (Bidirectional,
TimeDistributed, stacked RNN cells, MultiHeadAttention).  The same model code runs in both libraries; their
``.weights.h5`` files have the same h5 paths, each library loads the other's ``.weights.h5`` and ``.keras``
files and predicts as the writer did, optimizer state included; mlcore's earlier flat files still load."""
import os
import zipfile

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import h5py
import numpy as np
import pytest

import mlcore

MODELS = ("text_transformer", "held_containers", "subclassed", "sequential", "builtin_holders")


@pytest.fixture(autouse=True)
def fresh_names(keras):
    """Both libraries' layer-name counters start again after each test, which builds more models in one
    library than in the other: other modules compare names made in both."""
    yield
    keras.backend.clear_session()
    mlcore.backend.clear_session()


def define(keras):
    """The custom classes, for either library (each gets its own classes of the same names)."""
    layers = keras.layers

    class TokenAndPositionEmbedding(layers.Layer):
        def __init__(self, maxlen, vocab_size, embed_dim, **kwargs):
            super().__init__(**kwargs)
            self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

        def call(self, x):
            positions = keras.ops.arange(0, keras.ops.shape(x)[-1], 1)
            return self.token_emb(x) + self.pos_emb(positions)

    class TransformerBlock(layers.Layer):
        def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1, **kwargs):
            super().__init__(**kwargs)
            self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.ffn = keras.Sequential([layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)])
            self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
            self.dropout1 = layers.Dropout(rate)
            self.dropout2 = layers.Dropout(rate)

        def call(self, inputs):
            attended = self.layernorm1(inputs + self.dropout1(self.att(inputs, inputs)))
            return self.layernorm2(attended + self.dropout2(self.ffn(attended)))

    class Scaled(layers.Layer):
        """A nested custom layer with a weight of its own beside its sublayer's."""
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.proj = layers.Dense(3)

        def build(self, input_shape):
            self.scale = self.add_weight(shape=(3,), initializer="random_normal", name="scale")

        def call(self, x):
            return self.proj(x) * self.scale

    class Holder(layers.Layer):
        """Layers in a list (with a nested list), a dict, a private attribute and a custom layer."""
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.blocks = [layers.Dense(3), layers.Dense(3), [layers.Dense(3)]]
            self.table = {"b": layers.Dense(3), "a": layers.BatchNormalization()}
            self._private = layers.Dense(3)
            self.inner = Scaled()

        def call(self, x):
            for block in self.blocks[:2]:
                x = block(x)
            x = self.blocks[2][0](x)
            x = self.table["b"](x) + self.table["a"](x)
            return self.inner(self._private(x))

    class RecurrentHolder(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.rnn = layers.Bidirectional(layers.GRU(2))

        def call(self, x):
            return self.rnn(x)

    class Classifier(keras.Model):
        """A subclassed model: layers in attributes (some stored under `layers`, as Keras's walk meets
        them there first) and a weight of its own."""
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.embedding = TokenAndPositionEmbedding(8, 20, 4)
            self.block = TransformerBlock(4, 2, 8)
            self.pool = layers.GlobalAveragePooling1D()
            self.out = layers.Dense(2)
            self.bias = self.add_weight(shape=(2,), initializer="random_normal", name="bias")

        def call(self, x):
            return self.out(self.pool(self.block(self.embedding(x)))) + self.bias

    return {cls.__name__: cls for cls in (TokenAndPositionEmbedding, TransformerBlock, Scaled, Holder,
                                          RecurrentHolder, Classifier)}


def build(keras, name):
    """(model, custom objects, inputs) of one of MODELS, built with either library."""
    custom = define(keras)
    layers = keras.layers
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 20, (3, 8)).astype("int32")
    if name == "subclassed":
        model = custom["Classifier"]()
        model(tokens)
        return model, custom, tokens
    if name == "sequential":
        model = keras.Sequential([keras.Input((8,), dtype="int32"), custom["TokenAndPositionEmbedding"](8, 20, 4),
                                  custom["TransformerBlock"](4, 2, 8), layers.GlobalAveragePooling1D(),
                                  layers.Dense(2)])
        return model, custom, tokens
    if name == "builtin_holders":
        inputs = keras.Input((6, 3))
        x = layers.Bidirectional(layers.LSTM(4, return_sequences=True))(inputs)
        x = layers.TimeDistributed(layers.Dense(3))(x)
        x = layers.RNN(layers.StackedRNNCells([layers.GRUCell(3), layers.SimpleRNNCell(2)]), return_sequences=True)(x)
        x = layers.BatchNormalization()(x)
        x = layers.MultiHeadAttention(num_heads=2, key_dim=2)(x, x)
        outputs = layers.Dense(1)(custom["RecurrentHolder"]()(x))
        return keras.Model(inputs, outputs), custom, rng.normal(size=(3, 6, 3)).astype("float32")
    inputs = keras.Input((8,), dtype="int32")
    x = custom["TokenAndPositionEmbedding"](8, 20, 4)(inputs)
    x = custom["TransformerBlock"](4, 2, 8)(x)
    x = layers.Dense(4)(layers.GlobalAveragePooling1D()(x))
    if name == "held_containers":
        x = custom["Holder"]()(x)
    return keras.Model(inputs, layers.Dense(2)(x)), custom, tokens


def h5_paths(path):
    """{h5 path: dataset shape, or None for a group} of a weights file or of a .keras archive's weights."""
    found = {}
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive, archive.open("model.weights.h5") as member:
            return h5_paths_of(h5py.File(member, "r"), found)
    with h5py.File(path, "r") as f:
        return h5_paths_of(f, found)


def h5_paths_of(f, found):
    def note(name, item):       # (visititems stops at the first callback that returns something)
        found[name] = getattr(item, "shape", None)
    f.visititems(note)
    return found


def predict(model, x):
    return np.asarray(model.predict(x, verbose=0))


def keras_load(keras, path, custom):
    return keras.saving.load_model(path, custom_objects=custom)


@pytest.mark.parametrize("name", MODELS)
def test_weights_files_have_keras_paths(keras, tmp_path, name):
    ours, theirs = build(mlcore, name)[0], build(keras, name)[0]
    ours.save_weights(tmp_path / "ours.weights.h5")
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    assert h5_paths(tmp_path / "ours.weights.h5") == h5_paths(tmp_path / "theirs.weights.h5")


def test_a_custom_layers_sublayers_are_stored_by_attribute(tmp_path):
    build(mlcore, "text_transformer")[0].save_weights(tmp_path / "m.weights.h5")
    paths = h5_paths(tmp_path / "m.weights.h5")
    assert paths["layers/token_and_position_embedding/token_emb/vars/0"] == (20, 4)
    assert paths["layers/transformer_block/ffn/layers/dense_1/vars/0"] == (8, 4)
    assert paths["layers/transformer_block/att/query_dense/vars/0"] == (4, 2, 4)
    assert not [p for p in paths if p.startswith("layers/transformer_block/vars/")]


@pytest.mark.parametrize("name", MODELS)
def test_keras_files_load_in_mlcore(keras, tmp_path, name):
    theirs, custom, x = build(keras, name)
    expected = predict(theirs, x)
    theirs.save(tmp_path / "theirs.keras")
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    loaded = mlcore.saving.load_model(tmp_path / "theirs.keras", custom_objects=define(mlcore))
    np.testing.assert_allclose(predict(loaded, x), expected, rtol=1e-5, atol=1e-5)
    ours = build(mlcore, name)[0]
    ours.load_weights(tmp_path / "theirs.weights.h5")
    np.testing.assert_allclose(predict(ours, x), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", MODELS)
def test_mlcore_files_load_in_keras(keras, tmp_path, name):
    ours, _, x = build(mlcore, name)
    expected = predict(ours, x)
    ours.save(tmp_path / "ours.keras")
    ours.save_weights(tmp_path / "ours.weights.h5")
    theirs, custom, _ = build(keras, name)
    np.testing.assert_allclose(predict(keras_load(keras, tmp_path / "ours.keras", custom), x), expected,
                               rtol=1e-5, atol=1e-5)
    theirs.load_weights(tmp_path / "ours.weights.h5")
    np.testing.assert_allclose(predict(theirs, x), expected, rtol=1e-5, atol=1e-5)
    assert h5_paths(tmp_path / "ours.keras") == h5_paths(tmp_path / "ours.weights.h5")


def fitted(keras, name):
    model, custom, x = build(keras, name)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.ones((len(x), 2), "float32"), epochs=2, verbose=0)
    return model, custom, x


def optimizer_values(model):
    return [np.asarray(v) for v in model.optimizer.variables]


def assert_same_values(actual, expected):
    assert [a.shape for a in actual] == [e.shape for e in expected]
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["text_transformer", "subclassed"])
def test_optimizer_state_crosses_both_ways(keras, tmp_path, name):
    theirs, _, x = fitted(keras, name)
    theirs.save(tmp_path / "theirs.keras")
    loaded = mlcore.saving.load_model(tmp_path / "theirs.keras", custom_objects=define(mlcore))
    assert_same_values(optimizer_values(loaded), optimizer_values(theirs))
    ours = fitted(mlcore, name)[0]
    ours.save(tmp_path / "ours.keras")
    reloaded = keras_load(keras, tmp_path / "ours.keras", define(keras))
    assert_same_values(optimizer_values(reloaded), optimizer_values(ours))
    np.testing.assert_allclose(predict(reloaded, x), predict(ours, x), rtol=1e-5, atol=1e-5)


def write_flat_file(path, model, keys):
    """A weights file as mlcore wrote it before it followed Keras's walk: each top-level layer's weights,
    its sublayers' included, flat in ``layers/<key>/vars`` (keys: one per model.layers entry)."""
    with h5py.File(path, "w") as f:
        f.create_group("vars").attrs["name"] = model.name
        for key, layer in zip(keys, model.layers):
            group = f.create_group(f"layers/{key}/vars")
            group.attrs["name"] = layer.name
            for k, weight in enumerate(layer.trainable_weights + layer.non_trainable_weights):
                group[str(k)] = np.asarray(weight.numpy())


@pytest.mark.parametrize("name, keys", [
    ("text_transformer", ["input_layer", "token_and_position_embedding", "transformer_block",
                          "global_average_pooling1d", "dense", "dense_1"]),
    ("subclassed", ["token_and_position_embedding", "transformer_block", "global_average_pooling1d", "dense"]),
])
def test_mlcores_earlier_flat_files_still_load(tmp_path, name, keys):
    source, _, x = build(mlcore, name)
    write_flat_file(tmp_path / "flat.weights.h5", source, keys)
    model = build(mlcore, name)[0]
    if name == "subclassed":        # flat files had no group for a subclassed model's own weights
        model.bias.assign(source.bias.numpy())
    model.load_weights(tmp_path / "flat.weights.h5")
    np.testing.assert_allclose(predict(model, x), predict(source, x), rtol=1e-6, atol=1e-6)


def test_an_earlier_flat_keras_archive_still_loads(tmp_path):
    source, _, x = build(mlcore, "text_transformer")
    source.save(tmp_path / "new.keras")
    write_flat_file(tmp_path / "flat.weights.h5", source, ["input_layer", "token_and_position_embedding",
                                                           "transformer_block", "global_average_pooling1d",
                                                           "dense", "dense_1"])
    with zipfile.ZipFile(tmp_path / "new.keras") as new, zipfile.ZipFile(tmp_path / "flat.keras", "w") as flat:
        for member in ("metadata.json", "config.json"):
            flat.writestr(member, new.read(member))
        flat.write(tmp_path / "flat.weights.h5", "model.weights.h5")
    loaded = mlcore.saving.load_model(tmp_path / "flat.keras", custom_objects=define(mlcore))
    np.testing.assert_allclose(predict(loaded, x), predict(source, x), rtol=1e-6, atol=1e-6)


def test_a_file_of_another_model_is_refused_and_changes_nothing(keras, tmp_path):
    theirs, _, x = build(keras, "text_transformer")
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    ours = build(mlcore, "held_containers")[0]
    before = [w.numpy().copy() for w in ours.weights]
    with pytest.raises(ValueError, match="count mismatch|has no weights"):
        ours.load_weights(tmp_path / "theirs.weights.h5")
    assert_same_values([w.numpy() for w in ours.weights], before)


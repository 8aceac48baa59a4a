"""keras.utils.FeatureSpace against Keras 3.15.  Keras's own FeatureSpace needs TensorFlow to adapt and to run
(its lookups, and its __call__, are TensorFlow code), so the encodings are checked block by block against the
Keras layers that run on jax (Normalization, Discretization, Rescaling, CategoryEncoding) and against mlcore's
lookup and crossing layers (checked against Keras's documented values in their own tests); the configs are
compared with Keras's FeatureSpace itself."""
import json

import numpy as np
import pytest

import mlcore
from mlcore.utils import FeatureSpace


def columns(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return {"f": rng.normal(size=n).astype("float32"), "fn": rng.normal(3, 2, size=n),
            "fd": rng.permutation(n).astype("float64"), "ic": rng.integers(0, 4, size=n),
            "sc": rng.choice(["a", "b", "c"], size=n), "sh": rng.choice(["x", "y", "z"], size=n),
            "ih": rng.integers(0, 100, size=n), "fr": rng.integers(0, 10, size=n)}


def every_type():
    return FeatureSpace({"f": "float", "fn": "float_normalized", "fd": FeatureSpace.float_discretized(num_bins=4),
                         "ic": "integer_categorical", "sc": "string_categorical", "sh": "string_hashed",
                         "ih": FeatureSpace.integer_hashed(8), "fr": FeatureSpace.float_rescaled(scale=0.5, offset=1)},
                        crosses=[("ic", "sc"), FeatureSpace.cross(("fd", "ih"), crossing_dim=16)])


@pytest.fixture(scope="module")
def adapted():
    data = columns()
    space = every_type()
    space.adapt(data)
    return space, data


def blocks(space, encoded):
    """The concatenated encoding cut into its parts: features by sorted name, then crosses by sorted name."""
    names = sorted(space.features) + sorted(space.crossers)
    sizes = [space._cardinality(n) if getattr(space.features.get(n) or space.crosses_by_name[n], "output_mode")
             == "one_hot" else 1 for n in names]
    return dict(zip(names, np.split(encoded, np.cumsum(sizes)[:-1], axis=-1)))


def multi_hot(indices, depth):
    return np.eye(depth, dtype="float32")[np.asarray(indices).reshape(-1)]


def test_concat_blocks_match_keras_layers(adapted, keras):
    space, data = adapted
    encoded = space(data)
    assert encoded.shape == (64, 1 + 1 + 4 + 5 + 4 + 32 + 8 + 1 + 32 + 16) and encoded.dtype == np.float32
    parts = blocks(space, encoded)
    np.testing.assert_array_equal(parts["f"][:, 0], data["f"])
    norm = keras.layers.Normalization(axis=-1)
    norm.adapt(data["fn"].reshape(-1, 1))
    np.testing.assert_allclose(parts["fn"], np.asarray(norm(data["fn"].reshape(-1, 1))), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(parts["fr"], np.asarray(keras.layers.Rescaling(0.5, 1)(data["fr"].reshape(-1, 1))))
    boundaries = space.preprocessors["fd"].bin_boundaries       # the exact quartiles (Keras's approximate them)
    np.testing.assert_array_equal(boundaries, np.quantile(data["fd"], [.25, .5, .75], method="inverted_cdf"))
    bins = keras.layers.Discretization(bin_boundaries=boundaries)(data["fd"].reshape(-1, 1))
    expected = keras.layers.CategoryEncoding(num_tokens=4, output_mode="multi_hot")(bins)
    np.testing.assert_array_equal(parts["fd"], np.asarray(expected))


def test_categorical_hashed_and_crossed_blocks(adapted):
    space, data = adapted
    parts = blocks(space, space(data))
    pre = {name: space.preprocessors[name](data[name].reshape(-1, 1)) for name in space.features}
    assert sorted(space.preprocessors["ic"].get_vocabulary()[1:]) == [0, 1, 2, 3]
    for name in ("ic", "sc", "sh", "ih"):
        np.testing.assert_array_equal(parts[name], multi_hot(pre[name], space._cardinality(name)), err_msg=name)
    cross = mlcore.layers.HashedCrossing(32)([pre["ic"], pre["sc"]])
    np.testing.assert_array_equal(parts["ic_X_sc"], multi_hot(cross, 32))
    cross = mlcore.layers.HashedCrossing(16)([pre["fd"], pre["ih"]])
    np.testing.assert_array_equal(parts["fd_X_ih"], multi_hot(cross, 16))


def test_one_sample_is_unbatched(adapted):
    space, data = adapted
    sample = {name: values[5] for name, values in data.items()}
    np.testing.assert_array_equal(space(sample), space(data)[5])
    lists = {name: values.tolist() for name, values in data.items()}          # lists, as Keras takes them
    np.testing.assert_array_equal(space(lists), space(data))


def test_dict_mode_and_int_outputs():
    data = columns()
    space = FeatureSpace({"sc": FeatureSpace.string_categorical(output_mode="int"),
                          "ic": FeatureSpace.integer_categorical(output_mode="int"), "fn": "float_normalized"},
                         crosses=[FeatureSpace.cross(("sc", "ic"), crossing_dim=8, output_mode="int")],
                         output_mode="dict")
    space.adapt(data)
    out = space(data)
    assert list(out) == ["fn", "ic", "sc", "sc_X_ic"]
    assert {name: (v.shape, v.dtype.name) for name, v in out.items()} == {
        "fn": ((64, 1), "float32"), "ic": ((64, 1), "int64"), "sc": ((64, 1), "int64"), "sc_X_ic": ((64, 1), "int64")}
    np.testing.assert_array_equal(out["sc"], space.preprocessors["sc"](data["sc"].reshape(-1, 1)))
    encoded = space.get_encoded_features()
    assert {name: (t.type.shape, t.dtype) for name, t in encoded.items()} == {
        "fn": ((None, 1), "float32"), "ic": ((None, 1), "int64"), "sc": ((None, 1), "int64"),
        "sc_X_ic": ((None, 1), "int64")}
    single = space({name: values[0] for name, values in data.items()})
    assert single["ic"].shape == (1,) and single["ic"][0] == out["ic"][0, 0]


def test_inputs_and_encoded_features(adapted):
    space, data = adapted
    inputs = space.get_inputs()
    assert {name: (t.type.shape, t.dtype) for name, t in inputs.items()} == {
        "f": ((None, 1), "float32"), "fn": ((None, 1), "float32"), "fd": ((None, 1), "float32"),
        "ic": ((None, 1), "int32"), "sc": ((None, 1), "int64"), "sh": ((None, 1), "int64"),
        "ih": ((None, 1), "int32"), "fr": ((None, 1), "float32")}
    encoded = space.get_encoded_features()
    assert encoded.type.shape == (None, 104)
    model = mlcore.Model(inputs, encoded)
    feeds = {name: data[name].reshape(-1, 1) for name in inputs}
    for name in ("sc", "sh"):     # string features go in as their layers' host output
        feeds[name] = space.preprocessors[name](feeds[name])
    np.testing.assert_array_equal(model.predict(feeds, verbose=0), space(data))


def test_adapt_on_batches_equals_adapt_on_dict():
    data = columns(96, seed=3)
    whole, batched = every_type(), every_type()
    whole.adapt(data)
    batched.adapt(({k: v[i:i + 32] for k, v in data.items()}, None) for i in range(0, 96, 32))
    np.testing.assert_allclose(batched(data), whole(data), rtol=1e-6, atol=1e-6)


def test_config_matches_keras(keras):
    def made(module):
        space = module.utils.FeatureSpace
        return space({"a": "float_normalized", "b": space.float_discretized(num_bins=3), "c": "float",
                      "d": space.float_rescaled(scale=2.0)}, output_mode="dict", crossing_dim=8, hashing_dim=4,
                     num_discretization_bins=5)
    ours = json.loads(json.dumps(made(mlcore).get_config()))
    theirs = json.loads(json.dumps(keras.saving.serialize_keras_object(made(keras).get_config())))
    assert {k: v for k, v in ours.items() if k != "features"} == {k: v for k, v in theirs.items() if k != "features"}
    for name in "abcd":
        mine, keras_spec = ours["features"][name], theirs["features"][name]
        assert (mine["module"], mine["class_name"]) == (keras_spec["module"], keras_spec["class_name"])
        assert {k: v for k, v in mine["config"].items() if k != "preprocessor"} == \
            {k: v for k, v in keras_spec["config"].items() if k != "preprocessor"}
        mine, keras_spec = mine["config"]["preprocessor"]["config"], keras_spec["config"]["preprocessor"]["config"]
        assert mine["name"].split("_preprocessor")[0].rstrip("_0123456789") == \
            keras_spec["name"].split("_preprocessor")[0].rstrip("_0123456789")
        for key in ("axis", "num_bins", "bin_boundaries", "scale", "offset"):
            assert mine.get(key) == keras_spec.get(key), (name, key)


def test_from_config_and_save_load(adapted, tmp_path):
    space, data = adapted
    fresh = every_type()
    clone = FeatureSpace.from_config(json.loads(json.dumps(fresh.get_config())))     # as config.json holds it
    assert json.dumps(clone.get_config()) == json.dumps(fresh.get_config())
    assert [c.name for c in clone.crosses] == ["ic_X_sc", "fd_X_ih"]
    assert type(clone.preprocessors["f"]).__name__ == "TFDIdentity"
    path = tmp_path / "space.keras"
    space.save(path)
    loaded = mlcore.models.load_model(path)
    assert isinstance(loaded, FeatureSpace)
    np.testing.assert_array_equal(loaded(data), space(data))
    with pytest.raises(ValueError, match="must end in '.keras'"):
        space.save(tmp_path / "space.h5")


def test_errors():
    with pytest.raises(ValueError, match="cannot be None or empty"):
        FeatureSpace({})
    with pytest.raises(ValueError, match="Invalid feature type: floaty"):
        FeatureSpace({"a": "floaty"})
    with pytest.raises(ValueError, match="unknown features"):
        FeatureSpace({"a": "float"}, crosses=[("a", "b")])
    with pytest.raises(ValueError, match="output_mode"):
        FeatureSpace({"a": "float"}, output_mode="list")
    space = FeatureSpace({"a": "float_normalized"})
    with pytest.raises(ValueError, match="adapt"):
        space({"a": [1.0]})
    space.adapt({"a": [1.0, 2.0]})
    with pytest.raises(ValueError, match="only be called with a dict"):
        space([1.0])
    with pytest.raises(ValueError, match=r"without features \['a'\]"):
        space({"b": [1.0]})
    with pytest.raises(ValueError, match="feature 'a' is missing"):
        FeatureSpace({"a": "float_normalized"}).adapt([{"b": [1.0]}])
    with pytest.raises(ValueError, match="has not been encoded"):
        FeatureSpace({"a": FeatureSpace.integer_categorical(output_mode="int")}).adapt({"a": [1, 2]})
    # a FeatureSpace with nothing to adapt is ready as it is
    np.testing.assert_allclose(FeatureSpace({"a": "float_rescaled"})({"a": 3}), [3.0])


def heart_like(n=303, seed=0):
    """Columns like the Cleveland heart data of Keras's FeatureSpace example, with a target they predict."""
    rng = np.random.default_rng(seed)
    df = {"age": rng.integers(29, 78, n), "sex": rng.integers(0, 2, n), "cp": rng.integers(0, 5, n),
          "trestbps": rng.integers(94, 200, n), "chol": rng.integers(126, 564, n), "fbs": rng.integers(0, 2, n),
          "restecg": rng.integers(0, 3, n), "thalach": rng.integers(71, 202, n), "exang": rng.integers(0, 2, n),
          "oldpeak": rng.uniform(0, 6.2, n).round(1), "slope": rng.integers(1, 4, n), "ca": rng.integers(0, 4, n),
          "thal": rng.choice(["normal", "fixed", "reversible"], n)}
    score = (df["cp"] >= 3) + (df["thal"] == "reversible") + df["exang"] + (df["oldpeak"] > 2) + (df["ca"] > 0)
    return df, (score + rng.normal(0, 0.5, n) > 2).astype("float32")


def test_structured_data_classification_example():
    """keras-io's "Structured data classification with FeatureSpace", with a PyDataset for tf.data."""
    keras = mlcore
    keras.utils.set_random_seed(1)
    df, target = heart_like()
    integer = {name: FeatureSpace.integer_categorical(num_oov_indices=0)
               for name in ("sex", "cp", "fbs", "restecg", "exang", "ca")}
    feature_space = FeatureSpace(
        features={**integer, "thal": FeatureSpace.string_categorical(num_oov_indices=0),
                  "age": FeatureSpace.float_discretized(num_bins=30),
                  **{name: FeatureSpace.float_normalized() for name in ("trestbps", "chol", "thalach", "oldpeak",
                                                                          "slope")}},
        crosses=[FeatureSpace.cross(feature_names=("sex", "age"), crossing_dim=64),
                 FeatureSpace.cross(feature_names=("thal", "ca"), crossing_dim=16)],
        output_mode="concat")

    class Batches(keras.utils.PyDataset):
        def __init__(self, preprocess=None):
            super().__init__()
            self.preprocess = preprocess

        def __len__(self):
            return 8

        def __getitem__(self, i):
            x = {k: v[i * 32:(i + 1) * 32] for k, v in df.items()}
            return (self.preprocess or dict)(x), target[i * 32:(i + 1) * 32]

    feature_space.adapt(x for x, _ in Batches())
    preprocessed_x, _ = Batches(feature_space)[0]
    assert preprocessed_x.shape == (32, 2 + 5 + 2 + 3 + 2 + 4 + 3 + 30 + 5 + 64 + 16)

    dict_inputs = feature_space.get_inputs()
    encoded_features = feature_space.get_encoded_features()
    x = keras.layers.Dense(32, activation="relu")(encoded_features)
    x = keras.layers.Dropout(0.5)(x)
    predictions = keras.layers.Dense(1, activation="sigmoid")(x)
    training_model = keras.Model(inputs=encoded_features, outputs=predictions)
    training_model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    inference_model = keras.Model(inputs=dict_inputs, outputs=predictions)
    history = training_model.fit(Batches(feature_space), epochs=20, verbose=0)
    assert history.history["loss"][-1] < 0.75 * history.history["loss"][0]

    sample = {"age": 60, "sex": 1, "cp": 1, "trestbps": 145, "chol": 233, "fbs": 1, "restecg": 2, "thalach": 150,
              "exang": 0, "oldpeak": 2.3, "slope": 3, "ca": 0, "thal": "fixed"}
    input_dict = {name: np.array([[value]]) for name, value in sample.items()}
    input_dict["thal"] = feature_space.preprocessors["thal"](input_dict["thal"])   # strings: on the host
    probability = inference_model.predict(input_dict, verbose=0)
    np.testing.assert_allclose(probability, training_model.predict(feature_space(sample)[None], verbose=0),
                               rtol=1e-6)

"""keras.layers.TextVectorization: Keras 3.15's layer needs TensorFlow (not installed), so the expected values are
those of its docstring and tests (TensorFlow's outputs) and of TensorFlow's documented string-op rules; then the
pipeline text_dataset_from_directory -> TextVectorization.adapt -> an Embedding model that learns."""
import json
import math
import os

import numpy as np
import pytest

import mlcore
from mlcore import layers, utils
from mlcore.saving import register_keras_serializable
from adapted_layers import adapted_call, batches_then_endless

pytestmark = pytest.mark.usefixtures("numpy_backend")
QUERY = [["foo qux bar"], ["qux baz"]]


def vectorized(data, **kwargs):
    return adapted_call(layers.TextVectorization, data, **kwargs)


def test_docstring_examples():
    layer = layers.TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
    layer.adapt(["foo bar", "bar baz", "baz bada boom"])
    out = layer(QUERY)
    np.testing.assert_array_equal(out, [[4, 1, 3, 0], [1, 2, 0, 0]])
    assert out.dtype == np.int64
    layer = layers.TextVectorization(max_tokens=5000, output_sequence_length=4,
                                     vocabulary=["earth", "wind", "and", "fire"])
    assert layer.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and", "fire"]


def test_keras_test_cases(tmp_path):
    np.testing.assert_array_equal(vectorized(QUERY, vocabulary=["baz", "bar", "foo"], output_sequence_length=4),
                                  [[4, 1, 3, 0], [1, 2, 0, 0]])
    np.testing.assert_array_equal(vectorized([["foo bar"], ["baz foo foo"]], output_mode="multi_hot",
                                             vocabulary=["foo", "bar", "baz"]), [[0, 1, 1, 0], [0, 1, 0, 1]])
    np.testing.assert_array_equal(vectorized(["foo bar", "baz foo foo"], output_mode="count",
                                             vocabulary=["foo", "bar", "baz"]), [[0, 1, 1, 0], [0, 2, 0, 1]])
    np.testing.assert_allclose(vectorized(["foo bar", "baz foo foo"], output_mode="tf_idf", idf_weights=[0.3, 0.5, 0.2],
                                          vocabulary=["foo", "bar", "baz"]), [[0, 0.3, 0.5, 0], [0, 0.6, 0, 0.2]],
                               rtol=1e-6)
    sentence = ["Hello, World!. This is just a nice test!"]
    np.testing.assert_array_equal(vectorized(sentence, vocabulary=["hello", "world", "this", "is", "nice", "test"]),
                                  [[2, 3, 4, 5, 1, 1, 6, 7]])
    np.testing.assert_array_equal(vectorized(sentence, standardize="lower", vocabulary=[
        "hello,", "hello", "world", "this", "is", "nice", "test"]), [[2, 1, 5, 6, 1, 1, 7, 1]])
    np.testing.assert_array_equal(vectorized(["Hello, World! Test."], standardize="strip_punctuation",
                                             vocabulary=["Hello", "World", "Test"]), [[2, 3, 4]])
    np.testing.assert_array_equal(vectorized(["Hello hello"], standardize=None, vocabulary=["Hello", "world"]),
                                  [[2, 1]])
    np.testing.assert_array_equal(vectorized(["abcf"], split="character", vocabulary=list("abcde")), [[2, 3, 4, 1]])
    np.testing.assert_array_equal(vectorized([["foo"], ["bar"], ["unknown"]], split=None,
                                             vocabulary=["foo", "bar", "baz"]), [[2], [3], [1]])
    vocab = layers.TextVectorization(ngrams=2)
    vocab.adapt(["foo bar baz"])
    assert {"foo bar", "bar baz", "foo"} <= set(vocab.get_vocabulary())
    vocab = layers.TextVectorization(ngrams=(1, 3))
    vocab.adapt(["foo bar baz"])
    assert "foo bar baz" in vocab.get_vocabulary() and "foo bar" not in vocab.get_vocabulary()
    capped = layers.TextVectorization(max_tokens=5)
    capped.adapt(["a b c d e f g h i j"])
    assert capped.get_vocabulary() == ["", "[UNK]", "j", "i", "h"]
    assert vectorized(["foo bar"], output_mode="multi_hot", vocabulary=["foo", "bar"], max_tokens=8,
                      pad_to_max_tokens=True).shape == (1, 8)
    assert layers.TextVectorization(vocabulary=["foo", "bar", "baz"]).vocabulary_size() == 5
    path = tmp_path / "vocab.txt"
    path.write_text("foo\nbar\nbaz\n")
    np.testing.assert_array_equal(vectorized(["foo bar baz unknown"], vocabulary=str(path)), [[2, 3, 4, 1]])


def test_callables_get_numpy_strings():
    seen = []

    def standardize(texts):
        seen.append((type(texts), texts.dtype.kind))
        return np.char.replace(np.char.lower(texts), ",", "")
    layer = layers.TextVectorization(standardize=standardize)
    layer.adapt(["Hello, world."])
    assert set(seen) == {(np.ndarray, "U")} and layer.get_vocabulary() == ["", "[UNK]", "world.", "hello"]
    np.testing.assert_array_equal(vectorized(["foo-bar"], standardize=lambda t: np.char.replace(t, "-", " "),
                                             vocabulary=["foo", "bar"]), [[2, 3]])
    def split_bars(texts):
        return [text.split("|") for text in texts]
    # as Keras's test: the default standardize strips "|" first
    np.testing.assert_array_equal(vectorized(["foo|bar"], split=split_bars, vocabulary=["foo", "bar", "foobar"]),
                                  [[4]])
    np.testing.assert_array_equal(vectorized(["foo|bar", "bar"], split=split_bars, standardize=None,
                                             vocabulary=["foo", "bar"]), [[2, 3], [3, 0]])


def test_tensorflow_string_op_rules():
    # tf.strings.lower lowercases ASCII only; Keras's punctuation class is ASCII's; tf.strings.split breaks on
    # ASCII whitespace only (not on a no-break space); unicode_split gives code points
    layer = layers.TextVectorization()
    layer.adapt(["ÉCOLE Don't «STOP»\u00a0now\t\n again"])
    assert layer.get_vocabulary() == ["", "[UNK]", "École", "«stop»\u00a0now", "dont", "again"]
    np.testing.assert_array_equal(vectorized(["été"], split="character", vocabulary=["é", "t"]), [[2, 3, 2]])
    # ngrams: every width in turn, a short row giving none of the longer ones
    grams = layers.TextVectorization(ngrams=(2, 1), vocabulary=["a b", "b c", "a", "b", "c"])
    np.testing.assert_array_equal(grams(["a b c", "c"]), [[2, 3, 4, 5, 6], [6, 0, 0, 0, 0]])


def test_lengths_shapes_and_inputs():
    layer = layers.TextVectorization(vocabulary=["a", "b"], output_sequence_length=2)
    np.testing.assert_array_equal(layer(["a b a b", "", "b"]), [[2, 3], [0, 0], [3, 0]])     # cut, padded
    free = layers.TextVectorization(vocabulary=["a", "b"])
    np.testing.assert_array_equal(free([b"b a x", b"a"]), [[3, 2, 1], [2, 0, 0]])             # to the longest row
    np.testing.assert_array_equal(free("a b"), [2, 3])                                        # one string
    np.testing.assert_array_equal(free([""]), np.zeros((1, 0)))
    np.testing.assert_array_equal(vectorized("a b a", vocabulary=["a", "b"], output_mode="count"), [0, 2, 1])
    one_hot = vectorized(["a b", "b"], vocabulary=["a", "b"], output_mode="one_hot")
    np.testing.assert_array_equal(one_hot, [[[0, 1, 0], [0, 0, 1]], [[0, 0, 1], [0, 0, 0]]])
    assert layers.TextVectorization(output_sequence_length=5).compute_output_shape((None, 1)) == (None, 5)
    assert layers.TextVectorization(output_mode="multi_hot", max_tokens=9, pad_to_max_tokens=True) \
        .compute_output_shape((None,)) == (None, 9)


def test_tf_idf_adapt_weighs_each_string_as_a_document():
    texts = ["foo bar", "bar baz", "baz bada boom"]
    layer = layers.TextVectorization(max_tokens=100, output_mode="tf_idf")
    layer.adapt(texts)
    assert layer.get_vocabulary() == ["[UNK]", "baz", "bar", "foo", "boom", "bada"]
    idf = [math.log(1 + 3 / 3)] * 2 + [math.log(1 + 3 / 2)] * 3
    np.testing.assert_allclose(layer._lookup_layer.idf_weights, [np.mean(idf)] + idf, rtol=1e-6)
    np.testing.assert_allclose(layer(["foo foo qux"]), [[np.mean(idf), 0, 0, 2 * idf[2], 0, 0]], rtol=1e-6)


def test_adapt_reads_generators_and_steps():
    layer = layers.TextVectorization()
    layer.adapt(batches_then_endless([["hello world", "foo bar"], np.array(["baz qux", "hello foo"])],
                                     ["unique_word"]), steps=2)
    assert layer.get_vocabulary()[:4] == ["", "[UNK]", "hello", "foo"] and "unique_word" not in layer.get_vocabulary()


@register_keras_serializable(package="text_test")
def dashes_to_spaces(texts):
    return np.char.replace(texts, "-", " ")


def test_config_round_trips():
    layer = layers.TextVectorization(max_tokens=50, standardize=dashes_to_spaces, ngrams=(1, 2), output_mode="tf_idf",
                                     name="texts")
    layer.adapt(["red-green blue", "blue-blue"])
    config = json.loads(json.dumps(layers.serialize(layer)))
    assert config["config"]["standardize"]["config"] == "text_test>dashes_to_spaces"
    again = layers.deserialize(config)
    assert again.get_vocabulary() == layer.get_vocabulary() and again.get_config()["ngrams"] == (1, 2)
    np.testing.assert_allclose(again(["red-blue", "green"]), layer(["red-blue", "green"]), rtol=1e-6)
    store = {}
    layer.save_own_variables(store)
    np.testing.assert_allclose(store["idf_weights"], layer._lookup_layer.idf_weights)
    keras_config = {"name": "tv", "trainable": True, "dtype": "float32", "max_tokens": None,
                    "standardize": "lower_and_strip_punctuation", "split": "whitespace", "ngrams": None,
                    "output_mode": "int", "output_sequence_length": 5, "pad_to_max_tokens": False, "sparse": False,
                    "ragged": False, "vocabulary": ["one", "two"], "idf_weights": None, "encoding": "utf-8",
                    "vocabulary_size": 4}                   # as Keras 3.15's test_config layer writes it
    loaded = layers.TextVectorization.from_config(keras_config)
    float32 = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}
    assert loaded.get_config() == dict(keras_config, dtype=float32)    # Layer.get_config serializes the policy
    np.testing.assert_array_equal(loaded(["two One three"]), [[3, 2, 1, 0, 0]])


def test_option_errors_are_keras_own(keras):
    from keras.src.utils.argument_validation import validate_string_arg
    for kwargs, argument, allowed in (({"split": "comma"}, "split", ("whitespace", "character")),
                                      ({"output_mode": "bag"}, "output_mode",
                                       ("int", "one_hot", "multi_hot", "count", "tf_idf"))):
        with pytest.raises(ValueError) as theirs:
            validate_string_arg(kwargs[argument], allowed, "TextVectorization", argument)
        with pytest.raises(ValueError) as ours:
            layers.TextVectorization(**kwargs)
        assert str(ours.value) == str(theirs.value)


def test_errors_as_keras():
    with pytest.raises(ValueError, match="`ragged=True` can only be used with the TensorFlow backend"):
        layers.TextVectorization(vocabulary=["baz"], ragged=True)
    with pytest.raises(ValueError, match="`sparse=True` can only be used with the TensorFlow backend"):
        layers.TextVectorization(output_mode="multi_hot", sparse=True)
    with pytest.raises(ValueError, match="`ngrams` must be None, an integer, or a tuple of integers"):
        layers.TextVectorization(ngrams="invalid")
    with pytest.raises(ValueError, match="`output_sequence_length` must not be set if `output_mode` is not"):
        layers.TextVectorization(output_mode="multi_hot", output_sequence_length=5)
    with pytest.raises(ValueError, match="`output_sequence_length` must be either None or an integer"):
        layers.TextVectorization(output_sequence_length=2.5)
    with pytest.raises(ValueError, match="Unknown value for `standardize` argument of TextVectorization"):
        layers.TextVectorization(standardize="upper")
    with pytest.raises(ValueError, match=r"the input rank must be 1 or the last shape dimension must be 1. "
                                         r"Received: inputs.shape=\(1, 2\)"):
        vectorized([["a", "b"]], vocabulary=["a"])
    with pytest.raises(RuntimeError, match="you must set the layer's vocabulary before calling it"):
        vectorized(["a"], output_mode="count")
    with pytest.raises(ValueError, match="Expected strings"):
        vectorized([1, 2], vocabulary=["a"])
    with pytest.raises(ValueError, match="TextVectorization 'tv' runs on the host"):
        layers.TextVectorization(name="tv")(mlcore.Input((1,), dtype="int64"))


def test_text_dataset_to_an_embedding_model(tmp_path):
    """The README's pipeline: reviews in class folders, a vocabulary adapted on the training texts, a model that
    embeds the token indices and learns which words mean what."""
    rng = np.random.default_rng(0)
    mlcore.utils.set_random_seed(0)     # initial weights, dropout, shuffling: one fixed run
    words = {"neg": ["bad", "awful", "dull", "boring"], "pos": ["good", "great", "lovely", "fun"]}
    for label, vocab in words.items():
        os.makedirs(tmp_path / label)
        for i in range(16):
            text = " ".join(rng.choice(vocab + ["the", "film", "was", "and"], size=7))
            (tmp_path / label / ("%d.txt" % i)).write_text(text.capitalize() + "!")
    train = utils.text_dataset_from_directory(str(tmp_path), label_mode="binary", batch_size=8, seed=1, verbose=False)
    vectorize = layers.TextVectorization(max_tokens=20, output_sequence_length=8)
    vectorize.adapt(texts for texts, _ in train)
    assert set(vectorize.get_vocabulary()) == {"", "[UNK]", "the", "film", "was", "and"} | set(sum(words.values(), []))

    class Vectorized(utils.PyDataset):
        def __len__(self):
            return len(train)

        def __getitem__(self, index):
            texts, labels = train[index]
            return vectorize(texts), labels
    model = mlcore.Sequential([layers.Input((8,), dtype="int64"), layers.Embedding(vectorize.vocabulary_size(), 8),
                               layers.GlobalAveragePooling1D(), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=mlcore.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(Vectorized(), epochs=15, verbose=0)
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    reviews = vectorize(["What a lovely, fun film!", "Dull and boring."])
    np.testing.assert_array_equal(model.predict(reviews, verbose=0).round(), [[1], [0]])

"""Keras 1/2's module paths (keras.layers.core, keras.utils.np_utils, keras.engine.topology, ...) import
from mlcore as the classic tutorials write them, each name the same object as at mlcore's own location;
a fast.ai-style VGG16 written with those imports builds, loads its weights and predicts; and Keras 2's
text Tokenizer and skipgrams give Keras 2's results (hand-computed here)."""
import json
import math
import subprocess
import sys

import numpy as np
import pytest

# (Keras 1/2 module, names, where mlcore keeps them)
LAYERS = "mlcore.layers"
PATHS = [
    ("mlcore.layers.embeddings", "Embedding", LAYERS),
    ("mlcore.layers.merge", "Add Subtract Multiply Average Maximum Minimum Concatenate Dot add subtract multiply "
                            "average maximum minimum concatenate dot", LAYERS),
    ("mlcore.layers.advanced_activations", "LeakyReLU PReLU ELU ThresholdedReLU Softmax ReLU", LAYERS),
    ("mlcore.layers.convolutional_recurrent", "ConvLSTM1D ConvLSTM2D ConvLSTM3D", LAYERS),
    ("mlcore.layers.core", "Dense Activation Dropout Flatten Reshape Permute RepeatVector Lambda Masking "
                           "SpatialDropout1D SpatialDropout2D SpatialDropout3D ActivityRegularization", LAYERS),
    ("mlcore.layers.convolutional", "Conv1D Conv2D Conv3D Conv2DTranspose Conv3DTranspose SeparableConv1D "
                                    "SeparableConv2D DepthwiseConv2D Convolution1D Convolution2D Convolution3D "
                                    "SeparableConvolution1D SeparableConvolution2D Convolution2DTranspose "
                                    "Convolution3DTranspose Deconvolution2D Deconv2D Deconvolution3D Deconv3D "
                                    "UpSampling1D UpSampling2D UpSampling3D ZeroPadding1D ZeroPadding2D ZeroPadding3D "
                                    "Cropping1D Cropping2D Cropping3D MaxPooling1D MaxPooling2D MaxPooling3D "
                                    "AveragePooling1D AveragePooling2D AveragePooling3D", LAYERS),
    ("mlcore.layers.pooling", " ".join(kind + d for d in ("1D", "2D", "3D") for kind in (
        "MaxPooling", "AveragePooling", "GlobalMaxPooling", "GlobalAveragePooling", "MaxPool", "AvgPool",
        "GlobalMaxPool", "GlobalAvgPool")), LAYERS),
    ("mlcore.layers.recurrent", "RNN SimpleRNN GRU LSTM SimpleRNNCell GRUCell LSTMCell StackedRNNCells", LAYERS),
    ("mlcore.layers.normalization", "BatchNormalization", LAYERS),
    ("mlcore.layers.noise", "GaussianNoise GaussianDropout AlphaDropout", LAYERS),
    ("mlcore.layers.wrappers", "Wrapper TimeDistributed Bidirectional", LAYERS),
    ("mlcore.utils.np_utils", "to_categorical normalize", "mlcore.utils"),
    ("mlcore.utils.data_utils", "get_file Sequence", "mlcore.utils"),
    ("mlcore.utils.data_utils", "validate_file", "mlcore.utils.file_utils"),
    ("mlcore.utils.vis_utils", "plot_model model_to_dot", "mlcore.utils"),
    ("mlcore.utils.generic_utils", "Progbar CustomObjectScope custom_object_scope get_custom_objects", "mlcore.utils"),
    ("mlcore.utils.generic_utils", "serialize_keras_object deserialize_keras_object", "mlcore.utils.legacy"),
    ("mlcore.utils.layer_utils", "get_source_inputs", "mlcore.utils"),
    ("mlcore.utils.layer_utils", "print_summary", "mlcore.models.summary"),
    ("mlcore.utils.layer_utils", "layer_from_config", "mlcore.models.serialization"),
    ("mlcore.engine", "Layer Input InputLayer InputSpec", LAYERS),
    ("mlcore.engine", "Model", "mlcore.models"),
    ("mlcore.engine", "get_source_inputs", "mlcore.utils"),
    ("mlcore.engine.topology", "Layer Input InputLayer InputSpec", LAYERS),
    ("mlcore.engine.topology", "get_source_inputs", "mlcore.utils"),
    ("mlcore.engine.training", "Model", "mlcore.models"),
    ("mlcore.constraints", "max_norm non_neg unit_norm min_max_norm maxnorm nonneg unitnorm", "mlcore.constraints"),
    ("mlcore.preprocessing.sequence", "pad_sequences", "mlcore.utils"),
    ("mlcore.preprocessing.sequence", "skipgrams make_sampling_table", "mlcore.preprocessing.sequence"),
    ("mlcore.preprocessing.text", "Tokenizer tokenizer_from_json text_to_word_sequence one_hot hashing_trick",
     "mlcore.preprocessing.text"),
]
# names that are Keras 1/2 aliases of another: (module, alias, main module, main name)
ALIASES = [("mlcore.layers.recurrent", "Recurrent", LAYERS, "RNN"),
           ("mlcore.engine.topology", "Network", "mlcore.models", "Model"),
           ("mlcore.engine", "Network", "mlcore.models", "Model"),
           ("mlcore.constraints", "maxnorm", "mlcore.constraints", "MaxNorm"),
           ("mlcore.constraints", "nonneg", "mlcore.constraints", "NonNeg"),
           ("mlcore.constraints", "unitnorm", "mlcore.constraints", "UnitNorm"),
           ("mlcore.constraints", "min_max_norm", "mlcore.constraints", "MinMaxNorm"),
           ("mlcore.layers", "Deconvolution2D", LAYERS, "Conv2DTranspose"),
           ("mlcore.layers", "Deconv3D", LAYERS, "Conv3DTranspose")]

CHECK = r"""
import importlib, json, sys
import mlcore
light = "mlcore.layers" not in sys.modules          # `import mlcore` stays light
assert mlcore.engine.Model is mlcore.models.Model  # keras.engine as an attribute, as Keras 2's
import mlcore.preprocessing, mlcore.utils
submodules = [mlcore.preprocessing.text, mlcore.utils.np_utils, mlcore.utils.data_utils, mlcore.utils.vis_utils,
              mlcore.utils.generic_utils, mlcore.utils.layer_utils]
paths, aliases = json.loads(sys.argv[1])
wrong = []
for module, names, main in paths:
    for name in names.split():
        ok = getattr(importlib.import_module(module), name, None) is getattr(importlib.import_module(main), name)
        wrong += [] if ok else ["%s.%s" % (module, name)]
for module, name, main, main_name in aliases:
    ok = getattr(importlib.import_module(module), name, None) is getattr(importlib.import_module(main), main_name)
    wrong += [] if ok else ["%s.%s" % (module, name)]
print(json.dumps({"light": light, "wrong": wrong, "submodules": [m.__name__ for m in submodules]}))
"""


def test_keras2_module_paths_import_and_name_the_same_objects():
    # one fresh interpreter for all: each path imports with nothing imported before it but mlcore
    done = subprocess.run([sys.executable, "-c", CHECK, json.dumps([PATHS, ALIASES])], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["wrong"] == []
    assert result["light"]
    assert result["submodules"] == ["mlcore.preprocessing.text", "mlcore.utils.np_utils", "mlcore.utils.data_utils",
                                    "mlcore.utils.vis_utils", "mlcore.utils.generic_utils", "mlcore.utils.layer_utils"]


def test_fastai_vgg16_style_model_with_keras1_imports(tmp_path):
    """fast.ai's vgg16.py, shrunk: Theano ordering, Keras 1 spellings, weights fetched with get_file."""
    from mlcore import backend as K
    from mlcore.layers.convolutional import Convolution2D, MaxPooling2D, ZeroPadding2D
    from mlcore.layers.core import Dense, Dropout, Flatten, Lambda
    from mlcore.models import Sequential
    from mlcore.optimizers import Adam
    from mlcore.utils.data_utils import get_file
    from mlcore.utils.np_utils import to_categorical

    vgg_mean = np.array([123.68, 116.779, 103.939], dtype=np.float32).reshape((3, 1, 1))

    def vgg_preprocess(x):
        x = x - vgg_mean
        return x[:, ::-1]      # rgb -> bgr

    def create():
        model = Sequential()
        model.add(Lambda(vgg_preprocess, input_shape=(3, 16, 16), output_shape=(3, 16, 16)))
        for layers, filters in ((1, 4), (2, 8)):                      # ConvBlock
            for _ in range(layers):
                model.add(ZeroPadding2D((1, 1)))
                model.add(Convolution2D(filters, 3, 3, activation="relu"))
            model.add(MaxPooling2D((2, 2), strides=(2, 2)))
        model.add(Flatten())
        for _ in range(2):                                            # FCBlock
            model.add(Dense(16, activation="relu"))
            model.add(Dropout(0.5))
        model.add(Dense(10, activation="softmax"))
        return model

    before = K.image_data_format()
    K.set_image_dim_ordering("th")
    try:
        images = np.random.RandomState(0).uniform(0, 255, (4, 3, 16, 16)).astype("float32")
        original = create()
        assert original.output_shape == (None, 10)
        (tmp_path / "models").mkdir()
        original.save_weights(str(tmp_path / "models" / "vgg16_tiny.h5"))
        model = create()
        # already in the cache: get_file returns it without downloading, as for a second fast.ai run
        model.load_weights(get_file("vgg16_tiny.h5", "https://example.invalid/vgg16_tiny.h5", cache_subdir="models",
                                    cache_dir=str(tmp_path)))
        predictions = model.predict(images, verbose=0)
        assert predictions.shape == (4, 10)
        np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)
        np.testing.assert_allclose(predictions, original.predict(images, verbose=0), rtol=1e-5, atol=1e-6)
        # fast.ai's finetune: a new last layer for two classes, one-hot targets from np_utils
        model.pop()
        for layer in model.layers:
            layer.trainable = False
        model.add(Dense(2, activation="softmax"))
        model.compile(optimizer=Adam(learning_rate=0.001), loss="categorical_crossentropy", metrics=["accuracy"])
        targets = to_categorical([0, 1, 1, 0])
        assert targets.tolist() == [[1, 0], [0, 1], [0, 1], [1, 0]]
        model.fit(images, targets, batch_size=2, epochs=1, verbose=0)
        assert model.predict(images, verbose=0).shape == (4, 2)
    finally:
        K.set_image_data_format(before)


TEXTS = ["The cat sat on the mat.", "The dog sat.", "A cat!"]
# Keras 2: counts the 3, cat 2, sat 2, on/mat/dog/a 1; ties keep the order first seen
WORD_INDEX = {"the": 1, "cat": 2, "sat": 3, "on": 4, "mat": 5, "dog": 6, "a": 7}


def test_tokenizer_fits_and_indexes_as_keras2():
    from mlcore.preprocessing.text import Tokenizer
    tokenizer = Tokenizer()
    tokenizer.fit_on_texts(TEXTS)
    assert tokenizer.word_index == WORD_INDEX
    assert tokenizer.index_word == {i: w for w, i in WORD_INDEX.items()}
    assert list(tokenizer.word_counts.items()) == [("the", 3), ("cat", 2), ("sat", 2), ("on", 1), ("mat", 1),
                                                   ("dog", 1), ("a", 1)]
    assert dict(tokenizer.word_docs) == {"the": 2, "cat": 2, "sat": 2, "on": 1, "mat": 1, "dog": 1, "a": 1}
    assert tokenizer.document_count == 3
    assert tokenizer.texts_to_sequences(["the cat sat on a dog", "Zebra, mat"]) == [[1, 2, 3, 4, 7, 6], [5]]
    assert tokenizer.sequences_to_texts([[1, 2, 9, 3]]) == ["the cat sat"]

    limited = Tokenizer(num_words=4)           # indexes every word, keeps those below 4
    limited.fit_on_texts(TEXTS)
    assert limited.word_index == WORD_INDEX
    assert limited.texts_to_sequences(["the cat sat on a dog"]) == [[1, 2, 3]]

    oov = Tokenizer(num_words=4, oov_token="<oov>")       # the oov token takes index 1
    oov.fit_on_texts(TEXTS)
    assert oov.word_index == {"<oov>": 1, **{w: i + 1 for w, i in WORD_INDEX.items()}}
    assert oov.texts_to_sequences(["the cat sat on a dog", "zebra mat"]) == [[2, 3, 1, 1, 1, 1], [1, 1]]
    assert oov.sequences_to_texts([[2, 3, 9]]) == ["the cat <oov>"]

    chars = Tokenizer(char_level=True)
    chars.fit_on_texts(["aAb"])
    assert chars.word_index == {"a": 1, "b": 2}
    tokens = Tokenizer(lower=False)
    tokens.fit_on_texts([["Hello", "world"], ["world"]])     # lists of tokens are taken as they are
    assert tokens.word_index == {"world": 1, "Hello": 2}
    with pytest.raises(TypeError, match="Unrecognized keyword arguments"):
        Tokenizer(nb_wrds=3)


def test_tokenizer_matrices_and_json_as_keras2():
    from mlcore.preprocessing.text import Tokenizer, tokenizer_from_json
    tokenizer = Tokenizer()
    tokenizer.fit_on_texts(TEXTS)
    texts = ["the the cat", "dog zebra"]          # sequences [1, 1, 2] and [6]: 8 columns (7 words + 0)
    expected = {"binary": {(0, 1): 1, (0, 2): 1, (1, 6): 1},
                "count": {(0, 1): 2, (0, 2): 1, (1, 6): 1},
                "freq": {(0, 1): 2 / 3, (0, 2): 1 / 3, (1, 6): 1},
                # (1 + log c) * log(1 + documents / (1 + documents with the word)): 3 documents, the/cat in 2
                "tfidf": {(0, 1): (1 + math.log(2)) * math.log(2), (0, 2): math.log(2), (1, 6): math.log(2.5)}}
    for mode, cells in expected.items():
        matrix = tokenizer.texts_to_matrix(texts, mode=mode)
        want = np.zeros((2, 8))
        for cell, value in cells.items():
            want[cell] = value
        np.testing.assert_allclose(matrix, want, err_msg=mode)
    with pytest.raises(ValueError, match="Unknown vectorization mode"):
        tokenizer.texts_to_matrix(texts, mode="onehot")
    with pytest.raises(ValueError, match="fit on some text data first"):
        Tokenizer().texts_to_matrix(texts)

    config = json.loads(tokenizer.to_json())
    assert config["class_name"] == "Tokenizer"
    assert json.loads(config["config"]["word_index"]) == WORD_INDEX
    again = tokenizer_from_json(tokenizer.to_json())
    assert again.word_index == WORD_INDEX and again.index_word[2] == "cat" and again.document_count == 3
    np.testing.assert_array_equal(again.texts_to_matrix(texts, mode="tfidf"), tokenizer.texts_to_matrix(texts, "tfidf"))


def test_text_functions_as_keras2():
    from mlcore.preprocessing.text import hashing_trick, one_hot, text_to_word_sequence
    assert text_to_word_sequence("Hello, World!  it's a--b\n") == ["hello", "world", "it's", "a", "b"]
    assert text_to_word_sequence("A-B c", filters="", lower=False) == ["A-B", "c"]
    assert text_to_word_sequence("a,b;c", split=",") == ["a", "b", "c"]
    # md5 of "the", "cat", "sat" as integers, modulo n - 1 = 99, plus 1
    assert hashing_trick("The cat sat", 100, hash_function="md5") == [51, 3, 10]
    assert hashing_trick("a b", 10, hash_function=len) == [2, 2]
    indices = one_hot("a b a c", 5)
    assert len(indices) == 4 and indices[0] == indices[2] and all(1 <= i < 5 for i in indices)


def test_skipgrams_and_sampling_table_as_keras2():
    import random
    from mlcore.preprocessing.sequence import make_sampling_table, skipgrams
    assert skipgrams([1, 2, 3], 4, window_size=1, negative_samples=0, shuffle=False) == (
        [[1, 2], [2, 1], [2, 3], [3, 2]], [1, 1, 1, 1])
    # index 0 is not a word: skipped, as centre and as neighbour
    assert skipgrams([0, 1, 2, 0, 3], 4, window_size=1, negative_samples=0, shuffle=False,
                     categorical=True) == ([[1, 2], [2, 1]], [[0, 1], [0, 1]])
    couples, labels = skipgrams([1, 2, 3, 4], 10, window_size=2, seed=3)
    positives = [[1, 2], [1, 3], [2, 1], [2, 3], [2, 4], [3, 1], [3, 2], [3, 4], [4, 2], [4, 3]]
    assert len(couples) == len(labels) == 20 and sum(labels) == 10
    for couple, label in zip(couples, labels):       # shuffled together
        assert (couple in positives) if label else (1 <= couple[1] < 10 and couple[0] in (1, 2, 3, 4))
    assert sorted(c for c, label in zip(couples, labels) if label) == positives
    random.seed(0)    # Keras 2's pairs for this seed (it draws from Python's random module)
    assert skipgrams([1, 2, 3], 5, window_size=1, seed=42) == (
        [[3, 2], [2, 3], [2, 4], [3, 3], [2, 3], [1, 4], [1, 2], [2, 1]], [1, 0, 0, 0, 1, 0, 1, 1])
    # word2vec's keep probability, min(1, sqrt(f)), f = factor * (r (log r + 0.577) + 1/2 - 1/(12 r)), rank 0 as 1
    np.testing.assert_allclose(make_sampling_table(5), [0.00315225, 0.00315225, 0.00547597, 0.00741556, 0.00912817],
                               rtol=1e-6)
    np.testing.assert_allclose(make_sampling_table(3, sampling_factor=1.0), [math.sqrt(0.577 + 0.5 - 1 / 12)] * 2 + [1])


def test_thresholded_relu_layer():
    from mlcore.layers.advanced_activations import ThresholdedReLU
    layer = ThresholdedReLU(theta=1.0)
    np.testing.assert_allclose(np.asarray(layer(np.array([[-1.0, 0.5, 1.0, 1.5, 3.0]], "float32"))),
                               [[0, 0, 0, 1.5, 3.0]])
    assert layer.get_config()["theta"] == 1.0
    assert ThresholdedReLU.from_config(layer.get_config()).theta == 1.0
    with pytest.raises(ValueError, match="theta"):
        ThresholdedReLU(theta=-1)


@pytest.mark.parametrize("mode", ["sum", "mul", "ave", "max", "concat", "dot", "cos", "function"])
def test_keras1_merge_is_the_layer_each_mode_became(mode, rng):
    """Keras 1's `from keras.layers import merge`: merge([a, b], mode=...) in a functional model."""
    import mlcore
    from mlcore.layers import Input, merge
    x, y = rng.random((4, 3)).astype("float32"), rng.random((4, 3)).astype("float32")
    unit = lambda v: v / np.linalg.norm(v, axis=-1, keepdims=True)  # noqa: E731
    want = {"sum": x + y, "mul": x * y, "ave": (x + y) / 2, "max": np.maximum(x, y),
            "concat": np.concatenate([x, y], axis=-1), "dot": (x * y).sum(-1, keepdims=True),
            "cos": (unit(x) * unit(y)).sum(-1, keepdims=True), "function": x - y}[mode]
    a, b = Input((3,)), Input((3,))
    merged = (merge([a, b], mode=lambda t: t[0] - t[1], output_shape=(3,)) if mode == "function"
              else merge([a, b], mode=mode))
    got = mlcore.Model([a, b], merged).predict([x, y], verbose=0)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="unknown mode 'concatenate'"):
        merge([a, b], mode="concatenate")

"""keras.layers.StringLookup: Keras 3.15's layer needs TensorFlow (not installed), so the expected values are
those of its docstring and tests (TensorFlow's outputs), and hand computations of its documented rules."""
import json
import math

import numpy as np
import pytest

import mlcore
from mlcore import layers, utils
from mlcore.utils.string_hashing import hash_buckets
from adapted_layers import adapted_call, batches_then_endless

VOCAB = ["a", "b", "c", "d"]
DATA = [["a", "c", "d"], ["d", "z", "b"]]
DOCS = [["a", "c", "d", "d"], ["d", "z", "b", "z"]]


def looked_up(data, **kwargs):
    return adapted_call(layers.StringLookup, data, **kwargs)


def test_docstring_lookups():
    np.testing.assert_array_equal(looked_up(DATA, vocabulary=VOCAB), [[1, 3, 4], [4, 0, 2]])
    layer = layers.StringLookup()
    layer.adapt(DATA)
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]     # by count, ties: larger first
    np.testing.assert_array_equal(layer(DATA), [[5, 3, 1], [1, 2, 4]])
    # several OOV slots: "m" and "z" go to FarmHash64 mod 2
    np.testing.assert_array_equal(looked_up([["a", "c", "d"], ["m", "z", "b"]], vocabulary=VOCAB, num_oov_indices=2),
                                  [[2, 4, 5], [0, 1, 3]])
    inverse = looked_up([[1, 3, 4], [4, 0, 2]], vocabulary=VOCAB, invert=True)
    np.testing.assert_array_equal(inverse, [["a", "c", "d"], ["d", "[UNK]", "b"]])
    assert inverse.dtype.kind == "U"
    np.testing.assert_array_equal(looked_up(looked_up(DATA, vocabulary=VOCAB), vocabulary=VOCAB, invert=True),
                                  [["a", "c", "d"], ["d", "[UNK]", "b"]])


def test_docstring_encodings():
    one_hot = looked_up(["a", "b", "c", "d", "z"], vocabulary=VOCAB, output_mode="one_hot")
    np.testing.assert_array_equal(one_hot, np.eye(5)[[1, 2, 3, 4, 0]])
    assert one_hot.dtype == np.int64                                # Keras's lookups encode in int64
    np.testing.assert_array_equal(looked_up(DOCS, vocabulary=VOCAB, output_mode="multi_hot"),
                                  [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]])
    np.testing.assert_array_equal(looked_up(DOCS, vocabulary=VOCAB, output_mode="count"),
                                  [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]])
    layer = layers.StringLookup(output_mode="tf_idf")
    layer.set_vocabulary(VOCAB, idf_weights=[0.25, 0.75, 0.6, 0.4])
    tf_idf = layer(DOCS)
    np.testing.assert_allclose(tf_idf, [[0, 0.25, 0, 0.6, 0.8], [1.0, 0, 0.75, 0, 0.4]], rtol=1e-6)
    assert tf_idf.dtype == np.float32
    layer.set_vocabulary(["[UNK]"] + VOCAB, idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(layer(DOCS), [[0, 0.25, 0, 0.6, 0.8], [1.8, 0, 0.75, 0, 0.4]], rtol=1e-6)


def test_keras_test_cases():
    layer = layers.StringLookup(output_mode="int")
    layer.adapt(["a", "a", "a", "b", "b", "c"])
    np.testing.assert_array_equal(layer(["b", "c", "d"]), [2, 3, 0])
    layer = layers.StringLookup(output_mode="int")
    layer.set_vocabulary(["a", "b", "c"])
    np.testing.assert_array_equal(layer(["b", "c", "d"]), [2, 3, 0])
    counts = looked_up(["a", "a", "a", "b", "b"], vocabulary=["a", "b"], output_mode="count")
    np.testing.assert_array_equal(counts, [0, 3, 2])                 # a 1-d input is one sample
    np.testing.assert_array_equal(looked_up(["a", "b"], vocabulary=["a", "b"], output_mode="multi_hot"), [0, 1, 1])
    assert looked_up(["[MASK]", "a"], vocabulary=["a"], mask_token="[MASK]")[0] == 0
    nested = looked_up(np.array([[["a", "b"], ["c", "d"]]] * 2), max_tokens=20, num_oov_indices=4,
                       vocabulary=list("abcdefghi"), output_mode="one_hot", pad_to_max_tokens=True)
    assert nested.shape == (2, 2, 2, 20) and nested[0, 0, 0, 4] == 1
    assert layers.StringLookup(vocabulary=["a", "b", "c"]).get_vocabulary(include_special_tokens=False) == \
        ["a", "b", "c"]
    assert layers.StringLookup(max_tokens=20, output_mode="one_hot", vocabulary=VOCAB,
                               pad_to_max_tokens=True).compute_output_shape((None, 2, 2)) == (None, 2, 2, 20)


def test_oov_slots_hash_as_tensorflow():
    oov = ["x", "y", "z", "w", "v", "u"]
    farm = looked_up(oov, vocabulary=VOCAB, num_oov_indices=4)
    sip = looked_up(oov, vocabulary=VOCAB, num_oov_indices=4, salt=[137, 42])
    np.testing.assert_array_equal(farm, hash_buckets(oov, 4))               # to_hash_bucket_fast
    np.testing.assert_array_equal(sip, hash_buckets(oov, 4, key=[137, 42]))  # to_hash_bucket_strong
    assert not np.array_equal(farm, sip)
    # behind a mask token the OOV slots start at 1
    np.testing.assert_array_equal(looked_up(oov + [""], vocabulary=VOCAB, num_oov_indices=4, mask_token=""),
                                  list(hash_buckets(oov, 4) + 1) + [0])


def test_adapt_ranks_tokens_and_weights_documents():
    layer = layers.StringLookup()
    layer.adapt(np.array(["z", "é", "a", "b", "b"]))
    assert layer.get_vocabulary() == ["[UNK]", "b", "é", "z", "a"]          # ties in code point order, high first
    layer = layers.StringLookup(output_mode="tf_idf", max_tokens=5)
    layer.adapt([["a", "b", "a"], ["b", "c", "d"], ["a", "e", "e"]])        # each row is a document
    assert layer.get_vocabulary() == ["[UNK]", "a", "e", "b", "d"]
    idf = [math.log(1 + 3 / 3), math.log(1 + 3 / 2), math.log(1 + 3 / 3), math.log(1 + 3 / 2)]
    np.testing.assert_allclose(layer.idf_weights, [np.mean(idf)] + idf, rtol=1e-6)
    np.testing.assert_allclose(layer(["e", "e", "q"]), [np.mean(idf), 0, 2 * idf[1], 0, 0], rtol=1e-6)


def test_adapt_reads_lists_arrays_generators_and_datasets():
    for data, steps in (([["cat", "dog"], ["bird", "cat"]], None), (np.array(["cat", "dog", "bird", "cat"]), None),
                        (batches_then_endless([["cat", "dog"], np.array(["bird", "cat"])], ["never"]), 2)):
        layer = layers.StringLookup()
        layer.adapt(data, steps=steps)
        assert layer.get_vocabulary() == ["[UNK]", "cat", "dog", "bird"]

    class Batches(utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, index):
            return [["b a", "a"], ["a"]][index]
    layer = layers.StringLookup(output_mode="tf_idf")
    layer.adapt(Batches())                                  # a 1-d batch is one document, as in Keras
    np.testing.assert_allclose(layer.idf_weights[1:], [math.log(1 + 2 / 3), math.log(1 + 2 / 2)], rtol=1e-6)


def test_vocabulary_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("a\nb\nc\n")
    layer = layers.StringLookup(vocabulary=str(path), oov_token="[OOV]", mask_token="[MASK]")
    assert layer.get_vocabulary() == ["[MASK]", "[OOV]", "a", "b", "c"]
    np.testing.assert_array_equal(layer(["c", "[MASK]", "q"]), [4, 0, 1])
    config = layer.get_config()                 # Keras keeps the file's tokens in the archive, mlcore in the config
    path.unlink()
    assert layers.StringLookup.from_config(config).get_vocabulary() == layer.get_vocabulary()
    ints = tmp_path / "ints.txt"
    ints.write_text("12\n36\n")
    assert layers.IntegerLookup(vocabulary=str(ints)).get_vocabulary() == [-1, 12, 36]
    with pytest.raises(ValueError, match="Vocabulary file .* does not exist"):
        layers.StringLookup(vocabulary=str(path))
    with pytest.raises(ValueError, match="Requested the loading of a vocabulary file outside of the model archive"):
        layers.deserialize({"class_name": "StringLookup", "config": {"vocabulary": str(ints)}})


def test_config_and_saved_state_round_trip():
    layer = layers.StringLookup(output_mode="tf_idf", max_tokens=6, pad_to_max_tokens=True, num_oov_indices=2,
                                salt=3, name="words")
    layer.adapt([["x", "y", "x"], ["y", "z", "y"]])
    again = layers.deserialize(json.loads(json.dumps(layers.serialize(layer))))
    assert again.get_vocabulary() == layer.get_vocabulary() == ["[UNK]", "[UNK]", "y", "x", "z"]
    np.testing.assert_allclose(again([["x", "q", "z"]]), layer([["x", "q", "z"]]), rtol=1e-6)
    again.adapt([["q"]])                        # an adapted vocabulary stays adaptable, as in Keras
    assert again.get_vocabulary() == ["[UNK]", "[UNK]", "q"]
    store = {}
    layer.save_own_variables(store)
    assert list(store) == ["idf_weights"] and store["idf_weights"].shape == (6,)
    fresh = layers.StringLookup(output_mode="tf_idf", max_tokens=6, pad_to_max_tokens=True, num_oov_indices=2,
                                vocabulary=layer.get_vocabulary(), idf_weights=np.ones(5))
    fresh.load_own_variables(store)
    np.testing.assert_allclose(fresh([["x", "z"]]), layer([["x", "z"]]), rtol=1e-6)
    # a config as Keras 3.15 writes it (its dtype a DTypePolicy)
    keras_spec = {"module": "keras.layers", "class_name": "StringLookup", "registered_name": None, "config": {
        "name": "sl", "trainable": True, "dtype": {"module": "keras", "class_name": "DTypePolicy",
                                                   "config": {"name": "float32"}, "registered_name": None},
        "invert": False, "max_tokens": None, "num_oov_indices": 1, "oov_token": "[OOV]", "mask_token": "[MASK]",
        "output_mode": "int", "sparse": False, "pad_to_max_tokens": False, "idf_weights": None,
        "vocabulary": ["a", "b", "c"], "vocabulary_size": 5, "oov_method": "floormod", "salt": None,
        "encoding": "utf-8"}}
    loaded = layers.deserialize(keras_spec)
    assert loaded.get_vocabulary() == ["[MASK]", "[OOV]", "a", "b", "c"]
    assert {k: v for k, v in loaded.get_config().items() if k != "dtype"} == \
        {k: v for k, v in keras_spec["config"].items() if k != "dtype"}


def test_signatures_match_keras(keras):
    """Argument names, order and defaults are Keras's, for every string layer and IntegerLookup."""
    import inspect
    for name in ("StringLookup", "IntegerLookup", "Hashing", "TextVectorization"):
        assert inspect.signature(getattr(layers, name)) == inspect.signature(getattr(keras.layers, name)), name


def test_errors_as_keras():
    with pytest.raises(ValueError, match=r"found OOV values \['z'\], consider setting `num_oov_indices=1`"):
        looked_up(["a", "z"], vocabulary=VOCAB, num_oov_indices=0)
    with pytest.raises(RuntimeError, match="you must set the layer's vocabulary before calling it"):
        looked_up(["a"], output_mode="multi_hot")
    with pytest.raises(ValueError, match=r"the inputs must have rank 1 or 2 .* inputs of shape \(1, 1, 1\)"):
        looked_up(np.array([[["a"]]]), vocabulary=VOCAB, output_mode="count")
    with pytest.raises(RuntimeError, match="the vocabulary size cannot be changed after the layer is called"):
        layers.StringLookup(vocabulary=VOCAB, output_mode="count").set_vocabulary(["a"])
    with pytest.raises(ValueError, match=r"repeated term.*The repeated terms are: \['a'\]"):
        layers.StringLookup(vocabulary=["a", "b", "a"])
    with pytest.raises(ValueError, match=r"Found reserved mask token at unexpected location.*index \[1\]"):
        layers.StringLookup(vocabulary=["a", ""], mask_token="")
    with pytest.raises(ValueError, match="Found reserved OOV token at unexpected location"):
        layers.StringLookup(vocabulary=["a", "[UNK]"], invert=True)
    with pytest.raises(ValueError, match="Attempted to set a vocabulary larger than the maximum vocab size"):
        layers.StringLookup(vocabulary=VOCAB, max_tokens=3)
    with pytest.raises(ValueError, match="`idf_weights` must be the same length as vocabulary"):
        layers.StringLookup(vocabulary=VOCAB, output_mode="tf_idf", idf_weights=[1.0])
    with pytest.raises(ValueError, match="in TF-IDF output mode, the `idf_weights` argument must also be provided"):
        layers.StringLookup(vocabulary=VOCAB, output_mode="tf_idf")
    with pytest.raises(ValueError, match="Cannot adapt layer 'fixed' after setting a static vocabulary"):
        layers.StringLookup(vocabulary=VOCAB, name="fixed").adapt(["a"])
    with pytest.raises(ValueError, match="`output_mode` must be `'int'` when `invert` is true"):
        layers.StringLookup(invert=True, output_mode="count")
    with pytest.raises(ValueError, match="If pad_to_max_tokens is True, must set `max_tokens`"):
        layers.StringLookup(pad_to_max_tokens=True)
    with pytest.raises(ValueError, match="If set, `max_tokens` must be greater than 1"):
        layers.StringLookup(max_tokens=1)
    with pytest.raises(ValueError, match=r"Unknown value for `output_mode` argument of StringLookup"):
        layers.StringLookup(output_mode="bag")
    with pytest.raises(ValueError, match="`sparse=True` can only be used with the TensorFlow backend"):
        layers.StringLookup(sparse=True, output_mode="count")
    with pytest.raises(ValueError, match="can only be a tuple of 2 integers, or a single integer"):
        layers.StringLookup(salt="pepper")
    with pytest.raises(ValueError, match="StringLookup 'words' runs on the host"):
        layers.StringLookup(vocabulary=VOCAB, name="words")(mlcore.Input((3,), dtype="int64"))

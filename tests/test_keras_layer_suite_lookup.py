"""What tools/keras_layer_suite.py found in the lookup layers and their neighbours (Keras 3's own tests of
keras/src/layers/preprocessing/{index_lookup,feature_space,category_encoding,...}, run against mlcore), fixed
and checked here: IndexLookup made directly (Keras's tests make it), an adapted vocabulary's config that
round-trips to itself, TextVectorization's `_has_input_vocabulary` (Keras's FeatureSpace reads it)
and the `sparse` / `ragged` attributes of symbolic tensors.  Keras's lookup layers need TensorFlow to run, which
is not installed beside it here, so their expected values are those of Keras's own test file; where Keras runs
without TensorFlow (its KerasTensor), the comparison is with Keras itself."""
import importlib
import os
import pathlib
import sys

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

from mlcore import layers, ops
from mlcore.layers.index_lookup import IndexLookup
from mlcore.utils.feature_space import FeatureSpace

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning")]   # jax arrays' __array__ in Keras

STRING_KWARGS = dict(max_tokens=7, num_oov_indices=1, mask_token="", oov_token="[OOV]", vocabulary_dtype="string")
INTEGER_KWARGS = dict(max_tokens=7, num_oov_indices=1, mask_token=0, oov_token=-1, vocabulary_dtype="int64")


def values(x):
    return np.asarray(ops.convert_to_numpy(x))


# --- IndexLookup made directly, as Keras's index_lookup_test makes it --------------------------------------
@pytest.mark.parametrize("kwargs, adapt_data, inputs, vocabulary", [
    (STRING_KWARGS, ["one", "one", "one", "two", "two", "three"], ["one", "two", "four"],
     ["", "[OOV]", "one", "two", "three"]),
    (INTEGER_KWARGS, [1, 1, 1, 2, 2, 3], [1, 2, 4], [0, -1, 1, 2, 3])])
def test_index_lookup_made_directly_looks_up_its_vocabulary_dtype(kwargs, adapt_data, inputs, vocabulary):
    layer = IndexLookup(**kwargs)
    layer.adapt(adapt_data)
    assert isinstance(layer, IndexLookup) and type(layer).__name__ == "IndexLookup"
    assert layer.name.startswith("index_lookup")
    assert layer.get_vocabulary() == vocabulary
    assert values(layer(inputs)).tolist() == [2, 3, 1]
    assert layer.get_config()["vocabulary_dtype"] == kwargs["vocabulary_dtype"]


def test_index_lookup_made_directly_is_not_a_string_or_integer_lookup():
    assert not isinstance(IndexLookup(**STRING_KWARGS), layers.StringLookup)
    assert not isinstance(IndexLookup(**INTEGER_KWARGS), layers.IntegerLookup)


def test_index_lookup_of_integers_refuses_farmhash_as_integer_lookup():
    for make in (layers.IntegerLookup, IndexLookup):
        kwargs = dict(INTEGER_KWARGS, num_oov_indices=2, oov_method="farmhash")
        if make is layers.IntegerLookup:
            kwargs.pop("vocabulary_dtype")
        with pytest.raises(NotImplementedError, match="farmhash"):
            make(**kwargs)


# --- an adapted vocabulary's config -----------------------------------------------------------------------
@pytest.mark.parametrize("make, adapt_data", [
    (lambda: layers.StringLookup(mask_token="[MASK]"), ["a", "a", "b"]),
    (lambda: IndexLookup(**INTEGER_KWARGS), [1, 1, 2]),
    (lambda: layers.StringLookup(output_mode="tf_idf"), [["a", "b"], ["a", "c"]])])
def test_adapted_lookup_config_comes_back_as_it_was(make, adapt_data):
    """Keras's run_class_serialization_test: from_config(get_config()).get_config() is the same config
    (has_input_vocabulary=False, which keeps an adapted vocabulary adaptable, was lost on the way)."""
    layer = make()
    layer.adapt(adapt_data)
    config = layer.get_config()
    revived = type(layer).from_config(config)
    assert revived.get_config() == config
    assert revived.get_vocabulary() == layer.get_vocabulary()


# --- FeatureSpace and TextVectorization -------------------------------------------------------------------
def test_feature_space_needs_no_adapt_for_a_text_vectorization_given_its_vocabulary():
    """Keras's FeatureSpace asks TextVectorization._has_input_vocabulary, which mlcore's lacked."""
    text = layers.TextVectorization(vocabulary=["baz", "bar", "foo"], output_mode="int", output_sequence_length=3)
    assert text._has_input_vocabulary and not layers.TextVectorization()._has_input_vocabulary
    space = FeatureSpace({"text": FeatureSpace.feature(dtype="string", preprocessor=text, output_mode="int")},
                         output_mode="dict")
    out = space({"text": np.array(["foo bar", "qux"])})
    assert values(out["text"]).tolist() == [[4, 3, 0], [1, 0, 0]]


# --- symbolic tensors' sparse and ragged ------------------------------------------------------------------
def test_symbolic_tensors_are_dense_as_keras_tensors_say(keras):
    theirs = keras.layers.CategoryEncoding(4, output_mode="one_hot")(keras.Input((3,), dtype="int32"))
    ours = layers.CategoryEncoding(4, output_mode="one_hot")(layers.Input((3,), dtype="int32"))
    assert (ours.sparse, ours.ragged) == (theirs.sparse, theirs.ragged) == (False, False)
    with pytest.raises(AttributeError):
        ours.sparse = True


# --- the suite's module mapping ---------------------------------------------------------------------------
def test_layer_suite_points_private_keras_modules_at_mlcore():
    """keras.src.layers.IndexLookup and the modules Keras's tests import whole (feature_space, the bounding
    boxes' iou) are mlcore's in tools/keras_layer_suite.py, not mlcore.layers lacking them."""
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tools"))
    suite = importlib.import_module("keras_layer_suite")
    assert suite.stand_in("layers").IndexLookup is IndexLookup
    assert suite.stand_in("layers").Dense is layers.Dense
    assert suite.stand_in("layers.preprocessing.feature_space").FeatureSpace is FeatureSpace
    iou = suite.stand_in("layers.preprocessing.image_preprocessing.bounding_boxes.iou")
    assert iou.__name__ == "mlcore.utils.bounding_boxes.iou" and callable(iou.compute_ciou)

"""What tools/keras_layer_suite.py found in the preprocessing layers (Keras 3's own tests of
keras/src/layers/preprocessing/, run against mlcore), fixed and checked here against Keras 3 itself:
Keras's error phrases, transformations in Keras's keys handed to transform_images() and
transform_bounding_boxes(), boxes through the colour layers and with unbatched images, Discretization's
adapt() on an endless generator and its shapes before adapt(), AutoContrast's exact 0, RandomColorJitter's
draws, Pipeline's masking, Normalization.adapt() on a tensor, IntegerLookup on nested lists and
STFTSpectrogram.build()."""
import os

os.environ["KERAS_BACKEND"] = "jax"     # before any keras import (keras picks its backend once)

import numpy as np
import pytest

from mlcore import layers, ops

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning")]   # jax arrays' __array__ in Keras


def values(x):
    return np.asarray(ops.convert_to_numpy(x))


def message_of(make):
    with pytest.raises(ValueError) as error:
        make()
    return str(error.value)


# --- argument checks in Keras's words ---------------------------------------------------------------------
def test_category_encoding_unknown_output_mode_in_keras_words(keras):
    theirs = message_of(lambda: keras.layers.CategoryEncoding(num_tokens=4, output_mode="invalid_mode"))
    assert message_of(lambda: layers.CategoryEncoding(num_tokens=4, output_mode="invalid_mode")) == \
        "CategoryEncoding: " + theirs


def test_discretization_errors_in_keras_words(keras):
    for kwargs in (dict(bin_boundaries=[0.0], output_mode="bad"), dict(num_bins=3, bin_boundaries=[0.0, 1.0])):
        theirs = message_of(lambda: keras.layers.Discretization(**kwargs))
        assert theirs in message_of(lambda: layers.Discretization(**kwargs))
    with pytest.raises(ValueError, match="You need to either pass the `bin_boundaries` argument"):
        layers.Discretization(num_bins=3)(np.array([[1.0]]))


def test_image_layer_errors_in_keras_words(keras):
    for value_range in ([10], "incorrect"):
        theirs = message_of(lambda: keras.layers.RandomBrightness(0.1, value_range=value_range))
        assert theirs in message_of(lambda: layers.RandomBrightness(0.1, value_range=value_range))
    with pytest.raises(ValueError, match="Expected the input image to be rank 3 or 4."):
        layers.RandomBrightness(0.1)(np.random.rand(10, 10), training=True)


def test_normalization_axis_errors_in_keras_words():
    with pytest.raises(ValueError, match="All `axis` values must be in the range"):
        layers.Normalization(axis=3)(np.ones((2, 2)))
    with pytest.raises(ValueError, match="All `axis` values to be kept must have a known shape"):
        layers.Normalization(axis=1)(layers.Input(batch_shape=(None, None)))


# --- transformations in Keras's keys ----------------------------------------------------------------------
def test_random_contrast_transformation_as_keras(keras):
    images = np.random.default_rng(0).random((4, 8, 16, 3)).astype("float32")
    ours = layers.RandomContrast(factor=0.5, value_range=(0, 1), seed=1)
    transformation = ours.get_random_transformation(ops.convert_to_tensor(images), training=True)
    factor = values(transformation["contrast_factor"])
    assert factor.shape == (4, 1, 1, 1)
    theirs = keras.layers.RandomContrast(factor=0.5, value_range=(0, 1))
    want = theirs.transform_images(images, {"contrast_factor": factor}, training=True)
    got = ours.transform_images(images, {"contrast_factor": factor}, training=True)
    np.testing.assert_allclose(values(got), np.asarray(want), atol=1e-6)


def test_mix_up_and_cut_mix_take_keras_transformations(keras):
    images = np.random.default_rng(1).random((4, 6, 6, 3)).astype("float32")
    mixing = {"mix_weight": np.array([0.2, 0.5, 0.7, 1.0], "float32"), "permutation_order": np.array([1, 0, 3, 2])}
    want = keras.layers.MixUp().transform_images(images, transformation=mixing)
    np.testing.assert_allclose(values(layers.MixUp().transform_images(images, transformation=mixing)),
                               np.asarray(want), atol=1e-6)
    masks = np.zeros((4, 6, 6, 3), bool)
    masks[:, 1:4, 2:5] = True
    cut = dict(mixing, batch_masks=masks)
    want = keras.layers.CutMix().transform_images(images, cut)
    np.testing.assert_allclose(values(layers.CutMix().transform_images(images, cut)), np.asarray(want))


def test_random_erasing_takes_a_keras_transformation(keras):
    images = np.ones((2, 2, 1))
    transformation = {"apply_erasing": np.asarray([True]), "batch_masks": np.asarray([[[[True], [False]],
                                                                                        [[False], [False]]]]),
                      "fill_value": 0}
    want = keras.layers.RandomErasing().transform_images(images, transformation)
    np.testing.assert_allclose(values(layers.RandomErasing().transform_images(images, transformation)),
                               np.asarray(want))


def test_random_gaussian_blur_takes_a_keras_transformation(keras):
    images = np.random.default_rng(2).random((2, 5, 6, 3)).astype("float32")
    transformation = {"blur_factor": np.array([0.3732, 0.8654], "float32"),
                      "should_apply_blur": np.array([True, False])}
    want = keras.layers.RandomGaussianBlur(value_range=(0, 1)).transform_images(images, transformation)
    got = layers.RandomGaussianBlur(value_range=(0, 1)).transform_images(images, transformation)
    np.testing.assert_allclose(values(got), np.asarray(want), atol=1e-5)


def test_random_perspective_takes_a_keras_transformation(keras):
    images = np.random.default_rng(3).random((1, 4, 4, 1)).astype("float32")
    transformation = {"apply_perspective": np.array([True]),
                      "start_points": np.array([[[0.0, 0.0], [3.0, 0.0], [0.0, 3.0], [3.0, 3.0]]], "float32"),
                      "end_points": np.array([[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]], "float32"),
                      "input_shape": (1, 4, 4, 1)}
    want = keras.layers.RandomPerspective().transform_images(images, transformation)
    got = layers.RandomPerspective().transform_images(images, transformation)
    np.testing.assert_allclose(values(got), np.asarray(want), atol=1e-4)


@pytest.mark.parametrize("mode", ["horizontal", "vertical", "horizontal_and_vertical"])
def test_random_flip_moves_unbatched_boxes_of_a_keras_transformation(keras, mode):
    boxes = {"boxes": np.array([[2.0, 1, 4, 3], [6, 4, 8, 6]]), "labels": np.array([1, 2])}
    transformation = {"flips": np.asarray([[True]]), "input_shape": (10, 8, 3)}
    want = keras.layers.RandomFlip(mode, bounding_box_format="xyxy").transform_bounding_boxes(
        dict(boxes), transformation=transformation, training=True)
    got = layers.RandomFlip(mode, bounding_box_format="xyxy").transform_bounding_boxes(
        dict(boxes), transformation=transformation, training=True)
    np.testing.assert_allclose(values(got["boxes"]), np.asarray(want["boxes"]))


# --- bounding boxes through the layers --------------------------------------------------------------------
def test_colour_layers_pass_boxes_of_any_shape_as_keras(keras):
    data = {"images": np.random.default_rng(4).random((2, 4, 5, 3)),
            "bounding_boxes": {"boxes": np.array([[1, 2, 2, 3]]), "labels": np.array([0])}}
    for name in ("RandomBrightness", "RandomContrast"):
        want = getattr(keras.layers, name)(0.1, bounding_box_format="xyxy")(data)["bounding_boxes"]
        got = getattr(layers, name)(0.1, bounding_box_format="xyxy")(data)["bounding_boxes"]
        for key in ("boxes", "labels"):
            np.testing.assert_array_equal(values(got[key]), np.asarray(want[key]))


def test_resizing_boxes_of_one_image_with_labels_of_any_shape(keras):
    data = {"images": np.random.default_rng(5).random((10, 8, 3)),
            "bounding_boxes": {"boxes": np.array([[2.0, 1, 4, 3], [6, 4, 8, 6]]), "labels": np.array([[1, 2]])}}
    want = keras.layers.Resizing(20, 20, bounding_box_format="xyxy")(data)["bounding_boxes"]["boxes"]
    got = layers.Resizing(20, 20, bounding_box_format="xyxy")(data)["bounding_boxes"]["boxes"]
    np.testing.assert_allclose(values(got), np.asarray(want), atol=1e-5)


# --- values and state -------------------------------------------------------------------------------------
def test_auto_contrast_takes_each_channel_down_to_exactly_zero(keras):
    image = np.expand_dims(np.array([[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]], "float32"), 0)
    want = np.asarray(keras.layers.AutoContrast(value_range=(0, 255))(image))
    got = layers.AutoContrast(value_range=(0, 255))(image)
    np.testing.assert_array_equal(got[0, 0, 0], want[0, 0, 0])
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_random_color_jitter_draws_as_its_one_layer_with_the_same_seed():
    images = np.random.default_rng(6).random((4, 8, 16, 3))
    for jitter, single in ((dict(hue_factor=[0.5, 0.5]), layers.RandomHue(factor=[0.5, 0.5], seed=2390)),
                           (dict(contrast_factor=[0.5, 0.5]), layers.RandomContrast(factor=[0.5, 0.5], seed=2390))):
        np.testing.assert_allclose(layers.RandomColorJitter(seed=2390, **jitter)(images), single(images), atol=1e-5)


def test_discretization_adapt_reads_only_steps_batches_of_an_endless_generator():
    def batches():
        for _ in range(5):
            yield np.random.uniform(0, 10, size=(20,))
        raise RuntimeError("adapt() read more batches than `steps`")
    layer = layers.Discretization(num_bins=4)
    layer.adapt(batches(), steps=5)
    assert len(layer.bin_boundaries) == 3


@pytest.mark.parametrize("output_mode", ["int", "one_hot", "multi_hot", "count"])
def test_discretization_output_shape_and_dtype_as_keras(keras, output_mode):
    for kwargs in (dict(num_bins=4), dict(bin_boundaries=[0.0, 1.0])):
        theirs = keras.layers.Discretization(output_mode=output_mode, **kwargs)
        ours = layers.Discretization(output_mode=output_mode, **kwargs)
        for shape in ((None, 3, 4), (None, 5, 1), (7,)):
            assert ours.compute_output_shape(shape) == theirs.compute_output_shape(shape)
        assert ours.output_dtype == theirs.output_dtype


def test_pipeline_does_not_support_masking_as_keras(keras):
    assert layers.Pipeline([layers.AutoContrast()]).supports_masking is \
        keras.layers.Pipeline([keras.layers.AutoContrast()]).supports_masking is False


def test_normalization_adapts_a_tensor(keras):
    x = np.random.default_rng(7).random((32, 3)).astype("float32")
    ours, theirs = layers.Normalization(), keras.layers.Normalization()
    ours.adapt(ops.convert_to_tensor(x))
    theirs.adapt(keras.ops.convert_to_tensor(x))
    np.testing.assert_allclose(ours(x), np.asarray(theirs(x)), atol=1e-5)


def test_integer_lookup_takes_a_nested_list_as_one_input():
    layer = layers.IntegerLookup(output_mode="int")
    layer.adapt([1, 1, 1, 2, 2, 3])
    np.testing.assert_array_equal(layer([[1, 2, 4], [2, 3, 5]]), [[1, 2, 0], [2, 3, 0]])


def test_stft_spectrogram_build_builds_as_keras(keras):
    kwargs = dict(frame_length=50, frame_step=25, fft_length=64, mode="stft")
    ours, theirs = layers.STFTSpectrogram(**kwargs), keras.layers.STFTSpectrogram(**kwargs)
    ours.build((2, 400, 1))
    theirs.build((2, 400, 1))
    assert ours.built and theirs.built
    assert len(ours.trainable_weights) == len(theirs.trainable_weights) == 2
